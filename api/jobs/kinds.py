"""What each job kind checks in its input and how it runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api.db.models import JobRecord
from api.db.repositories import MANAGER_ROLES
from api.jobs import allocation, pickups
from api.jobs.records import MAX_ROWS, number_field, rows_field, seed_field
from network_data import Network
from optimizer.consolidation import problem_from_records, solve_consolidation
from optimizer.consolidation.problem import MAX_WINDOW_DAYS
from optimizer.errors import InvalidInputError
from optimizer.inputs import check_year
from optimizer.jobs import Progress
from optimizer.routing import plan_record
from scenarios import jobs as scenario_jobs


def _shipment_records(job_input: dict[str, Any], required: set[str]) -> list[dict[str, Any]]:
    """The shipment rows of a job input: ``shipments`` (a list) or ``csv`` (CSV text)."""
    # the first kinds took their table as plain ``csv``
    csv_name = "csv" if "csv" in job_input else None
    records = rows_field(job_input, "shipments", csv_name)
    if records is None:
        raise InvalidInputError(
            "input", None, "'shipments' (a list) or 'csv' (CSV text)",
            message="expected 'shipments' (a list) or 'csv' (CSV text)",
        )  # fmt: skip
    if not records:
        raise InvalidInputError(
            f"input.{csv_name or 'shipments'}", records, "shipments",
            message="got no rows; expected shipments",
        )  # fmt: skip
    for i, record in enumerate(records):
        missing = required - set(record)
        if missing:
            raise InvalidInputError(
                f"input.shipments.{i}", record, ", ".join(sorted(required)),
                message=f"missing {', '.join(sorted(missing))}",
            )  # fmt: skip
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
    counts = dict(Counter(r["status"] for r in rows).most_common())
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
        raise InvalidInputError("input.hubs", hubs, "a hub name or id, or a list of them")
    days = []
    for name in ("from", "to"):
        value = job_input.get(name)
        try:
            day = date.fromisoformat(str(value))
            check_year(f"input.{name}", day, value)
        except InvalidInputError:
            raise
        except ValueError as exc:
            raise InvalidInputError(f"input.{name}", value, "a date such as 2026-12-01") from exc
        days.append(day)
    if not 0 <= (days[1] - days[0]).days <= MAX_WINDOW_DAYS:
        raise InvalidInputError(
            "input.to", days[1], f"a day 0 to {MAX_WINDOW_DAYS} days after {days[0]}",
            message=f"got {days[1]}; expected a day 0 to {MAX_WINDOW_DAYS} days after {days[0]}",
        )  # fmt: skip
    numbers: dict[str, float] = {}
    for name, low, high in (
        ("time_limit_s", 0.1, MAX_CONSOLIDATION_SECONDS),
        ("slots_teu", 0.0, 10_000.0),
        ("max_late_days", 0.0, 90.0),
        ("max_wait_days", 0.0, float(MAX_WINDOW_DAYS)),
        ("storage_cny_per_m3_day", 0.0, 1e6),
        ("lateness_share_per_day", 0.0, 1.0),
    ):
        value = number_field(job_input, name, low, high, None)
        if value is not None:
            numbers[name] = value
    seed = seed_field(job_input)
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
        raise InvalidInputError(
            f"input.{exc.field}", exc.value, exc.allowed, message=str(exc)
        ) from exc
    if not progress(0.05):
        raise InterruptedError("cancelled")
    # One process: forking a threaded server is unsafe.
    result = solve_consolidation(
        problem, time_limit_s=checked.time_limit_s, seed=checked.seed, workers=1
    )
    return result.to_dict()


@dataclass(frozen=True)
class JobKind:
    """Validate an input at submission; run it in a worker.

    ``prepare`` (optional) adds what the job reads from the database to its input before it
    runs, so that ``run`` itself needs none and may run on a Dask cluster; ``record`` (optional)
    writes what the result means for the database, and returns the result as stored. ``roles``
    may submit the kind (None: any).
    """

    validate: Callable[[dict[str, Any]], object]
    run: Callable[[dict[str, Any], Network, Progress], dict[str, Any]]
    prepare: Callable[[Session, JobRecord], dict[str, Any]] | None = None
    record: Callable[[Session, JobRecord, dict[str, Any]], dict[str, Any]] | None = None
    roles: tuple[str, ...] | None = None


KINDS: dict[str, JobKind] = {
    "route-batch": JobKind(_route_batch_records, _run_route_batch),
    "consolidation": JobKind(_consolidation_input, _run_consolidation),
    "allocation": JobKind(
        allocation.validate,
        allocation.run,
        prepare=allocation.prepare,
        record=allocation.record,
        roles=MANAGER_ROLES,
    ),
    "pickups": JobKind(pickups.validate, pickups.run),
    "scenario": JobKind(scenario_jobs.validate, scenario_jobs.run, roles=("planner", "admin")),
}


#: What each kind accepts at most, as JobIn's OpenAPI shows it (``x-limits``): rows per table
#: field (a list or its ``*_csv`` text), ``time_limit_s`` and the other bounded sizes, each
#: with its range and default. Larger inputs are answered 422 naming the field and the limit;
#: a body over ``SHUDAO_MAX_BODY_BYTES`` 413.
LIMITS: dict[str, dict[str, Any]] = {
    "route-batch": {"rows": {"shipments": MAX_ROWS}},
    "consolidation": {
        "rows": {"shipments": MAX_ROWS},
        "time_limit_s": {"minimum": 0.1, "maximum": MAX_CONSOLIDATION_SECONDS, "default": 60.0},
    },
    "allocation": {
        "rows": {"sellers": MAX_ROWS, "warehouses": MAX_ROWS},
        "weeks": {"minimum": 1, "maximum": allocation.MAX_WEEKS, "default": 4},
        "time_limit_s": {"minimum": 0.1, "maximum": allocation.MAX_SECONDS, "default": 60.0},
    },
    "pickups": {
        "rows": {"pickups": MAX_ROWS, "fleet": MAX_ROWS},
        "time_limit_s": {
            "minimum": 0.1, "maximum": pickups.MAX_SECONDS, "default": pickups.DEFAULT_SECONDS
        },
    },
    "scenario": {
        "sample": {
            "minimum": 1, "maximum": scenario_jobs.MAX_SAMPLE,
            "default": scenario_jobs.DEFAULT_SAMPLE,
        },
    },
}  # fmt: skip
