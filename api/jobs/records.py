"""What every job kind's input checking shares: table fields and numbers (the error is
:class:`optimizer.errors.InvalidInputError`, its field the path into the input)."""

from __future__ import annotations

from typing import Any

from optimizer.errors import InvalidInputError
from optimizer.inputs import MAX_SEED, table_from_text

MAX_ROWS = 10_000


def rows_field(
    job_input: dict[str, Any], name: str, csv_name: str | None = None
) -> list[dict[str, Any]] | None:
    """The rows of a table field: ``name`` (a list of objects) or ``csv_name`` (CSV text,
    default ``name_csv``).

    None when neither is there; at most :data:`MAX_ROWS` rows. CSV text is read by
    :func:`optimizer.inputs.table_from_text`.

    >>> rows_field({"lots_csv": "id,kg\\nA,5\\n"}, "lots")
    [{'id': 'A', 'kg': '5'}]
    >>> rows_field({"lots_csv": ""}, "lots")
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: input.lots_csv: got an empty table; expected CSV text ...
    """
    csv_name = csv_name or f"{name}_csv"
    if csv_name in job_input:
        field = f"input.{csv_name}"
        text = job_input[csv_name]
        if not isinstance(text, str):
            raise InvalidInputError(field, text, "the CSV text as a string")
        rows: Any = table_from_text(text, field, max_rows=MAX_ROWS).rows
    elif name in job_input:
        rows = job_input[name]
        if not isinstance(rows, list):
            raise InvalidInputError(
                f"input.{name}", rows, "a list of objects", message="expected a list of objects"
            )
    else:
        return None
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(
            f"input.{name}", rows, f"at most {MAX_ROWS} rows",
            message=f"{len(rows)} rows; at most {MAX_ROWS} per job",
        )  # fmt: skip
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInputError(
                f"input.{name}.{i}", row, "an object", message="expected an object"
            )
    return list(rows)


def number_field(
    job_input: dict[str, Any], name: str, low: float, high: float, default: float | None
) -> float | None:
    """A number in ``[low, high]``, or ``default`` when the field is absent or null."""
    value = job_input.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInputError(f"input.{name}", value, f"a number in [{low:g}, {high:g}]")
    return float(value)


def seed_field(job_input: dict[str, Any]) -> int:
    """``seed``: an integer in [0, :data:`MAX_SEED`] (default 0).

    >>> seed_field({"seed": 2**70})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.seed: got 1180591620717411303424; expected an ...
    """
    seed = job_input.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError("input.seed", seed, f"an integer in [0, {MAX_SEED:,}]")
    return seed
