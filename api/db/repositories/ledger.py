"""The shared-warehouse capacity ledger (issue 6): warehouses, weekly capacity, bookings and
their transitions, each under a lock on the warehouse (:func:`lock_warehouse`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import (
    BookingRow,
    Organisation,
    WarehouseRow,
    WarehouseWeekBooked,
    WarehouseWeekCapacity,
    utc_now,
)
from api.db.repositories.audit import write_audit
from api.db.repositories.common import (
    MANAGER_ROLES,
    Actor,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    new_id,
    page,
    page_after,
)
from api.weeks import WeekError, week_monday, week_range
from optimizer.errors import InvalidInputError, ShudaoError

#: ``proposed`` (by an allocation job) -> ``confirmed`` by a coordinator; ``held`` (booked by a
#: seller) -> ``confirmed``; any of those -> ``cancelled``.
BOOKING_STATUSES = ("proposed", "held", "confirmed", "cancelled")
#: Bookings that take capacity.
HOLDING_STATUSES = ("held", "confirmed")
#: Bookings the ledger keeps weekly totals of (:class:`~api.db.models.WarehouseWeekBooked`).
COUNTED_STATUSES = ("proposed", "held", "confirmed")
#: Volumes are kept to the litre; sums are compared with this tolerance.
VOLUME_EPS_M3 = 1e-6
LITRES_PER_M3 = 1000


@dataclass(frozen=True)
class WeekLoad:
    """One week of a warehouse's ledger: capacity and what held and confirmed bookings take."""

    week: str
    pallets: int
    volume_m3: float
    booked_pallets: int
    booked_volume_m3: float
    overridden: bool = False

    @property
    def free_pallets(self) -> int:
        return self.pallets - self.booked_pallets

    @property
    def free_volume_m3(self) -> float:
        return round(self.volume_m3 - self.booked_volume_m3, 6)

    def overbooked(self) -> bool:
        return self.free_pallets < 0 or self.free_volume_m3 < -VOLUME_EPS_M3


class CapacityError(ConflictError):
    """A booking of ``pallets`` and ``volume_m3`` a week does not fit; ``weeks`` is the ledger
    of the weeks it asked for."""

    def __init__(self, message: str, weeks: list[WeekLoad], pallets: int, volume_m3: float):
        super().__init__(message)
        self.weeks, self.pallets, self.volume_m3 = weeks, pallets, volume_m3

    @property
    def short_of_pallets(self) -> list[str]:
        return [w.week for w in self.weeks if w.free_pallets < self.pallets]

    @property
    def short_of_volume(self) -> list[str]:
        return [w.week for w in self.weeks if w.free_volume_m3 + VOLUME_EPS_M3 < self.volume_m3]

    @property
    def remaining_pallets(self) -> int:
        """Pallets free in every week asked for."""
        return max(min(w.free_pallets for w in self.weeks), 0)

    @property
    def remaining_volume_m3(self) -> float:
        """Cubic metres free in every week asked for."""
        return max(min(w.free_volume_m3 for w in self.weeks), 0.0)


class OverbookError(ConflictError):
    """A capacity change would leave ``weeks`` (with the new capacity) overbooked."""

    def __init__(self, message: str, weeks: list[WeekLoad]) -> None:
        super().__init__(message)
        self.weeks = weeks


