"""Door-to-door route planning: Pareto-best options by cost, arrival time and CO2e.

The search is an exact multi-criteria, time-dependent label-setting algorithm (Martins'
algorithm on a timetable, in the spirit of McRAPTOR). A label is a partial journey at a node:
arrival time, cost, CO2e, p90 arrival, the customs state (export cleared, bonded zone entered)
and how it arrived (mode, scheduled or not), which decides whether the next leg is a transfer.
Labels leave the queue in order of (arrival, cost, CO2e); a label dominated by a settled label
with the same node, state and arrival kind, or by a complete journey, is dropped.

A transfer (handling time and cost at the node) happens where the mode changes, where a
scheduled service is joined or left, and at gauge-change stations; a truck or a through train
passing a node does not stop for handling. Border dwell applies to every crossing. Waiting for a
later departure never helps arrive earlier (FIFO), costs and emissions do not depend on time, so
dropping dominated labels keeps every Pareto-optimal journey.

Per-corridor charges, emissions and the next bookable departure come from the numba kernels in
:mod:`optimizer.costs`.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich.progress import Progress

from network_data import Network
from network_data.errors import UnknownPlaceError
from network_data.geo import parse_lat_lon
from network_data.road import road_transit_h, road_transit_p90_h, rules_for_country
from network_data.validate import haversine_km, records, tariff_scopes
from optimizer._compile import (
    MAX_BREAKS,
    REGIME_BIT,
    RoutingData,
    epoch_hours,
    from_epoch_hours,
    routing_data,
)
from optimizer.costs.line_haul import FCL, PRODUCTS, UNIT_COLUMNS, line_haul_costs
from optimizer.costs.timetable import next_departure
from optimizer.errors import InvalidInputError
from optimizer.model import MODES, Leg, RouteOption, RoutePlan, Shipment

FloatArray = npt.NDArray[np.float64]

#: Longest journey searched: long enough for sea via the Cape with waits.
DEFAULT_HORIZON_DAYS = 90
#: A coordinate origin or destination is joined by road to this many nearest road nodes.
COORDINATE_LINKS = 3
#: Coordinates closer than this to a node are that node.
SNAP_KM = 1.0
ROAD_CIRCUITY = 1.25
_CLEARED, _BONDED = 1, 2
_ROAD = MODES.index("road")
#: Passages worth naming in a one-line summary, and how.
_SUMMARY_PASSAGES = {
    "suez": "Suez",
    "cape": "the Cape",
    "caspian": "the Caspian",
    "three-gorges-locks": "the Three Gorges locks",
}
_MODE_WORDS = {
    "road": "road",
    "rail": "rail",
    "inland_water": "river barge",
    "sea": "sea",
    "air": "air",
}


@dataclass(frozen=True)
class _Place:
    """A resolved origin or destination: a node, or a coordinate joined to nearby nodes."""

    query: str
    is_node: bool
    lat: float
    lon: float
    label: str


@dataclass
class _Label:
    arrival_h: float
    cost_cny: float
    co2e_kg: float
    arrival_p90_h: float
    node: int
    state: int
    parent: _Label | None
    edge: int
    depart_h: float
    service: str | None
    handling_cny: float
    border_cny: float
    synthetic: _SyntheticLeg | None = None
    line_haul_cny: float = 0.0


@dataclass(frozen=True)
class _SyntheticLeg:
    """A first- or last-mile road leg between a coordinate and a node."""

    origin: str
    destination: str
    distance_km: float
    duration_h: float
    duration_p90_h: float
    cost_cny: float
    chargeable_kg: float
    product: str
    co2e_kg: float


@dataclass(frozen=True)
class _ShipmentCosts:
    line_haul_cny: FloatArray
    road_continuation_cny: FloatArray
    product: npt.NDArray[np.int64]
    chargeable_kg: FloatArray
    transfer_cny: FloatArray
    co2e_kg: FloatArray


def _resolve(network: Network, field: str, query: str) -> _Place:
    try:
        point = parse_lat_lon(query)
    except ValueError as exc:
        raise InvalidInputError(field, query, "'lat,lon' within [-90, 90] and [-180, 180]") from exc
    if point is not None:
        nearest = network.find_node(query)
        node = network.nodes.loc[nearest]
        if haversine_km(point[0], point[1], node["lat"], node["lon"]) <= SNAP_KM:
            return _Place(query, True, float(node["lat"]), float(node["lon"]), nearest)
        return _Place(query, False, point[0], point[1], f"{point[0]:.4f},{point[1]:.4f}")
    try:
        node_id = network.find_node(query)
    except UnknownPlaceError as exc:
        raise InvalidInputError(
            field, query, f"a known place ({str(exc).split('; ', 1)[-1]})"
        ) from exc
    row = network.nodes.loc[node_id]
    return _Place(query, True, float(row["lat"]), float(row["lon"]), node_id)


def _shipment_costs(data: RoutingData, shipment: Shipment) -> _ShipmentCosts:
    cost, product, chargeable, boxes = line_haul_costs(
        float(shipment.weight_kg),
        float(shipment.volume_m3),
        data.unit_price_cny,
        data.unit_min_cny,
        data.kg_break,
        data.kg_rate_cny,
        data.kg_min_cny,
        data.express_break,
        data.express_rate_cny,
        data.express_min_cny,
        data.box_volume_m3,
        data.box_payload_kg,
    )
    no_minimum = np.zeros_like(data.unit_min_cny)
    continuation, _, _, _ = line_haul_costs(
        float(shipment.weight_kg), float(shipment.volume_m3), data.road_continuation_price_cny,
        no_minimum, data.kg_break, data.kg_rate_cny, data.kg_min_cny, data.express_break,
        data.express_rate_cny, data.express_min_cny, data.box_volume_m3, data.box_payload_kg,
    )  # fmt: skip
    revenue_t = max(shipment.weight_kg / 1000.0, shipment.volume_m3)
    origin = data.edge_origin
    containers = boxes.sum(axis=1)
    transfer = np.where(
        product == FCL,
        containers * data.node_per_container_cny[origin],
        revenue_t * data.node_per_t_cny[origin],
    )
    co2e = shipment.weight_kg / 1000.0 * data.edge_distance_km * data.edge_co2e_g_per_tkm / 1000.0
    return _ShipmentCosts(cost, continuation, product, chargeable, transfer, co2e)


def _usable_edges(data: RoutingData, shipment: Shipment) -> npt.NDArray[np.bool_]:
    modes = shipment.modes_used()
    usable = np.isin(data.edge_mode, [MODES.index(m) for m in modes])
    usable &= data.edge_capacity_t >= shipment.weight_kg / 1000.0
    if shipment.cargo_class == "battery":
        usable &= data.edge_lithium_ok
    if shipment.cargo_class == "perishable":
        usable &= data.edge_reefer
    avoided_nodes = [data.node_index[a] for a in shipment.avoid if a in data.node_index]
    if avoided_nodes:
        usable &= ~np.isin(data.edge_origin, avoided_nodes)
        usable &= ~np.isin(data.edge_destination, avoided_nodes)
    for e, corridor_id in enumerate(data.edge_ids):
        if corridor_id in shipment.avoid or shipment.avoid.intersection(data.edge_passages[e]):
            usable[e] = False
    return usable


def _check_avoid(data: RoutingData, avoid: Iterable[str]) -> None:
    for item in avoid:
        if item in data.node_index or item in data.edge_index or item in data.passage_ids:
            continue
        raise InvalidInputError(
            "avoid",
            item,
            "a node id, a corridor id or a passage: " + ", ".join(sorted(data.passage_ids)),
        )


def _road_leg(
    data: RoutingData,
    shipment: Shipment,
    start: tuple[str, float, float],
    end: tuple[str, float, float],
    country: str,
) -> _SyntheticLeg:
    """A road leg between a coordinate and a node, priced with the road default tariff."""
    network = data.network
    distance_km = haversine_km(start[1], start[2], end[1], end[2]) * ROAD_CIRCUITY
    rules = rules_for_country(country)
    unit_price = np.full((1, len(UNIT_COLUMNS)), np.nan)
    unit_min = np.zeros((1, len(UNIT_COLUMNS)))
    for scope in tariff_scopes("", "road", country)[1:]:
        rows = network.tariffs[network.tariffs["scope"] == scope]
        for row in records(rows):
            u = UNIT_COLUMNS.index(row.unit)
            if math.isnan(unit_price[0, u]):
                unit_price[0, u] = network.to_cny(
                    row.rate + row.rate_per_km * distance_km, row.currency
                )
                unit_min[0, u] = network.to_cny(row.min_charge, row.currency)
    empty = np.zeros((1, MAX_BREAKS))
    nan = np.full((1, MAX_BREAKS), np.nan)
    cost, product, chargeable, _ = line_haul_costs(
        float(shipment.weight_kg), float(shipment.volume_m3), unit_price, unit_min,
        empty, nan, np.zeros(1), empty, nan, np.zeros(1), data.box_volume_m3, data.box_payload_kg,
    )  # fmt: skip
    co2e = shipment.weight_kg / 1000.0 * distance_km * 90.0 / 1000.0
    return _SyntheticLeg(
        origin=start[0],
        destination=end[0],
        distance_km=distance_km,
        duration_h=road_transit_h(distance_km, rules),
        duration_p90_h=road_transit_p90_h(distance_km, rules),
        cost_cny=float(cost[0]),
        chargeable_kg=float(chargeable[0]),
        product=PRODUCTS[int(product[0])],
        co2e_kg=co2e,
    )


def _nearest_road_nodes(data: RoutingData, lat: float, lon: float) -> list[int]:
    nodes = data.network.nodes
    distances = [
        (haversine_km(lat, lon, nodes.at[node_id, "lat"], nodes.at[node_id, "lon"]), i)
        for i, node_id in enumerate(data.node_ids)
        if data.node_handles_road[i]
    ]
    return [i for _, i in sorted(distances)[:COORDINATE_LINKS]]


def _arrival_kind(data: RoutingData, label: _Label) -> int:
    """How a label arrived: -1 at the origin, else mode x 2 + scheduled."""
    if label.parent is None and label.synthetic is None:
        return -1
    if label.edge < 0:
        return _ROAD * 2
    return int(data.edge_mode[label.edge]) * 2 + int(data.edge_scheduled[label.edge])


def _is_transfer(data: RoutingData, node: int, arrived: int, mode: int, scheduled: bool) -> bool:
    """Whether leaving ``node`` on a leg of ``mode`` after arriving as ``arrived`` is a transfer."""
    if arrived < 0:
        return False
    return bool(arrived // 2 != mode or arrived % 2 or scheduled or data.node_gauge_change[node])


def _dominated(bag: list[tuple[float, float, float]], a: float, c: float, g: float) -> bool:
    return any(ba <= a and bc <= c and bg <= g for ba, bc, bg in bag)


@dataclass(frozen=True)
class _Search:
    data: RoutingData
    shipment: Shipment
    costs: _ShipmentCosts
    usable: npt.NDArray[np.bool_]
    deadline_h: float
    horizon_h: float


def _search(
    search: _Search,
    starts: list[_Label],
    target: int | None,
    finals: dict[int, _SyntheticLeg],
    required_state: int,
    regime_bit: int,
    need_export: bool,
) -> tuple[list[_Label], int]:
    """Run the label-setting search; return the complete journeys and the labels settled."""
    data, costs = search.data, search.costs
    timetable = data.ensure_timetable(starts[0].arrival_h - 48, search.horizon_h + 24 * 14)
    bonded_bit = REGIME_BIT["1210"]
    queue: list[tuple[float, float, float, int, _Label]] = []
    seq = 0
    for label in starts:
        heapq.heappush(queue, (label.arrival_h, label.cost_cny, label.co2e_kg, seq, label))
        seq += 1
    settled: dict[tuple[int, int, int], list[tuple[float, float, float]]] = {}
    complete: list[_Label] = []
    front: list[tuple[float, float, float]] = []
    settled_count = 0
    while queue:
        a, c, g, _, label = heapq.heappop(queue)
        if _dominated(front, a, c, g):
            continue
        if label.node == -1:  # a journey that reached the destination
            complete.append(label)
            front.append((a, c, g))
            continue
        arrived = _arrival_kind(data, label)
        bag = settled.setdefault((label.node, label.state, arrived), [])
        if _dominated(bag, a, c, g):
            continue
        bag.append((a, c, g))
        settled_count += 1
        u = label.node
        first = arrived < 0
        dwell_h = 0.0 if first else data.node_dwell_h[u]
        dwell_p90_h = 0.0 if first else data.node_dwell_p90_h[u]
        if (u == target or u in finals) and label.state & required_state == required_state:
            if u == target:
                done = replace(label, node=-1)
                heapq.heappush(queue, (a, c, g, seq, done))
                seq += 1
            else:
                leg = finals[u]
                transfer = _is_transfer(data, u, arrived, _ROAD, False)
                revenue_t = max(search.shipment.weight_kg / 1000, search.shipment.volume_m3)
                handling = float(revenue_t * data.node_per_t_cny[u]) if transfer else 0.0
                wait_h = dwell_h + (data.node_handling_h[u] if transfer else 0.0)
                wait_p90_h = dwell_p90_h + (data.node_handling_h[u] if transfer else 0.0)
                border = handling if data.node_is_border[u] else 0.0
                arrival = a + wait_h + leg.duration_h
                cost = c + leg.cost_cny + handling
                if arrival <= search.deadline_h:
                    arrival_p90 = label.arrival_p90_h + wait_p90_h + leg.duration_p90_h
                    done = _Label(
                        arrival, cost, g + leg.co2e_kg, arrival_p90, -1, label.state, label, -1,
                        a + wait_h, None, handling - border, border, leg,
                    )  # fmt: skip
                    heapq.heappush(queue, (arrival, cost, done.co2e_kg, seq, done))
                    seq += 1
            if u == target:
                continue
        for e in range(data.indptr[u], data.indptr[u + 1]):
            if not search.usable[e]:
                continue
            transfer = _is_transfer(
                data, u, arrived, int(data.edge_mode[e]), bool(data.edge_scheduled[e])
            )
            handling_h = data.node_handling_h[u] if transfer else 0.0
            ready = a + dwell_h + handling_h
            ready_p90 = label.arrival_p90_h + dwell_p90_h + handling_h
            v = data.edge_destination[e]
            if (
                need_export
                and not label.state & _CLEARED
                and data.node_in_china[u]
                and not data.node_in_china[v]
            ):
                continue
            if data.edge_scheduled[e]:
                depart, position = next_departure(
                    timetable.ptr, timetable.cutoff_h, timetable.best_depart_h,
                    timetable.best_position, e, ready,
                )  # fmt: skip
                if position < 0:
                    continue
                depart_p90, _ = next_departure(
                    timetable.ptr, timetable.cutoff_h, timetable.best_depart_h,
                    timetable.best_position, e, ready_p90,
                )  # fmt: skip
                service: str | None = timetable.service_name[timetable.service_of[position]]
            else:
                depart, depart_p90 = ready, ready_p90
                service = data.edge_service_name[e] or None
            arrival = depart + data.edge_duration_h[e] + data.edge_passage_dwell_h[e]
            if arrival > search.deadline_h or arrival > search.horizon_h:
                continue
            arrival_p90 = (
                depart_p90 + data.edge_duration_p90_h[e] + data.edge_passage_dwell_p90_h[e]
            )
            handling = float(costs.transfer_cny[e]) if transfer else 0.0
            border = handling if data.node_is_border[u] else 0.0
            road_on = arrived == _ROAD * 2 and data.edge_mode[e] == _ROAD
            line_haul = costs.road_continuation_cny[e] if road_on else costs.line_haul_cny[e]
            cost = c + line_haul + handling
            co2e = g + costs.co2e_kg[e]
            if _dominated(front, arrival, cost, co2e):
                continue
            state = label.state
            if data.node_in_china[v] and data.node_regimes[v] & regime_bit:
                state |= _CLEARED
            if data.node_is_bonded_zone[v] and data.node_regimes[v] & bonded_bit:
                state |= _BONDED
            kind = int(data.edge_mode[e]) * 2 + int(data.edge_scheduled[e])
            if _dominated(settled.get((v, state, kind), []), arrival, cost, co2e):
                continue
            child = _Label(
                arrival, cost, co2e, arrival_p90, v, state, label, e, depart, service,
                handling - border, border, None, float(line_haul),
            )  # fmt: skip
            heapq.heappush(queue, (arrival, cost, co2e, seq, child))
            seq += 1
    return complete, settled_count


def _node_name(data: RoutingData, node_id: str) -> str:
    if node_id in data.node_index:
        return str(data.network.nodes.at[node_id, "name_en"])
    return node_id


def _legs(data: RoutingData, costs: _ShipmentCosts, journey: _Label) -> tuple[Leg, ...]:
    chain: list[_Label] = []
    label: _Label | None = journey
    while label is not None:
        chain.append(label)
        label = label.parent
    chain.reverse()
    legs: list[Leg] = []
    for label in chain[1:]:
        depart = from_epoch_hours(label.depart_h)
        arrive = from_epoch_hours(label.arrival_h)
        arrive_p90 = from_epoch_hours(label.arrival_p90_h)
        if label.synthetic is not None:
            leg = label.synthetic
            legs.append(
                Leg(leg.origin, leg.destination, "road", None, None, depart, arrive, arrive_p90,
                    leg.distance_km, leg.chargeable_kg, leg.product, leg.cost_cny,
                    label.handling_cny, label.border_cny, 0.0, leg.co2e_kg)
            )  # fmt: skip
            continue
        e = label.edge
        legs.append(
            Leg(
                origin=data.node_ids[data.edge_origin[e]],
                destination=data.node_ids[data.edge_destination[e]],
                mode=MODES[data.edge_mode[e]],
                corridor_id=data.edge_ids[e],
                service=label.service,
                depart=depart,
                arrive=arrive,
                arrive_p90=arrive_p90,
                distance_km=float(data.edge_distance_km[e]),
                chargeable_kg=float(costs.chargeable_kg[e]),
                product=PRODUCTS[int(costs.product[e])],
                line_haul_cny=label.line_haul_cny,
                handling_cny=label.handling_cny,
                border_cny=label.border_cny,
                surcharge_cny=0.0,
                co2e_kg=float(costs.co2e_kg[e]),
                passages=data.edge_passages[e],
            )
        )
    return tuple(legs)


def _summary(data: RoutingData, legs: tuple[Leg, ...], ready_h: float) -> str:
    groups: list[list[Leg]] = []
    for leg in legs:
        if groups and groups[-1][-1].mode == leg.mode:
            groups[-1].append(leg)
        else:
            groups.append([leg])
    parts = []
    for group in groups:
        borders = [
            leg.destination
            for leg in group[:-1]
            if leg.destination in data.node_index
            and data.node_is_border[data.node_index[leg.destination]]
        ]
        mode_word = _MODE_WORDS[group[0].mode]
        if group[0].mode == "rail" and any(
            b in data.node_index and data.node_in_china[data.node_index[b]] for b in borders
        ):
            mode_word = (
                "China-Europe rail"
                if _europe_bound(data, group[-1].destination)
                else "cross-border rail"
            )
        text = (
            f"{_node_name(data, group[0].origin)} → {_node_name(data, group[-1].destination)} "
            f"by {mode_word}"
        )
        named = [
            _SUMMARY_PASSAGES[p] for leg in group for p in leg.passages if p in _SUMMARY_PASSAGES
        ]
        via_words = list(dict.fromkeys([_node_name(data, b) for b in borders[:1]] + named))
        if via_words:
            text += " via " + ", ".join(via_words)
        parts.append(text)
    days = (epoch_hours(legs[-1].arrive) - ready_h) / 24
    cost = sum(leg.cost_cny for leg in legs)
    co2e = sum(leg.co2e_kg for leg in legs)
    day_text = f"{days:.1f} days" if days < 3 else f"{days:.0f} days"
    return f"{'; '.join(parts)}; {day_text}; CNY {cost:,.0f}; {co2e:,.0f} kg CO2e"


_EUROPE = frozenset({"PL", "DE", "NL", "BE", "HU", "GB", "FR", "RO", "BY", "RU"})


def _europe_bound(data: RoutingData, node_id: str) -> bool:
    return str(data.network.nodes.at[node_id, "country"]) in _EUROPE


def _select(journeys: list[_Label], max_options: int | None) -> list[_Label]:
    """At most ``max_options`` journeys spanning the front; cheapest, fastest, greenest kept."""
    front = sorted(journeys, key=lambda j: (j.cost_cny, j.arrival_h, j.co2e_kg))
    if max_options is None or len(front) <= max_options:
        return front
    chosen: list[_Label] = []
    for key in (
        lambda j: (j.cost_cny, j.arrival_h, j.co2e_kg),
        lambda j: (j.arrival_h, j.cost_cny, j.co2e_kg),
        lambda j: (j.co2e_kg, j.cost_cny, j.arrival_h),
    ):
        best = min(front, key=key)
        if best not in chosen:
            chosen.append(best)
    values = np.array([[j.cost_cny, j.arrival_h, j.co2e_kg] for j in front])
    span = np.where(np.ptp(values, axis=0) > 0, np.ptp(values, axis=0), 1.0)
    scaled = (values - values.min(axis=0)) / span
    while len(chosen) < max_options:
        picked = [front.index(j) for j in chosen]
        gaps = np.min(np.linalg.norm(scaled[:, None, :] - scaled[None, picked, :], axis=2), axis=1)
        gaps[picked] = -1.0
        chosen.append(front[int(np.argmax(gaps))])
    return sorted(chosen[:max_options], key=lambda j: (j.cost_cny, j.arrival_h, j.co2e_kg))


def plan_routes(
    network: Network,
    shipment: Shipment,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    max_options: int | None = -1,
) -> RoutePlan:
    """Plan the Pareto-best door-to-door options for ``shipment`` on ``network``.

    Parameters
    ----------
    network
        The corridor network (:func:`network_data.load_network`).
    shipment
        What to move, from where, to where, when.
    horizon_days
        Longest journey searched (>= 60 so that sea via the Cape fits).
    max_options
        Overrides ``shipment.max_options`` when >= 1; None returns the whole Pareto front.

    Returns
    -------
    RoutePlan
        Options mutually non-dominated on (cost, arrival, CO2e), or ``infeasible_reason``.

    Raises
    ------
    optimizer.errors.InvalidInputError
        For unknown places (with the closest matches), unknown avoid items or a bad horizon.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> ready = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    >>> plan = plan_routes(network, Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=ready))
    >>> len(plan.options) >= 2 and plan.infeasible_reason is None
    True
    >>> any("China-Europe rail via Alashankou" in o.summary for o in plan.options)
    True
    """
    if not isinstance(horizon_days, int) or horizon_days < 60:
        raise InvalidInputError("horizon_days", horizon_days, "an integer >= 60")
    data = routing_data(network)
    _check_avoid(data, shipment.avoid)
    origin = _resolve(network, "origin", shipment.origin)
    destination = _resolve(network, "destination", shipment.destination)
    if origin.label == destination.label:
        raise InvalidInputError(
            "destination", shipment.destination, "a place other than the origin"
        )
    limit = shipment.max_options if max_options == -1 else max_options
    fx = {c: network.to_cny(1.0, str(c)) for c in network.fx.index}

    def plan(options: tuple[RouteOption, ...], reason: str | None, settled: int = 0) -> RoutePlan:
        return RoutePlan(
            shipment, origin.label, destination.label, options, reason, network.version, fx, settled
        )

    problem = _regime_problem(network, shipment, destination)
    if problem:
        return plan((), problem)
    journeys, settled, costs = _run(data, shipment, origin, destination, horizon_days)
    if not journeys:
        return plan(
            (), _explain(network, data, shipment, origin, destination, horizon_days), settled
        )
    ready_h = epoch_hours(shipment.ready_at)
    options = []
    for journey in _select(journeys, limit):
        legs = _legs(data, costs, journey)
        options.append(RouteOption(legs, _summary(data, legs, ready_h)))
    return plan(tuple(options), None, settled)


def _country_of(network: Network, place: _Place) -> str:
    if place.label in network.nodes.index:
        return str(network.nodes.at[place.label, "country"])
    nearest = network.find_node(f"{place.lat},{place.lon}")
    return str(network.nodes.at[nearest, "country"])


def _regime_problem(network: Network, shipment: Shipment, destination: _Place) -> str | None:
    regime = shipment.customs_regime
    kind = (
        str(network.nodes.at[destination.label, "kind"])
        if destination.label in network.nodes.index
        else None
    )
    if regime == "9810" and kind != "overseas_warehouse":
        return (
            f"customs regime 9810 (export to an overseas warehouse) must end at an "
            f"overseas_warehouse node, and {destination.label} is {kind or 'a coordinate'}"
        )
    if regime == "1210" and _country_of(network, destination) != "CN":
        return "customs regime 1210 (bonded import) must end in China, at or via a bonded zone"
    return None


def _run(
    data: RoutingData,
    shipment: Shipment,
    origin: _Place,
    destination: _Place,
    horizon_days: int,
) -> tuple[list[_Label], int, _ShipmentCosts]:
    network = data.network
    costs = _shipment_costs(data, shipment)
    ready_h = epoch_hours(shipment.ready_at)
    deadline_h = epoch_hours(shipment.deadline) if shipment.deadline else math.inf
    search = _Search(
        data,
        shipment,
        costs,
        _usable_edges(data, shipment),
        deadline_h,
        ready_h + horizon_days * 24,
    )
    regime_bit = REGIME_BIT[shipment.customs_regime]
    origin_country = _country_of(network, origin)
    need_export = origin_country == "CN" and _country_of(network, destination) != "CN"
    required = _BONDED if shipment.customs_regime == "1210" else 0
    starts: list[_Label] = []
    if origin.is_node:
        i = data.node_index[origin.label]
        state = _CLEARED if data.node_in_china[i] and data.node_regimes[i] & regime_bit else 0
        if data.node_is_bonded_zone[i] and data.node_regimes[i] & REGIME_BIT["1210"]:
            state |= _BONDED
        starts.append(
            _Label(ready_h, 0.0, 0.0, ready_h, i, state, None, -1, ready_h, None, 0.0, 0.0)
        )
    else:
        for i in _nearest_road_nodes(data, origin.lat, origin.lon):
            node_id = data.node_ids[i]
            row = network.nodes.loc[node_id]
            leg = _road_leg(
                data, shipment, (origin.label, origin.lat, origin.lon),
                (node_id, float(row["lat"]), float(row["lon"])), origin_country,
            )  # fmt: skip
            state = _CLEARED if data.node_in_china[i] and data.node_regimes[i] & regime_bit else 0
            root = _Label(ready_h, 0.0, 0.0, ready_h, -2, 0, None, -1, ready_h, None, 0.0, 0.0)
            starts.append(
                _Label(
                    ready_h + leg.duration_h, leg.cost_cny, leg.co2e_kg,
                    ready_h + leg.duration_p90_h, i, state, root, -1, ready_h, None, 0.0, 0.0, leg,
                )
            )  # fmt: skip
    target: int | None = None
    finals: dict[int, _SyntheticLeg] = {}
    if destination.is_node:
        target = data.node_index[destination.label]
    else:
        country = _country_of(network, destination)
        for i in _nearest_road_nodes(data, destination.lat, destination.lon):
            node_id = data.node_ids[i]
            row = network.nodes.loc[node_id]
            finals[i] = _road_leg(
                data, shipment, (node_id, float(row["lat"]), float(row["lon"])),
                (destination.label, destination.lat, destination.lon), country,
            )  # fmt: skip
    journeys, settled = _search(search, starts, target, finals, required, regime_bit, need_export)
    return journeys, settled, costs


def _explain(
    network: Network,
    data: RoutingData,
    shipment: Shipment,
    origin: _Place,
    destination: _Place,
    horizon_days: int,
) -> str:
    """Say in words why no option exists, by relaxing one constraint at a time."""
    to = f"{_node_name(data, destination.label)} ({destination.label})"

    def feasible(relaxed: Shipment, horizon: int = horizon_days) -> list[_Label]:
        return _run(data, relaxed, origin, destination, horizon)[0]

    if shipment.deadline is not None:
        found = feasible(replace(shipment, deadline=None))
        if found:
            earliest = from_epoch_hours(min(j.arrival_h for j in found))
            return (
                f"the deadline {shipment.deadline.isoformat()} is before the earliest possible "
                f"arrival at {to}, {earliest.isoformat()}"
            )
    if shipment.cargo_class in ("battery", "perishable") and feasible(
        replace(shipment, cargo_class="general", deadline=None)
    ):
        what = (
            "accept lithium batteries (passenger-belly flights never do)"
            if shipment.cargo_class == "battery"
            else "have reefer capacity for perishables"
        )
        return f"no complete route to {to} exists on corridors that {what}"
    if shipment.avoid:
        found = feasible(replace(shipment, avoid=frozenset(), deadline=None))
        if found:
            used = sorted(
                {
                    item
                    for j in found
                    for leg in _legs(data, _shipment_costs(data, shipment), j)
                    for item in (*leg.passages, leg.origin, leg.destination, leg.corridor_id or "")
                    if item in shipment.avoid
                }
            )
            return (
                f"every route to {to} uses {', '.join(used) or 'something'} "
                f"which was avoided ({', '.join(sorted(shipment.avoid))})"
            )
    if shipment.allowed_modes is not None or shipment.forbidden_modes:
        found = feasible(
            replace(shipment, allowed_modes=None, forbidden_modes=frozenset(), deadline=None)
        )
        if found:
            return (
                f"no route to {to} uses only the modes {', '.join(sorted(shipment.modes_used()))}"
            )
    if shipment.weight_kg / 1000 > float(np.max(data.edge_capacity_t)):
        return f"{shipment.weight_kg:,.0f} kg exceeds the capacity of every departure"
    if horizon_days < 365 and feasible(replace(shipment, deadline=None), horizon=365):
        return f"every route to {to} takes longer than the {horizon_days}-day horizon"
    return f"no corridor connects {_node_name(data, origin.label)} to {to} for this shipment"


def shipment_from_record(record: dict[str, Any]) -> Shipment:
    """Build a :class:`Shipment` from one row of a shipments table (CSV or DataFrame).

    Columns: ``origin``, ``destination``, ``weight_kg``, ``volume_m3`` and optionally
    ``ready_at`` and ``deadline`` (ISO 8601 with offset), ``pieces``, ``cargo_class``,
    ``customs_regime``, ``avoid`` and ``modes`` (``|`` or ``,`` separated), ``max_options``.

    Examples
    --------
    >>> s = shipment_from_record({"origin": "Linshui", "destination": "Duisburg",
    ...     "weight_kg": "800", "volume_m3": "4.2", "ready_at": "2026-11-23T08:00:00+00:00",
    ...     "avoid": "suez|russia-transit"})
    >>> sorted(s.avoid)
    ['russia-transit', 'suez']
    """

    def text(name: str) -> str:
        value = record.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value).strip()

    def items(name: str) -> frozenset[str]:
        return frozenset(i.strip() for i in text(name).replace(",", "|").split("|") if i.strip())

    def number(name: str) -> float:
        try:
            return float(text(name))
        except ValueError as exc:
            raise InvalidInputError(name, record.get(name), "a number > 0") from exc

    def moment(name: str) -> datetime | None:
        if not text(name):
            return None
        try:
            return datetime.fromisoformat(text(name))
        except ValueError as exc:
            raise InvalidInputError(name, text(name), "an ISO 8601 time with offset") from exc

    optional: dict[str, Any] = {}
    ready = moment("ready_at")
    if ready is not None:
        optional["ready_at"] = ready
    if text("pieces"):
        optional["pieces"] = int(number("pieces"))
    if text("max_options"):
        optional["max_options"] = int(number("max_options"))
    for name in ("cargo_class", "customs_regime"):
        if text(name):
            optional[name] = text(name)
    return Shipment(
        origin=text("origin"),
        destination=text("destination"),
        weight_kg=number("weight_kg"),
        volume_m3=number("volume_m3"),
        deadline=moment("deadline"),
        avoid=items("avoid"),
        allowed_modes=items("modes") or None,
        **optional,
    )


def plan_summary_row(plan: RoutePlan) -> dict[str, Any]:
    """One table row per plan: the cheapest, fastest and greenest option, or the reason."""
    options = plan.options
    cheapest = min(options, key=lambda o: o.cost_cny) if options else None
    fastest = min(options, key=lambda o: o.arrival) if options else None
    greenest = min(options, key=lambda o: o.co2e_kg) if options else None
    return {
        "origin_node": plan.origin,
        "destination_node": plan.destination,
        "status": "planned" if options else "no_option",
        "options": len(options),
        "cheapest_cost_cny": round(cheapest.cost_cny, 2) if cheapest else None,
        "cheapest_arrival": cheapest.arrival.isoformat() if cheapest else None,
        "cheapest_summary": cheapest.summary if cheapest else None,
        "fastest_arrival": fastest.arrival.isoformat() if fastest else None,
        "fastest_cost_cny": round(fastest.cost_cny, 2) if fastest else None,
        "greenest_co2e_kg": round(greenest.co2e_kg, 2) if greenest else None,
        "infeasible_reason": plan.infeasible_reason,
        "error": None,
    }


def _plan_record(network: Network, record: dict[str, Any]) -> dict[str, Any]:
    try:
        row = plan_summary_row(plan_routes(network, shipment_from_record(record)))
    except ValueError as exc:
        row = {"status": "invalid", "error": str(exc)}
    return {"id": record.get("id", ""), **row}


_WORKER_NETWORK: list[Network] = []


def _worker_init(network: Network) -> None:
    _WORKER_NETWORK[:] = [network]
    routing_data(network)


def _worker_chunk(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_plan_record(_WORKER_NETWORK[0], record) for record in records]


def plan_batch(
    network: Network,
    shipments: pd.DataFrame,
    *,
    workers: int | None = None,
    progress: bool = False,
    chunk_size: int = 50,
) -> pd.DataFrame:
    """Plan every row of ``shipments`` (columns of :func:`shipment_from_record`).

    Rows are planned in ``workers`` processes (default: every core) in chunks; an invalid row
    gets ``status`` = ``invalid`` and its message in ``error`` instead of stopping the batch.
    The result has one row per shipment, in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> from network_data import load_network
    >>> table = pd.DataFrame({"origin": ["Linshui", "Nowhere"], "destination": ["Duisburg"] * 2,
    ...     "weight_kg": [800, 800], "volume_m3": [4.2, 4.2],
    ...     "ready_at": ["2026-11-23T08:00:00+00:00"] * 2})
    >>> result = plan_batch(load_network(), table, workers=1)
    >>> list(result["status"])
    ['planned', 'invalid']
    """
    records: list[dict[str, Any]] = [
        {str(key): value for key, value in record.items()}
        for record in shipments.to_dict("records")
    ]
    chunks = [records[i : i + chunk_size] for i in range(0, len(records), chunk_size)]
    workers = (os.cpu_count() or 1) if workers is None else workers
    rows: list[dict[str, Any]] = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("planning", total=len(records))
        if workers <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                rows.extend(_plan_record(network, record) for record in chunk)
                bar.advance(task, len(chunk))
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_init, initargs=(network,)
            ) as pool:
                for done in pool.map(_worker_chunk, chunks):
                    rows.extend(done)
                    bar.advance(task, len(done))
    return pd.DataFrame(rows)
