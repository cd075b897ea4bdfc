"""What each job kind checks in its input and how it runs."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from network_data import Network
from optimizer.routing import plan_record

MAX_BATCH = 10_000
Progress = Callable[[float], bool]


class JobInputError(ValueError):
    """A job input is invalid; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _route_batch_records(job_input: dict[str, Any]) -> list[dict[str, Any]]:
    if "csv" in job_input:
        if not isinstance(job_input["csv"], str):
            raise JobInputError("input.csv", "expected the CSV text as a string")
        table = pd.read_csv(io.StringIO(job_input["csv"]), dtype=str, keep_default_na=False)
        records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    elif isinstance(job_input.get("shipments"), list):
        records = job_input["shipments"]
    else:
        raise JobInputError("input", "expected 'shipments' (a list) or 'csv' (CSV text)")
    if not records:
        raise JobInputError("input", "no shipments")
    if len(records) > MAX_BATCH:
        raise JobInputError("input", f"{len(records)} shipments; at most {MAX_BATCH} per job")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise JobInputError(f"input.shipments.{i}", "expected an object")
        missing = {"origin", "destination", "weight_kg", "volume_m3"} - set(record)
        if missing:
            raise JobInputError(f"input.shipments.{i}", f"missing {', '.join(sorted(missing))}")
    return records


def _run_route_batch(
    job_input: dict[str, Any], network: Network, progress: Progress
) -> dict[str, Any]:
    records = _route_batch_records(job_input)
    rows = []
    for i, record in enumerate(records):
        rows.append(plan_record(network, record))
        if (i + 1) % 25 == 0 and not progress((i + 1) / len(records)):
            raise InterruptedError("cancelled")
    counts = pd.Series([r["status"] for r in rows]).value_counts().to_dict()
    return {"shipments": len(rows), "by_status": counts, "rows": rows}


@dataclass(frozen=True)
class JobKind:
    """Validate an input at submission; run it in a worker."""

    validate: Callable[[dict[str, Any]], object]
    run: Callable[[dict[str, Any], Network, Progress], dict[str, Any]]


KINDS: dict[str, JobKind] = {
    "route-batch": JobKind(_route_batch_records, _run_route_batch),
}
