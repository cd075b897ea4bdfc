"""The ``allocation`` job: allocate sellers' stock to the ledger's warehouses, propose bookings.

A coordinator submits sellers' forecasts and the terms of the warehouses their organisation runs
(rent, handling, markets served, last mile). The job reads each warehouse's capacity and the
held and confirmed bookings of the weeks planned from the ledger (:func:`prepare`), solves the
allocation with those bookings kept fixed (:func:`run`, pure, so it may run on Dask), and
records the plan as ``proposed`` bookings, one per seller, warehouse and run of equal weeks
(:func:`record`). Proposals take no capacity until a coordinator confirms them; their pallets
and litres are rounded so that every proposal of a week fits together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.db import repositories
from api.db.models import JobRecord, Organisation
from api.jobs.records import number_field, rows_field, seed_field
from network_data import Network
from optimizer.allocation import (
    RecordError,
    allocation_problem,
    bookings_from_records,
    sellers_from_records,
    solve_allocation,
    warehouses_from_records,
)
from optimizer.errors import InvalidInputError, quoted
from optimizer.jobs import Progress

MAX_SECONDS = 600.0
MAX_WEEKS = 26
LITRES_PER_M3 = 1000
#: Keys the worker adds to the input from the ledger (:func:`prepare`).
LEDGER_KEY = "ledger"


def _rows(job_input: dict[str, Any], name: str) -> list[dict[str, Any]]:
    rows = rows_field(job_input, name)
    if not rows:
        raise InvalidInputError(
            f"input.{name}", rows, f"'{name}' (a list) or '{name}_csv'",
            message=f"expected '{name}' (a list) or '{name}_csv'",
        )  # fmt: skip
    return rows


def _checked_warehouses(rows: list[dict[str, Any]], filled: dict[str, Any]) -> Any:
    """The warehouse rows' terms, with the ledger's (or placeholder) capacity filled in."""
    try:
        return warehouses_from_records([{**row, **filled.get(_ref(row), {})} for row in rows])
    except RecordError as exc:
        raise InvalidInputError(
            f"input.warehouses.{exc.row - 1}.{exc.column}", exc.value, exc.allowed, message=str(exc)
        ) from exc


def _ref(row: dict[str, Any]) -> str:
    return str(row.get("warehouse") or row.get("warehouse_id") or "").strip()


def _weeks(job_input: dict[str, Any]) -> list[str]:
    """The ISO weeks planned: ``weeks`` (default 4) from ``first_week``.

    >>> _weeks({"first_week": "2026-W52", "weeks": 2})
    ['2026-W52', '2026-W53']
    >>> _weeks({"first_week": "2199-W52", "weeks": 26})
    Traceback (most recent call last):
    ...
    api.db.repositories.WeekError: first_week: got '2199-W52'; the last of 26 weeks from it ...
    """
    first_week = str(job_input.get("first_week"))
    if len(first_week) > len("2026-W49"):  # the ledger's own message quotes it whole
        raise repositories.WeekError("first_week", first_week, "an ISO week like 2026-W49")
    weeks = job_input.get("weeks", 4)
    first_monday = repositories.week_monday(first_week, "first_week")
    last_monday = first_monday + timedelta(weeks=weeks - 1)
    if last_monday.isocalendar().year > repositories.LAST_YEAR:
        raise repositories.WeekError(
            "first_week", first_week,
            f"a week whose last of {weeks} weeks from it falls by {repositories.LAST_YEAR}",
            message=f"got {quoted(first_week)}; the last of {weeks} weeks from it must fall by "
            f"{repositories.LAST_YEAR}",
        )  # fmt: skip
    return repositories.week_range(first_week, repositories.iso_week(last_monday))


def validate(job_input: dict[str, Any]) -> dict[str, Any]:
    """Check an ``allocation`` input before it is queued; return the solve options."""
    sellers = _rows(job_input, "sellers")
    try:
        sellers_from_records(sellers)
    except RecordError as exc:
        raise InvalidInputError(
            f"input.sellers.{exc.row - 1}.{exc.column}", exc.value, exc.allowed, message=str(exc)
        ) from exc
    warehouses = _rows(job_input, "warehouses")
    placeholder = {"pallets_per_week": 0, "volume_m3_per_week": 0}
    _checked_warehouses(warehouses, {_ref(row): placeholder for row in warehouses})
    weeks = job_input.get("weeks", 4)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInputError("input.weeks", weeks, f"an integer in [1, {MAX_WEEKS}]")
    try:
        _weeks(job_input)
    except repositories.WeekError as exc:
        raise exc.at(f"input.{exc.field}") from exc
    options: dict[str, Any] = {
        name: number_field(job_input, name, low, high, default)
        for name, low, high, default in (
            ("time_limit_s", 0.1, MAX_SECONDS, 60.0),
            ("service_days", 0.0, 60.0, 3.0),
            ("service_level", 0.0, 1.0, 0.0),
            ("fairness", 0.0, 1.0, 0.0),
            ("lead_time_limit_days", 0.1, 120.0, 30.0),
            ("unserved_penalty_cny", 0.0, 1e7, 300.0),
        )
    }
    seed = seed_field(job_input)
    single = job_input.get("single_sourcing", False)
    if not isinstance(single, bool):
        raise InvalidInputError("input.single_sourcing", single, "true or false")
    return {**options, "seed": seed, "single_sourcing": single, "weeks": weeks}


def prepare(session: Session, job: JobRecord) -> dict[str, Any]:
    """The job's input with each warehouse's capacity and bookings read from the ledger.

    Warehouse rows name a warehouse of the job's organisation by id or name; each seller row
    may name the ``organisation`` its bookings are for (default: the job's): the job's own, or
    one that has booked in its warehouses (any other name, existing or not, is refused alike).
    """
    job_input = dict(job.input)
    weeks = _weeks(job_input)
    own = [
        w for w in repositories.list_warehouses(session) if w.organisation_id == job.organisation_id
    ]
    by_ref = {w.id: w for w in own} | {w.name: w for w in own}
    warehouses: dict[str, Any] = {}
    for i, row in enumerate(_rows(job_input, "warehouses")):
        ref = _ref(row)
        if ref not in by_ref:
            known = ", ".join(sorted(w.name for w in own)) or "none yet (POST /v1/warehouses)"
            raise InvalidInputError(
                f"input.warehouses.{i}.warehouse",
                ref,
                f"a warehouse your organisation runs: {known}",
                message=f"got {ref!r}; expected a warehouse your organisation runs: {known}",
            )
        warehouse = by_ref[ref]
        if ref in warehouses:
            continue
        loads = repositories.ledger(session, warehouse, weeks)
        warehouses[ref] = {
            "id": warehouse.id,
            "name": warehouse.name,
            "node_id": warehouse.node_id,
            "capacity": [[load.pallets, load.volume_m3] for load in loads],
            "booked": [[load.booked_pallets, load.booked_volume_m3] for load in loads],
        }
    organisations: dict[str, str] = {}
    # Your own organisation, or one that has booked in your warehouses: any other name gets the
    # same answer whether or not it exists, so a job cannot probe the names of other tenants.
    known_organisations = repositories.booking_organisations(session, job.organisation_id)
    own_organisation = session.get(Organisation, job.organisation_id)
    if own_organisation is not None:
        known_organisations[own_organisation.name] = own_organisation.id
    for i, row in enumerate(_rows(job_input, "sellers")):
        name = str(row.get("organisation") or "").strip()
        seller = str(row.get("seller") or row.get("seller_id") or "").strip()
        if not name:
            organisations.setdefault(seller, job.organisation_id)
            continue
        if name not in known_organisations:
            raise InvalidInputError(
                f"input.sellers.{i}.organisation", name,
                "your organisation or one that has booked in your warehouses: "
                + ", ".join(sorted(known_organisations)),
            )  # fmt: skip
        organisations[seller] = known_organisations[name]
    job_input[LEDGER_KEY] = {
        "weeks": weeks,
        "warehouses": warehouses,
        "organisations": organisations,
    }
    return job_input


def run(job_input: dict[str, Any], network: Network, progress: Progress) -> dict[str, Any]:
    """Solve the allocation on the ledger's capacity; the result lists the proposals."""
    options = validate(job_input)
    ledger = job_input[LEDGER_KEY]
    weeks, found = ledger["weeks"], ledger["warehouses"]
    rows = _rows(job_input, "warehouses")
    filled = {
        ref: {
            "warehouse": entry["id"],
            "location": entry["node_id"],
            "pallets_per_week": entry["capacity"][0][0],
            "volume_m3_per_week": entry["capacity"][0][1],
        }
        for ref, entry in found.items()
    }
    terms = _checked_warehouses(rows, filled)
    by_id = {entry["id"]: entry for entry in found.values()}
    terms = tuple(
        replace(
            w,
            week_capacity=tuple(
                (k, float(p), float(v))
                for k, (p, v) in enumerate(by_id[w.warehouse_id]["capacity"], 1)
            ),
        )
        for w in terms
    )
    confirmed = bookings_from_records(
        {"warehouse": entry["id"], "week": k, "pallets": p, "volume_m3": v}
        for entry in found.values()
        for k, (p, v) in enumerate(entry["booked"], 1)
        if p or v
    )
    try:
        problem = allocation_problem(
            network, sellers_from_records(_rows(job_input, "sellers")), terms,
            weeks=len(weeks), start=repositories.week_monday(weeks[0]),
            service_days=options["service_days"], service_level=options["service_level"],
            lead_time_limit_days=options["lead_time_limit_days"],
            single_sourcing=options["single_sourcing"], fairness=options["fairness"],
            unserved_penalty_cny=options["unserved_penalty_cny"], confirmed=confirmed,
        )  # fmt: skip
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"input.{exc.field}", exc.value, exc.allowed, message=str(exc)
        ) from exc
    if not progress(0.3):
        raise InterruptedError("cancelled")
    result = solve_allocation(problem, time_limit_s=options["time_limit_s"], seed=options["seed"])
    document = result.to_dict(problem)
    document["weeks"] = weeks
    document["warehouse_names"] = {entry["id"]: entry["name"] for entry in found.values()}
    document["proposals"] = _proposals(document, problem.customers, found, ledger)
    return document


