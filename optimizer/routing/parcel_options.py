"""Parcel channels as options of a route plan.

A shipment of small pieces can go as parcels instead of freight: by international express,
by post, on a dedicated e-commerce line or as rail parcels (:mod:`optimizer.parcels`). A plan
quotes every channel for it, picked up in the pilot-zone city nearest the origin, and offers
those that take it as options beside the freight journeys; those that refuse it say why. The
freight search knows nothing of them: a channel is one door-to-door product with a price per
piece and a range of transit days, not a chain of timetabled legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from network_data import Network
from network_data.validate import haversine_km
from optimizer._compile import PerNetwork, RoutingData, routing_data
from optimizer.charges import Charge
from optimizer.model import Leg, RouteOption, Shipment
from optimizer.parcels import PILOT_ZONE_CITIES, ChannelQuote, Parcel, ParcelChannels, quote_parcel
from optimizer.parcels.model import MAX_PIECE_KG, MAX_SIDE_CM
from optimizer.routing.places import Place, display_name, resolve_place

#: How a channel's parcels travel, by its kind: integrators, posts and e-commerce lines fly;
#: rail parcels ride the China-Europe trains.
CHANNEL_MODE = {"express": "air", "postal": "air", "ecommerce_line": "air", "rail_parcel": "rail"}
#: The vehicle whose emission factor a channel's parcels are charged (``emission_factors.csv``):
#: integrators fly their own freighters, posts and lines buy belly space, rail parcels ride
#: Chinese, 1,520 mm and European track (the 1,520 mm mixed traction factor in between).
CHANNEL_VEHICLE = {
    "express": "air_freighter",
    "postal": "air_belly",
    "ecommerce_line": "air_belly",
    "rail_parcel": "rail_1520_mixed",
}
#: Rail distance over great circle for a China-Europe train (`PCL-PLAN-CO2` in SOURCES.md).
RAIL_CIRCUITY = 1.4
#: Passages a channel's parcels cross, by kind: the rail parcel lines run through Kazakhstan,
#: Russia and Belarus to Poland (`PCL-PLAN-ROUTE`).
CHANNEL_PASSAGES = {"rail_parcel": ("russia-transit", "belarus-transit")}
#: The channels pick up in the pilot-zone cities; an origin farther than this from all of them
#: is outside what their prices cover (`PCL-PLAN-PICKUP`).
PICKUP_RADIUS_KM = 150.0
#: The cargo class that asks for parcel channels whatever the pieces weigh.
EXPRESS = "express"


def parcel_quotes(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    destination: Place,
    channels: ParcelChannels | None,
) -> tuple[ChannelQuote, ...]:
    """Every channel's quote for ``shipment`` as parcels, or () when parcels are not in play
    (or there are no ``channels``).

    Parcels are in play for an export from China whose pieces are within some channel's
    weight limit, and always for cargo class ``express``. A channel is refused, with the rule
    in words, for what the parcel engine refuses (destination, weight, size, contents, rate
    validity) and for what the shipment asks beyond it: a customs regime other than 9610, a
    perishable, a mode or a passage not allowed, a deadline before the channel delivers.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer._compile import routing_data
    >>> data = routing_data(load_network())
    >>> shipment = Shipment("Chengdu", "Los Angeles", 2.0, 0.009, destination_postcode="90001",
    ...                     ready_at=datetime(2026, 12, 7, 1, tzinfo=timezone.utc))
    >>> quotes = parcel_quotes(data, shipment, resolve_place(data, "origin", "Chengdu"),
    ...                        resolve_place(data, "destination", "Los Angeles"),
    ...                        ParcelChannels.bundled())
    >>> [q.channel for q in quotes if q.offered]
    ['EXP-DHL', 'POST-EPACKET', 'POST-REG', 'LINE-US']
    """
    if channels is None or origin.country != "CN" or destination.country == "CN":
        return ()
    piece_kg = shipment.weight_kg / shipment.pieces
    heaviest_kg = max(float(channels.rows[c].max_kg_per_piece) for c in channels.ids)
    if piece_kg > heaviest_kg and shipment.cargo_class != EXPRESS:
        return ()
    city, city_km = _pickup_city(data, origin)
    side_cm = _sides_cm(shipment)
    reason = _refusal(data, shipment, origin, city, city_km, piece_kg, side_cm)
    if reason:
        return tuple(_refused(channels, c, reason) for c in channels.ids)
    parcel = Parcel(
        destination.country, piece_kg, *side_cm, pieces=shipment.pieces,
        postcode=shipment.destination_postcode, contents=_contents(shipment), origin=city,
    )  # fmt: skip
    ship_on = shipment.ready_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    quotes = quote_parcel(channels, parcel, ship_on=ship_on)
    return tuple(_after_shipment_rules(shipment, quote) for quote in quotes)


def channel_option(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    destination: Place,
    quote: ChannelQuote,
) -> RouteOption:
    """An offered channel as a plan's option: one door-to-door leg, arriving at the middle of
    the channel's transit days, its ``arrive_p90`` at the end of them (`PCL-PLAN-DAYS`).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer._compile import routing_data
    >>> data = routing_data(load_network())
    >>> shipment = Shipment("Chengdu", "Los Angeles", 2.0, 0.009,
    ...                     ready_at=datetime(2026, 12, 7, 1, tzinfo=timezone.utc))
    >>> places = [resolve_place(data, f, q) for f, q in (("origin", "Chengdu"),
    ...                                                  ("destination", "Los Angeles"))]
    >>> quotes = parcel_quotes(data, shipment, *places, ParcelChannels.bundled())
    >>> option = channel_option(data, shipment, *places, quotes[1])
    >>> option.summary
    'Chengdu → Los Angeles by China Post ePacket (e邮宝), 9-14 days, DDU; CNY 179; 18 kg CO2e'
    """
    mode = CHANNEL_MODE[quote.kind]
    great_circle_km = haversine_km(origin.lat, origin.lon, destination.lat, destination.lon)
    distance_km = great_circle_km * (RAIL_CIRCUITY if mode == "rail" else 1.0)
    co2e_kg = shipment.weight_kg / 1000 * distance_km * _factor(data, quote.kind) / 1000
    ready = shipment.ready_at
    middle_days = (quote.transit_days_min + quote.transit_days_max) / 2
    leg = Leg(
        origin.label, destination.label, mode, None, quote.name, ready,
        ready + timedelta(days=middle_days), ready + timedelta(days=quote.transit_days_max),
        distance_km, quote.chargeable_kg * shipment.pieces, "parcel",
        tuple(Charge(line.kind, line.amount_cny, line.basis) for line in quote.charges),
        co2e_kg,
    )  # fmt: skip
    summary = (
        f"{display_name(data, origin.label)} → {display_name(data, destination.label)} by "
        f"{quote.name}, {quote.transit_days_min:g}-{quote.transit_days_max:g} days, "
        f"{quote.duties}; CNY {quote.cost_cny:,.0f}; {co2e_kg:,.0f} kg CO2e"
    )
    return RouteOption((leg,), summary, quote.channel, f"Parcels: {quote.name}")


def _factor(data: RoutingData, kind: str) -> float:
    factors = data.network.emission_factors["co2e_g_per_tkm"]
    return float(factors[CHANNEL_VEHICLE[kind]])


def _pilot_cities(network: Network) -> tuple[tuple[str, Place], ...]:
    data = routing_data(network)
    return tuple((city, resolve_place(data, "origin", city)) for city in PILOT_ZONE_CITIES)


_PILOT_CITY_PLACES = PerNetwork(_pilot_cities)


def _pickup_city(data: RoutingData, origin: Place) -> tuple[str, float]:
    """The pilot-zone city nearest the origin, and how far it is, km."""
    return min(
        (
            (city, haversine_km(origin.lat, origin.lon, place.lat, place.lon))
            for city, place in _PILOT_CITY_PLACES(data.network)
        ),
        key=lambda pair: pair[1],
    )


def _sides_cm(shipment: Shipment) -> tuple[float, float, float]:
    """The declared sides of a piece, or those of a cube of its volume."""
    if shipment.piece_dimensions_cm is not None:
        return shipment.piece_dimensions_cm
    side_cm = (shipment.volume_m3 / shipment.pieces * 1e6) ** (1 / 3)
    return side_cm, side_cm, side_cm


def _contents(shipment: Shipment) -> frozenset[str]:
    # cargo class battery does not say whether the cells are packed in equipment: the stricter
    if shipment.cargo_class == "battery" and "lithium_in_equipment" not in shipment.contents:
        return shipment.contents | {"lithium_alone"}
    return shipment.contents


def _refusal(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    city: str,
    city_km: float,
    piece_kg: float,
    sides_cm: Sequence[float],
) -> str:
    """Why no channel can take the shipment, before any channel's own rules ('' if none)."""
    if city_km > PICKUP_RADIUS_KM:
        return (
            f"parcel channels are priced for pickup in the pilot-zone cities; "
            f"{display_name(data, origin.label)} is {city_km:,.0f} km from the nearest, {city}"
        )
    if shipment.customs_regime not in ("9610", "general"):
        return (
            f"parcels clear one by one under 9610 (retail export), not customs regime "
            f"{shipment.customs_regime}"
        )
    if shipment.cargo_class == "perishable":
        return "perishables: parcel channels carry no temperature control"
    if piece_kg > MAX_PIECE_KG:
        return (
            f"a piece of {piece_kg:,.0f} kg is freight, not a parcel (at most "
            f"{MAX_PIECE_KG:,.0f} kg)"
        )
    if max(sides_cm) > MAX_SIDE_CM:
        return (
            f"a piece of {max(sides_cm):,.0f} cm is freight, not a parcel (at most "
            f"{MAX_SIDE_CM:,.0f} cm a side)"
        )
    return ""


