"""Where a plan starts and ends: nodes, coordinates joined by road, road legs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from network_data import Network
from network_data.errors import UnknownPlaceError
from network_data.geo import parse_lat_lon
from network_data.road import road_transit_h, road_transit_p90_h, rules_for_country
from network_data.validate import EARTH_RADIUS_KM, haversine_km, road_default_scopes
from optimizer._compile import MAX_BREAKS, PerNetwork, RoutingData
from optimizer.costs.line_haul import PRODUCTS, UNIT_COLUMNS, line_haul_costs, unit_costs
from optimizer.errors import InvalidInputError
from optimizer.model import Shipment

FloatArray = npt.NDArray[np.float64]

#: A coordinate origin or destination is joined by road to this many nearest road nodes.
COORDINATE_LINKS = 3
#: ... each at most this far (by great circle) in the same country.
MAX_LINK_KM = 800.0
#: Coordinates closer than this to a node are that node.
SNAP_KM = 1.0
ROAD_CIRCUITY = 1.25


@dataclass(frozen=True)
class Place:
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


@dataclass(frozen=True)
class SyntheticLeg:
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
    #: What the leg costs as the last leg of a truck already driving (arrived by road, not
    #: unloaded): the per-km part alone, no fixed charge or minimum, as on road corridors.
    continuation_cny: float = math.nan


def find_place(network: Network, field: str, query: str) -> str:
    """The node ``query`` names (see :meth:`network_data.Network.find_node`).

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


def local_day(
    network: Network, field: str, place: str, day: date, *, end: bool = False
) -> datetime:
    """A date as a moment where it happens: the start (``end``: the last second) of ``day``
    in the time zone of the place ``place`` names (a ready date at the origin, a deadline at
    the destination).

    Raises
    ------
    optimizer.errors.InvalidInputError
        Naming ``field`` when ``place`` names no known place (:func:`find_place`).

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> local_day(network, "origin", "Chengdu", date(2026, 12, 10)).isoformat()
    '2026-12-10T00:00:00+08:00'
    >>> local_day(network, "destination", "Duisburg", date(2027, 1, 20), end=True).isoformat()
    '2027-01-20T23:59:59+01:00'
    """
    zone = ZoneInfo(str(network.nodes.at[find_place(network, field, place), "timezone"]))
    return datetime.combine(day, time(23, 59, 59) if end else time(0), tzinfo=zone)


def resolve_place(data: RoutingData, field: str, query: str) -> Place:
    """The place a query names: a node (by id, code, name or alias); a city of several
    terminals, from or to any of which a plan may go, each joined by road to the city's
    centre (:meth:`network_data.Network.find_city`); or a ``lat,lon`` snapped to a node
    within :data:`SNAP_KM` or joined by road to the nearest road nodes of its country.

    Examples
    --------
    >>> from network_data import load_network
    >>> from optimizer._compile import routing_data
    >>> shanghai = resolve_place(routing_data(load_network()), "origin", "上海")
    >>> shanghai.label, shanghai.is_node, len(shanghai.links)
    ('Shanghai', False, 3)
    """
    i = data.node_index.get(query)
    city = None if i is not None else data.network.find_city(query)
    if city is not None:
        terminals = sorted(
            (data.node_index[m] for m in city.members),
            key=lambda m: haversine_km(
                city.lat, city.lon, float(data.arrays.node_lat[m]), float(data.arrays.node_lon[m])
            ),
        )
        return Place(query, False, city.lat, city.lon, city.name, city.country, tuple(terminals))
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
                return Place(query, True, lat, lon, data.arrays.node_ids[i], data.node_country[i])
            links = _road_links(data, field, query, point[0], point[1])
            label = f"{point[0]:.4f},{point[1]:.4f}"
            country = data.node_country[links[0]]
            return Place(query, False, point[0], point[1], label, country, links)
        i = data.node_index[find_place(data.network, field, query)]
    lat, lon = float(data.arrays.node_lat[i]), float(data.arrays.node_lon[i])
    return Place(query, True, lat, lon, data.arrays.node_ids[i], data.node_country[i])


@dataclass(frozen=True)
class _RoadRate:
    """A row of a country's road default tariffs and its currency's CNY rate."""

    unit: str
    unit_column: int
    rate: float
    rate_per_km: float
    min_charge: float
    cny_per_unit: float


