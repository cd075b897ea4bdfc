"""Request and response models of ``/v1/warehouses``, and the ledger's shared pieces: the ISO
week type and the 409 problem document (with the remaining capacity)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from api.schemas.numbers import JSON_NUMBER
from api.schemas.problems import ProblemDocument, inline_refs
from api.weeks import WeekError, week_monday


def _check_week(value: object) -> object:
    """Reject a malformed week with a message saying what to send (the pattern comes after)."""
    if isinstance(value, str):
        try:
            week_monday(value)
        except WeekError as exc:
            raise PydanticCustomError("iso_week", "{reason}", {"reason": exc.message}) from exc
    return value


def _no_nul(value: object) -> object:
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    return value


#: Text that any database can store and compare (PostgreSQL refuses NUL characters). The
#: schema says so too (a pattern), so that a client generating valid text from it sends none;
#: the validator, last, answers first with the message in words.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$"), BeforeValidator(_no_nul)]
#: The weeks the ledger takes (years FIRST_YEAR 2000 to LAST_YEAR 2199, weeks 01 to 53) as a
#: pattern for the schema; W53 exists in some years only, and the validator says which.
SCHEMA_WEEK_PATTERN = r"^(20|21)[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
Week = Annotated[
    str,
    Field(
        pattern=SCHEMA_WEEK_PATTERN,
        examples=["2026-W49"],
        description="An ISO 8601 week, YYYY-Www (2026-W49 is the week of Monday 2026-11-30).",
    ),
    BeforeValidator(_check_week),  # last, so the pattern above reaches query parameters' schema
]

Pallets = Annotated[int, Field(ge=0, le=10_000_000, description="Pallet positions."), JSON_NUMBER]
#: Cubic metres to the litre, as the ledger keeps them: finer volumes are refused, not rounded
#: away (0.0004 m3 and no pallets would have booked nothing).
VolumeM3 = Annotated[
    float,
    Field(
        ge=0, le=100_000_000, allow_inf_nan=False, multiple_of=0.001,
        description="Cubic metres, to the litre (a multiple of 0.001).",
    ),
    JSON_NUMBER,
]  # fmt: skip


class WarehouseIn(BaseModel):
    """A warehouse to register for your organisation (coordinators and admins)."""

    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=200, examples=["Duisburg logport, hall 3"])
    node_id: Text = Field(
        min_length=1, max_length=64, examples=["WH-DEDUI"], description="A network node id."
    )
    pallets_per_week: Pallets = Field(examples=[400])
    volume_m3_per_week: VolumeM3 = Field(examples=[900.0])


class CapacityIn(BaseModel):
    """New weekly capacity: the default of every week, or with ``first_week`` and ``last_week``
    an override of each week in that inclusive range (at most 104 weeks)."""

    model_config = ConfigDict(extra="forbid")
    pallets_per_week: Pallets = Field(examples=[320])
    volume_m3_per_week: VolumeM3 = Field(examples=[700.0])
    first_week: Week | None = None
    last_week: Week | None = None


class WeekCapacityOut(BaseModel):
    """A week whose capacity overrides the warehouse's default."""

    week: str
    pallets: int
    volume_m3: float


class WarehouseOut(BaseModel):
    """A warehouse; ``owned`` says whether your organisation runs it."""

    id: str
    name: str
    node_id: str
    owned: bool
    pallets_per_week: int
    volume_m3_per_week: float
    created_at: datetime
    updated_at: datetime


class WarehouseDetailOut(WarehouseOut):
    """A warehouse with the weeks whose capacity differs from its default."""

    week_overrides: list[WeekCapacityOut]


class LedgerWeekOut(BaseModel):
    """One week of a warehouse: capacity, what held and confirmed bookings take, what is free.

    ``booked_*`` is ``confirmed_*`` plus ``held_*`` (held bookings await a coordinator's
    confirmation but take capacity already); ``proposed_*`` (an allocation job's proposals)
    take none until confirmed."""

    week: str
    pallets: int
    volume_m3: float
    booked_pallets: int
    booked_volume_m3: float
    free_pallets: int
    free_volume_m3: float
    overridden: bool
    confirmed_pallets: int
    confirmed_volume_m3: float
    held_pallets: int
    held_volume_m3: float
    proposed_pallets: int
    proposed_volume_m3: float


class LedgerOut(BaseModel):
    warehouse_id: str
    weeks: list[LedgerWeekOut]


AuditAction = Literal[
    "warehouse.created",
    "capacity.default_set",
    "capacity.weeks_set",
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
]


class AuditEntryOut(BaseModel):
    """A change: who (the role and organisation of the key that made it, or a job), when,
    what, from what to what. ``api_key_id`` is shown to the coordinators and admins of the
    warehouse's organisation only; a booking's owner sees the role and organisation."""

    id: str
    created_at: datetime
    action: AuditAction
    warehouse_id: str
    booking_id: str | None
    actor_role: str | None = Field(description="The role of the key; null when a job acted.")
    actor_organisation: str | None = Field(description="The name of the key's organisation.")
    api_key_id: str | None = Field(
        description="The key (null for a job, and for anyone but the warehouse's coordinators "
        "and admins)."
    )
    organisation_id: str | None
    job_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of audit entries, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    items: list[AuditEntryOut]
    next_cursor: str | None


class FreeWeekOut(BaseModel):
    week: str
    pallets: int
    volume_m3: float


class OverbookedWeekOut(BaseModel):
    week: str
    pallets: int
    volume_m3: float
    booked_pallets: int
    booked_volume_m3: float


class LedgerProblem(ProblemDocument):
    """A 409 of the ledger. Not enough capacity: ``remaining_pallets`` and
    ``remaining_volume_m3`` (free in every requested week) and ``remaining`` (free per week).
    A booking in the wrong state: ``current_status``. A capacity cut below the bookings:
    ``overbooked_weeks`` (the new capacity and what is booked)."""

    current_status: str | None = None
    remaining_pallets: int | None = None
    remaining_volume_m3: float | None = None
    remaining: list[FreeWeekOut] | None = None
    overbooked_weeks: list[OverbookedWeekOut] | None = None


def _conflict_doc(description: str) -> dict[str, Any]:
    schema = LedgerProblem.model_json_schema()
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": inline_refs(schema)}},
    }


#: The 409 answers of the ledger's routes, for the OpenAPI schema.
CONFLICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: _conflict_doc(
        "Conflict: not enough capacity (with the remaining capacity), a booking in the wrong "
        "state (with its status), a capacity cut below the bookings (with the weeks), or a "
        "name in use"
    )
}
