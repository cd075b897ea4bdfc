"""Journeys read back into legs, charges, summaries and shapes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from network_data import Network
from optimizer import charges as charges_
from optimizer import quotable
from optimizer._compile import (
    PerNetwork,
    RoutingData,
    Timetable,
    epoch_hours,
    from_epoch_hours,
    routing_data,
)
from optimizer.charges import Charge
from optimizer.costs import search
from optimizer.costs.line_haul import PRODUCTS
from optimizer.model import MODE_WORDS, MODES, FrontJourney, Leg, RoutePlan, Shipment
from optimizer.routing.costs import (
    ROAD_MODE,
    EdgeCosts,
    air_chargeable_kg,
    handling_rates,
    truckloads,
)
from optimizer.routing.places import display_name
from optimizer.routing.search import Journey, Search

#: Passages worth naming in a one-line summary, and how.
_SUMMARY_PASSAGES = {
    "suez": "Suez",
    "cape": "the Cape",
    "caspian": "the Caspian",
    "panama": "Panama",
    "three-gorges-locks": "the Three Gorges locks",
}


def journey_legs(
    data: RoutingData, found: Search, journey: Journey, shipment: Shipment
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
            paid_cny = row[search.LINE_HAUL]
            charges = [
                charges_.line_haul_charge(
                    paid_cny, product, leg.chargeable_kg, (0, 0, leg.trucks),
                    driving_on=paid_cny < leg.cost_cny - 0.005,
                )
            ]  # fmt: skip
            if transfer_cny > 0:
                charges.append(handled_at(data.node_index[leg.origin], leg.trucks))
            legs.append(
                Leg(leg.origin, leg.destination, "road", None, None, depart, arrive, arrive_p90,
                    leg.distance_km, leg.chargeable_kg, leg.product, tuple(charges), leg.co2e_kg)
            )  # fmt: skip
            continue
        service = _service_name(data, result.timetable, e, kind[search.POSITION])
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
                    row[search.LINE_HAUL], int(product), chargeable, box_counts,
                    driving_on=row[search.LINE_HAUL] < costs.line_haul_cny[e] - 0.005,
                ),
            )  # fmt: skip
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


def _service_name(data: RoutingData, timetable: Timetable, edge: int, position: int) -> str | None:
    """The service a leg ran on: its departure in the timetable the search ran on, through
    train, or corridor's name."""
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


def summary_line(data: RoutingData, legs: tuple[Leg, ...], ready_h: float) -> str:
    """One line a forwarder reads: legs grouped by mode with their borders and passages,
    then days, price and CO2e."""
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
            f"{display_name(data, group[0].origin)} → {display_name(data, group[-1].destination)} "
            f"by {mode_word}"
        )
        named = [
            _SUMMARY_PASSAGES[p] for leg in group for p in leg.passages if p in _SUMMARY_PASSAGES
        ]
        via_words = list(dict.fromkeys([display_name(data, b) for b in borders[:1]] + named))
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
    """What :func:`optimizer.quotable.shape_codes` needs of a network, built once per network:
    the products, node names, and per corridor its leg as the shape sees it."""

    by_chain: dict[tuple[str, ...], tuple[quotable.Product, ...]]
    node_names: dict[str, str]
    #: Every passage a corridor passes; a corridor's ``passage_bits`` index this.
    passages: tuple[str, ...]
    over_water: npt.NDArray[np.bool_]
    border: npt.NDArray[np.bool_]
    family_passage: npt.NDArray[np.int64]
    passage_bits: npt.NDArray[np.int64]


def _build_products(network: Network) -> _Products:
    data = routing_data(network)
    table = network.products
    by_chain = quotable.products_by_chain(
        table.index, table["name"], table["chain"], table["passages"]
    )
    names = dict(zip(network.nodes.index, network.nodes["name_en"], strict=True))
    passages = tuple(dict.fromkeys(p for names_ in data.edge_passages for p in names_))
    if len(passages) > 62:
        raise ValueError(f"{len(passages)} passages: a journey's shape codes at most 62")
    bit = {passage: 1 << k for k, passage in enumerate(passages)}
    modes = [MODES[m] for m in data.arrays.edge_mode.tolist()]
    return _Products(
        by_chain,
        names,
        passages,
        np.array([mode in ("sea", "air") for mode in modes], dtype=np.bool_),
        data.node_is_border[data.arrays.edge_destination],
        np.array([quotable.family_passage(p) for p in data.edge_passages], dtype=np.int64),
        np.array([sum(bit[p] for p in set(names_)) for names_ in data.edge_passages], np.int64),
    )


product_table = PerNetwork(_build_products)


