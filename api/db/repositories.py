"""Queries, kept out of the route functions. Every read is scoped to one organisation."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import (
    ApiKey,
    BookingRow,
    JobRecord,
    LedgerAuditEntry,
    Organisation,
    RoutePlanRecord,
    WarehouseRow,
    WarehouseWeekBooked,
    WarehouseWeekCapacity,
    utc_now,
)
from optimizer.errors import InvalidInputError, ShudaoError, quoted
from optimizer.inputs import YEARS

ROLES = ("forwarder", "planner", "coordinator", "admin")
KEY_PREFIX_CHARS = 12


@dataclass(frozen=True)
class Caller:
    """The API key a request authenticated with: its id, organisation and role."""

    id: str
    organisation_id: str
    role: str


@dataclass(frozen=True)
class Actor:
    """Who changes the ledger: an API key (id, organisation, role) or a job."""

    api_key_id: str | None
    organisation_id: str | None
    role: str | None = None
    job_id: str | None = None

    @classmethod
    def of_key(cls, key: Caller) -> Actor:
        return cls(key.id, key.organisation_id, key.role)

    def manages(self, warehouse: WarehouseRow) -> bool:
        """Whether this actor is a coordinator or admin of the warehouse's organisation."""
        return self.role in MANAGER_ROLES and warehouse.organisation_id == self.organisation_id


def new_id() -> str:
    """A random 32-character hex id."""
    return secrets.token_hex(16)


def digest(key: str) -> str:
    """SHA-256 hex digest of an API key (keys are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


class NotFoundError(ShudaoError, LookupError):
    """A record does not exist (or belongs to another organisation)."""


class ConflictError(ShudaoError, ValueError):
    """A record with that name exists already."""


def create_organisation(session: Session, name: str) -> Organisation:
    """Create an organisation; names are unique."""
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise ConflictError(f"organisation {name!r} exists already")
    organisation = Organisation(id=new_id(), name=name, created_at=utc_now())
    session.add(organisation)
    session.flush()
    return organisation


def organisation_by_name(session: Session, name: str) -> Organisation:
    """The organisation called ``name``."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise NotFoundError(f"no organisation called {name!r}")
    return organisation


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is shown once and never stored."""

    id: str
    secret: str
    role: str
    organisation: str


def create_key(session: Session, organisation_name: str, role: str) -> IssuedKey:
    """Issue a key for an organisation with one of :data:`ROLES`."""
    if role not in ROLES:
        raise ValueError(f"role: got {role!r}; expected one of {', '.join(ROLES)}")
    organisation = organisation_by_name(session, organisation_name)
    secret = "sd_" + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id(), organisation_id=organisation.id, role=role,
        prefix=secret[:KEY_PREFIX_CHARS], key_sha256=digest(secret), created_at=utc_now(),
    )  # fmt: skip
    session.add(key)
    session.flush()
    return IssuedKey(key.id, secret, role, organisation.name)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    """Revoke a key by id; a revoked key authenticates nothing."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id!r}")
    key.revoked_at = key.revoked_at or utc_now()
    return key


def authenticate(session: Session, secret: str) -> Caller | None:
    """The live key matching ``secret``, compared in constant time; None if none."""
    wanted = digest(secret)
    candidates = session.execute(
        select(ApiKey.id, ApiKey.organisation_id, ApiKey.role, ApiKey.key_sha256).where(
            ApiKey.prefix == secret[:KEY_PREFIX_CHARS], ApiKey.revoked_at.is_(None)
        )
    )
    for key_id, organisation_id, role, key_sha256 in candidates:
        if hmac.compare_digest(key_sha256, wanted):
            return Caller(key_id, organisation_id, role)
    return None


_INSERT_PLAN = insert(RoutePlanRecord.metadata.tables[RoutePlanRecord.__tablename__])


def save_plan(
    session: Session, organisation_id: str, request: dict[str, Any], plan: dict[str, Any]
) -> tuple[str, datetime]:
    """Store a plan document for an organisation; its id and creation time.

    One Core insert: the ORM's unit of work would build, flush and track a record that the
    request never reads back.
    """
    plan_id, created_at = new_id(), utc_now()
    session.execute(
        _INSERT_PLAN,
        {
            "id": plan_id, "organisation_id": organisation_id, "created_at": created_at,
            "dataset_version": str(plan["dataset_version"]), "request": request, "plan": plan,
        },
    )  # fmt: skip
    return plan_id, created_at


Owned = TypeVar("Owned", RoutePlanRecord, JobRecord, ApiKey)


