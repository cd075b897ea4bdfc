"""World coverage review (issue 21): the plans a Chengdu forwarder would quote.

Each test pins one fix of the review of the world markets: Shanghai sailings and flights for the
Anhui cities (Wuhu, Anqing), so they are not trucked across China to Qinzhou, Chongqing or
Chengdu; Cairo by air; Mombasa's ocean rate; trains that run once or a few times a week wait for
their departure. Figures: ``network_data/SOURCES.md`` (keys ``E-SHA-SEA``, ``E-AIR-PVG``,
``E-HK-ROAD``, ``E-SEA-DERIV``, ``W-CA-SCHED``, ``E-USEC-FREQ``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from network_data import Network
from optimizer.model import RoutePlan
from optimizer.routing import Shipment, plan_routes

READY = datetime(2026, 12, 7, 8, tzinfo=UTC)  # a Monday
USD = 7.16  # CNY per USD, fx.csv (FX)
LOOSE = (800.0, 4.2)
BOXED = (20_000.0, 60.0)


def plan(network: Network, origin: str, market: str, load: tuple[float, float]) -> RoutePlan:
    return plan_routes(network, Shipment(origin, market, *load, ready_at=READY))


def longest_truck_km(result: RoutePlan) -> float:
    """The longest road leg of the cheapest option."""
    cheapest = min(result.options, key=lambda o: o.cost_cny)
    return max((leg.distance_km for leg in cheapest.legs if leg.mode == "road"), default=0.0)


@pytest.mark.parametrize("market", ["Yangon", "Phnom Penh", "Dhaka"])
@pytest.mark.parametrize("load", [LOOSE, BOXED], ids=["loose", "boxed"])
@pytest.mark.parametrize("city", ["Wuhu", "Anqing"])
def test_anhui_ships_to_south_east_asia_from_shanghai(
    network: Network, city: str, load: tuple[float, float], market: str
) -> None:
    # E-SHA-SEA: before the review Wuhu reached Yangon by truck through Chongqing to Qinzhou
    # (2,500 km) and Phnom Penh only by air or through two transshipments (38-40 days)
    result = plan(network, city, market, load)
    sea = [o for o in result.options if "sea" in o.modes]
    assert sea, [o.summary for o in result.options]
    cheapest = min(sea, key=lambda o: o.cost_cny)
    assert any((leg.corridor_id or "").startswith("SEA-CNSHA-YSN-") for leg in cheapest.legs)
    assert (cheapest.arrival - READY).days <= 25
    assert longest_truck_km(result) < 700


def test_shanghai_yangon_sailing_is_the_south_east_asia_lane(network: Network) -> None:
    # E-SCFI South-east Asia USD 422 per TEU; 40GP 422 / 0.55 = 767, LCL 767 / 40 = 19.18
    rows = network.tariffs_for("SEA-CNSHA-YSN-MMRGN").set_index("unit")
    assert rows.at["container:20GP", "rate"] == 422
    assert rows.at["container:40GP", "rate"] == 767
    assert rows.at["wm", "rate"] == 19.18
    # searoute 6,073 km through Malacca at 16 kn plus a day of calls: 228.9 h (SEA-TIME)
    row = network.corridors.loc["SEA-CNSHA-YSN-MMRGN"]
    assert row["distance_km"] == 6073
    assert row["duration_h"] == pytest.approx(6073 / (16 * 1.852) + 24, abs=0.05)


@pytest.mark.parametrize("city", ["Wuhu", "Anqing"])
def test_anhui_trucks_to_hong_kong(network: Network, city: str) -> None:
    # E-HK-ROAD: Wuhu-Yantian 1,322 km, then across the boundary (E-HK-TRUCK)
    result = plan(network, city, "Hong Kong", LOOSE)
    road = [o for o in result.options if o.modes == ("road",)]
    assert road, [o.summary for o in result.options]
    assert (road[0].arrival - READY).days < 3


def test_chongqing_trucks_to_hong_kong_without_going_through_chengdu(network: Network) -> None:
    result = plan(network, "Chongqing", "Hong Kong", BOXED)
    road = next(o for o in result.options if o.modes == ("road",))
    assert road.legs[0].corridor_id == "ROAD-CNCKG-CNYTN"
    assert network.corridors.at["ROAD-CNCKG-CNYTN", "distance_km"] == 1529


@pytest.mark.parametrize("market", ["Tokyo", "Seoul", "Manila", "Lagos"])
def test_anhui_flies_from_pudong(network: Network, market: str) -> None:
    # E-AIR-PVG: Pudong to Tokyo, Seoul, Guangzhou (for Manila) and Dubai; no Anhui air plan
    # flies from Chengdu or Chongqing after a 1,300 km truck
    result = plan_routes(
        network,
        Shipment("Wuhu", market, *LOOSE, ready_at=READY, allowed_modes=frozenset({"air", "road"})),
    )
    flown = [o for o in result.options if "air" in o.modes]
    fastest = min(flown, key=lambda o: o.arrival)
    first_flight = next(leg for leg in fastest.legs if leg.mode == "air")
    assert first_flight.origin == "CNSHA-PVG"
    assert (fastest.arrival - READY).days <= 4


def test_cairo_by_air_through_dubai(network: Network) -> None:
    # E-AIR-PVG, E-AIR-ONWARD: Dubai-Cairo at USD 2.00 per kg (+100 kg); 800 kg at the +500 kg
    # break 2.00 x 0.92 = 1.84: 800 x 1.84 x 7.16 = CNY 10,539.52
    result = plan(network, "Chengdu", "Cairo", LOOSE)
    air = [o for o in result.options if "air" in o.modes]
    assert air, [o.summary for o in result.options]
    onward = next(leg for leg in air[0].legs if leg.corridor_id == "AIR-AEDXB-DWC-EGCAI-CAI")
    assert onward.charge_cny("line_haul") == pytest.approx(800 * 1.84 * USD, abs=0.01)
    assert network.nodes.at["EGCAI-CAI", "timezone"] == "Africa/Cairo"


def test_mombasa_takes_the_southern_africa_rate(network: Network) -> None:
    # E-SEA-DERIV: SCFI Southern Africa (Durban) USD 2,859 per TEU, 40GP 5,198, 40HQ 5,458
    # (the review: the Lagos rate, 7,005 per FEU round the Cape, overstated an Indian Ocean lane)
    for lane in ("SEA-CNSHA-YSN-KEMBA", "SEA-CNYTN-KEMBA"):
        rows = network.tariffs_for(lane).set_index("unit")
        assert rows.at["container:40GP", "rate"] == 5198
        assert rows.at["container:40HQ", "rate"] == 5458
    result = plan(network, "Chengdu", "Nairobi", BOXED)
    sea = next(leg for o in result.options for leg in o.legs if leg.mode == "sea")
    assert sea.charge_cny("line_haul") == pytest.approx(5458 * USD)


def test_the_weekly_china_iran_train_is_waited_for(network: Network) -> None:
    # W-CA-SCHED: the Altynkol-Incheh Borun train leaves on Saturdays at 10:00 (Almaty time)
    result = plan(network, "Chengdu", "Tehran", BOXED)
    legs = [leg for o in result.options for leg in o.legs]
    leg = next(leg for leg in legs if leg.corridor_id == "RAIL-KZALT-IRINB")
    local = leg.depart.astimezone(ZoneInfo(network.nodes.at["KZALT", "timezone"]))
    assert (local.strftime("%a"), local.hour) == ("Sat", 10)


def test_new_york_sails_three_times_a_week(network: Network) -> None:
    # E-USEC-FREQ: Monday, Wednesday, Friday from Shanghai; Monday, Thursday, Saturday from
    # Yantian; Chengdu-New York by rail and sea well under the 52 days of a single weekly string
    for service, days in [
        ("S-SEA-CNSHA-YSN-USEWR-1", ["Mon", "Wed", "Fri"]),
        ("S-SEA-CNYTN-USEWR-1", ["Mon", "Thu", "Sat"]),
    ]:
        row = network.services[network.services["service_id"] == service].iloc[0]
        assert list(row["weekdays"]) == days
    result = plan(network, "Chengdu", "New York", BOXED)
    sea = [o for o in result.options if "sea" in o.modes]
    assert min((o.arrival - READY).days for o in sea) <= 48
