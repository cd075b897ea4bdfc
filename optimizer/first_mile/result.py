"""What a first-mile run answers: truck routes with their times, loads, costs and CO2e.

:func:`evaluate_routes` turns stop sequences into a :class:`PickupResult` from the problem's
matrices alone, so the solvers' routes and a dispatcher's hand-made plan are costed the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from optimizer.errors import InvalidInputError
from optimizer.first_mile.problem import Pickup, PickupProblem, Place, VehicleType, Window
from optimizer.results import SolveStatus, relative_gap


@dataclass(frozen=True)
class Stop:
    """A truck at one place: its start depot, a pickup, or its end depot.

    ``service_start`` is when loading begins (after waiting for the window); ``departure`` is
    when the truck leaves. ``load_kg`` and ``load_m3`` are on board after the stop.
    """

    place: str
    pickup_id: str | None
    arrival: datetime
    service_start: datetime
    departure: datetime
    load_kg: float
    load_m3: float
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Route:
    """One truck's day: its stops from start depot to end depot and what it costs.

    ``cost_cny`` = the type's fixed cost + km x cost per km + hours x cost per hour;
    ``co2e_kg`` counts every lot's weight over the kilometres it rides.
    """

    vehicle_type: str
    stops: tuple[Stop, ...]
    distance_km: float
    duration_h: float
    cost_cny: float
    co2e_kg: float

    @property
    def pickup_ids(self) -> tuple[str, ...]:
        """The pickups served, in order."""
        return tuple(s.pickup_id for s in self.stops if s.pickup_id is not None)


@dataclass(frozen=True)
class Unserved:
    """A pickup left behind: why, and the penalty the objective counts for it (0 when no truck
    could serve it at all)."""

    pickup_id: str
    reason: str
    penalty_cny: float = 0.0


@dataclass(frozen=True)
class PickupResult:
    """Truck routes for a :class:`~optimizer.first_mile.problem.PickupProblem`.

    ``objective`` = route costs + the penalties of pickups the solver chose to drop (for an
    instance read by :func:`~optimizer.first_mile.read_vrplib`, the total distance under the
    instance's rounding). ``bound`` is a proven lower bound when the solver has one (None
    otherwise). Totals add up the routes.
    """

    status: SolveStatus
    objective: float
    bound: float | None
    runtime_s: float
    seed: int
    backend: str
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    distance_km: float
    duration_h: float
    cost_cny: float
    co2e_kg: float
    penalty_cny: float

    @property
    def gap(self) -> float | None:
        """``(objective - bound) / objective``, None without a bound (:func:`relative_gap`)."""
        return relative_gap(self.objective, self.bound)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document: status, totals, routes with their stops, unserved pickups."""
        return {
            "status": self.status.value,
            "objective": round(self.objective, 4),
            "bound": None if self.bound is None else round(self.bound, 4),
            "gap": None if self.gap is None else round(self.gap, 6),
            "runtime_s": round(self.runtime_s, 3),
            "seed": self.seed,
            "backend": self.backend,
            "totals": {
                "routes": len(self.routes),
                "served": sum(len(r.pickup_ids) for r in self.routes),
                "unserved": len(self.unserved),
                "distance_km": round(self.distance_km, 3),
                "duration_h": round(self.duration_h, 3),
                "cost_cny": round(self.cost_cny, 2),
                "co2e_kg": round(self.co2e_kg, 2),
                "penalty_cny": round(self.penalty_cny, 2),
            },
            "routes": [
                {
                    "vehicle_type": route.vehicle_type,
                    "distance_km": round(route.distance_km, 3),
                    "duration_h": round(route.duration_h, 3),
                    "cost_cny": round(route.cost_cny, 2),
                    "co2e_kg": round(route.co2e_kg, 2),
                    "stops": [
                        {
                            "place": stop.place,
                            "pickup_id": stop.pickup_id,
                            "arrival": stop.arrival.isoformat(),
                            "service_start": stop.service_start.isoformat(),
                            "departure": stop.departure.isoformat(),
                            "load_kg": round(stop.load_kg, 3),
                            "load_m3": round(stop.load_m3, 4),
                        }
                        for stop in route.stops
                    ],
                }
                for route in self.routes
            ],
            "unserved": [
                {"pickup_id": u.pickup_id, "reason": u.reason, "penalty_cny": u.penalty_cny}
                for u in self.unserved
            ],
        }

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection: each road leg as a LineString, each stop as a Point.

        Legs and stops of places without coordinates have a null geometry.
        """
        features: list[dict[str, Any]] = []
        for number, route in enumerate(self.routes, start=1):
            for leg, (a, b) in enumerate(zip(route.stops, route.stops[1:], strict=False), start=1):
                line = None
                if a.lat is not None and b.lat is not None:
                    line = {"type": "LineString", "coordinates": [[a.lon, a.lat], [b.lon, b.lat]]}
                features.append(
                    {
                        "type": "Feature",
                        "geometry": line,
                        "properties": {
                            "kind": "leg",
                            "route": number,
                            "vehicle_type": route.vehicle_type,
                            "leg": leg,
                            "from": a.place,
                            "to": b.place,
                            "depart": a.departure.isoformat(),
                            "arrive": b.arrival.isoformat(),
                        },
                    }
                )
            for sequence, stop in enumerate(route.stops):
                point = None
                if stop.lat is not None:
                    point = {"type": "Point", "coordinates": [stop.lon, stop.lat]}
                features.append(
                    {
                        "type": "Feature",
                        "geometry": point,
                        "properties": {
                            "kind": "stop",
                            "route": number,
                            "sequence": sequence,
                            "place": stop.place,
                            "pickup_id": stop.pickup_id,
                            "arrival": stop.arrival.isoformat(),
                            "departure": stop.departure.isoformat(),
                            "load_kg": round(stop.load_kg, 3),
                            "load_m3": round(stop.load_m3, 4),
                        },
                    }
                )
        return {"type": "FeatureCollection", "features": features}


#: Float noise allowed when comparing hours (about 4 ms).
_EPS_H = 1e-6


def _window_hours(problem: PickupProblem, pickup: Pickup) -> list[tuple[float, float]]:
    windows: Sequence[Window] = pickup.windows
    if not windows:
        return [(0.0, math.inf)]
    return [(problem.hours(start), problem.hours(end)) for start, end in windows]


def _schedule(
    problem: PickupProblem, vehicle: VehicleType, nodes: Sequence[int], pickups: Sequence[Pickup]
) -> tuple[list[float], list[float], list[float]]:
    """Arrival, service start and departure hours at each node of a route.

    The truck leaves as late as it can without arriving later anywhere it would otherwise
    have waited (Savelsbergh's forward time slack), which makes the route as short as its
    order allows; a window is the first one still open at arrival (or the last one, late).
    """
    duration = problem.duration_matrix

    def forward(
        leave: float, chosen: Sequence[tuple[float, float]] | None = None
    ) -> tuple[list[float], list[float], list[float], list[tuple[float, float]]]:
        arrive, begin, depart = [leave], [leave], [leave]
        windows: list[tuple[float, float]] = [(-math.inf, math.inf)]
        for k in range(1, len(nodes)):
            t = depart[-1] + float(duration[nodes[k - 1], nodes[k]])
            if k == len(nodes) - 1:
                window = (0.0, problem.hours(problem.cutoff))
                service = 0.0
            else:
                pickup = pickups[k - 1]
                options = _window_hours(problem, pickup)
                window = (
                    chosen[k]
                    if chosen is not None
                    else next((w for w in options if w[1] >= t - _EPS_H), options[-1])
                )
                service = pickup.service_min / 60.0
            arrive.append(t)
            begin.append(max(t, window[0]))
            depart.append(begin[-1] + service)
            windows.append(window)
        return arrive, begin, depart, windows

    arrive, begin, depart, windows = forward(0.0)
    slack, waited = math.inf, 0.0
    for k in range(1, len(nodes)):
        waited += begin[k] - arrive[k]
        slack = min(slack, waited + windows[k][1] - begin[k])
    delay = max(0.0, min(slack, waited))
    if delay > 0:
        # the same windows as the first pass: the slack was measured against them
        arrive, begin, depart, _ = forward(delay, windows)
    return arrive, begin, depart


def evaluate_routes(
    problem: PickupProblem,
    routes: Sequence[tuple[str, Sequence[str]]],
    *,
    unserved: Sequence[Unserved] = (),
    status: SolveStatus = SolveStatus.FEASIBLE,
    bound: float | None = None,
    runtime_s: float = 0.0,
    seed: int = 0,
    backend: str = "",
) -> PickupResult:
    """Time, load and cost the routes ``(vehicle type name, pickup ids in order)``.

    Pickups in no route and not in ``unserved`` are listed as unserved, "in no route", with
    the problem's drop penalty. Feasibility is not checked here: see
    :func:`optimizer.check.check_pickups`.

    Examples
    --------
    Two pickups 10 and 20 km east of the hub on a straight road, one truck at CNY 1 per km:

    >>> import numpy as np
    >>> from datetime import datetime, timezone
    >>> from optimizer.first_mile.problem import Place, Pickup, PickupProblem, VehicleType
    >>> km = np.array([[0, 10, 20], [10, 0, 10], [20, 10, 0]], dtype=float)
    >>> pickups = (Pickup("A", Place("a"), 100, service_min=0),
    ...     Pickup("B", Place("b"), 200, service_min=0))
    >>> truck = VehicleType("truck", 1000, 10, fixed_cost_cny=0, cost_cny_per_km=1,
    ...     cost_cny_per_h=0)
    >>> problem = PickupProblem(pickups, (truck,), Place("hub"),
    ...     datetime(2026, 12, 3, 18, tzinfo=timezone.utc),
    ...     distance_km=km, duration_h=km / 50)
    >>> result = evaluate_routes(problem, [("truck", ["B", "A"])])
    >>> result.objective, [s.load_kg for s in result.routes[0].stops]
    (40.0, [0.0, 200.0, 300.0, 300.0])
    """
    fleet = {v.name: v for v in problem.fleet}
    by_id = {p.pickup_id: (k, p) for k, p in enumerate(problem.pickups)}
    first_pickup = 1 + len(problem.depots)
    distance = problem.distance_matrix
    built: list[Route] = []
    served: set[str] = set()
    for type_name, ids in routes:
        if type_name not in fleet:
            raise InvalidInputError("routes", type_name, f"a vehicle type of {', '.join(fleet)}")
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise InvalidInputError("routes", unknown[0], "pickup ids of the problem")
        vehicle = fleet[type_name]
        pickups = [by_id[i][1] for i in ids]
        nodes = [
            problem.depot_index(vehicle.start_depot),
            *(first_pickup + by_id[i][0] for i in ids),
            problem.depot_index(vehicle.end_depot),
        ]
        places: list[Place] = [problem.places[n] for n in nodes]
        arrive, begin, depart = _schedule(problem, vehicle, nodes, pickups)
        load_kg = [0.0]
        load_m3 = [0.0]
        for pickup in pickups:
            load_kg.append(load_kg[-1] + pickup.weight_kg)
            load_m3.append(load_m3[-1] + pickup.volume_m3)
        load_kg.append(load_kg[-1])
        load_m3.append(load_m3[-1])
        km = co2e_kg = 0.0
        for k in range(1, len(nodes)):
            leg_km = float(distance[nodes[k - 1], nodes[k]])
            km += leg_km
            co2e_kg += load_kg[k - 1] / 1000.0 * leg_km * vehicle.co2e_g_per_tkm / 1000.0
        hours = arrive[-1] - depart[0]
        stops = tuple(
            Stop(
                place.label,
                None if k in (0, len(nodes) - 1) else ids[k - 1],
                problem.moment(arrive[k]),
                problem.moment(begin[k]),
                problem.moment(depart[k] if k < len(nodes) - 1 else arrive[k]),
                load_kg[k],
                load_m3[k],
                place.lat,
                place.lon,
            )
            for k, place in enumerate(places)
        )
        cost = (
            vehicle.fixed_cost_cny + km * vehicle.cost_cny_per_km + hours * vehicle.cost_cny_per_h
        )
        built.append(Route(type_name, stops, km, hours, cost, co2e_kg))
        served.update(ids)
    listed = list(unserved)
    named = {u.pickup_id for u in listed}
    penalty = problem.drop_penalty_cny or 0.0
    listed += [
        Unserved(p.pickup_id, "in no route", penalty)
        for p in problem.pickups
        if p.pickup_id not in served and p.pickup_id not in named
    ]
    route_cost = math.fsum(r.cost_cny for r in built)
    penalties = math.fsum(u.penalty_cny for u in listed)
    return PickupResult(
        status=status,
        objective=route_cost + penalties,
        bound=bound,
        runtime_s=runtime_s,
        seed=seed,
        backend=backend,
        routes=tuple(built),
        unserved=tuple(listed),
        distance_km=math.fsum(r.distance_km for r in built),
        duration_h=math.fsum(r.duration_h for r in built),
        cost_cny=route_cost,
        co2e_kg=math.fsum(r.co2e_kg for r in built),
        penalty_cny=penalties,
    )