#: Road default tariffs by country, filled on first use (a road leg is priced on every plan
#: from or to a city or coordinate; reading the tariff table each time cost 8 ms a leg).
_ROAD_RATES: PerNetwork[dict[str, tuple[_RoadRate, ...]]] = PerNetwork(lambda network: {})


def _road_rates(network: Network, country: str) -> tuple[_RoadRate, ...]:
    """The road default tariffs that price a road leg in ``country``."""
    known = _ROAD_RATES(network)
    if country not in known:
        known[country] = tuple(
            _RoadRate(
                row.unit, UNIT_COLUMNS.index(row.unit), row.rate, row.rate_per_km,
                row.min_charge, network.cny_per_unit[row.currency],
            )
            for row in network.tariff_records_in(road_default_scopes(country))
        )  # fmt: skip
    return known[country]


def road_leg(
    data: RoutingData,
    shipment: Shipment,
    start: tuple[str, float, float],
    end: tuple[str, float, float],
    country: str,
    basis: str,
) -> SyntheticLeg:
    """A road leg between a coordinate and a node, priced with the road default tariff, booked
    afresh and driven on by a truck already on the road (``continuation_cny``).

    Examples
    --------
    >>> from network_data import load_network
    >>> from optimizer._compile import routing_data
    >>> data = routing_data(load_network())
    >>> shipment = Shipment("Anqing", "Hamburg", 800, 4.0)
    >>> port = node_point(data, data.node_index["DEHAM"])
    >>> leg = road_leg(data, shipment, port, ("Hamburg", 53.55, 9.99), "DE", "loose")
    >>> leg.cost_cny > 10 * leg.continuation_cny  # a fresh booking pays the minimum charge
    True
    """
    distance_km = haversine_km(start[1], start[2], end[1], end[2]) * ROAD_CIRCUITY
    rules = rules_for_country(country)
    unit_price = np.full((1, len(UNIT_COLUMNS)), np.nan)
    unit_min = np.zeros((1, len(UNIT_COLUMNS)))
    driving_on = np.full((1, len(UNIT_COLUMNS)), np.nan)
    for rate in _road_rates(data.network, country):
        u = rate.unit_column
        if math.isnan(unit_price[0, u]) and (basis == "loose" or rate.unit == "truck"):
            unit_price[0, u] = (rate.rate + rate.rate_per_km * distance_km) * rate.cny_per_unit
            unit_min[0, u] = rate.min_charge * rate.cny_per_unit
            driving_on[0, u] = rate.rate_per_km * distance_km * rate.cny_per_unit
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
    continuation = unit_costs(
        float(shipment.weight_kg), float(shipment.volume_m3), driving_on, np.zeros_like(driving_on),
        tariffs.box_volume_m3, tariffs.box_payload_kg,
    )  # fmt: skip
    co2e = shipment.weight_kg / 1000.0 * distance_km * 90.0 / 1000.0
    return SyntheticLeg(
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
        continuation_cny=min(float(continuation[0]), float(prices.cost_cny[0])),
    )


def node_point(data: RoutingData, i: int) -> tuple[str, float, float]:
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


def display_name(data: RoutingData, node_id: str) -> str:
    """A node's name, or the id itself for a coordinate."""
    index = data.node_index.get(node_id)
    return node_id if index is None else data.node_name[index]


def distances_to(data: RoutingData, place: Place) -> list[float]:
    """Great-circle km from every node to ``place`` (kept for up to :data:`KEPT_DESTINATIONS`
    destination nodes of a network)."""
    kept = _distances_to_nodes(data.network)
    found = kept.get(place.label) if place.is_node else None
    if found is not None:  # one lookup: another thread may clear them between two
        return found
    lat, lon = np.radians(data.arrays.node_lat), np.radians(data.arrays.node_lon)
    lat0, lon0 = math.radians(place.lat), math.radians(place.lon)
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * math.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    distances: list[float] = (2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))).tolist()
    if place.is_node:
        if len(kept) >= KEPT_DESTINATIONS:
            kept.clear()
        kept[place.label] = distances
    return distances


#: Destination nodes whose distances from every node are kept (a 10,000-node network: 80 MB).
KEPT_DESTINATIONS = 256
_distances_to_nodes: PerNetwork[dict[str, list[float]]] = PerNetwork(lambda network: {})
