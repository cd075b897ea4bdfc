"""The ``allocation`` job: allocate sellers' stock to the ledger's warehouses, propose bookings.

A coordinator submits sellers' forecasts and the terms of the warehouses their organisation runs
(rent, handling, markets served, last mile): an :class:`AllocationInput`. The job reads each
warehouse's capacity and the held and confirmed bookings of the weeks planned from the ledger
into a :class:`LedgerSnapshot` (:func:`prepare`), solves the allocation with those bookings
kept fixed (:meth:`AllocationInput.run`, pure, so it may run on Dask), and records the plan as
``proposed`` bookings, one per seller, warehouse and run of equal weeks (:func:`record`).
Proposals take no capacity until a coordinator confirms them; their pallets and litres are
rounded from the solver's own flows so that every proposal of a week fits together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.models import JobRecord, Organisation
from api.weeks import LAST_YEAR, WeekError, iso_week, week_monday, week_range
from network_data import Network
from optimizer.allocation import (
    AllocationProblem,
    RecordError,
    allocation_problem,
    bookings_from_records,
    sellers_from_records,
    solve_allocation,
    warehouses_from_records,
)
from optimizer.allocation.freight import (
    LEAD_TIME_LIMIT_DAYS,
    MAX_WEEKS,
    SERVICE_DAYS,
    UNSERVED_PENALTY_CNY,
    WEEKS,
    OverseasWarehouse,
)
from optimizer.allocation.problem import Customer
from optimizer.allocation.result import Flow
from optimizer.allocation.solve import TIME_LIMIT_S
from optimizer.errors import InvalidInputError, quoted
from optimizer.jobs import (
    JobInput,
    Parsed,
    Progress,
    Range,
    Row,
    Seed,
    TimeLimit,
    checked,
    input_errors,
    require_columns,
    table,
    table_text,
)

LITRES_PER_M3 = 1000


def _ref(row: Mapping[str, Any]) -> str:
    return str(row.get("warehouse") or row.get("warehouse_id") or "").strip()


def _first_week(value: object) -> str:
    """An ISO week as the ledger reads it (:func:`api.weeks.week_monday`)."""
    text = str(value)
    if len(text) > len("2026-W49"):  # the ledger's own message quotes it whole
        raise WeekError("first_week", text, "an ISO week like 2026-W49")
    week_monday(text, "first_week")
    return text


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("flag", value, "true or false")
    return value


@dataclass(frozen=True)
class LedgerWarehouse:
    """One warehouse of the ledger, as an allocation job reads it: per week planned, the
    capacity and what held and confirmed bookings take, as (pallets, m3)."""

    id: str
    name: str
    node_id: str
    capacity: tuple[tuple[int, float], ...]
    booked: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class LedgerSnapshot:
    """What an allocation job reads from the ledger before it runs (:func:`prepare`).

    ``warehouses`` by the reference a warehouse row gave (its id or name); ``organisations``
    maps each seller to the organisation its proposals are for.
    """

    weeks: tuple[str, ...]
    warehouses: Mapping[str, LedgerWarehouse]
    organisations: Mapping[str, str]

    def by_id(self) -> dict[str, LedgerWarehouse]:
        return {w.id: w for w in self.warehouses.values()}


class AllocationRules(BaseModel):
    """The rules of an allocation, as the ``allocation`` job and ``shudao allocate`` take them:
    the weeks planned, the service and fairness rules, the penalty, the solver's time and seed.

    Examples
    --------
    >>> rules = checked(AllocationRules, {"service_level": 0.9}, root=None)
    >>> rules.weeks, rules.settings()["service_level"]
    (4, 0.9)
    >>> checked(AllocationRules, {"fairness": 2}, root=None)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: fairness: got 2; expected a number in [0, 1]
    """

    weeks: Annotated[int, Range(1, MAX_WEEKS)] = Field(WEEKS, description="Weeks planned.")
    service_days: Annotated[float, Range(0.0, 60.0)] = Field(
        SERVICE_DAYS, description="Delivery within this many days counts as on time."
    )
    service_level: Annotated[float, Range(0.0, 1.0)] = Field(
        0.0, description="Share of each market's orders on time (0: no rule)."
    )
    fairness: Annotated[float, Range(0.0, 1.0)] = Field(
        0.0, description="Each seller keeps this share of the fill rate."
    )
    single_sourcing: Annotated[bool, Parsed(_flag)] = Field(
        False, description="One warehouse per seller and market."
    )
    lead_time_limit_days: Annotated[float, Range(0.1, 120.0)] = Field(
        LEAD_TIME_LIMIT_DAYS, description="Inbound days at most."
    )
    unserved_penalty_cny: Annotated[float, Range(0.0, 1e7)] = Field(
        UNSERVED_PENALTY_CNY, description="CNY per order not served."
    )
    time_limit_s: TimeLimit = TIME_LIMIT_S
    seed: Seed = 0

    def settings(self) -> dict[str, Any]:
        """The rules as :func:`optimizer.allocation.allocation_problem` takes them."""
        return {
            "weeks": self.weeks, "service_days": self.service_days,
            "service_level": self.service_level, "fairness": self.fairness,
            "single_sourcing": self.single_sourcing,
            "lead_time_limit_days": self.lead_time_limit_days,
            "unserved_penalty_cny": self.unserved_penalty_cny,
        }  # fmt: skip


class AllocationInput(JobInput, AllocationRules):
    """Sellers' forecasts and the terms of warehouses your organisation runs (the columns of
    ``shudao allocate``; a warehouse named by its id or name in the ledger, whose capacity and
    bookings are read from there), the first ISO week and the rules.

    Examples
    --------
    >>> sellers = [{"seller": "a", "hub": "Linshui", "market": "MKT-DE",
    ...             "orders_per_week": 1, "m3_per_order": 0.036}]
    >>> terms = [{"warehouse": "W", "market": "MKT-DE", "last_mile_cny_per_order": 38,
    ...           "delivery_days": 2, "rent_cny_per_pallet_week": 16,
    ...           "handling_cny_per_inbound_pallet": 16, "handling_cny_per_order": 13}]
    >>> job = AllocationInput.model_validate(
    ...     {"sellers": sellers, "warehouses": terms, "first_week": "2026-W52", "weeks": 2})
    >>> job.weeks_planned(), job.time_limit_s
    (['2026-W52', '2026-W53'], 60.0)
    >>> checked(AllocationInput, {**job.stored(), "first_week": "2199-W52", "weeks": 26})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.first_week: got '2199-W52'; the last of 26 weeks ...
    """

    TABLES: ClassVar[dict[str, str]] = {
        "sellers": "sellers_csv", "warehouses": "warehouses_csv",
    }  # fmt: skip
    model_config = ConfigDict(
        title="allocation input",
        json_schema_extra={
            "examples": [
                {"sellers": [{"seller": "guangan-autoparts", "hub": "Linshui",
                              "market": "MKT-DE", "orders_per_week": 150,
                              "m3_per_order": 0.036}],
                 "warehouses": [{"warehouse": "Duisburg logport", "market": "MKT-DE",
                                 "last_mile_cny_per_order": 38, "delivery_days": 2,
                                 "rent_cny_per_pallet_week": 16,
                                 "handling_cny_per_inbound_pallet": 16,
                                 "handling_cny_per_order": 13}],
                 "first_week": "2026-W49", "weeks": 4, "time_limit_s": 30},
            ]
        },
    )  # fmt: skip

    sellers: list[Row] | None = table(
        "Sellers' forecasts, one object per row with the columns of `shudao allocate` (seller, "
        "hub, market, orders_per_week, m3_per_order, ...; `organisation`: yours or one that "
        "booked in your warehouses). Or `sellers_csv`."
    )
    sellers_csv: str | None = table_text("sellers")
    warehouses: list[Row] | None = table(
        "Warehouse terms per market served (warehouse: the id or name of one your organisation "
        "runs; market, last_mile_cny_per_order, delivery_days, rent and handling). Or "
        "`warehouses_csv`."
    )
    warehouses_csv: str | None = table_text("warehouses")
    first_week: Annotated[str, Parsed(_first_week)] = Field(
        description="The first ISO week planned, such as 2026-W49."
    )

    @model_validator(mode="after")
    def _check(self) -> AllocationInput:
        with input_errors():
            sellers = require_columns(self.sellers, "sellers", (), alternative="sellers_csv")
            try:
                sellers_from_records(sellers)
            except RecordError as exc:
                raise _on_row("sellers", exc) from exc
            rows = require_columns(self.warehouses, "warehouses", (), alternative="warehouses_csv")
            placeholder = {"pallets_per_week": 0, "volume_m3_per_week": 0}
            _terms(rows, {_ref(row): placeholder for row in rows})
            try:
                self.weeks_planned()
            except InvalidInputError as exc:
                raise exc.at(f"input.{exc.field}") from exc
        return self

    def weeks_planned(self) -> list[str]:
        """The ISO weeks planned: :attr:`weeks` from :attr:`first_week`, all by
        :data:`api.weeks.LAST_YEAR`."""
        first_monday = week_monday(self.first_week, "first_week")
        last_monday = first_monday + timedelta(weeks=self.weeks - 1)
        if last_monday.isocalendar().year > LAST_YEAR:
            raise WeekError(
                "first_week", self.first_week,
                f"a week whose last of {self.weeks} weeks falls by {LAST_YEAR}",
                message=f"got {quoted(self.first_week)}; the last of {self.weeks} weeks from it "
                f"must fall by {LAST_YEAR}",
            )  # fmt: skip
        return week_range(self.first_week, iso_week(last_monday))

    def problem(self, network: Network, ledger: LedgerSnapshot) -> AllocationProblem:
        """The allocation on the ledger's capacity, its held and confirmed bookings fixed."""
        by_id = ledger.by_id()
        filled = {
            ref: {"warehouse": entry.id, "location": entry.node_id,
                  "pallets_per_week": entry.capacity[0][0],
                  "volume_m3_per_week": entry.capacity[0][1]}
            for ref, entry in ledger.warehouses.items()
        }  # fmt: skip
        terms = tuple(
            replace(
                w,
                week_capacity=tuple(
                    (k, float(p), float(v))
                    for k, (p, v) in enumerate(by_id[w.warehouse_id].capacity, 1)
                ),
            )
            for w in _terms(self.warehouses or [], filled)
        )
        confirmed = bookings_from_records(
            {"warehouse": entry.id, "week": k, "pallets": p, "volume_m3": v}
            for entry in by_id.values()
            for k, (p, v) in enumerate(entry.booked, 1)
            if p or v
        )
        return allocation_problem(
            network, sellers_from_records(self.sellers or []), terms,
            start=week_monday(ledger.weeks[0]), confirmed=confirmed,
            **(self.settings() | {"weeks": len(ledger.weeks)}),
        )  # fmt: skip

    def run(self, network: Network, progress: Progress, ledger: LedgerSnapshot) -> dict[str, Any]:
        """Solve the allocation on the ledger's capacity; the result lists the proposals."""
        try:
            problem = self.problem(network, ledger)
        except RecordError as exc:
            raise _on_row("warehouses", exc) from exc
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"input.{exc.field}", exc.value, exc.allowed, message=str(exc)
            ) from exc
        if not progress(0.3):
            raise InterruptedError("cancelled")
        result = solve_allocation(problem, time_limit_s=self.time_limit_s, seed=self.seed)
        document = result.to_dict(problem)
        document["weeks"] = list(ledger.weeks)
        document["warehouse_names"] = {w.id: w.name for w in ledger.warehouses.values()}
        document["proposals"] = proposals(result.flows, problem.customers, ledger)
        return document


