"""``/v1/warehouses``: shared warehouses, their weekly capacity, ledger and audit trail.

Every organisation may list warehouses and read their weekly ledger (to book into them);
coordinators and admins register warehouses for their organisation and alone may change their
capacity and read their audit trail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.models import LedgerAuditEntry, WarehouseRow, utc_now
from api.db.repositories import Actor, Caller
from api.deps import KeyDep, NetworkDep, SessionDep, SessionRoute, require_role
from api.problems import HttpProblem
from api.schemas.warehouses import (
    CONFLICT_RESPONSES,
    AuditEntryOut,
    AuditPage,
    CapacityIn,
    LedgerOut,
    LedgerWeekOut,
    Text,
    WarehouseDetailOut,
    WarehouseIn,
    WarehouseOut,
    Week,
    WeekCapacityOut,
)
from api.weeks import iso_week, week_monday, week_range

router = APIRouter(prefix="/v1/warehouses", tags=["warehouses"], route_class=SessionRoute)
ManagerDep = Annotated[Caller, Depends(require_role(*repositories.MANAGER_ROLES))]
LimitQuery = Annotated[int, Query(ge=1, le=100)]
CursorQuery = Annotated[Text | None, Query(max_length=200)]
IdPath = Annotated[Text, Path(max_length=64)]
#: Weeks shown by ``GET .../capacity`` without a range: this one and the next eleven.
DEFAULT_LEDGER_WEEKS = 12


def audit_out(
    entry: LedgerAuditEntry, actors: repositories.AuditActors, shows_key_ids: bool
) -> AuditEntryOut:
    """An audit entry as ``AuditEntryOut``; the key id only when ``shows_key_ids``."""
    return AuditEntryOut.model_validate(
        {
            **{c: getattr(entry, c) for c in AuditEntryOut.model_fields if hasattr(entry, c)},
            "actor_role": actors.roles.get(entry.api_key_id or ""),
            "actor_organisation": actors.organisations.get(entry.organisation_id or ""),
            "api_key_id": entry.api_key_id if shows_key_ids else None,
        }
    )


def to_out(warehouse: WarehouseRow, key: Caller) -> WarehouseOut:
    return WarehouseOut.model_validate(
        {**_columns(warehouse), "owned": warehouse.organisation_id == key.organisation_id}
    )


def to_detail(session: Session, warehouse: WarehouseRow, key: Caller) -> WarehouseDetailOut:
    overrides = repositories.capacity_overrides(session, warehouse.id)
    return WarehouseDetailOut.model_validate(
        {
            **to_out(warehouse, key).model_dump(),
            "week_overrides": [
                WeekCapacityOut.model_validate(o, from_attributes=True) for o in overrides
            ],
        }
    )


def _columns(warehouse: WarehouseRow) -> dict[str, Any]:
    return {c: getattr(warehouse, c) for c in (
        "id", "name", "node_id", "pallets_per_week", "volume_m3_per_week", "created_at",
        "updated_at",
    )}  # fmt: skip


@router.post("", status_code=201, response_model=WarehouseOut, responses=CONFLICT_RESPONSES)
def create_warehouse(
    body: WarehouseIn, key: ManagerDep, session: SessionDep, network: NetworkDep
) -> WarehouseOut | JSONResponse:
    """Register a warehouse at a network node for your organisation (coordinators, admins)."""
    if body.node_id not in network.nodes.index:
        detail = f"node_id: no node {body.node_id!r} in the network; find ids at /v1/network/search"
        raise HttpProblem(
            422, "Unknown node", detail, errors=[{"field": "node_id", "message": detail}]
        )
    warehouse = repositories.create_warehouse(
        session, Actor.of_key(key), body.name, body.node_id, body.pallets_per_week,
        body.volume_m3_per_week,
    )  # fmt: skip
    session.commit()
    return to_out(warehouse, key)


@router.get("", response_model=list[WarehouseOut])
def list_warehouses(
    key: KeyDep,
    session: SessionDep,
    node_id: Annotated[
        Text | None, Query(max_length=64, description="Only those at this node.")
    ] = None,
) -> list[WarehouseOut]:
    """Every organisation's warehouses (name, node, default weekly capacity), by name."""
    return [to_out(w, key) for w in repositories.list_warehouses(session, node_id)]


