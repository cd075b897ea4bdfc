"""What every job kind's input checking shares: the error, table fields and numbers."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd

MAX_ROWS = 10_000
#: Called by a running job with its progress in [0, 1]; False means cancel.
Progress = Callable[[float], bool]


class JobInputError(ValueError):
    """A job input is invalid; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def rows_field(job_input: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    """The rows of a table field: ``name`` (a list of objects) or ``name_csv`` (CSV text).

    None when neither is there; at most :data:`MAX_ROWS` rows.

    >>> rows_field({"lots_csv": "id,kg\\nA,5\\n"}, "lots")
    [{'id': 'A', 'kg': '5'}]
    """
    if f"{name}_csv" in job_input:
        text = job_input[f"{name}_csv"]
        if not isinstance(text, str):
            raise JobInputError(f"input.{name}_csv", "expected the CSV text as a string")
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        rows: Any = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    elif name in job_input:
        rows = job_input[name]
        if not isinstance(rows, list):
            raise JobInputError(f"input.{name}", "expected a list of objects")
    else:
        return None
    if len(rows) > MAX_ROWS:
        raise JobInputError(f"input.{name}", f"{len(rows)} rows; at most {MAX_ROWS} per job")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise JobInputError(f"input.{name}.{i}", "expected an object")
    return list(rows)


def number_field(
    job_input: dict[str, Any], name: str, low: float, high: float, default: float | None
) -> float | None:
    """A number in ``[low, high]``, or ``default`` when the field is absent or null."""
    value = job_input.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise JobInputError(
            f"input.{name}", f"got {value!r}; expected a number in [{low:g}, {high:g}]"
        )
    return float(value)


def seed_field(job_input: dict[str, Any]) -> int:
    """``seed``: an integer >= 0 (default 0).

    >>> seed_field({"seed": -1})
    Traceback (most recent call last):
    ...
    api.jobs.records.JobInputError: input.seed: got -1; expected an integer >= 0
    """
    seed = job_input.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise JobInputError("input.seed", f"got {seed!r}; expected an integer >= 0")
    return seed
