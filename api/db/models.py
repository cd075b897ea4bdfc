"""Tables of the service (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Organisation(Base):
    """A tenant: a forwarder, a planner's team or a warehouse coordinator."""

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ApiKey(Base):
    """An API key; only its SHA-256 digest is stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RoutePlanRecord(Base):
    """A stored route plan: the request and the plan document."""

    __tablename__ = "route_plans"
    __table_args__ = (Index("ix_route_plans_org_created", "organisation_id", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    dataset_version: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)


class JobRecord(Base):
    """Long work run by a worker; durable across restarts."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    input: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The worker holding a running job, and when it last said it is alive.
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)


class WarehouseRow(Base):
    """A shared warehouse at a network node, owned by the organisation that registered it.

    Capacity is counted per ISO week: ``pallets_per_week`` pallet positions and
    ``volume_m3_per_week`` cubic metres, unless a :class:`WarehouseWeekCapacity` row overrides a
    week. Booking writers lock this row (``SELECT ... FOR UPDATE``; ``BEGIN IMMEDIATE`` on
    SQLite) before they read the ledger's weekly totals (:class:`WarehouseWeekBooked`), so no
    two of them can both take the last capacity.
    """

    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_warehouses_org_name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    pallets_per_week: Mapped[int] = mapped_column(Integer)
    volume_m3_per_week: Mapped[float] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class WarehouseWeekCapacity(Base):
    """A warehouse's capacity in one ISO week (``2026-W49``), overriding its weekly default."""

    __tablename__ = "warehouse_week_capacities"
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    pallets: Mapped[int] = mapped_column(Integer)
    volume_m3: Mapped[float] = mapped_column(Double)


class BookingRow(Base):
    """Pallets and m3 held in one warehouse for an inclusive range of ISO weeks, for one
    (seller) organisation.

    ``held`` and ``confirmed`` bookings take capacity; ``proposed`` ones (made by an allocation
    job) do not until a coordinator confirms them; ``cancelled`` ones are history.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "idempotency_key", name="uq_bookings_org_idempotency_key"
        ),
        Index("ix_bookings_warehouse_status_weeks", "warehouse_id", "status", "first_week"),
        Index("ix_bookings_org_created", "organisation_id", "created_at", "id"),
        Index("ix_bookings_warehouse_created", "warehouse_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(20))
    first_week: Mapped[str] = mapped_column(String(8))
    last_week: Mapped[str] = mapped_column(String(8))
    pallets: Mapped[int] = mapped_column(Integer)
    volume_m3: Mapped[float] = mapped_column(Double)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The allocation job that proposed it, if any.
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: SHA-256 of the canonical request body sent with ``idempotency_key``.
    request_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    warehouse: Mapped[WarehouseRow] = relationship(lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class WarehouseWeekBooked(Base):
    """What the bookings of one status take in one warehouse week: the ledger's running totals.

    Every booking write (create, confirm, cancel) updates the rows of its weeks in its own
    transaction, under the warehouse lock, so capacity checks and the ledger read one row per
    week and status instead of every booking overlapping the weeks. Volumes are counted in
    whole litres (bookings are kept to the litre), so the sums are exact. Cancelled bookings
    have no rows; a row whose bookings were all cancelled holds zeros.
    """

    __tablename__ = "warehouse_week_booked"
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    pallets: Mapped[int] = mapped_column(BigInteger)
    volume_litres: Mapped[int] = mapped_column(BigInteger)


class LedgerAuditEntry(Base):
    """Who changed which capacity or booking, when, from what to what."""

    __tablename__ = "ledger_audit"
    __table_args__ = (
        Index("ix_ledger_audit_warehouse_created", "warehouse_id", "created_at", "id"),
        Index("ix_ledger_audit_booking_created", "booking_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    #: The key that made the change and its organisation (None when a job made it).
    api_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    organisation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