@router.get("/{warehouse_id}", response_model=WarehouseDetailOut)
def get_warehouse(warehouse_id: IdPath, key: KeyDep, session: SessionDep) -> WarehouseDetailOut:
    """One warehouse, with the weeks whose capacity overrides its default."""
    return to_detail(session, repositories.get_warehouse(session, warehouse_id), key)


@router.put(
    "/{warehouse_id}/capacity", response_model=WarehouseDetailOut, responses=CONFLICT_RESPONSES
)
def set_capacity(
    warehouse_id: IdPath, body: CapacityIn, key: ManagerDep, session: SessionDep
) -> WarehouseDetailOut | JSONResponse:
    """Set the default weekly capacity, or override it for ``first_week``..``last_week``.

    Coordinators and admins of the warehouse's organisation only. A cut below what held and
    confirmed bookings take in any week (past weeks included: the ledger never shows a week
    overbooked) is refused with 409 naming those weeks; nothing changes then.
    """
    repositories.get_warehouse(session, warehouse_id)
    warehouse = repositories.set_capacity(
        session, Actor.of_key(key), warehouse_id, body.pallets_per_week,
        body.volume_m3_per_week, body.first_week, body.last_week,
    )  # fmt: skip
    session.commit()
    return to_detail(session, warehouse, key)


@router.get("/{warehouse_id}/capacity", response_model=LedgerOut)
def get_capacity(
    warehouse_id: IdPath,
    key: KeyDep,
    session: SessionDep,
    first_week: Annotated[Week | None, Query(description="Default: this week.")] = None,
    last_week: Annotated[
        Week | None, Query(description=f"Default: {DEFAULT_LEDGER_WEEKS - 1} weeks on.")
    ] = None,
) -> LedgerOut:
    """Capacity, booked (held and confirmed) and free pallets and m3 in each week of a range,
    with the confirmed, held and proposed bookings apart."""
    warehouse = repositories.get_warehouse(session, warehouse_id)
    first = first_week or iso_week(utc_now().date())
    if last_week is None:
        start = week_monday(first, "first_week")
        last_week = iso_week(start + timedelta(weeks=DEFAULT_LEDGER_WEEKS - 1))
    weeks = week_range(first, last_week)
    loads = repositories.ledger(session, warehouse, weeks)
    by_status = repositories.booked_by_status(session, warehouse.id, weeks)

    def split(week: str) -> dict[str, Any]:
        amounts = {s: by_status[s].get(week, (0, 0.0)) for s in by_status}
        return {
            **{f"{s}_pallets": p for s, (p, _) in amounts.items()},
            **{f"{s}_volume_m3": round(v, 6) for s, (_, v) in amounts.items()},
        }

    return LedgerOut(
        warehouse_id=warehouse.id,
        weeks=[
            LedgerWeekOut(
                week=w.week, pallets=w.pallets, volume_m3=w.volume_m3,
                booked_pallets=w.booked_pallets, booked_volume_m3=w.booked_volume_m3,
                free_pallets=w.free_pallets, free_volume_m3=w.free_volume_m3,
                overridden=w.overridden, **split(w.week),
            )
            for w in loads
        ],
    )  # fmt: skip


@router.get("/{warehouse_id}/audit", response_model=AuditPage)
def warehouse_audit(
    warehouse_id: IdPath,
    key: ManagerDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    """Who changed this warehouse's capacity or bookings, when, from what to what, newest first
    (coordinators and admins of the warehouse's organisation)."""
    repositories.get_warehouse(session, warehouse_id)
    repositories.managed_warehouse(session, Actor.of_key(key), warehouse_id)
    return audit_page(session, limit, cursor, shows_key_ids=True, warehouse_id=warehouse_id)


def audit_page(
    session: Session, limit: int, cursor: str | None, *, shows_key_ids: bool, **where: str
) -> AuditPage:
    """A page of audit entries, with the key ids only when ``shows_key_ids`` (the reader
    manages the warehouse); a bad cursor raises :class:`repositories.CursorError` (422)."""
    entries, next_cursor = repositories.list_audit(session, limit, cursor, **where)
    actors = repositories.audit_actors(session, entries)
    return AuditPage(
        items=[audit_out(e, actors, shows_key_ids) for e in entries], next_cursor=next_cursor
    )