class StateError(ConflictError):
    """A booking is not in a state that allows the transition; ``status`` is its state."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class IdempotencyError(ShudaoError, ValueError):
    """An Idempotency-Key was sent again with a different request."""


def lock_warehouse(session: Session, warehouse_id: str) -> WarehouseRow:
    """The warehouse, locked against every other ledger writer until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the warehouse row. A second writer of the same
    warehouse waits here until the first commits or rolls back; its later statements (READ
    COMMITTED takes a snapshot per statement) then see what the first committed.

    SQLite has no row locks; the database has one write lock. ``BEGIN IMMEDIATE`` takes it
    before anything is read, waiting for other writers up to the connection's busy timeout
    (:data:`api.db.session.LOCK_WAIT_S`; PostgreSQL's lock_timeout is the same). A deferred
    transaction would not do: it reads a snapshot first and its first write then fails at once
    with SQLITE_BUSY_SNAPSHOT if another writer committed meanwhile, which no busy timeout
    retries. pysqlite (Python 3.11, the default isolation level) opens a transaction only before
    an INSERT/UPDATE/DELETE, so a request that has only read is not in one and can begin
    immediately. A caller already in a transaction (a job that wrote first) holds the write lock
    since its first write, so its reads are current; a no-op UPDATE of the warehouse makes sure
    of it: should the transaction only have read (inside a SAVEPOINT), SQLite refuses the write
    ("database is locked") rather than let it sum stale bookings.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if getattr(connection.connection.dbapi_connection, "in_transaction", False):
            connection.execute(
                update(WarehouseRow)
                .where(WarehouseRow.id == warehouse_id)
                .values(updated_at=WarehouseRow.updated_at)
            )
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        query = select(WarehouseRow).where(WarehouseRow.id == warehouse_id)
    else:
        query = select(WarehouseRow).where(WarehouseRow.id == warehouse_id).with_for_update()
    warehouse = session.scalar(query.execution_options(populate_existing=True))
    if warehouse is None:
        raise NotFoundError(f"no warehouse {warehouse_id!r}")
    return warehouse


def _warehouse_state(warehouse: WarehouseRow) -> dict[str, Any]:
    return {
        "name": warehouse.name,
        "node_id": warehouse.node_id,
        "pallets_per_week": warehouse.pallets_per_week,
        "volume_m3_per_week": warehouse.volume_m3_per_week,
    }


def create_warehouse(
    session: Session,
    actor: Actor,
    name: str,
    node_id: str,
    pallets_per_week: int,
    volume_m3_per_week: float,
) -> WarehouseRow:
    """Register a warehouse for the actor's organisation; names are unique per organisation."""
    if actor.organisation_id is None:
        raise ValueError("a warehouse needs an owning organisation")
    duplicate = select(WarehouseRow.id).where(
        WarehouseRow.organisation_id == actor.organisation_id, WarehouseRow.name == name
    )
    if session.scalar(duplicate) is not None:
        raise ConflictError(f"your organisation has a warehouse called {name!r} already")
    now = utc_now()
    warehouse = WarehouseRow(
        id=new_id(), organisation_id=actor.organisation_id, name=name, node_id=node_id,
        pallets_per_week=pallets_per_week, volume_m3_per_week=round(volume_m3_per_week, 3),
        created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(warehouse)
            session.flush()
    except IntegrityError as exc:  # the same name, registered concurrently
        raise ConflictError(f"your organisation has a warehouse called {name!r} already") from exc
    write_audit(
        session, actor, "warehouse.created", warehouse.id, after=_warehouse_state(warehouse)
    )
    session.flush()
    return warehouse


def get_warehouse(session: Session, warehouse_id: str) -> WarehouseRow:
    """One warehouse (any organisation may see every warehouse)."""
    warehouse = session.get(WarehouseRow, warehouse_id)
    if warehouse is None:
        raise NotFoundError(f"no warehouse {warehouse_id!r}")
    return warehouse


def booking_organisations(session: Session, organisation_id: str) -> dict[str, str]:
    """Name -> id of the organisations that have booked (in any state) in a warehouse of
    ``organisation_id``: those its coordinators already see in the ledger. An allocation job
    may propose bookings for these and for its own organisation only, so that it cannot be
    used to learn which other organisation names exist.
    """
    managed = select(WarehouseRow.id).where(WarehouseRow.organisation_id == organisation_id)
    booked = select(BookingRow.organisation_id).where(BookingRow.warehouse_id.in_(managed))
    rows = session.execute(
        select(Organisation.name, Organisation.id).where(Organisation.id.in_(booked))
    )
    return {name: ident for name, ident in rows}


def managed_warehouse(session: Session, actor: Actor, warehouse_id: str) -> WarehouseRow:
    """A warehouse the actor manages; ForbiddenError for anyone else's."""
    warehouse = get_warehouse(session, warehouse_id)
    if not actor.manages(warehouse):
        raise ForbiddenError(
            f"only coordinators and admins of the organisation owning warehouse "
            f"{warehouse_id!r} may do this"
        )
    return warehouse


def list_warehouses(session: Session, node_id: str | None = None) -> list[WarehouseRow]:
    """Every warehouse, by name, optionally those at one node."""
    query = select(WarehouseRow)
    if node_id is not None:
        query = query.where(WarehouseRow.node_id == node_id)
    return list(session.scalars(query.order_by(WarehouseRow.name, WarehouseRow.id)))


def capacity_overrides(session: Session, warehouse_id: str) -> list[WarehouseWeekCapacity]:
    """A warehouse's per-week capacity overrides, by week."""
    return list(
        session.scalars(
            select(WarehouseWeekCapacity)
            .where(WarehouseWeekCapacity.warehouse_id == warehouse_id)
            .order_by(WarehouseWeekCapacity.week)
        )
    )


def litres(volume_m3: float) -> int:
    """A volume in whole litres, as the ledger counts it.

    >>> litres(12.5), litres(0.0004), litres(0.0005)
    (12500, 0, 0)
    """
    return round(volume_m3 * LITRES_PER_M3)


_WEEK_TOTALS = WarehouseWeekBooked.metadata.tables[WarehouseWeekBooked.__tablename__]


def _count(session: Session, booking: BookingRow, status: str, sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the booking's pallets and litres to the totals of
    ``status`` in each of its weeks (:class:`~api.db.models.WarehouseWeekBooked`).

    One upsert for all the weeks. The caller holds the warehouse lock (:func:`lock_warehouse`),
    so no other writer changes these rows before the transaction ends.
    """
    dialect = session.connection().dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(_WEEK_TOTALS)
    upsert = upsert.on_conflict_do_update(
        index_elements=["warehouse_id", "week", "status"],
        set_={
            "pallets": _WEEK_TOTALS.c.pallets + upsert.excluded.pallets,
            "volume_litres": _WEEK_TOTALS.c.volume_litres + upsert.excluded.volume_litres,
        },
    )
    pallets, volume_litres = sign * booking.pallets, sign * litres(booking.volume_m3)
    session.execute(
        upsert,
        [
            {"warehouse_id": booking.warehouse_id, "week": week, "status": status,
             "pallets": pallets, "volume_litres": volume_litres}
            for week in week_range(booking.first_week, booking.last_week)
        ],
    )  # fmt: skip


def _totals(
    session: Session, warehouse_id: str, weeks: list[str] | None, statuses: tuple[str, ...]
) -> list[tuple[str, str, int, int]]:
    """(week, status, pallets, litres) of the ledger's totals, within ``weeks`` if given."""
    query = select(
        WarehouseWeekBooked.week, WarehouseWeekBooked.status, WarehouseWeekBooked.pallets,
        WarehouseWeekBooked.volume_litres,
    ).where(
        WarehouseWeekBooked.warehouse_id == warehouse_id,
        WarehouseWeekBooked.status.in_(statuses),
    )  # fmt: skip
    if weeks is not None:  # ISO weeks written YYYY-Www sort as text in time order
        query = query.where(WarehouseWeekBooked.week.between(weeks[0], weeks[-1]))
    wanted = None if weeks is None else set(weeks)
    return [
        (week, status, int(pallets), int(volume_litres))
        for week, status, pallets, volume_litres in session.execute(query)
        if (pallets or volume_litres) and (wanted is None or week in wanted)
    ]


def _booked_by_week(
    session: Session,
    warehouse_id: str,
    weeks: list[str] | None,
    statuses: tuple[str, ...] = HOLDING_STATUSES,
) -> dict[str, tuple[int, float]]:
    """Pallets and m3 of bookings in ``statuses`` (default: held and confirmed, which take
    capacity) per week (within ``weeks`` if given), read from the ledger's weekly totals: one
    row per week and status, however many bookings there are."""
    summed: dict[str, list[int]] = {}
    for week, _, pallets, volume_litres in _totals(session, warehouse_id, weeks, statuses):
        entry = summed.setdefault(week, [0, 0])
        entry[0] += pallets
        entry[1] += volume_litres
    return {week: (p, v / LITRES_PER_M3) for week, (p, v) in summed.items()}


def booked_by_status(
    session: Session, warehouse_id: str, weeks: list[str]
) -> dict[str, dict[str, tuple[int, float]]]:
    """Pallets and m3 per week of the proposed, held and confirmed bookings, by status (for a
    ledger that shows confirmed bookings apart from those awaiting confirmation)."""
    by_status: dict[str, dict[str, tuple[int, float]]] = {status: {} for status in COUNTED_STATUSES}
    for week, status, pallets, volume_litres in _totals(
        session, warehouse_id, weeks, COUNTED_STATUSES
    ):
        by_status[status][week] = (pallets, volume_litres / LITRES_PER_M3)
    return by_status


def ledger(session: Session, warehouse: WarehouseRow, weeks: list[str]) -> list[WeekLoad]:
    """Capacity and bookings of a warehouse in each of ``weeks``."""
    overrides = {
        o.week: o
        for o in session.scalars(
            select(WarehouseWeekCapacity).where(
                WarehouseWeekCapacity.warehouse_id == warehouse.id,
                WarehouseWeekCapacity.week.in_(weeks),
            )
        )
    }
    booked = _booked_by_week(session, warehouse.id, weeks)
    loads = []
    for week in weeks:
        override = overrides.get(week)
        pallets, volume_m3 = booked.get(week, (0, 0.0))
        loads.append(
            WeekLoad(
                week=week,
                pallets=override.pallets if override else warehouse.pallets_per_week,
                volume_m3=override.volume_m3 if override else warehouse.volume_m3_per_week,
                booked_pallets=pallets, booked_volume_m3=round(volume_m3, 6),
                overridden=override is not None,
            )
        )  # fmt: skip
    return loads


def set_capacity(
    session: Session,
    actor: Actor,
    warehouse_id: str,
    pallets: int,
    volume_m3: float,
    first_week: str | None = None,
    last_week: str | None = None,
) -> WarehouseRow:
    """Set the weekly default capacity, or (with a week range) override it for those weeks.

    Raises OverbookError, changing nothing, if any week would end up with less capacity than its
    held and confirmed bookings take.
    """
    if (first_week is None) != (last_week is None):
        field = "last_week" if last_week is None else "first_week"
        raise WeekError(
            field, None, "first_week and last_week together, or neither",
            message="send first_week and last_week together, or neither",
        )  # fmt: skip
    weeks = week_range(first_week, last_week) if first_week and last_week else None
    warehouse = lock_warehouse(session, warehouse_id)
    if not actor.manages(warehouse):
        raise ForbiddenError(
            f"only coordinators and admins of the organisation owning warehouse "
            f"{warehouse_id!r} may change its capacity"
        )
    volume_m3 = round(volume_m3, 3)
    overrides = {o.week: o for o in capacity_overrides(session, warehouse.id)}
    booked = _booked_by_week(session, warehouse.id, weeks)
    affected = weeks if weeks is not None else sorted(w for w in booked if w not in overrides)
    after = [
        WeekLoad(w, pallets, volume_m3, *booked.get(w, (0, 0.0)), overridden=weeks is not None)
        for w in affected
    ]
    overbooked = [load for load in after if load.overbooked()]
    if overbooked:
        named = ", ".join(
            f"{w.week} ({w.booked_pallets} pallets, {w.booked_volume_m3:g} m3 booked)"
            for w in overbooked
        )
        raise OverbookError(
            f"{pallets} pallets and {volume_m3:g} m3 a week would overbook {named}; cancel "
            "bookings first or keep more capacity",
            overbooked,
        )
    if weeks is None:
        before = _warehouse_state(warehouse)
        warehouse.pallets_per_week, warehouse.volume_m3_per_week = pallets, volume_m3
        warehouse.updated_at = utc_now()
        write_audit(
            session, actor, "capacity.default_set", warehouse.id,
            before={k: before[k] for k in ("pallets_per_week", "volume_m3_per_week")},
            after={"pallets_per_week": pallets, "volume_m3_per_week": volume_m3},
        )  # fmt: skip
    else:
        previous: dict[str, Any] = {}
        for week in weeks:
            old = overrides.get(week)
            previous[week] = {"pallets": old.pallets, "volume_m3": old.volume_m3} if old else None
            if old is None:
                session.add(WarehouseWeekCapacity(
                    warehouse_id=warehouse.id, week=week, pallets=pallets, volume_m3=volume_m3
                ))  # fmt: skip
            else:
                old.pallets, old.volume_m3 = pallets, volume_m3
        warehouse.updated_at = utc_now()
        write_audit(
            session, actor, "capacity.weeks_set", warehouse.id,
            before={"weeks": previous},
            after={"weeks": {w: {"pallets": pallets, "volume_m3": volume_m3} for w in weeks}},
        )  # fmt: skip
    session.flush()
    return warehouse


def booking_state(booking: BookingRow) -> dict[str, Any]:
    """What the audit trail records of a booking."""
    return {
        "status": booking.status,
        "organisation_id": booking.organisation_id,
        "first_week": booking.first_week,
        "last_week": booking.last_week,
        "pallets": booking.pallets,
        "volume_m3": booking.volume_m3,
        "reference": booking.reference,
    }


def request_fingerprint(body: dict[str, Any]) -> str:
    """SHA-256 of a request body in canonical JSON (sorted keys), for Idempotency-Key checks."""
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _by_idempotency_key(session: Session, organisation_id: str, key: str) -> BookingRow | None:
    return session.scalar(
        select(BookingRow)
        .where(BookingRow.organisation_id == organisation_id, BookingRow.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


def _replay(booking: BookingRow, key: str, fingerprint: str | None) -> BookingRow:
    if booking.request_sha256 != fingerprint:
        raise IdempotencyError(
            f"Idempotency-Key {key!r} was used for booking {booking.id} with a different "
            "request; send the same request to retry it, or a new key for a new booking"
        )
    return booking


def _check_fit(loads: list[WeekLoad], pallets: int, volume_m3: float, where: str) -> None:
    error = CapacityError("", loads, pallets, volume_m3)
    short = sorted(set(error.short_of_pallets) | set(error.short_of_volume))
    if short:
        raise CapacityError(
            f"{where} has too little free capacity in {', '.join(short)}: you asked for "
            f"{pallets} pallets and {volume_m3:g} m3 a week; {error.remaining_pallets} pallets "
            f"and {error.remaining_volume_m3:g} m3 are free in every week of "
            f"{loads[0].week}..{loads[-1].week}",
            loads,
            pallets,
            volume_m3,
        )


def create_booking(
    session: Session,
    actor: Actor,
    *,
    warehouse_id: str,
    organisation_id: str,
    first_week: str,
    last_week: str,
    pallets: int,
    volume_m3: float,
    reference: str | None = None,
    status: str = "held",
    job_id: str | None = None,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
) -> tuple[BookingRow, bool]:
    """Book capacity; return the booking and whether it is a replay of an earlier request.

    The warehouse is locked (:func:`lock_warehouse`) before the ledger's weekly totals are
    read, and the booking is inserted and added to the totals in that same transaction, so
    concurrent bookings never overbook a week, and a booking costs the same however many the
    weeks hold already. Volumes are kept to the litre (``volume_m3`` is rounded to 3 decimals).
    ``held`` (a seller's booking) and ``proposed`` (an allocation job's proposal) bookings must
    both fit now; only ``held`` and ``confirmed`` ones take capacity, so a proposal is checked
    again when it is confirmed. The caller commits.

    Raises NotFoundError (no warehouse), InvalidInputError, CapacityError, IdempotencyError.
    """
    if status not in ("held", "proposed"):
        raise InvalidInputError(
            "status", status, "held or proposed",
            message=f"got {status!r}; new bookings are held or proposed",
        )  # fmt: skip
    for field, amount in (("pallets", pallets), ("volume_m3", volume_m3)):
        if amount < 0:
            raise InvalidInputError(
                field, amount, "a number >= 0", message=f"got {amount}; expected a number >= 0"
            )
    volume_m3 = litres(volume_m3) / LITRES_PER_M3
    if pallets == 0 and volume_m3 == 0:
        raise InvalidInputError(
            "pallets", pallets, "pallets > 0 or volume_m3 >= 0.001",
            message="a booking needs pallets > 0 or volume_m3 >= 0.001 (volumes are kept to the "
            "litre)",
        )  # fmt: skip
    weeks = week_range(first_week, last_week)
    if idempotency_key is not None:
        existing = _by_idempotency_key(session, organisation_id, idempotency_key)
        if existing is not None:
            return _replay(existing, idempotency_key, request_sha256), True
    warehouse = lock_warehouse(session, warehouse_id)
    if idempotency_key is not None:  # a retry may have committed while this one waited
        existing = _by_idempotency_key(session, organisation_id, idempotency_key)
        if existing is not None:
            return _replay(existing, idempotency_key, request_sha256), True
    _check_fit(
        ledger(session, warehouse, weeks), pallets, volume_m3, f"warehouse {warehouse.name!r}"
    )
    now = utc_now()
    booking = BookingRow(
        id=new_id(), warehouse_id=warehouse.id, organisation_id=organisation_id, status=status,
        first_week=first_week, last_week=last_week, pallets=pallets, volume_m3=volume_m3,
        reference=reference, job_id=job_id, created_by_key_id=actor.api_key_id,
        idempotency_key=idempotency_key, request_sha256=request_sha256, created_at=now,
        updated_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError:
        # Same key, same organisation, another warehouse: that request holds another lock.
        if idempotency_key is None:
            raise
        existing = _by_idempotency_key(session, organisation_id, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, idempotency_key, request_sha256), True
    _count(session, booking, status, 1)
    write_audit(
        session, actor, "booking.created", warehouse.id, booking_id=booking.id,
        after=booking_state(booking),
    )  # fmt: skip
    session.flush()
    session.refresh(booking)
    return booking, False


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    """Bookings of the actor's organisation, and (coordinators, admins) in its warehouses."""
    own = BookingRow.organisation_id == actor.organisation_id
    if actor.role not in MANAGER_ROLES:
        return own
    managed = select(WarehouseRow.id).where(WarehouseRow.organisation_id == actor.organisation_id)
    return or_(own, BookingRow.warehouse_id.in_(managed))


def get_booking(session: Session, actor: Actor, booking_id: str) -> BookingRow:
    """A booking the actor may see; anyone else's is simply not found."""
    booking = session.scalar(
        select(BookingRow)
        .where(BookingRow.id == booking_id, _visible_to(actor))
        .execution_options(populate_existing=True)
    )
    if booking is None:
        raise NotFoundError(f"no booking {booking_id!r} visible to you")
    return booking


def list_bookings(
    session: Session,
    actor: Actor,
    limit: int,
    cursor: str | None = None,
    *,
    warehouse_id: str | None = None,
    status: str | None = None,
    week: str | None = None,
) -> tuple[list[BookingRow], str | None]:
    """A page of the bookings the actor may see, newest first, and the next page's cursor."""
    query = select(BookingRow).where(_visible_to(actor))
    if warehouse_id is not None:
        query = query.where(BookingRow.warehouse_id == warehouse_id)
    if status is not None:
        query = query.where(BookingRow.status == status)
    if week is not None:
        week_monday(week)
        query = query.where(BookingRow.first_week <= week, BookingRow.last_week >= week)
    query = page_after(query, BookingRow.created_at, BookingRow.id, cursor)
    return page(session, query.order_by(BookingRow.created_at.desc(), BookingRow.id.desc()), limit)


def _booking_for_change(session: Session, actor: Actor, booking_id: str) -> BookingRow:
    """The booking, re-read after its warehouse is locked (so transitions serialise)."""
    booking = get_booking(session, actor, booking_id)
    lock_warehouse(session, booking.warehouse_id)
    return get_booking(session, actor, booking_id)


def confirm_booking(session: Session, actor: Actor, booking_id: str) -> BookingRow:
    """Confirm a held or proposed booking (coordinators and admins of its warehouse).

    A proposed booking takes capacity only now, so it must still fit (CapacityError if not).
    """
    booking = _booking_for_change(session, actor, booking_id)
    if not actor.manages(booking.warehouse):
        raise ForbiddenError(
            "confirming a booking needs a coordinator or admin of the organisation owning "
            f"warehouse {booking.warehouse_id!r}"
        )
    if booking.status not in ("held", "proposed"):
        raise StateError(
            f"booking {booking.id} is {booking.status}; only held or proposed bookings can be "
            "confirmed",
            booking.status,
        )
    if booking.status == "proposed":
        weeks = week_range(booking.first_week, booking.last_week)
        _check_fit(
            ledger(session, booking.warehouse, weeks), booking.pallets, booking.volume_m3,
            f"warehouse {booking.warehouse.name!r}",
        )  # fmt: skip
    before = booking_state(booking)
    _count(session, booking, booking.status, -1)
    _count(session, booking, "confirmed", 1)
    booking.status, booking.confirmed_at = "confirmed", utc_now()
    booking.updated_at = booking.confirmed_at
    write_audit(
        session, actor, "booking.confirmed", booking.warehouse_id, booking_id=booking.id,
        before=before, after=booking_state(booking),
    )  # fmt: skip
    session.flush()
    return booking


def cancel_booking(session: Session, actor: Actor, booking_id: str) -> BookingRow:
    """Cancel a booking (its organisation, or coordinators and admins of its warehouse)."""
    booking = _booking_for_change(session, actor, booking_id)
    if booking.status == "cancelled":
        raise StateError(f"booking {booking.id} is cancelled already", booking.status)
    before = booking_state(booking)
    _count(session, booking, booking.status, -1)
    booking.status, booking.cancelled_at = "cancelled", utc_now()
    booking.updated_at = booking.cancelled_at
    write_audit(
        session, actor, "booking.cancelled", booking.warehouse_id, booking_id=booking.id,
        before=before, after=booking_state(booking),
    )  # fmt: skip
    session.flush()
    return booking