def _on_row(table: str, exc: RecordError) -> InvalidInputError:
    """A row error on its place in the job's input: ``input.sellers.0.m3_per_order``."""
    return InvalidInputError(
        f"input.{table}.{exc.row - 1}.{exc.column}", exc.value, exc.allowed, message=str(exc)
    )


def _terms(
    rows: list[Row], filled: Mapping[str, Mapping[str, Any]]
) -> tuple[OverseasWarehouse, ...]:
    """The warehouse rows' terms, with the ledger's (or placeholder) capacity filled in."""
    try:
        return warehouses_from_records([{**row, **filled.get(_ref(row), {})} for row in rows])
    except RecordError as exc:
        raise _on_row("warehouses", exc) from exc


def prepare(session: Session, job: JobRecord) -> LedgerSnapshot:
    """Each warehouse's capacity and bookings in the weeks planned, read from the ledger.

    Warehouse rows name a warehouse of the job's organisation by id or name; each seller row
    may name the ``organisation`` its bookings are for (default: the job's): the job's own, or
    one that has booked in its warehouses (any other name, existing or not, is refused alike).
    The stored input is restored by :func:`~optimizer.jobs.checked`; an input this server would
    have refused (queued by another) fails in the words of its own fields.
    """
    job_input = checked(AllocationInput, job.input, root=None)
    weeks = job_input.weeks_planned()
    own = [
        w for w in repositories.list_warehouses(session) if w.organisation_id == job.organisation_id
    ]
    by_ref = {w.id: w for w in own} | {w.name: w for w in own}
    warehouses: dict[str, LedgerWarehouse] = {}
    for i, row in enumerate(job_input.warehouses or []):
        ref = _ref(row)
        if ref not in by_ref:
            known = ", ".join(sorted(w.name for w in own)) or "none yet (POST /v1/warehouses)"
            raise InvalidInputError(
                f"input.warehouses.{i}.warehouse", ref,
                f"a warehouse your organisation runs: {known}",
                message=f"got {ref!r}; expected a warehouse your organisation runs: {known}",
            )  # fmt: skip
        warehouse = by_ref[ref]
        if ref in warehouses:
            continue
        loads = repositories.ledger(session, warehouse, weeks)
        warehouses[ref] = LedgerWarehouse(
            warehouse.id, warehouse.name, warehouse.node_id,
            capacity=tuple((load.pallets, load.volume_m3) for load in loads),
            booked=tuple((load.booked_pallets, load.booked_volume_m3) for load in loads),
        )  # fmt: skip
    organisations: dict[str, str] = {}
    # Your own organisation, or one that has booked in your warehouses: any other name gets the
    # same answer whether or not it exists, so a job cannot probe the names of other tenants.
    known_organisations = repositories.booking_organisations(session, job.organisation_id)
    own_organisation = session.get(Organisation, job.organisation_id)
    if own_organisation is not None:
        known_organisations[own_organisation.name] = own_organisation.id
    for i, row in enumerate(job_input.sellers or []):
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
    return LedgerSnapshot(tuple(weeks), warehouses, organisations)


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