def _apportion(amounts: dict[Any, float], total_cap: int) -> dict[Any, int]:
    """Integers within one of each amount, summing to at most ``total_cap`` (largest remainder).

    >>> _apportion({"a": 1.5, "b": 1.5, "c": 0.2}, 3)
    {'a': 2, 'b': 1, 'c': 0}
    """
    rounded = {key: math.floor(value + 1e-9) for key, value in amounts.items()}
    target = min(total_cap, math.ceil(sum(amounts.values()) - 1e-9))
    order = sorted(amounts, key=lambda key: rounded[key] - amounts[key])
    for key in order[: max(target - sum(rounded.values()), 0)]:
        if amounts[key] - rounded[key] > 1e-9:
            rounded[key] += 1
    return rounded


def _proposals(
    document: dict[str, Any], customers: Any, found: dict[str, Any], ledger: dict[str, Any]
) -> list[dict[str, Any]]:
    """Whole pallets and litres per seller, warehouse and week, grouped into week ranges."""
    usage = {c.customer_id: (c.seller, c.usage) for c in customers}
    planned: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(dict)
    for flow in document["flows"]:
        seller, (pallets, volume_m3) = usage[flow["customer_id"]]
        entry = planned[flow["warehouse_id"], flow["week"]].setdefault(seller, [0.0, 0.0])
        entry[0] += flow["quantity"] * pallets
        entry[1] += flow["quantity"] * volume_m3 * LITRES_PER_M3
    by_id = {entry["id"]: entry for entry in found.values()}
    weekly: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    for (warehouse_id, week), sellers in planned.items():
        (cap_p, cap_v), (booked_p, booked_v) = (
            by_id[warehouse_id]["capacity"][week - 1],
            by_id[warehouse_id]["booked"][week - 1],
        )
        pallets = _apportion({s: u[0] for s, u in sellers.items()}, int(cap_p - booked_p))
        litres = _apportion(
            {s: u[1] for s, u in sellers.items()},
            math.floor((cap_v - booked_v) * LITRES_PER_M3 + 1e-6),
        )
        for seller in sellers:
            if pallets[seller] or litres[seller]:
                weekly[seller, warehouse_id][week] = (pallets[seller], litres[seller])
    proposals = []
    weeks = ledger["weeks"]
    for (seller, warehouse_id), by_week in sorted(weekly.items()):
        runs: list[list[int]] = []
        for week in sorted(by_week):
            if runs and week == runs[-1][-1] + 1 and by_week[week] == by_week[runs[-1][0]]:
                runs[-1].append(week)
            else:
                runs.append([week])
        for run_weeks in runs:
            whole_pallets, whole_litres = by_week[run_weeks[0]]
            proposals.append(
                {
                    "seller": seller,
                    "organisation_id": ledger["organisations"].get(seller),
                    "warehouse_id": warehouse_id,
                    "first_week": weeks[run_weeks[0] - 1],
                    "last_week": weeks[run_weeks[-1] - 1],
                    "pallets": whole_pallets,
                    "volume_m3": whole_litres / LITRES_PER_M3,
                }
            )
    return proposals


def record(session: Session, job: JobRecord, result: dict[str, Any]) -> dict[str, Any]:
    """Write the result's proposals to the ledger as ``proposed`` bookings of the job.

    A retried job replays its proposals (each has an idempotency key of the job) rather than
    proposing twice. A proposal that no longer fits (a booking was made meanwhile) is kept in
    the result with the reason and not written.
    """
    actor = repositories.Actor(None, job.organisation_id, None, job.id)
    for n, proposal in enumerate(result["proposals"]):
        request = {key: proposal[key] for key in ("warehouse_id", "first_week", "last_week",
                                                 "pallets", "volume_m3")}  # fmt: skip
        try:
            booking, _ = repositories.create_booking(
                session, actor, **request,
                organisation_id=proposal["organisation_id"] or job.organisation_id,
                reference=f"allocation job {job.id}: {proposal['seller']}",
                status="proposed", job_id=job.id,
                idempotency_key=f"allocation-{job.id}-{n}",
                request_sha256=repositories.request_fingerprint(request),
            )  # fmt: skip
        except (repositories.CapacityError, InvalidInputError) as exc:
            proposal["booking_id"], proposal["not_proposed"] = None, str(exc)
        else:
            proposal["booking_id"] = booking.id
    session.commit()
    return result
