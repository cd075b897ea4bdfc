"""What each job kind checks in its input and how it runs."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from network_data import Network
from optimizer.consolidation import problem_from_records, solve_consolidation
from optimizer.errors import InvalidInputError
from optimizer.routing import plan_record

MAX_BATCH = 10_000
Progress = Callable[[float], bool]


class JobInputError(ValueError):
    """A job input is invalid; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _shipment_records(job_input: dict[str, Any], required: set[str]) -> list[dict[str, Any]]:
    """The shipment rows of a job input: ``shipments`` (a list) or ``csv`` (CSV text)."""
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
        missing = required - set(record)
        if missing:
            raise JobInputError(f"input.shipments.{i}", f"missing {', '.join(sorted(missing))}")
    return records


def _route_batch_records(job_input: dict[str, Any]) -> list[dict[str, Any]]:
    return _shipment_records(job_input, {"origin", "destination", "weight_kg", "volume_m3"})


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
class ConsolidationInput:
    """A checked ``consolidation`` job input."""

    records: list[dict[str, Any]]
    hubs: list[str]
    first_day: date
    last_day: date
    time_limit_s: float
    seed: int
    params: dict[str, float]


MAX_CONSOLIDATION_SECONDS = 600.0


def _consolidation_input(job_input: dict[str, Any]) -> ConsolidationInput:
    records = _shipment_records(
        job_input, {"id", "origin", "destination", "deadline", "weight_kg", "volume_m3"}
    )
    hubs = job_input.get("hubs", job_input.get("hub"))
    if isinstance(hubs, str):
        hubs = [hubs]
    if not isinstance(hubs, list) or not hubs or not all(isinstance(h, str) for h in hubs):
        raise JobInputError("input.hubs", "expected a hub name or id, or a list of them")
    days = []
    for name in ("from", "to"):
        try:
            days.append(date.fromisoformat(str(job_input.get(name))))
        except ValueError as exc:
            raise JobInputError(f"input.{name}", "expected a date such as 2026-12-01") from exc
    numbers: dict[str, float] = {}
    for name, low, high in (
        ("time_limit_s", 0.1, MAX_CONSOLIDATION_SECONDS),
        ("slots_teu", 0.0, 10_000.0),
        ("max_late_days", 0.0, 90.0),
        ("max_wait_days", 0.0, 92.0),
        ("storage_cny_per_m3_day", 0.0, 1e6),
        ("lateness_share_per_day", 0.0, 1.0),
    ):
        if name in job_input and job_input[name] is not None:
            value = job_input[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (low <= value <= high)
            ):
                raise JobInputError(f"input.{name}", f"expected a number in [{low:g}, {high:g}]")
            numbers[name] = float(value)
    seed = job_input.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise JobInputError("input.seed", "expected an integer >= 0")
    time_limit_s = numbers.pop("time_limit_s", 60.0)
    return ConsolidationInput(records, hubs, days[0], days[1], time_limit_s, seed, numbers)


def _run_consolidation(
    job_input: dict[str, Any], network: Network, progress: Progress
) -> dict[str, Any]:
    checked = _consolidation_input(job_input)
    try:
        problem = problem_from_records(
            network, checked.records, hubs=checked.hubs, first_day=checked.first_day,
            last_day=checked.last_day, **checked.params,
        )  # fmt: skip
    except InvalidInputError as exc:
        raise JobInputError(f"input.{exc.field}", str(exc)) from exc
    if not progress(0.05):
        raise InterruptedError("cancelled")
    # One process: forking a threaded server is unsafe.
    result = solve_consolidation(
        problem, time_limit_s=checked.time_limit_s, seed=checked.seed, workers=1
    )
    return result.to_dict()


@dataclass(frozen=True)
class JobKind:
    """Validate an input at submission; run it in a worker."""

    validate: Callable[[dict[str, Any]], object]
    run: Callable[[dict[str, Any], Network, Progress], dict[str, Any]]


KINDS: dict[str, JobKind] = {
    "route-batch": JobKind(_route_batch_records, _run_route_batch),
    "consolidation": JobKind(_consolidation_input, _run_consolidation),
}