@njit(cache=True)
def _journey_edges(ints: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64]
]:  # fmt: skip
    """The corridors of each journey ending at ``labels``, in order: journey ``j``'s are
    ``edges[ptr[j]:ptr[j + 1]]`` (road legs joining a coordinate have none)."""
    ptr = np.zeros(labels.shape[0] + 1, dtype=np.int64)
    for j in range(labels.shape[0]):
        count, index = 0, labels[j]
        while index >= 0:
            count += ints[index, search.EDGE] >= 0
            index = ints[index, search.PARENT]
        ptr[j + 1] = ptr[j] + count
    edges = np.empty(ptr[-1], dtype=np.int64)
    for j in range(labels.shape[0]):
        k, index = ptr[j + 1], labels[j]
        while index >= 0:
            if ints[index, search.EDGE] >= 0:
                k -= 1
                edges[k] = ints[index, search.EDGE]
            index = ints[index, search.PARENT]
    return ptr, edges


def _leg_end(node_ids: Sequence[str], ends: list[int], ptr: list[int], j: int, i: int) -> str:
    """The node where leg ``i`` of journey ``j`` ends (:func:`_journey_edges`' layout)."""
    return str(node_ids[ends[ptr[j] + i]])


def journey_shapes(
    data: RoutingData,
    found: Search,
    journeys: Sequence[Journey],
    origin_km: float,
    remaining_km: Sequence[float],
) -> list[quotable.Shape]:
    """The product, family and doubling back of each journey, read off its labels' corridors
    (:func:`optimizer.quotable.shape_codes`)."""
    products = product_table(data.network)
    arrays = data.arrays
    remaining = np.asarray(remaining_km, dtype=np.float64)
    shapes: list[quotable.Shape | None] = [None] * len(journeys)
    for r, result in enumerate(found.results):
        members = [i for i, j in enumerate(journeys) if j.result == r]
        if not members:
            continue
        labels = np.array([journeys[i].label for i in members], dtype=np.int64)
        ptr, edges = _journey_edges(result.ints, labels)
        ends = arrays.edge_destination[edges]
        start_lat = np.full(len(members), np.nan)
        start_lon = np.full(len(members), np.nan)
        if len(edges):
            some = ptr[:-1] < ptr[1:]
            starts = arrays.edge_origin[edges[ptr[:-1][some]]]
            start_lat[some], start_lon[some] = arrays.node_lat[starts], arrays.node_lon[starts]
        legs = quotable.LegArrays(
            ptr, arrays.edge_mode[edges], arrays.edge_distance_km[edges],
            products.border[edges], products.over_water[edges], products.family_passage[edges],
            products.passage_bits[edges], arrays.node_lat[ends], arrays.node_lon[ends],
            remaining[ends], np.full(len(members), origin_km), start_lat, start_lon,
        )  # fmt: skip
        codes = quotable.shape_codes(legs, ROAD_MODE)
        destination = partial(_leg_end, arrays.node_ids, ends.tolist(), ptr.tolist())
        for i, shape in zip(members, quotable.shapes_from_codes(
            codes, MODES, products.passages, products.by_chain, destination, products.node_names
        ), strict=True):  # fmt: skip
            shapes[i] = shape
    return [shape for shape in shapes if shape is not None]


def nothing_quotable(front: Sequence[FrontJourney]) -> str:
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


def plan_summary_row(plan: RoutePlan) -> dict[str, Any]:
    """One table row per plan: the cheapest, fastest and greenest option, or the reason.

    The cheapest option's summary comes from ``plan.options``, the rest from ``plan.front``,
    so a plan made with ``max_options=1`` (only the cheapest detailed) gives the full row;
    ``options`` counts the Pareto-best options found. ``status`` is ``planned`` or
    ``no_option`` for a plan whose searches ran to the end, ``stopped`` for one stopped at its
    time limit (the row holds what it found, which a journey it did not reach may beat); no
    journey costs less than ``cost_bound_cny`` (:attr:`RoutePlan.bound`).
    """
    cheapest = min(plan.options, key=lambda o: o.cost_cny) if plan.options else None
    fastest = min(plan.front, key=lambda p: (p[1], p[0], p[2])) if plan.front else None
    greenest = min(plan.front, key=lambda p: (p[2], p[0], p[1])) if plan.front else None
    bound = plan.bound
    status = "stopped" if plan.unexplored else ("planned" if cheapest else "no_option")
    return {
        "origin_node": plan.origin,
        "destination_node": plan.destination,
        "status": status,
        "options": len(plan.front),
        "cheapest_cost_cny": round(cheapest.cost_cny, 2) if cheapest else None,
        "cheapest_arrival": cheapest.arrival.isoformat() if cheapest else None,
        "cheapest_summary": cheapest.summary if cheapest else None,
        "fastest_arrival": fastest[1].isoformat() if fastest else None,
        "fastest_cost_cny": round(fastest[0], 2) if fastest else None,
        "greenest_co2e_kg": round(greenest[2], 2) if greenest else None,
        "cost_bound_cny": round(bound, 2) if bound is not None else None,
        "infeasible_reason": plan.infeasible_reason,
        "error": None,
    }
