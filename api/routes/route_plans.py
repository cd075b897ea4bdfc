"""``/v1/route-plans``: plan, store, read back."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.db import repositories
from api.db.models import RoutePlanRecord
from api.db.session import encode_json
from api.deps import KeyDep, NetworkDep, SessionDep, SessionRoute
from api.planning import Planner
from api.schemas.route_plans import RoutePlanOut, RoutePlanPage, ShipmentIn
from network_data import Network
from optimizer.model import Shipment
from optimizer.quotable import Similarity
from optimizer.routing.places import local_day

router = APIRouter(prefix="/v1/route-plans", tags=["route plans"], route_class=SessionRoute)


def to_shipment(body: ShipmentIn, network: Network) -> Shipment:
    """The domain shipment of a request body; a date alone is a local day (the ready date's
    start at the origin, the deadline's end at the destination: :func:`local_day`)."""
    optional: dict[str, Any] = {}
    ready, deadline = body.ready_at, body.deadline
    if ready is not None and not isinstance(ready, datetime):
        ready = local_day(network, "ready_at", body.origin, ready)
    if deadline is not None and not isinstance(deadline, datetime):
        deadline = local_day(network, "deadline", body.destination, deadline, end=True)
    if ready is not None:
        optional["ready_at"] = ready
    return Shipment(
        origin=body.origin, destination=body.destination, weight_kg=body.weight_kg,
        volume_m3=body.volume_m3, deadline=deadline, pieces=body.pieces,
        cargo_class=body.cargo_class, customs_regime=body.customs_regime,
        allowed_modes=frozenset(body.modes) if body.modes else None,
        forbidden_modes=frozenset(body.forbidden_modes), avoid=frozenset(body.avoid),
        max_options=body.max_options, use_passages=frozenset(body.use_passages),
        similar_within=Similarity(**body.similar_within.model_dump()),
        piece_dimensions_cm=body.piece_dimensions_cm, contents=frozenset(body.contents),
        destination_postcode=body.destination_postcode, **optional,
    )  # fmt: skip


def plan_document(
    plan_id: str, created_at: datetime, request: dict[str, Any], plan: dict[str, Any]
) -> dict[str, Any]:
    """The :class:`RoutePlanOut` document of a stored plan, as plain JSON-ready data.

    Built directly rather than validated into the model and dumped again: the stored parts
    are already that shape (``RoutePlan.to_dict`` and ``ShipmentIn.model_dump``), and the
    round trip cost a tenth of a route plan request.
    """
    return {"id": plan_id, "created_at": created_at, **plan, "request": request}


#: Keys of a plan document that plans stored before them lack.
_LATER_KEYS = {"status": None, "time_limit_s": None, "unexplored": None}


def record_document(record: RoutePlanRecord) -> dict[str, Any]:
    """:func:`plan_document` of a stored record (null where it predates a key)."""
    plan = {**_LATER_KEYS, **record.plan}
    return plan_document(record.id, record.created_at, record.request, plan)


def json_response(document: Any, status_code: int = 200) -> Response:
    """``document`` encoded once, by pydantic-core, as the answer."""
    return Response(encode_json(document), status_code, media_type="application/json")


@router.post("", status_code=201, response_model=RoutePlanOut)
async def create_route_plan(
    body: ShipmentIn, request: Request, key: KeyDep, session: SessionDep, network: NetworkDep
) -> Response:
    """Plan the Pareto-best door-to-door options for a shipment and store the plan."""
    # On the event loop unless it takes long (api.planning): there a plan is a few ms of CPU
    # under the GIL either way, and the trips between loop and thread cost 1.7 ms of CPU per
    # request and a long latency tail under steady load (benchmarks/bench_api.py).
    shipment = to_shipment(body, network)
    start = time.perf_counter()
    planner: Planner = request.app.state.planner
    plan = await planner.plan(
        network, shipment, time_limit_s=body.time_limit_s, every_journey=body.all_options
    )
    request.app.state.metrics.solver.labels("route_plan").observe(time.perf_counter() - start)
    inputs = body.model_dump(mode="json")
    if not isinstance(body.ready_at, datetime):  # now, or the start of a local day
        inputs["ready_at"] = shipment.ready_at.isoformat()
    document = plan.to_dict(body.currency)
    # committed before the 201 is sent, not after
    plan_id, created_at = repositories.save_plan(session, key.organisation_id, inputs, document)
    # Encoded here instead of by FastAPI, which would validate and encode the model again;
    # the declared response model documents it.
    return json_response(plan_document(plan_id, created_at, inputs, document), 201)


@router.get("/{plan_id}", response_model=RoutePlanOut)
def get_route_plan(plan_id: str, key: KeyDep, session: SessionDep) -> Response:
    """One of your organisation's plans."""
    return json_response(
        record_document(repositories.get_plan(session, key.organisation_id, plan_id))
    )


@router.get("", response_model=RoutePlanPage)
def list_route_plans(
    key: KeyDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Your organisation's plans, newest first, a page at a time."""
    records, next_cursor = repositories.list_plans(session, key.organisation_id, limit, cursor)
    items = [record_document(r) for r in records]
    return json_response({"items": items, "next_cursor": next_cursor})
