"""``/v1/bookings``: hold warehouse capacity for a range of weeks; confirm and cancel.

Your organisation sees its own bookings; coordinators and admins also see every booking in their
organisation's warehouses, and alone may confirm them. A booking and the capacity check behind
it are one transaction under a lock on the warehouse (see
:func:`api.db.repositories.lock_warehouse`), committed before the answer is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.models import BookingRow
from api.db.repositories import Actor, Caller
from api.deps import KeyDep, SessionDep, SessionRoute
from api.problems import HttpProblem
from api.routes.warehouses import (
    CursorQuery,
    IdPath,
    LimitQuery,
    audit_page,
)
from api.schemas.bookings import BookingIn, BookingOut, BookingPage, BookingStatus
from api.schemas.warehouses import CONFLICT_RESPONSES, AuditPage, Text, Week

router = APIRouter(prefix="/v1/bookings", tags=["bookings"], route_class=SessionRoute)


def to_out(booking: BookingRow) -> BookingOut:
    return BookingOut.model_validate(
        {
            **{c: getattr(booking, c) for c in BookingOut.model_fields if hasattr(booking, c)},
            "warehouse_name": booking.warehouse.name,
            "node_id": booking.warehouse.node_id,
            "organisation": booking.organisation.name,
        }
    )


@router.post("", status_code=201, response_model=BookingOut, responses=CONFLICT_RESPONSES)
def create_booking(
    body: BookingIn,
    response: Response,
    key: KeyDep,
    session: SessionDep,
    idempotency_key: Annotated[
        Text | None,
        Header(
            min_length=1,
            max_length=200,
            description="Retry safely: the same key with the same body answers with the same "
            "booking (same id, its current state) and creates nothing; the same key with "
            "another body is refused with 422. Keys are per organisation.",
        ),
    ] = None,
) -> BookingOut | JSONResponse:
    """Hold capacity in a warehouse for your organisation; 409 with the remaining capacity when
    it does not fit (nothing is stored then: a retry with the same key is checked afresh)."""
    fingerprint = (
        repositories.request_fingerprint(body.model_dump(mode="json")) if idempotency_key else None
    )
    try:
        repositories.get_warehouse(session, body.warehouse_id)
    except repositories.NotFoundError as exc:
        detail = f"warehouse_id: no warehouse {body.warehouse_id!r}; see GET /v1/warehouses"
        raise HttpProblem(
            422, "Unknown warehouse", detail, errors=[{"field": "warehouse_id", "message": detail}]
        ) from exc
    booking, replayed = repositories.create_booking(
        session, Actor.of_key(key), warehouse_id=body.warehouse_id,
        organisation_id=key.organisation_id, first_week=body.first_week,
        last_week=body.last_week, pallets=body.pallets, volume_m3=body.volume_m3,
        reference=body.reference, idempotency_key=idempotency_key, request_sha256=fingerprint,
    )  # fmt: skip
    session.commit()
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return to_out(booking)


@router.get("", response_model=BookingPage)
def list_bookings(
    key: KeyDep,
    session: SessionDep,
    warehouse_id: Annotated[Text | None, Query(max_length=64)] = None,
    status: BookingStatus | None = None,
    week: Annotated[Week | None, Query(description="Only bookings covering this week.")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> BookingPage:
    """Bookings visible to you, newest first: your organisation's, and (coordinators, admins)
    every booking in your organisation's warehouses."""
    bookings, next_cursor = repositories.list_bookings(
        session, Actor.of_key(key), limit, cursor,
        warehouse_id=warehouse_id, status=status, week=week,
    )  # fmt: skip
    return BookingPage(items=[to_out(b) for b in bookings], next_cursor=next_cursor)


@router.get("/{booking_id}", response_model=BookingOut)
def get_booking(booking_id: IdPath, key: KeyDep, session: SessionDep) -> BookingOut:
    """One booking visible to you."""
    return to_out(repositories.get_booking(session, Actor.of_key(key), booking_id))


def _transition(
    session: Session,
    key: Caller,
    booking_id: IdPath,
    change: Callable[[Session, Actor, str], BookingRow],
) -> BookingOut | JSONResponse:
    actor = Actor.of_key(key)
    repositories.get_booking(session, actor, booking_id)
    booking = change(session, actor, booking_id)
    session.commit()
    return to_out(booking)


@router.post("/{booking_id}/confirm", response_model=BookingOut, responses=CONFLICT_RESPONSES)
def confirm_booking(
    booking_id: IdPath, key: KeyDep, session: SessionDep
) -> BookingOut | JSONResponse:
    """Confirm a held or proposed booking (coordinators and admins of the warehouse's
    organisation). A proposed booking must still fit (409 with the remaining capacity if not);
    any other state is a 409 naming it."""
    return _transition(session, key, booking_id, repositories.confirm_booking)


@router.post("/{booking_id}/cancel", response_model=BookingOut, responses=CONFLICT_RESPONSES)
def cancel_booking(
    booking_id: IdPath, key: KeyDep, session: SessionDep
) -> BookingOut | JSONResponse:
    """Cancel a booking, freeing its capacity (its organisation, or coordinators and admins of
    the warehouse's organisation); cancelling a cancelled booking is a 409 naming its state."""
    return _transition(session, key, booking_id, repositories.cancel_booking)


@router.get("/{booking_id}/audit", response_model=AuditPage)
def booking_audit(
    booking_id: IdPath,
    key: KeyDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    """Who created, confirmed or cancelled this booking, and when, newest first: the role and
    organisation of each key, and the key's id for the warehouse's coordinators and admins."""
    actor = Actor.of_key(key)
    booking = repositories.get_booking(session, actor, booking_id)
    return audit_page(
        session, limit, cursor, shows_key_ids=actor.manages(booking.warehouse),
        booking_id=booking_id,
    )  # fmt: skip
