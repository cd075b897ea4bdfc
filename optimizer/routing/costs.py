"""What one shipment pays on each corridor and at each node, loose or boxed."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from optimizer._compile import PerNetwork, RoutingData, routing_data
from optimizer.charges import Charge
from optimizer.costs.line_haul import (
    AIR_KG_PER_M3,
    U20,
    U40,
    UHQ,
    UNIT_COLUMNS,
    UTRUCK,
    chargeable_kg,
    line_haul_costs,
    unit_costs,
)
from optimizer.model import MODES, Leg, Shipment
from optimizer.routing.places import Place

FloatArray = npt.NDArray[np.float64]
ROAD_MODE = MODES.index("road")


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


def most_saved(
    data: RoutingData, loose: EdgeCosts, boxed: EdgeCosts, usable: npt.NDArray[np.bool_]
) -> float:
    """The most pricing boxed can save over loose along any path without repeated nodes.

    Such a path leaves each node once, so the saving is at most the sum over nodes of the
    largest saving on a corridor out of it (line haul alone, with a transfer, or driving on),
    plus the largest saving on the handling where a journey ends.
    """
    with np.errstate(invalid="ignore"):  # inf - inf where neither basis fits: masked below
        alone = loose.line_haul_cny - boxed.line_haul_cny
        moved = (loose.line_haul_cny + loose.transfer_cny) - (
            boxed.line_haul_cny + boxed.transfer_cny
        )
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
    return _unloads_where(data, np.isfinite(boxed.line_haul_cny))


def _unloads_where(data: RoutingData, boxed_priced: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    unloads = data.node_always_transfer.copy()
    off = (data.arrays.edge_mode != ROAD_MODE) & boxed_priced
    unloads[data.arrays.edge_destination[off]] = True
    return unloads


def never_cheaper(data: RoutingData, loose: EdgeCosts, boxed: EdgeCosts) -> bool:
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


def _one_box_cny(data: RoutingData) -> FloatArray:
    """Per corridor, the least any boxed load pays for its line haul: one box, or one truck
    at its minimum charge (inf where nothing boxed is priced)."""
    tariffs = data.basis_tariffs["boxed"]
    price = tariffs.unit_price[:, [U20, U40, UHQ, UTRUCK]].copy()
    price[:, 3] = np.maximum(price[:, 3], np.nan_to_num(tariffs.unit_min[:, UTRUCK]))
    floor: FloatArray = np.min(np.where(np.isnan(price), np.inf, price), axis=1)
    return floor


one_box_cny = PerNetwork(lambda network: _one_box_cny(routing_data(network)))


def never_cheaper_boxed(data: RoutingData, shipment: Shipment, loose: EdgeCosts) -> bool:
    """:func:`never_cheaper`, decided without pricing the boxed load where one box on every
    corridor already costs at least what loose pays (a small load): a boxed line haul pays for
    at least one box, its transfer at least that box's handling and the booking, and a truck
    driving on is among the loose choices too. False means: price it and ask
    :func:`never_cheaper`."""
    floor = one_box_cny(data.network)
    origin = data.arrays.edge_origin
    with_transfer = floor + data.node_per_container_cny[origin] + data.edge_booking_cny
    unloads = _unloads_where(data, np.isfinite(floor))
    return bool(
        np.all(floor >= loose.line_haul_cny)
        and np.all(
            with_transfer + data.edge_booking_cny >= loose.line_haul_cny + loose.transfer_cny
        )
        and np.all(
            node_handling(data, shipment, "boxed")[unloads] >= loose.node_handling_cny[unloads]
        )
    )


def customs_declarations(
    data: RoutingData, origin: Place, destination: Place
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


def with_declarations(
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
