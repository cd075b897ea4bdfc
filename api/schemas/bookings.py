"""Request and response models of ``/v1/bookings``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.warehouses import Pallets, Text, VolumeM3, Week

BookingStatus = Literal["proposed", "held", "confirmed", "cancelled"]


class BookingIn(BaseModel):
    """Capacity to hold in one warehouse, every week from ``first_week`` to ``last_week``
    (inclusive, at most 104 weeks), for your organisation. It is ``held`` (it takes capacity at
    once) until a coordinator of the warehouse confirms it."""

    model_config = ConfigDict(extra="forbid")
    warehouse_id: Text = Field(min_length=1, max_length=64)
    first_week: Week
    last_week: Week
    pallets: Pallets = Field(examples=[12])
    volume_m3: VolumeM3 = Field(examples=[20.5])
    reference: Text | None = Field(
        default=None, max_length=200, description="Your own reference (an order number)."
    )


class BookingOut(BaseModel):
    """A booking. ``held`` and ``confirmed`` ones take capacity; ``proposed`` ones (from an
    allocation job) only once confirmed; ``cancelled`` ones are history."""

    id: str
    warehouse_id: str
    warehouse_name: str
    node_id: str
    organisation_id: str
    organisation: str
    status: BookingStatus
    first_week: str
    last_week: str
    pallets: int
    volume_m3: float
    reference: str | None
    job_id: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None


class BookingPage(BaseModel):
    """A page of bookings, newest first; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[BookingOut]
    next_cursor: str | None