def proposals(
    flows: Iterable[Flow], customers: Iterable[Customer], ledger: LedgerSnapshot
) -> list[dict[str, Any]]:
    """Whole pallets and litres per seller, warehouse and week, grouped into week ranges,
    from the solver's flows as they are (not as :meth:`AllocationResult.to_dict` rounds them).
    """
    usage = {c.customer_id: (c.seller, c.usage) for c in customers}
    planned: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(dict)
    for flow in flows:
        seller, (pallets_per_unit, m3_per_unit) = usage[flow.customer_id]
        entry = planned[flow.warehouse_id, flow.week].setdefault(seller, [0.0, 0.0])
        entry[0] += flow.quantity * pallets_per_unit
        entry[1] += flow.quantity * m3_per_unit * LITRES_PER_M3
    by_id = ledger.by_id()
    weekly: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    for (warehouse_id, week), sellers in planned.items():
        (cap_p, cap_v), (booked_p, booked_v) = (
            by_id[warehouse_id].capacity[week - 1],
            by_id[warehouse_id].booked[week - 1],
        )
        pallets = _apportion({s: u[0] for s, u in sellers.items()}, int(cap_p - booked_p))
        litres = _apportion(
            {s: u[1] for s, u in sellers.items()},
            math.floor((cap_v - booked_v) * LITRES_PER_M3 + 1e-6),
        )
        for seller in sellers:
            if pallets[seller] or litres[seller]:
                weekly[seller, warehouse_id][week] = (pallets[seller], litres[seller])
    found = []
    weeks = ledger.weeks
    for (seller, warehouse_id), by_week in sorted(weekly.items()):
        runs: list[list[int]] = []
        for week in sorted(by_week):
            if runs and week == runs[-1][-1] + 1 and by_week[week] == by_week[runs[-1][0]]:
                runs[-1].append(week)
            else:
                runs.append([week])
        for run_weeks in runs:
            whole_pallets, whole_litres = by_week[run_weeks[0]]
            found.append(
                {
                    "seller": seller,
                    "organisation_id": ledger.organisations.get(seller),
                    "warehouse_id": warehouse_id,
                    "first_week": weeks[run_weeks[0] - 1],
                    "last_week": weeks[run_weeks[-1] - 1],
                    "pallets": whole_pallets,
                    "volume_m3": whole_litres / LITRES_PER_M3,
                }
            )
    return found


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