def _refused(channels: ParcelChannels, channel: str, reason: str) -> ChannelQuote:
    row = channels.rows[channel]
    return ChannelQuote(channel, row.name, row.kind, offered=False, reason=reason)


def _after_shipment_rules(shipment: Shipment, quote: ChannelQuote) -> ChannelQuote:
    """The quote, refused when the shipment's modes, avoided passages or deadline rule the
    channel out."""
    if not quote.offered:
        return quote
    mode = CHANNEL_MODE[quote.kind]
    reason = ""
    crossed = sorted(set(CHANNEL_PASSAGES.get(quote.kind, ())) & shipment.avoid)
    if mode not in shipment.modes_used():
        reason = f"{quote.name} goes by {mode}, which is not among the modes allowed"
    elif crossed:
        reason = f"{quote.name} crosses {', '.join(crossed)}, which was avoided"
    elif shipment.deadline is not None:
        middle_days = (quote.transit_days_min + quote.transit_days_max) / 2
        arrival = shipment.ready_at + timedelta(days=middle_days)
        if arrival > shipment.deadline:
            reason = (
                f"{quote.name} delivers in {quote.transit_days_min:g}-"
                f"{quote.transit_days_max:g} days, after the deadline "
                f"{_iso(shipment.deadline)}"
            )
    if not reason:
        return quote
    return ChannelQuote(quote.channel, quote.name, quote.kind, offered=False, reason=reason)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")
