"""Door-to-door route planning: Pareto-best options by cost, arrival time and CO2e.

The search is an exact multi-criteria, time-dependent label-setting algorithm (Martins'
algorithm on a timetable, in the spirit of McRAPTOR). A label is a partial journey at a node:
arrival time, cost, CO2e, p90 arrival, the customs state (export cleared, bonded zone entered)
and how it arrived (mode, scheduled or not), which decides whether the next leg is a transfer.
Labels leave the queue in order of (arrival, cost, CO2e) plus lower bounds to the destination;
a label dominated for every continuation by a settled label at its node, or with its bounds by
a complete journey, is dropped (see :mod:`optimizer.costs.search` and ``docs/routing.md``).

A transfer (handling time and cost at the node) happens where the mode changes, where a
scheduled service is joined or left, and at gauge-change stations; a truck or a through train
passing a node does not stop for handling. Border dwell applies to every crossing. Waiting for a
later departure never helps arrive earlier (FIFO), costs and emissions do not depend on time, so
dropping dominated labels keeps every Pareto-optimal journey.

Per-corridor charges, emissions and the next bookable departure come from the numba kernels in
:mod:`optimizer.costs`.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich.progress import Progress

from network_data import Network
from network_data.errors import UnknownPlaceError
from network_data.geo import parse_lat_lon
from network_data.road import road_transit_h, road_transit_p90_h, rules_for_country
from network_data.validate import EARTH_RADIUS_KM, haversine_km, records, tariff_scopes
from optimizer import charges as charges_
from optimizer import quotable, validity
from optimizer._compile import (
    MAX_BREAKS,
    REGIME_BIT,
    PerNetwork,
    RoutingData,
    epoch_hours,
    from_epoch_hours,
    routing_data,
)
from optimizer.charges import Charge
from optimizer.costs import search
from optimizer.costs.line_haul import (
    AIR_KG_PER_M3,
    PRODUCTS,
    UNIT_COLUMNS,
    chargeable_kg,
    line_haul_costs,
    unit_costs,
)
from optimizer.errors import InvalidInputError
from optimizer.inputs import check_year
from optimizer.model import (
    MODE_WORDS,
    MODES,
    FrontJourney,
    Leg,
    RouteOption,
    RoutePlan,
    Shipment,
)

FloatArray = npt.NDArray[np.float64]

#: Longest journey searched: long enough for sea via the Cape with waits.
_Item = TypeVar("_Item")
_Result_T = TypeVar("_Result_T")

DEFAULT_HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 365
#: Timetables describe the dataset's present: plans may start this long before or after its date.
READY_WINDOW = (timedelta(days=366), timedelta(days=2 * 366))
#: A coordinate origin or destination is joined by road to this many nearest road nodes.
COORDINATE_LINKS = 3
#: ... each at most this far (by great circle) in the same country.
MAX_LINK_KM = 800.0
#: Coordinates closer than this to a node are that node.
SNAP_KM = 1.0
ROAD_CIRCUITY = 1.25
#: Usable volume of one TEU (20GP) for the capacity check.
TEU_USABLE_M3 = 28.0
_ROAD = MODES.index("road")
#: Passages worth naming in a one-line summary, and how.
_SUMMARY_PASSAGES = {
    "suez": "Suez",
    "cape": "the Cape",
    "caspian": "the Caspian",
    "three-gorges-locks": "the Three Gorges locks",
}


@dataclass(frozen=True)
class _Place:
    """A resolved origin or destination: a node, or a coordinate joined to nearby nodes."""

    query: str
    is_node: bool
    lat: float
    lon: float
    label: str
    #: Country of the node, or of the nodes a coordinate is joined to.
    country: str
    #: For a coordinate: the road nodes it is joined to, nearest first, all in its country.
    links: tuple[int, ...] = ()


class _Journey(NamedTuple):
    """One complete journey found by the search: its totals and where its labels are.

    A named tuple, not a frozen dataclass: a search yields tens of them per plan, and a frozen
    dataclass costs several times as much to build.
    """

    arrival_h: float
    cost_cny: float
    co2e_kg: float
    #: Row of its last label in the search result.
    label: int
    #: Which of the search's results (one per load basis) holds its labels.
    result: int = 0


@dataclass(frozen=True)
class _Result:
    """Everything the label search returned, with the synthetic legs it refers to."""

    floats: FloatArray
    ints: npt.NDArray[np.int64]
    journeys: list[_Journey]
    settled: int
    first_legs: list[_SyntheticLeg]
    final_legs: dict[int, _SyntheticLeg]
    costs: EdgeCosts
    #: The settled labels by (node, customs state, arrival class), as :class:`search.Rival`.
    head: npt.NDArray[np.int64]
    link: npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Search:
    """A shipment searched with each load basis: the results and their merged Pareto front."""

    results: tuple[_Result, ...]
    journeys: list[_Journey]
    settled: int


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
    trucks: int = 0


@dataclass(frozen=True)
class EdgeCosts:
    """What one shipment would pay and emit on every corridor (arrays in edge order).

    ``transfer_cny`` is added on leaving a node where the shipment is handled (mode change,
    scheduled service joined or left, gauge change, bonded zone, or the first leg when it is
    not by road): handling there and the documents of the booking, with the product and boxes
    then cheapest (``transfer_product``, ``transfer_boxes``); ``road_continuation_cny`` is the
    road price when the same truck drives on from a road leg. ``basis`` is how the load is
    priced over the whole move (:data:`optimizer._compile.BASES`; None: each corridor's
    cheaper of the two).
    """

    line_haul_cny: FloatArray
    road_continuation_cny: FloatArray
    product: npt.NDArray[np.int64]
    chargeable_kg: FloatArray
    boxes: npt.NDArray[np.int64]
    transfer_cny: FloatArray
    transfer_product: npt.NDArray[np.int64]
    transfer_boxes: npt.NDArray[np.int64]
    co2e_kg: FloatArray
    #: Per node: handling the whole shipment there (:func:`node_handling`).
    node_handling_cny: FloatArray
    basis: str | None = None


def air_chargeable_kg(weight_kg: float, volume_m3: float) -> float:
    """Chargeable kg of air freight: the greater of weight and volume at 1:6000, up to 0.5 kg.

    Examples
    --------
    >>> air_chargeable_kg(5000, 25)  # 25 m3 x 166.7 kg = 4,166.7 kg: the weight counts
    5000.0
    >>> air_chargeable_kg(800, 12)
    2000.0
    """
    return float(chargeable_kg(weight_kg, volume_m3, AIR_KG_PER_M3))


def truckloads(data: RoutingData, shipment: Shipment) -> int:
    """How many 40HQ boxes (one a truck) the shipment fills, by volume and by payload."""
    by_volume = math.ceil(shipment.volume_m3 / float(data.tariffs.box_volume_m3[2]) - 1e-9)
    by_weight = math.ceil(shipment.weight_kg / float(data.tariffs.box_payload_kg[2]) - 1e-9)
    return max(by_volume, by_weight)


def handling_rates(
    data: RoutingData, shipment: Shipment, basis: str
) -> tuple[FloatArray, FloatArray]:
    """Per node, what a transfer costs a box (``boxed``) or the whole consignment (``loose``).

    Loose cargo pays per revenue tonne (1 m3 = 1 t), except at airports, which charge per
    chargeable kg of air freight.
    """
    n = len(data.arrays.node_ids)
    if basis == "boxed":
        return data.node_per_container_cny, np.zeros(n)
    revenue_t = max(shipment.weight_kg / 1000.0, shipment.volume_m3)
    air_t = air_chargeable_kg(shipment.weight_kg, shipment.volume_m3) / 1000.0
    loose: FloatArray = np.where(data.node_is_airport, air_t, revenue_t) * data.node_per_t_cny
    return np.zeros(n), loose


def edge_costs(data: RoutingData, shipment: Shipment, basis: str | None = None) -> EdgeCosts:
    """Line haul, transfer charges and CO2e of ``shipment`` on every corridor of ``data``.

    Examples
    --------
    >>> from network_data import load_network
    >>> from optimizer._compile import routing_data
    >>> data = routing_data(load_network())
    >>> costs = edge_costs(data, Shipment("Chongqing", "Qinzhou", 800, 4.2), "loose")
    >>> e = data.edge_index["RAIL-CNCKG-RLY-CNQZH"]
    >>> round(float(costs.line_haul_cny[e]), 2)  # 4.2 W/M x (CNY 60 + 0.08 x 1,225 km)
    663.6
    """
    if basis is None:
        return _cheaper(edge_costs(data, shipment, "loose"), edge_costs(data, shipment, "boxed"))
    weight_kg, volume_m3 = float(shipment.weight_kg), float(shipment.volume_m3)
    origin = data.arrays.edge_origin
    per_box, per_loose = handling_rates(data, shipment, basis)
    tariffs = data.basis_tariffs[basis]
    prices = line_haul_costs(
        weight_kg, volume_m3, tariffs, per_box[origin], per_loose[origin], data.edge_booking_cny
    )
    # Driving on never costs more than booking the leg afresh; other modes have no such price.
    cost = prices.cost_cny
    continuation = cost.copy()
    road = data.road_edges
    continuing = data.road_continuation_price_cny
    if basis == "boxed":
        continuing = np.where(_TRUCK_COLUMN, continuing, np.nan)
    driving_on = unit_costs(
        weight_kg, volume_m3, continuing, np.zeros_like(continuing),
        tariffs.box_volume_m3, tariffs.box_payload_kg,
    )  # fmt: skip
    continuation[road] = np.minimum(driving_on, cost[road])
    co2e = (
        weight_kg / 1000.0 * data.arrays.edge_distance_km * data.arrays.edge_co2e_g_per_tkm / 1000.0
    )
    return EdgeCosts(
        cost, continuation, prices.product, prices.chargeable_kg, prices.boxes,
        prices.transfer_cny, prices.transfer_product, prices.transfer_boxes, co2e,
        node_handling(data, shipment, basis), basis,
    )  # fmt: skip


_TRUCK_COLUMN = np.array([unit == "truck" for unit in UNIT_COLUMNS])


def _cheaper(a: EdgeCosts, b: EdgeCosts) -> EdgeCosts:
    """Per corridor, the cheaper of two pricings, alone and with a transfer."""
    alone = b.line_haul_cny < a.line_haul_cny
    moved = b.line_haul_cny + b.transfer_cny < a.line_haul_cny + a.transfer_cny
    line_haul = np.where(alone, b.line_haul_cny, a.line_haul_cny)
    with_transfer = np.where(
        moved, b.line_haul_cny + b.transfer_cny, a.line_haul_cny + a.transfer_cny
    )
    return EdgeCosts(
        line_haul,
        np.minimum(a.road_continuation_cny, b.road_continuation_cny),
        np.where(alone, b.product, a.product),
        np.where(alone, b.chargeable_kg, a.chargeable_kg),
        np.where(alone[:, None], b.boxes, a.boxes),
        with_transfer - line_haul,
        np.where(moved, b.transfer_product, a.transfer_product),
        np.where(moved[:, None], b.transfer_boxes, a.transfer_boxes),
        a.co2e_kg,
        np.minimum(a.node_handling_cny, b.node_handling_cny),
    )


def find_place(network: Network, field: str, query: str) -> str:
    """The node ``query`` names (id, English or Chinese name, or nearest to ``"lat,lon"``).

    Raises
    ------
    optimizer.errors.InvalidInputError
        Naming ``field``, the query and the closest known places.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> find_place(network, "origin", "Linshu")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: origin: got 'Linshu'; expected a known place (closest ...
    >>> find_place(network, "origin", "Linshui")
    'CN-LINSHUI-PARK'
    """
    try:
        return network.find_node(query)
    except UnknownPlaceError as exc:
        raise InvalidInputError(
            field, query, f"a known place ({str(exc).split('; ', 1)[-1]})"
        ) from exc


def _resolve(data: RoutingData, field: str, query: str) -> _Place:
    i = data.node_index.get(query)
    if i is None:
        try:
            point = parse_lat_lon(query)
        except ValueError as exc:
            allowed = "'lat,lon' within [-90, 90] and [-180, 180]"
            raise InvalidInputError(field, query, allowed) from exc
        if point is not None:
            i = data.node_index[data.network.find_node(query)]
            lat, lon = float(data.arrays.node_lat[i]), float(data.arrays.node_lon[i])
            if haversine_km(point[0], point[1], lat, lon) <= SNAP_KM:
                return _Place(query, True, lat, lon, data.arrays.node_ids[i], data.node_country[i])
            links = _road_links(data, field, query, point[0], point[1])
            label = f"{point[0]:.4f},{point[1]:.4f}"
            country = data.node_country[links[0]]
            return _Place(query, False, point[0], point[1], label, country, links)
        i = data.node_index[find_place(data.network, field, query)]
    lat, lon = float(data.arrays.node_lat[i]), float(data.arrays.node_lon[i])
    return _Place(query, True, lat, lon, data.arrays.node_ids[i], data.node_country[i])


def _usable_edges(data: RoutingData, shipment: Shipment) -> npt.NDArray[np.bool_]:
    modes = shipment.modes_used()
    mode_allowed = np.array([mode in modes for mode in MODES])
    usable = mode_allowed[data.arrays.edge_mode]
    # A scheduled departure must take the whole shipment; continuous corridors (trucks, through
    # trains) spread it over their weekly capacity. Volume counts 28 m3 per TEU where TEU apply.
    departures = np.where(data.edge_scheduled, 1.0, data.edge_departures_per_week)
    usable &= data.edge_capacity_t * departures >= shipment.weight_kg / 1000.0
    teu_m3 = data.edge_capacity_teu * departures * TEU_USABLE_M3
    usable &= (data.edge_capacity_teu == 0) | (teu_m3 >= shipment.volume_m3)
    if shipment.cargo_class == "battery":
        usable &= data.edge_lithium_ok
    if shipment.cargo_class == "perishable":
        usable &= data.edge_reefer
    avoided_nodes = [data.node_index[a] for a in shipment.avoid if a in data.node_index]
    if avoided_nodes:
        usable &= ~np.isin(data.arrays.edge_origin, avoided_nodes)
        usable &= ~np.isin(data.arrays.edge_destination, avoided_nodes)
    for item in shipment.avoid:
        if item in data.edge_index:
            usable[data.edge_index[item]] = False
        usable[data.passage_edges.get(item, [])] = False
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
    basis: str,
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
            if math.isnan(unit_price[0, u]) and (basis == "loose" or row.unit == "truck"):
                unit_price[0, u] = network.to_cny(
                    row.rate + row.rate_per_km * distance_km, row.currency
                )
                unit_min[0, u] = network.to_cny(row.min_charge, row.currency)
    empty = np.zeros((1, MAX_BREAKS))
    nan = np.full((1, MAX_BREAKS), np.nan)
    zero = np.zeros(1)
    tariffs = data.tariffs._replace(
        unit_price=unit_price, unit_min=unit_min, kg_break=empty, kg_rate=nan, kg_min=zero,
        kg_surcharge=zero, express_break=empty, express_rate=nan, express_min=zero,
    )  # fmt: skip
    prices = line_haul_costs(
        float(shipment.weight_kg), float(shipment.volume_m3), tariffs, zero, zero, zero
    )
    co2e = shipment.weight_kg / 1000.0 * distance_km * 90.0 / 1000.0
    return _SyntheticLeg(
        origin=start[0],
        destination=end[0],
        distance_km=distance_km,
        duration_h=road_transit_h(distance_km, rules),
        duration_p90_h=road_transit_p90_h(distance_km, rules),
        cost_cny=float(prices.cost_cny[0]),
        chargeable_kg=float(prices.chargeable_kg[0]),
        product=PRODUCTS[int(prices.product[0])],
        co2e_kg=co2e,
        trucks=int(prices.boxes[0, 2]),
    )


def _node_point(data: RoutingData, i: int) -> tuple[str, float, float]:
    """(id, lat, lon) of node ``i``."""
    return data.arrays.node_ids[i], float(data.arrays.node_lat[i]), float(data.arrays.node_lon[i])


def _road_links(
    data: RoutingData, field: str, query: str, lat: float, lon: float
) -> tuple[int, ...]:
    """The nearest road nodes in the same country as a coordinate (no border is skipped)."""
    territory = data.land.territory(lat, lon)
    if territory is None:
        raise InvalidInputError(field, query, "a point on land (this one is at sea)")
    distances = sorted(
        (haversine_km(lat, lon, data.arrays.node_lat[i], data.arrays.node_lon[i]), i)
        for i in range(len(data.arrays.node_ids))
        if data.node_handles_road[i] and data.node_territory[i] == territory
    )
    links = tuple(i for km, i in distances[:COORDINATE_LINKS] if km <= MAX_LINK_KM)
    if not links:
        raise InvalidInputError(
            field, query,
            f"a place within {MAX_LINK_KM:,.0f} km of a road node of the network in the same "
            f"country ({data.land.name(territory)} has none)",
        )  # fmt: skip
    return links


def _node_name(data: RoutingData, node_id: str) -> str:
    index = data.node_index.get(node_id)
    return node_id if index is None else data.node_name[index]


def _legs(
    data: RoutingData, found: _Search, journey: _Journey, shipment: Shipment
) -> tuple[Leg, ...]:
    """Rebuild a journey's legs by following parent links, each with its charges."""
    result = found.results[journey.result]
    chain: list[int] = []
    index = journey.label
    while index >= 0:
        chain.append(index)
        index = int(result.ints[index, search.PARENT])
    chain.reverse()
    costs = result.costs
    boxed = costs.basis == "boxed"
    revenue_t = max(shipment.weight_kg / 1000.0, shipment.volume_m3)
    air_kg = air_chargeable_kg(shipment.weight_kg, shipment.volume_m3)
    per_box, per_loose = handling_rates(data, shipment, costs.basis or "loose")

    def handled_at(node: int, boxes: int) -> Charge:
        return charges_.handling_charge(
            data.node_kind[node], data.node_name[node], boxed, boxes, float(per_box[node]),
            float(per_loose[node]), revenue_t, air_kg,
        )  # fmt: skip

    legs: list[Leg] = []
    rows, kinds = result.floats[chain].tolist(), result.ints[chain].tolist()
    for position, (row, kind) in enumerate(zip(rows, kinds, strict=True)):
        depart = from_epoch_hours(row[search.DEPART])
        arrive = from_epoch_hours(row[search.ARRIVAL])
        arrive_p90 = from_epoch_hours(row[search.ARRIVAL_P90])
        transfer_cny = row[search.HANDLING] + row[search.BORDER]
        e = kind[search.EDGE]
        if e < 0:
            final = kind[search.FINAL]
            if position == 0 and final < 0:
                continue  # the origin itself
            leg = result.first_legs[final] if position == 0 else result.final_legs[final]
            product = PRODUCTS.index(leg.product)
            charges = [
                charges_.line_haul_charge(
                    leg.cost_cny, product, leg.chargeable_kg, (0, 0, leg.trucks)
                )
            ]
            if transfer_cny > 0:
                charges.append(handled_at(data.node_index[leg.origin], leg.trucks))
            legs.append(
                Leg(leg.origin, leg.destination, "road", None, None, depart, arrive, arrive_p90,
                    leg.distance_km, leg.chargeable_kg, leg.product, tuple(charges), leg.co2e_kg)
            )  # fmt: skip
            continue
        service = _service_name(data, e, kind[search.POSITION])
        origin, destination, mode, corridor_id, distance_km = data.edge_leg_fields[e]
        charged = transfer_cny > 0
        product, boxes = (
            (costs.transfer_product[e], costs.transfer_boxes[e])
            if charged
            else (costs.product[e], costs.boxes[e])
        )
        box_counts = (int(boxes[0]), int(boxes[1]), int(boxes[2]))
        if charged:
            origin_node = int(data.arrays.edge_origin[e])
            handling = handled_at(origin_node, sum(box_counts) if boxed else 0)
            paid_cny = row[search.LINE_HAUL] + transfer_cny
            leg_charges = _edge_charges(
                data, costs, e, paid_cny, int(product), box_counts, handling
            )
        else:
            chargeable = float(costs.chargeable_kg[e])
            leg_charges = (
                charges_.line_haul_charge(
                    row[search.LINE_HAUL], int(product), chargeable, box_counts
                ),
            )
        if row[search.DESTINATION] > 0:  # unloaded where the plan ends
            unloaded = handled_at(int(data.arrays.edge_destination[e]), truckloads(data, shipment))
            leg_charges = (*leg_charges, unloaded._replace(basis=f"{unloaded.basis} (destination)"))
        legs.append(
            Leg(
                origin=origin,
                destination=destination,
                mode=mode,
                corridor_id=corridor_id,
                service=service,
                depart=depart,
                arrive=arrive,
                arrive_p90=arrive_p90,
                distance_km=distance_km,
                chargeable_kg=float(costs.chargeable_kg[e]),
                product=PRODUCTS[int(product)],
                charges=leg_charges,
                co2e_kg=float(costs.co2e_kg[e]),
                passages=data.edge_passages[e],
            )
        )  # fmt: skip
    return tuple(legs)


def _service_name(data: RoutingData, edge: int, position: int) -> str | None:
    """The service a leg ran on: its timetable departure, through train, or corridor's name."""
    timetable = data.timetable
    if position >= 0:
        return timetable.service_name[int(timetable.service_of[position])]
    if position <= -2:
        return timetable.service_name[int(timetable.thru_service_of[-(position + 2)])]
    return data.edge_service_name[edge] or None


def _edge_charges(
    data: RoutingData,
    costs: EdgeCosts,
    e: int,
    paid_cny: float,
    product: int,
    boxes: tuple[int, int, int],
    handling: Charge,
) -> tuple[Charge, ...]:
    """A corridor's charges when the shipment is handled at its origin (``paid_cny`` in all):
    the handling, the booking's documents, and the line haul of the product then chosen (the
    rest)."""
    items = [handling] if handling.amount_cny > 0 else []
    booking = float(data.edge_booking_cny[e])
    if booking > 0:
        mode = data.edge_leg_fields[e][2]
        items.append(Charge("documentation", booking, charges_.BOOKING_DOCUMENT[mode]))
    line_haul = paid_cny - sum(item.amount_cny for item in items)
    chargeable = float(costs.chargeable_kg[e])
    return (charges_.line_haul_charge(line_haul, product, chargeable, boxes), *items)


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
        mode_word = MODE_WORDS[group[0].mode]
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
    return data.node_country[data.node_index[node_id]] in _EUROPE


class _Products(NamedTuple):
    """What :func:`optimizer.quotable.shape` needs of a network, built once per network."""

    by_chain: dict[tuple[str, ...], tuple[str, str]]
    node_names: dict[str, str]
    #: Per edge: the leg as the shape sees it, and the index of the node it reaches.
    edge_legs: tuple[quotable.Leg, ...]
    edge_destination: tuple[int, ...]
    #: Per edge: (lat, lon) where it starts.
    edge_start: tuple[tuple[float, float], ...]


def _build_products(network: Network) -> _Products:
    data = routing_data(network)
    by_chain = {
        tuple(chain): (str(product), str(name))
        for product, name, chain in zip(
            network.products.index, network.products["name"], network.products["chain"],
            strict=True,
        )
    }  # fmt: skip
    names = dict(zip(network.nodes.index, network.nodes["name_en"], strict=True))
    destinations = tuple(int(d) for d in data.arrays.edge_destination)
    lat, lon = data.arrays.node_lat.tolist(), data.arrays.node_lon.tolist()
    legs = tuple(
        quotable.Leg(
            mode,
            distance_km,
            destination,
            bool(data.node_is_border[node]),
            passages,
            lat[node],
            lon[node],
        )
        for (_, destination, mode, _, distance_km), node, passages in zip(
            data.edge_leg_fields, destinations, data.edge_passages, strict=True
        )
    )
    origins = tuple((lat[o], lon[o]) for o in data.arrays.edge_origin.tolist())
    return _Products(by_chain, names, legs, destinations, origins)


_products = PerNetwork(_build_products)


def _remaining_km(data: RoutingData, place: _Place) -> FloatArray:
    """Great-circle km from every node to ``place``."""
    lat, lon = np.radians(data.arrays.node_lat), np.radians(data.arrays.node_lon)
    lat0, lon0 = math.radians(place.lat), math.radians(place.lon)
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * math.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    distances: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return distances


def _shape(
    found: _Search,
    journey: _Journey,
    origin_km: float,
    remaining_km: list[float],
    products: _Products,
) -> quotable.Shape:
    """The product, family and doubling back of a journey, read off its labels' corridors."""
    ints = found.results[journey.result].ints
    legs: list[quotable.Leg] = []
    distances: list[float] = []
    index = journey.label
    first = -1
    while index >= 0:
        edge = ints.item(index, search.EDGE)
        if edge >= 0:  # not the origin, nor a road leg joining a coordinate
            legs.append(products.edge_legs[edge])
            distances.append(remaining_km[products.edge_destination[edge]])
            first = edge
        index = ints.item(index, search.PARENT)
    legs.reverse()
    distances.append(origin_km)
    distances.reverse()
    start = products.edge_start[first] if first >= 0 else (math.nan, math.nan)
    return quotable.shape(legs, distances, products.by_chain, products.node_names, start)


def plan_routes(
    network: Network,
    shipment: Shipment,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    max_options: int | None = -1,
    every_journey: bool = False,
) -> RoutePlan:
    """Plan the door-to-door options a forwarder would quote for ``shipment`` on ``network``.

    The search finds every journey no other beats on cost, arrival and CO2e; the plan shows
    those a forwarder sells as a product, that do not double back and that differ
    meaningfully, covering the families that compete on the lane (:mod:`optimizer.quotable`).
    ``plan.front`` keeps every journey found, each with why it is not shown.

    Parameters
    ----------
    network
        The corridor network (:func:`network_data.load_network`).
    shipment
        What to move, from where, to where, when.
    horizon_days
        Longest journey searched (>= 60 so that sea via the Cape fits).
    max_options
        Overrides ``shipment.max_options`` when >= 1; None shows every quotable option.
    every_journey
        Show every Pareto-best journey as an option, quotable or not, each with ``hidden``
        saying why the plan would leave it out.

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
    if not isinstance(horizon_days, int) or not 60 <= horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidInputError(
            "horizon_days", horizon_days, f"an integer in [60, {MAX_HORIZON_DAYS}]"
        )
    _check_ready(network, shipment)
    asked, shipment = shipment, validity.follow_passage_status(network, shipment)
    data = routing_data(network)
    _check_avoid(data, shipment.avoid)
    origin = _resolve(data, "origin", shipment.origin)
    destination = _resolve(data, "destination", shipment.destination)
    if origin.label == destination.label:
        raise InvalidInputError(
            "destination", shipment.destination, "a place other than the origin"
        )
    if (
        max_options is not None
        and max_options != -1
        and (isinstance(max_options, bool) or not isinstance(max_options, int) or max_options < 1)
    ):
        raise InvalidInputError("max_options", max_options, "an integer >= 1, or None for all")
    limit = shipment.max_options if max_options == -1 else max_options
    fx = data.fx_cny_per_unit

    def plan(
        options: tuple[RouteOption, ...],
        reason: str | None,
        settled: int = 0,
        front: tuple[FrontJourney, ...] = (),
    ) -> RoutePlan:
        built = RoutePlan(
            shipment, origin.label, destination.label, options, reason, network.version, fx,
            settled, front,
        )  # fmt: skip
        return validity.with_warnings(network, asked, built)

    problem = _regime_problem(data, shipment, origin, destination)
    if problem:
        return plan((), problem)
    result = _run(data, shipment, origin, destination, horizon_days)
    if not result.journeys:
        reason = _explain(data, shipment, origin, destination, horizon_days)
        return plan((), reason, result.settled)
    ready_h = epoch_hours(shipment.ready_at)
    declarations = _declarations(data, origin, destination)
    fees = sum(charge.amount_cny for _, charge in declarations)
    journeys = [j._replace(cost_cny=j.cost_cny + fees) for j in result.journeys]
    ranked = sorted(journeys, key=lambda j: (j.cost_cny, j.arrival_h, j.co2e_kg))
    remaining_km = _remaining_km(data, destination).tolist()
    origin_km = (
        remaining_km[data.node_index[origin.label]]
        if origin.is_node
        else haversine_km(origin.lat, origin.lon, destination.lat, destination.lon)
    )
    products = _products(network)
    shapes = [_shape(result, j, origin_km, remaining_km, products) for j in ranked]
    candidates = [
        quotable.Candidate(
            j.cost_cny, j.arrival_h - ready_h, j.co2e_kg, shape.family,
            quotable.NOT_SOLD if shape.product is None
            else quotable.DOUBLES_BACK if shape.doubles_back_at else None,
        )
        for j, shape in zip(ranked, shapes, strict=True)
    ]  # fmt: skip
    hidden = quotable.choose(candidates, limit, shipment.similar_within)
    options = []
    for journey, shape, why in zip(ranked, shapes, hidden, strict=True):
        if why is None or every_journey:
            legs = _declared(data, _legs(data, result, journey, shipment), declarations)
            summary = _summary(data, legs, ready_h)
            options.append(RouteOption(legs, summary, shape.product, shape.family, why))
    front = tuple(
        FrontJourney(j.cost_cny, from_epoch_hours(j.arrival_h), j.co2e_kg, shape.family,
                     shape.product, why)
        for j, shape, why in zip(ranked, shapes, hidden, strict=True)
    )  # fmt: skip
    return plan(
        tuple(options), None if options else _nothing_quotable(front), result.settled, front
    )


def _declarations(
    data: RoutingData, origin: _Place, destination: _Place
) -> tuple[tuple[str, Charge], ...]:
    """The customs declarations a move between two countries needs, each with its country.

    Declaration fees come from the ``customs`` tariff rows of each country (else the default).
    """
    if origin.country == destination.country:
        return ()
    out, into = data.export_declaration_cny, data.import_declaration_cny
    return (
        (origin.country, Charge(
            "export_declaration", out.get(origin.country, out.get("", 0.0)),
            f"export declaration in {origin.country}",
        )),
        (destination.country, Charge(
            "import_declaration", into.get(destination.country, into.get("", 0.0)),
            f"import declaration in {destination.country}",
        )),
    )  # fmt: skip


def _declared(
    data: RoutingData, legs: tuple[Leg, ...], declarations: tuple[tuple[str, Charge], ...]
) -> tuple[Leg, ...]:
    """The legs with the export declaration on the first leaving the origin's country and the
    import declaration on the first entering the destination's."""
    if not declarations:
        return legs
    (home, export), (abroad, import_) = declarations
    country = [
        data.node_country[data.node_index[leg.destination]]
        if leg.destination in data.node_index else abroad
        for leg in legs
    ]  # fmt: skip
    leaves = next(i for i, c in enumerate(country) if c != home)
    enters = next(i for i, c in enumerate(country) if c == abroad)
    out = list(legs)
    out[leaves] = replace(out[leaves], charges=(*out[leaves].charges, export))
    out[enters] = replace(out[enters], charges=(*out[enters].charges, import_))
    return tuple(out)


def _nothing_quotable(front: Sequence[FrontJourney]) -> str:
    """Why a plan whose search found journeys shows none of them."""
    families = ", ".join(dict.fromkeys(j.family for j in front))
    reasons = Counter(j.hidden for j in front)
    why = " and ".join(
        f"{count} {'is' if count == 1 else 'are'} "
        + ("no product a forwarder sells" if reason == quotable.NOT_SOLD else "doubling back")
        for reason, count in reasons.most_common()
    )
    return (
        f"the {len(front)} Pareto-best journeys found ({families}) are not offered: {why}; "
        "plan with every_journey (--all) to see them"
    )


def _check_ready(network: Network, shipment: Shipment) -> None:
    dataset_day = datetime.fromisoformat(network.date).replace(tzinfo=UTC)
    earliest, latest = dataset_day - READY_WINDOW[0], dataset_day + READY_WINDOW[1]
    if not earliest <= shipment.ready_at <= latest:
        raise InvalidInputError(
            "ready_at",
            shipment.ready_at.isoformat(),
            f"a time between {earliest.date()} and {latest.date()} (the timetables of dataset "
            f"{network.version} hold for about a year either side of {network.date})",
        )


def _regime_problem(
    data: RoutingData, shipment: Shipment, origin: _Place, destination: _Place
) -> str | None:
    regime = shipment.customs_regime
    index = data.node_index.get(destination.label)
    kind = None if index is None else data.node_kind[index]
    if regime == "9810" and kind != "overseas_warehouse":
        return (
            f"customs regime 9810 (export to an overseas warehouse) must end at an "
            f"overseas_warehouse node, and {destination.label} is {kind or 'a coordinate'}"
        )
    if regime == "1210" and destination.country != "CN":
        return "customs regime 1210 (bonded import) must end in China, at or via a bonded zone"
    if regime == "1210" and origin.country == "CN":
        return "customs regime 1210 (bonded import) is for goods coming into China from abroad"
    return None


def _run(
    data: RoutingData,
    shipment: Shipment,
    origin: _Place,
    destination: _Place,
    horizon_days: int,
) -> _Search:
    """Search the shipment priced loose, then boxed (unless boxed costs more on every corridor).

    The boxed search starts knowing the loose journeys, so it keeps only what beats them; loose
    journeys a boxed one dominates are then dropped, leaving the exact front of both.
    """
    usable = _usable_edges(data, shipment)
    loose = _run_basis(
        data, shipment, origin, destination, horizon_days, "loose", [], usable,
        edge_costs(data, shipment, "loose"),
    )  # fmt: skip
    boxed_costs = edge_costs(data, shipment, "boxed")
    if _never_cheaper(data, loose.costs, boxed_costs):
        return _Search((loose,), loose.journeys, loose.settled)
    rival = search.Rival(
        loose.floats, loose.head, loose.link, _most_saved(data, loose.costs, boxed_costs, usable)
    )
    boxed = _run_basis(
        data, shipment, origin, destination, horizon_days, "boxed", loose.journeys, usable,
        boxed_costs, rival,
    )  # fmt: skip
    boxed_journeys = [j._replace(result=1) for j in boxed.journeys]
    kept = [
        j for j in loose.journeys
        if not any(
            b.arrival_h <= j.arrival_h and b.cost_cny <= j.cost_cny and b.co2e_kg <= j.co2e_kg
            for b in boxed_journeys
        )
    ]  # fmt: skip
    return _Search((loose, boxed), kept + boxed_journeys, loose.settled + boxed.settled)


def node_handling(data: RoutingData, shipment: Shipment, basis: str) -> FloatArray:
    """Per node, what handling the whole shipment there costs: per box (as many as 40HQ trucks
    it fills) when boxed, per consignment when loose.

    Charged where a last road leg to a coordinate starts with a transfer, and where a journey
    reaches its destination node other than by road (unloaded from the train, ship or plane).
    """
    per_box, per_loose = handling_rates(data, shipment, basis)
    if basis == "boxed":
        by_truck: FloatArray = truckloads(data, shipment) * per_box
        return by_truck
    return per_loose


def _most_saved(
    data: RoutingData, loose: EdgeCosts, boxed: EdgeCosts, usable: npt.NDArray[np.bool_]
) -> float:
    """The most pricing boxed can save over loose along any path without repeated nodes.

    Such a path leaves each node once, so the saving is at most the sum over nodes of the
    largest saving on a corridor out of it (line haul alone, with a transfer, or driving on),
    plus the largest saving on the handling where a journey ends.
    """
    alone = loose.line_haul_cny - boxed.line_haul_cny
    moved = (loose.line_haul_cny + loose.transfer_cny) - (boxed.line_haul_cny + boxed.transfer_cny)
    on = loose.road_continuation_cny - boxed.road_continuation_cny
    saved = np.maximum(np.maximum(alone, moved), np.maximum(on, 0.0))
    saved = np.where(usable & np.isfinite(boxed.line_haul_cny), saved, 0.0)
    per_node = np.zeros(len(data.arrays.node_ids))
    np.maximum.at(per_node, data.arrays.edge_origin, saved)
    unloads = _unloads(data, boxed)
    ending = max(
        0.0, float(np.max(loose.node_handling_cny[unloads] - boxed.node_handling_cny[unloads]))
    )
    return float(per_node.sum()) + ending


def _unloads(data: RoutingData, boxed: EdgeCosts) -> npt.NDArray[np.bool_]:
    """Nodes whose handling can end a boxed journey or start its last road leg: where a
    train or ship it can take arrives, and the nodes that always transfer."""
    unloads = data.node_always_transfer.copy()
    off = (data.arrays.edge_mode != _ROAD) & np.isfinite(boxed.line_haul_cny)
    unloads[data.arrays.edge_destination[off]] = True
    return unloads


def _never_cheaper(data: RoutingData, loose: EdgeCosts, boxed: EdgeCosts) -> bool:
    """Whether boxed costs at least as much as loose on every corridor, alone or transferring,
    and at every node whose handling can end a boxed journey (then no boxed journey beats the
    loose one on the same path)."""
    unloads = _unloads(data, boxed)
    return bool(
        np.all(boxed.node_handling_cny[unloads] >= loose.node_handling_cny[unloads])
        and np.all(boxed.line_haul_cny >= loose.line_haul_cny)
        and np.all(
            boxed.line_haul_cny + boxed.transfer_cny >= loose.line_haul_cny + loose.transfer_cny
        )
        and np.all(boxed.road_continuation_cny >= loose.road_continuation_cny)
    )


def _run_basis(
    data: RoutingData,
    shipment: Shipment,
    origin: _Place,
    destination: _Place,
    horizon_days: int,
    basis: str,
    known: list[_Journey],
    usable_edges: npt.NDArray[np.bool_],
    costs: EdgeCosts,
    rival: search.Rival | None = None,
) -> _Result:
    """Search the shipment priced one way (``costs``), knowing journeys found before."""
    arrays = data.arrays
    ready_h = epoch_hours(shipment.ready_at)
    deadline_h = epoch_hours(shipment.deadline) if shipment.deadline else math.inf
    horizon_h = ready_h + horizon_days * 24
    origin_country = origin.country
    need_export = origin_country == "CN" and destination.country != "CN"
    required = search.BONDED if shipment.customs_regime == "1210" else 0
    # A customs state the plan never asks about stays unset, so labels that differ only in it
    # are compared (and the dominated one dropped) instead of being searched twice.
    regime_bit = REGIME_BIT[shipment.customs_regime] if need_export else 0
    bonded_bit = REGIME_BIT["1210"] if required else 0

    def arrival_state(i: int) -> int:
        state = search.CLEARED if data.node_in_china[i] and data.node_regimes[i] & regime_bit else 0
        if data.node_is_bonded_zone[i] and data.node_regimes[i] & bonded_bit:
            state |= search.BONDED
        return state

    first_legs: list[_SyntheticLeg] = []
    start_floats: list[list[float]] = []
    start_ints: list[list[int]] = []
    if origin.is_node:
        i = data.node_index[origin.label]
        start_floats.append([ready_h, 0.0, 0.0, ready_h, ready_h, 0.0, 0.0, 0.0, 0.0])
        start_ints.append([i, arrival_state(i), -1, -1, -1, -1, -1])
    else:
        for i in origin.links:
            leg = _road_leg(
                data, shipment, (origin.label, origin.lat, origin.lon),
                _node_point(data, i), origin_country, basis,
            )  # fmt: skip
            start_floats.append(
                [ready_h + leg.duration_h, leg.cost_cny, leg.co2e_kg, ready_h + leg.duration_p90_h,
                 ready_h, 0.0, 0.0, leg.cost_cny, 0.0]
            )  # fmt: skip
            start_ints.append([i, arrival_state(i), _ROAD * 2, -1, -1, -1, len(first_legs)])
            first_legs.append(leg)
    n = len(arrays.node_ids)
    final = {name: np.full(n, np.nan) for name in ("h", "p90", "cost", "co2e")}
    final_legs: dict[int, _SyntheticLeg] = {}
    target = -1
    if destination.is_node:
        target = data.node_index[destination.label]
    else:
        country = destination.country
        for i in destination.links:
            leg = _road_leg(
                data, shipment, _node_point(data, i),
                (destination.label, destination.lat, destination.lon), country, basis,
            )  # fmt: skip
            final_legs[i] = leg
            final["h"][i], final["p90"][i] = leg.duration_h, leg.duration_p90_h
            final["cost"][i], final["co2e"][i] = leg.cost_cny, leg.co2e_kg
    timetable = data.ensure_timetable(ready_h - 48, horizon_h + 24 * 14)
    usable = usable_edges & np.isfinite(costs.line_haul_cny)
    bounds = search.lower_bounds(
        n, target, final["h"], final["cost"], final["co2e"], data.into_ptr, data.edges_into,
        arrays.edge_origin, usable, arrays.edge_duration_h + data.edge_passage_dwell_h,
        np.where(arrays.edge_mode == _ROAD, costs.road_continuation_cny, costs.line_haul_cny),
        costs.co2e_kg,
    )  # fmt: skip
    graph = search.SearchGraph(
        arrays.indptr, arrays.edge_destination, arrays.edge_mode, data.edge_scheduled,
        arrays.edge_duration_h, arrays.edge_duration_p90_h, data.edge_passage_dwell_h,
        data.edge_passage_dwell_p90_h, data.node_handling_h, data.node_dwell_h,
        data.node_dwell_p90_h, data.node_always_transfer, data.node_is_border,
        data.node_in_china, data.node_regimes, data.node_is_bonded_zone,
        data.rail_connects(timetable), timetable.departures, timetable.rail_departures,
        timetable.through, timetable.thru_edge, timetable.thru_depart_h, timetable.thru_next,
    )  # fmt: skip
    handled = costs.node_handling_cny
    search_costs = search.SearchCosts(
        usable, costs.line_haul_cny, costs.road_continuation_cny, costs.transfer_cny,
        costs.co2e_kg, final["h"], final["p90"], final["cost"], final["co2e"],
        handled, handled,
    )  # fmt: skip
    query = search.SearchQuery(
        target, required, regime_bit, bonded_bit, need_export, deadline_h, horizon_h
    )
    seeds = np.array(
        [(j.arrival_h, j.cost_cny, j.co2e_kg) for j in known], dtype=np.float64
    ).reshape(-1, 3)
    floats, ints, complete, settled, head, link = search.label_search(
        np.array(start_floats, dtype=np.float64), np.array(start_ints, dtype=np.int64), query,
        graph, search_costs, bounds, seeds, rival or search.no_rival(n),
    )  # fmt: skip
    found = floats[complete]
    journeys = [
        _Journey(*values)
        for values in zip(
            found[:, search.ARRIVAL].tolist(), found[:, search.COST].tolist(),
            found[:, search.CO2E].tolist(), complete.tolist(), strict=True,
        )
    ]  # fmt: skip
    return _Result(floats, ints, journeys, int(settled), first_legs, final_legs, costs, head, link)


def _explain(
    data: RoutingData,
    shipment: Shipment,
    origin: _Place,
    destination: _Place,
    horizon_days: int,
) -> str:
    """Say in words why no option exists, by relaxing one constraint at a time."""
    to = f"{_node_name(data, destination.label)} ({destination.label})"

    def feasible(relaxed: Shipment, horizon: int = horizon_days) -> _Search | None:
        result = _run(data, relaxed, origin, destination, horizon)
        return result if result.journeys else None

    if shipment.deadline is not None:
        found = feasible(replace(shipment, deadline=None))
        if found:
            earliest = from_epoch_hours(min(j.arrival_h for j in found.journeys))
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
                    for j in found.journeys
                    for leg in _legs(data, found, j, shipment)
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
    capacity_blocked = _usable_edges(data, replace(shipment, weight_kg=1.0, volume_m3=0.01))
    if capacity_blocked.sum() > _usable_edges(data, shipment).sum() and feasible(
        replace(shipment, weight_kg=1.0, volume_m3=0.01, deadline=None)
    ):
        return (
            f"{shipment.weight_kg:,.0f} kg / {shipment.volume_m3:,.1f} m3 does not fit the "
            f"departures on any route to {to}; split the shipment"
        )
    if shipment.customs_regime != "general" and feasible(
        replace(shipment, customs_regime="general", deadline=None)
    ):
        return (
            f"no route to {to} passes a Chinese node that clears customs regime "
            f"{shipment.customs_regime} before leaving China"
        )
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
    >>> shipment_from_record({"origin": "Linshui", "destination": "Duisburg", "weight_kg": "800",
    ...     "volume_m3": "4.2", "pieces": "inf"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: pieces: got 'inf'; expected a whole number
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

    def integer(name: str) -> int:
        value = number(name)
        if not (math.isfinite(value) and value == int(value)):
            raise InvalidInputError(name, record.get(name), "a whole number")
        return int(value)

    def moment(name: str) -> datetime | None:
        if not text(name):
            return None
        try:
            value = datetime.fromisoformat(text(name))
        except ValueError as exc:
            raise InvalidInputError(name, text(name), "an ISO 8601 time with offset") from exc
        check_year(name, value, text(name))
        return value

    optional: dict[str, Any] = {}
    ready = moment("ready_at")
    if ready is not None:
        optional["ready_at"] = ready
    for name in ("pieces", "max_options"):
        if text(name):
            optional[name] = integer(name)
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
    """One table row per plan: the cheapest, fastest and greenest option, or the reason.

    The cheapest option's summary comes from ``plan.options``, the rest from ``plan.front``,
    so a plan made with ``max_options=1`` (only the cheapest detailed) gives the full row;
    ``options`` counts the Pareto-best options found.
    """
    cheapest = min(plan.options, key=lambda o: o.cost_cny) if plan.options else None
    fastest = min(plan.front, key=lambda p: (p[1], p[0], p[2])) if plan.front else None
    greenest = min(plan.front, key=lambda p: (p[2], p[0], p[1])) if plan.front else None
    return {
        "origin_node": plan.origin,
        "destination_node": plan.destination,
        "status": "planned" if cheapest else "no_option",
        "options": len(plan.front),
        "cheapest_cost_cny": round(cheapest.cost_cny, 2) if cheapest else None,
        "cheapest_arrival": cheapest.arrival.isoformat() if cheapest else None,
        "cheapest_summary": cheapest.summary if cheapest else None,
        "fastest_arrival": fastest[1].isoformat() if fastest else None,
        "fastest_cost_cny": round(fastest[0], 2) if fastest else None,
        "greenest_co2e_kg": round(greenest[2], 2) if greenest else None,
        "infeasible_reason": plan.infeasible_reason,
        "error": None,
    }


def plan_record(network: Network, record: dict[str, Any]) -> dict[str, Any]:
    """Plan one shipments-table row; an invalid row gives ``status`` invalid and ``error``."""
    try:
        shipment = shipment_from_record(record)
        row = plan_summary_row(plan_routes(network, shipment, max_options=1))
    except ValueError as exc:
        row = {"status": "invalid", "error": str(exc)}
    return {"id": record.get("id", ""), **row}


_WORKER_NETWORK: list[Network] = []


def _worker_init(network: Network) -> None:
    _WORKER_NETWORK[:] = [network]
    routing_data(network)


def _worker_chunk(
    function: Callable[[Network, _Item], _Result_T], items: list[_Item]
) -> list[_Result_T]:
    return [function(_WORKER_NETWORK[0], item) for item in items]


def map_on_network(
    network: Network,
    function: Callable[[Network, _Item], _Result_T],
    items: Sequence[_Item],
    *,
    workers: int | None = None,
    chunk_size: int = 50,
    on_done: Callable[[int], None] | None = None,
) -> list[_Result_T]:
    """``[function(network, item) for item in items]`` in ``workers`` processes (default: all).

    ``function`` must be a module-level function (it is pickled); ``on_done`` hears how many
    items each finished chunk held. Results keep the order of ``items``.

    Examples
    --------
    >>> from network_data import load_network
    >>> map_on_network(load_network(), lambda network, node: network.find_node(node),
    ...                ["Chengdu", "Duisburg"], workers=1)
    ['CNCTU', 'DEDUI']
    """
    chunks = [list(items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
    workers = (os.cpu_count() or 1) if workers is None else workers
    results: list[_Result_T] = []
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            results.extend(function(network, item) for item in chunk)
            if on_done:
                on_done(len(chunk))
        return results
    # fork shares the loaded network and compiled kernels and needs no __main__ guard in the
    # caller's script; spawn is the fallback where fork does not exist.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_init, initargs=(network,)
    ) as pool:
        for done in pool.map(_worker_chunk, [function] * len(chunks), chunks):
            results.extend(done)
            if on_done:
                on_done(len(done))
    return results


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
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("planning", total=len(records))
        rows = map_on_network(
            network, plan_record, records, workers=workers, chunk_size=chunk_size,
            on_done=lambda count: bar.advance(task, count),
        )  # fmt: skip
    return pd.DataFrame(rows)