def get_owned(
    session: Session, model: type[Owned], organisation_id: str, record_id: str, what: str
) -> Owned:
    """One record of this organisation; another organisation's record is simply not found."""
    if "\x00" in record_id:  # PostgreSQL rejects NUL in text; no id holds one
        raise NotFoundError(f"no {what} {record_id!r} in your organisation")
    record = session.get(model, record_id)
    if record is None or record.organisation_id != organisation_id:
        raise NotFoundError(f"no {what} {record_id!r} in your organisation")
    return record


def get_plan(session: Session, organisation_id: str, plan_id: str) -> RoutePlanRecord:
    """One plan of this organisation."""
    return get_owned(session, RoutePlanRecord, organisation_id, plan_id, "route plan")


def encode_cursor(created_at: datetime, record_id: str) -> str:
    """Opaque cursor pointing just after a record in newest-first order."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{record_id}".encode()).decode()


class CursorError(InvalidInputError):
    """A ``cursor`` query parameter that this API did not make."""


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of :func:`encode_cursor`: the record's creation time in UTC and its id.

    Every list reads its cursor here. Anything this API did not write is a CursorError: text
    that is not base64 or UTF-8, a time without an offset or one that leaves the calendar when
    moved to UTC, an id with a NUL (PostgreSQL refuses NUL in text).

    Examples
    --------
    >>> at = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    >>> decode_cursor(encode_cursor(at, "ab12")) == (at, "ab12")
    True
    >>> try:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
    ...     decode_cursor("MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMHxhYmM=")
    ... except CursorError as error:
    ...     print(error.field, "|", str(error).split("; ")[1])
    cursor | expected a next_cursor returned by this API
    """
    try:
        created, record_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(created)
        if at.tzinfo is None or "\x00" in record_id:
            raise ValueError("not written by encode_cursor")
        return at.astimezone(UTC), record_id
    except (ValueError, OverflowError) as exc:  # UnicodeDecodeError and binascii.Error too
        raise CursorError("cursor", cursor, "a next_cursor returned by this API") from exc


Paged = TypeVar("Paged", RoutePlanRecord, BookingRow, LedgerAuditEntry)


def _page_after(
    query: Select[Paged], created: Any, ident: Any, cursor: str | None
) -> Select[Paged]:
    """``query`` restricted to the records after ``cursor`` in newest-first order."""
    if not cursor:
        return query
    at, record_id = decode_cursor(cursor)
    return query.where(or_(created < at, and_(created == at, ident < record_id)))


def _page(session: Session, query: Select[Paged], limit: int) -> tuple[list[Paged], str | None]:
    records = list(session.scalars(query.limit(limit + 1)).unique())
    more = len(records) > limit
    records = records[:limit]
    last = records[-1] if more and records else None
    return records, (encode_cursor(last.created_at, last.id) if last is not None else None)


def list_plans(
    session: Session, organisation_id: str, limit: int, cursor: str | None
) -> tuple[list[RoutePlanRecord], str | None]:
    """A page of plans, newest first, and the cursor of the next page (None at the end).

    Raises CursorError for a cursor this API did not make.
    """
    query = select(RoutePlanRecord).where(RoutePlanRecord.organisation_id == organisation_id)
    query = _page_after(query, RoutePlanRecord.created_at, RoutePlanRecord.id, cursor)
    query = query.order_by(RoutePlanRecord.created_at.desc(), RoutePlanRecord.id.desc())
    return _page(session, query, limit)


# --- The shared-warehouse capacity ledger (issue 6) -------------------------------------------

#: ``proposed`` (by an allocation job) -> ``confirmed`` by a coordinator; ``held`` (booked by a
#: seller) -> ``confirmed``; any of those -> ``cancelled``.
BOOKING_STATUSES = ("proposed", "held", "confirmed", "cancelled")
#: Bookings that take capacity.
HOLDING_STATUSES = ("held", "confirmed")
#: Bookings the ledger keeps weekly totals of (:class:`~api.db.models.WarehouseWeekBooked`).
COUNTED_STATUSES = ("proposed", "held", "confirmed")
#: Roles that manage their organisation's warehouses (capacity, confirmations, audit).
MANAGER_ROLES = ("coordinator", "admin")
#: Longest week range one request may name (two years).
MAX_WEEKS = 104
#: Volumes are kept to the litre; sums are compared with this tolerance.
VOLUME_EPS_M3 = 1e-6
LITRES_PER_M3 = 1000
WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"
FIRST_YEAR, LAST_YEAR = YEARS  # as every date Shudao reads


class ForbiddenError(ShudaoError, PermissionError):
    """The caller may see the record but not do this to it."""


class WeekError(InvalidInputError):
    """A week or week range is invalid."""


