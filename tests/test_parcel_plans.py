"""Parcel channels in route plans: a shipment of small pieces is quoted on every channel, the
channels that take it compete with freight as options, the others say why not (issue 21)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from network_data import Network, load_network
from network_data.validate import haversine_km
from optimizer.errors import InvalidInputError
from optimizer.model import RoutePlan, Shipment
from optimizer.parcels import Parcel, ParcelChannels, quote_parcel
from optimizer.quotable import EXACT
from optimizer.routing import plan_routes
from optimizer.routing.problem import shipment_from_record

READY = datetime(2026, 12, 7, 1, tzinfo=UTC)  # 09:00 in Chengdu, Monday 7 December
#: 2 kg in a 30 x 20 x 15 cm box to Los Angeles 90001.
LA_PARCEL = Shipment(
    "Chengdu", "Los Angeles", 2.0, 0.009, ready_at=READY, piece_dimensions_cm=(30, 20, 15),
    destination_postcode="90001",
)  # fmt: skip


def channel(plan: RoutePlan, channel_id: str) -> object:
    return next(q for q in plan.parcel_channels if q.channel == channel_id)


def test_a_small_parcel_is_quoted_on_every_channel_as_the_engine_quotes_it(
    network: Network,
) -> None:
    plan = plan_routes(network, LA_PARCEL)
    engine = quote_parcel(
        ParcelChannels.bundled(),
        Parcel("US", 2.0, 30, 20, 15, postcode="90001", origin="Chengdu"),
        ship_on=date(2026, 12, 7),
    )
    assert plan.parcel_channels == tuple(engine)
    offered = {q.channel for q in plan.parcel_channels if q.offered}
    assert offered == {"EXP-DHL", "POST-EPACKET", "POST-REG", "LINE-US"}
    assert (
        channel(plan, "RAIL-EU").reason == "China-Europe rail parcel line (DDP) does not serve US"
    )


def test_a_channel_option_is_one_door_to_door_leg_with_the_quote_s_price_and_days(
    network: Network,
) -> None:
    plan = plan_routes(network, LA_PARCEL)
    line = next(o for o in plan.options if o.product == "LINE-US")
    quote = channel(plan, "LINE-US")
    (leg,) = line.legs
    assert line.cost_cny == pytest.approx(quote.cost_cny)
    assert [c.amount_cny for c in leg.charges] == [line.amount_cny for line in quote.charges]
    # arrival in the middle of the channel's days, p90 at their end
    middle = (quote.transit_days_min + quote.transit_days_max) / 2
    assert leg.depart == READY and leg.arrive == READY + timedelta(days=middle)
    assert leg.arrive_p90 == READY + timedelta(days=quote.transit_days_max)
    # 2 kg x great circle Chengdu-Los Angeles x belly air 800 g/t-km (emission_factors.csv)
    chengdu, los_angeles = network.nodes.loc["CNCTU"], network.find_city("Los Angeles")
    km = haversine_km(chengdu.lat, chengdu.lon, los_angeles.lat, los_angeles.lon)
    assert leg.mode == "air" and leg.distance_km == pytest.approx(km)
    assert leg.co2e_kg == pytest.approx(2 / 1000 * km * 800 / 1000)
    assert line.family == "Parcels: US e-commerce line (air + USPS/UPS last mile)"


def test_channels_are_chosen_among_as_freight_is(network: Network) -> None:
    plan = plan_routes(network, LA_PARCEL)
    epacket, line = channel(plan, "POST-EPACKET"), channel(plan, "LINE-US")
    registered = channel(plan, "POST-REG")
    hidden = {j.product: j.hidden for j in plan.front}
    # registered small packet: dearer than ePacket, slower, the same belly CO2e
    assert registered.cost_cny > epacket.cost_cny
    assert registered.transit_days_max > epacket.transit_days_max
    assert hidden["POST-REG"] == "dominated"
    # the US line costs under 5 % more than ePacket and arrives 3 days sooner: the same offer,
    # the better shown (similar_within's defaults), as between two freight journeys
    assert line.cost_cny <= epacket.cost_cny * 1.05
    assert line.transit_days_max < epacket.transit_days_max
    assert hidden["POST-EPACKET"] == "barely different" and hidden["LINE-US"] is None
    assert plan.status.value == "feasible" and plan.bound == pytest.approx(epacket.cost_cny)
    exact = plan_routes(network, replace(LA_PARCEL, similar_within=EXACT))
    assert [o.product for o in exact.options][:2] == ["POST-EPACKET", "LINE-US"]


def test_freight_is_not_quoted_as_parcels(network: Network) -> None:
    plan = plan_routes(network, Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=READY))
    assert plan.parcel_channels == () and plan.options
    assert plan.to_dict()["parcel_channels"] == []


def test_lithium_batteries_alone_are_refused_with_the_reason_and_freight_still_planned(
    network: Network,
) -> None:
    plan = plan_routes(network, replace(LA_PARCEL, contents=frozenset({"lithium_alone"})))
    assert channel(plan, "POST-EPACKET").reason == (
        "lithium batteries alone: refused by China Post ePacket (e邮宝)"
    )
    assert not any(q.offered for q in plan.parcel_channels)
    assert plan.options and all(o.product in ("AIR", "SEA", "RAIL-SEA") for o in plan.options)


def test_cargo_class_battery_counts_as_batteries_alone(network: Network) -> None:
    plan = plan_routes(network, replace(LA_PARCEL, cargo_class="battery"))
    assert "lithium batteries alone" in channel(plan, "EXP-DHL").reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"cargo_class": "perishable"},
            "perishables: parcel channels carry no temperature control",
        ),
        (
            {"customs_regime": "9710"},
            "parcels clear one by one under 9610 (retail export), not customs regime 9710",
        ),
        (
            {"origin": "Shanghai"},
            "parcel channels are priced for pickup in the pilot-zone cities; Shanghai is "
            "288 km from the nearest, Wuhu",
        ),
    ],
)
def test_what_no_channel_takes_is_refused_by_every_channel(
    network: Network, change: dict[str, str], reason: str
) -> None:
    plan = plan_routes(network, replace(LA_PARCEL, **change))
    assert {q.reason for q in plan.parcel_channels} == {reason}


def test_modes_passages_and_deadline_rule_channels_out(network: Network) -> None:
    to_duisburg = replace(LA_PARCEL, destination="Duisburg", destination_postcode="47119")
    plan = plan_routes(network, to_duisburg)
    assert channel(plan, "RAIL-EU").offered and channel(plan, "LINE-EU").offered
    no_air = plan_routes(network, replace(to_duisburg, forbidden_modes=frozenset({"air"})))
    assert channel(no_air, "LINE-EU").reason == (
        "EU e-commerce line (air + postal last mile, IOSS) goes by air, which is not among the "
        "modes allowed"
    )
    assert channel(no_air, "RAIL-EU").offered
    assert [o.product for o in no_air.options if o.product == "RAIL-EU"] == ["RAIL-EU"]
    avoided = plan_routes(network, replace(to_duisburg, avoid=frozenset({"russia-transit"})))
    assert channel(avoided, "RAIL-EU").reason == (
        "China-Europe rail parcel line (DDP) crosses russia-transit, which was avoided"
    )
    rail = channel(plan, "RAIL-EU")
    soon = READY + timedelta(days=10)
    hurried = plan_routes(network, replace(to_duisburg, deadline=soon))
    assert channel(hurried, "RAIL-EU").reason == (
        f"China-Europe rail parcel line (DDP) delivers in {rail.transit_days_min:g}-"
        f"{rail.transit_days_max:g} days, after the deadline 2026-12-17T01:00+00:00"
    )


def test_parcels_go_where_no_freight_route_does(network: Network) -> None:
    """Only parcel channels left: they are the plan, with no reason for none."""
    plan = plan_routes(
        network, replace(LA_PARCEL, allowed_modes=frozenset({"air"}), avoid=frozenset({"CNCTU"}))
    )
    assert plan.options and plan.infeasible_reason is None
    assert {o.product for o in plan.options} <= {"EXP-DHL", "POST-EPACKET", "POST-REG", "LINE-US"}


def test_parcel_fields_are_checked_by_name() -> None:
    with pytest.raises(InvalidInputError, match=r"piece_dimensions_cm: got \(30, 0, 15\)"):
        replace(LA_PARCEL, piece_dimensions_cm=(30, 0, 15))
    with pytest.raises(InvalidInputError, match="contents: got 'gas'; expected some of lithium"):
        replace(LA_PARCEL, contents=frozenset({"gas"}))
    record = {
        "origin": "Chengdu", "destination": "Los Angeles", "weight_kg": "2",
        "volume_m3": "0.009", "piece_dimensions_cm": "30x20", "contents": "liquids",
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="piece_dimensions_cm: got '30x20'"):
        shipment_from_record(record)
    record["piece_dimensions_cm"] = "30x20x15"
    assert shipment_from_record(record).contents == frozenset({"liquids"})


def test_the_channels_are_the_dataset_s_and_in_its_version(data_copy: Path) -> None:
    """A plan quotes the parcel channels of the directory its network came from; their files
    are part of the dataset version, and a directory without them quotes none."""
    bundled = load_network(data_copy)
    rates = data_copy / "parcel_rates.csv"
    rates.write_text(rates.read_text(encoding="utf-8").replace(",19,", ",29,"), encoding="utf-8")
    dearer = load_network(data_copy)
    assert dearer.version != bundled.version
    before = channel(plan_routes(bundled, LA_PARCEL), "POST-EPACKET").cost_cny
    after = channel(plan_routes(dearer, LA_PARCEL), "POST-EPACKET").cost_cny
    assert after == before + 10  # ePacket's item fee to the US, CNY 19 -> 29
    for name in ("parcel_channels.csv", "parcel_zones.csv", "parcel_rates.csv"):
        (data_copy / name).unlink()
    bare = load_network(data_copy)
    assert bare.parcels is None and plan_routes(bare, LA_PARCEL).parcel_channels == ()