def week_monday(week: str, field: str = "week") -> date:
    """The Monday of an ISO week written ``YYYY-Www`` (``2026-W49`` -> 2026-11-30).

    Examples
    --------
    >>> week_monday("2026-W49")
    datetime.date(2026, 11, 30)
    >>> try:
    ...     week_monday("2026-11-30")
    ... except WeekError as error:
    ...     print(error.field, "|", str(error).split("; ")[1])
    week | expected an ISO week like 2026-W49 (for the week of 2026-11-30 send 2026-W49)
    """
    if not isinstance(week, str) or not re.fullmatch(WEEK_PATTERN, week):
        hint = ""
        with contextlib.suppress(TypeError, ValueError):
            day = date.fromisoformat(week)
            hint = f" (for the week of {day.isoformat()} send {iso_week(day)})"
        raise WeekError(field, week, f"an ISO week like 2026-W49{hint}")
    year, number = int(week[:4]), int(week[6:])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekError(
            field, week, f"a year {FIRST_YEAR} to {LAST_YEAR}",
            message=f"got {quoted(week)}; the year must be {FIRST_YEAR} to {LAST_YEAR}",
        )  # fmt: skip
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise WeekError(
            field, week, f"weeks W01 to W{last:02d}",
            message=f"got {quoted(week)}; {year} has weeks W01 to W{last:02d}",
        ) from None  # fmt: skip


def iso_week(day: date) -> str:
    """The ISO week of a date, ``YYYY-Www``."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def week_range(
    first: str, last: str, first_field: str = "first_week", last_field: str = "last_week"
) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive (at most :data:`MAX_WEEKS`).

    Examples
    --------
    >>> week_range("2026-W52", "2027-W02")
    ['2026-W52', '2026-W53', '2027-W01', '2027-W02']
    """
    start, end = week_monday(first, first_field), week_monday(last, last_field)
    if end < start:
        raise WeekError(
            last_field, last, f"{first_field} {first} or later",
            message=f"{last} is before {first_field} {first}",
        )  # fmt: skip
    count = (end - start).days // 7 + 1
    if count > MAX_WEEKS:
        raise WeekError(
            last_field, last, f"at most {MAX_WEEKS} weeks",
            message=f"{first}..{last} is {count} weeks; at most {MAX_WEEKS}",
        )  # fmt: skip
    return [iso_week(start + timedelta(weeks=i)) for i in range(count)]


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


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    warehouse_id: str,
    *,
    booking_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        LedgerAuditEntry(
            id=new_id(), created_at=utc_now(), warehouse_id=warehouse_id, booking_id=booking_id,
            action=action, api_key_id=actor.api_key_id, organisation_id=actor.organisation_id,
            job_id=actor.job_id, before=before, after=after,
        )
    )  # fmt: skip


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
    _audit(session, actor, "warehouse.created", warehouse.id, after=_warehouse_state(warehouse))
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
        _audit(
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
        _audit(
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
    _audit(
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
    query = _page_after(query, BookingRow.created_at, BookingRow.id, cursor)
    return _page(session, query.order_by(BookingRow.created_at.desc(), BookingRow.id.desc()), limit)


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
    _audit(
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
    _audit(
        session, actor, "booking.cancelled", booking.warehouse_id, booking_id=booking.id,
        before=before, after=booking_state(booking),
    )  # fmt: skip
    session.flush()
    return booking


def list_audit(
    session: Session,
    limit: int,
    cursor: str | None = None,
    *,
    warehouse_id: str | None = None,
    booking_id: str | None = None,
) -> tuple[list[LedgerAuditEntry], str | None]:
    """A page of audit entries of a warehouse or of a booking, newest first."""
    query = select(LedgerAuditEntry)
    if warehouse_id is not None:
        query = query.where(LedgerAuditEntry.warehouse_id == warehouse_id)
    if booking_id is not None:
        query = query.where(LedgerAuditEntry.booking_id == booking_id)
    query = _page_after(query, LedgerAuditEntry.created_at, LedgerAuditEntry.id, cursor)
    query = query.order_by(LedgerAuditEntry.created_at.desc(), LedgerAuditEntry.id.desc())
    return _page(session, query, limit)


@dataclass(frozen=True)
class AuditActors:
    """Who the actors of some audit entries are: each key's role, each organisation's name."""

    roles: dict[str, str]
    organisations: dict[str, str]


def audit_actors(session: Session, entries: list[LedgerAuditEntry]) -> AuditActors:
    """The roles of the keys and the names of the organisations that made ``entries``."""
    key_ids = {e.api_key_id for e in entries if e.api_key_id is not None}
    organisation_ids = {e.organisation_id for e in entries if e.organisation_id is not None}
    roles = session.execute(select(ApiKey.id, ApiKey.role).where(ApiKey.id.in_(key_ids)))
    names = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(organisation_ids))
    )
    return AuditActors(
        {key_id: role for key_id, role in roles}, {ident: name for ident, name in names}
    )
