"""World coverage, east and south (issue 21 item 1): the Americas, Africa, South Asia, South-east
and East Asia and Oceania are markets a plan from every pilot-zone city reaches.

Rates are the rows of ``network_data/data/tariffs.csv`` (keys ``E-*`` in SOURCES.md); FX USD
7.16 CNY (``FX``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from network_data import Network
from optimizer.routing import Shipment, plan_routes

READY = datetime(2026, 12, 7, 8, tzinfo=UTC)
USD = 7.16

PILOT_ZONE_CITIES = ["Chengdu", "Chongqing", "Mianyang", "Dazhou", "Guang'an", "Nanchong", "Wuhu",
                     "Anqing"]  # fmt: skip

#: The markets as a user types them, and where a plan to each ends: the market node, or the
#: city's name for a city of several terminals (cities.csv), whose last leg ends at its centre.
EAST_MARKETS = {
    "New York": "MKT-US-E", "Chicago": "MKT-US-MW", "Los Angeles": "Los Angeles",
    "Vancouver": "MKT-CA-W", "Toronto": "MKT-CA-E", "Mexico City": "MKT-MX",
    "São Paulo": "MKT-BR", "Santiago": "MKT-CL", "Lagos": "MKT-NG", "Nairobi": "MKT-KE",
    "Johannesburg": "MKT-ZA", "Casablanca": "MKT-MA", "Mumbai": "MKT-IN-W", "Delhi": "MKT-IN-N",
    "Karachi": "MKT-PK", "Dhaka": "MKT-BD", "Manila": "MKT-PH", "Yangon": "MKT-MM",
    "Phnom Penh": "MKT-KH", "Ho Chi Minh City": "Ho Chi Minh City", "Tokyo": "MKT-JP",
    "Seoul": "MKT-KR", "Hong Kong": "MKT-HK", "Sydney": "MKT-AU-E", "Melbourne": "MKT-AU-S",
    "Auckland": "MKT-NZ",
}  # fmt: skip

#: An e-commerce consolidation (800 kg, 4.2 m3) and a full container load (20 t, 60 m3).
LOADS = {"lcl": (800.0, 4.2), "fcl": (20_000.0, 60.0)}


@pytest.mark.parametrize("load", sorted(LOADS))
@pytest.mark.parametrize("market", sorted(EAST_MARKETS))
@pytest.mark.parametrize("origin", PILOT_ZONE_CITIES)
def test_a_plan_reaches_every_market(network: Network, origin: str, market: str, load: str) -> None:
    weight_kg, volume_m3 = LOADS[load]
    plan = plan_routes(network, Shipment(origin, market, weight_kg, volume_m3, ready_at=READY))
    assert plan.options, plan.infeasible_reason
    reaching = [o for o in plan.options if o.legs[-1].destination == EAST_MARKETS[market]]
    assert reaching, [o.summary for o in plan.options]
    for option in reaching:
        assert option.cost_cny > 0
        for leg in option.legs:
            assert leg.arrive >= leg.depart, (option.summary, leg)
            assert leg.cost_cny >= 0
        for before, after in zip(option.legs, option.legs[1:], strict=False):
            assert after.depart >= before.arrive, option.summary


@pytest.mark.parametrize(
    ("query", "node"),
    [
        ("纽约", "MKT-US-E"), ("NYC", "MKT-US-E"), ("芝加哥", "MKT-US-MW"),
        ("Sao Paulo", "MKT-BR"), ("圣保罗", "MKT-BR"), ("约翰内斯堡", "MKT-ZA"),
        ("Bombay", "MKT-IN-W"), ("孟买", "MKT-IN-W"),
        ("Rangoon", "MKT-MM"), ("金边", "MKT-KH"), ("东京", "MKT-JP"), ("首尔", "MKT-KR"),
        ("香港", "MKT-HK"), ("悉尼", "MKT-AU-E"), ("奥克兰", "MKT-NZ"), ("JFK", "USNYC-JFK"),
        ("INNSA", "INNSA"), ("Nhava Sheva", "INNSA"), ("Port Newark", "USEWR"),
        ("KTI", "KHPNH-KTI"),
        # common aliases a seller types (issue 21 review): the old and colloquial names too
        ("Burma", "MKT-MM"), ("汉城", "MKT-KR"), ("New York City", "MKT-US-E"),
        ("United States", "MKT-US-W"), ("Hong Kong SAR", "MKT-HK"), ("Dacca", "MKT-BD"),
    ],
)  # fmt: skip
def test_markets_and_terminals_resolve_by_name(network: Network, query: str, node: str) -> None:
    assert network.find_node(query) == node


@pytest.mark.parametrize(
    ("point", "country"),
    [("40.75,-73.6", "US"), ("-23.6,-46.5", "BR"), ("6.6,3.5", "NG"), ("35.8,139.8", "JP"),
     ("-33.9,151.0", "AU"), ("28.7,77.3", "IN")],
)  # fmt: skip
def test_a_point_in_the_country_is_served(network: Network, point: str, country: str) -> None:
    plan = plan_routes(network, Shipment("Chengdu", point, 800, 4.2, ready_at=READY))
    assert plan.options, plan.infeasible_reason
    last = plan.options[0].legs[-2]
    assert network.nodes.at[last.destination, "country"] == country


def rate(network: Network, scope: str, unit: str, break_from: float = 0) -> float:
    rows = network.tariffs[
        (network.tariffs["scope"] == scope)
        & (network.tariffs["unit"] == unit)
        & (network.tariffs["break_from"] == break_from)
    ]
    assert len(rows) == 1, (scope, unit, break_from)
    return float(rows["rate"].iloc[0])


def test_ocean_rates_follow_the_scfi(network: Network) -> None:
    # SCFI week 38 2025, Shanghai-South America (Santos) USD 2,497 per TEU: the 20GP rate;
    # 40GP = 2,497 / 0.55 = 4,540 (TAR-SEA: 20GP is 55 % of 40GP), 40HQ 4,540 x 1.05 = 4,767,
    # LCL 4,540 / 40 = 113.5 per W/M tonne
    lane = "SEA-CNSHA-YSN-BRSSZ"
    assert rate(network, lane, "container:20GP") == 2497
    assert rate(network, lane, "container:40GP") == 4540
    assert rate(network, lane, "container:40HQ") == 4767
    assert rate(network, lane, "wm") == 113.5
    # US East Coast is quoted per FEU: USD 2,559, through the Panama Canal
    assert rate(network, "SEA-CNSHA-YSN-USEWR", "container:40GP") == 2559
    assert "panama" in network.corridors.at["SEA-CNSHA-YSN-USEWR", "passages"]
    # Casablanca round the Cape: the Mediterranean lane (1,638 / 0.55 = 2,978) + 10 % = 3,276
    assert rate(network, "SEA-CNYTN-MACAS-CAPE", "container:40GP") == 3276


def test_air_bands_by_lane(network: Network) -> None:
    # TAR-AIR weight breaks: +45 kg 1.10, +100 kg 1.00, +500 kg 0.92 of the band
    assert rate(network, "AIR-CNCAN-CAN-INDEL-DEL", "kg", 100) == 2.40  # E-AIR-SASIA
    assert rate(network, "AIR-CNCAN-CAN-INDEL-DEL", "kg", 45) == 2.64  # 2.40 x 1.10
    assert rate(network, "AIR-CNSHA-PVG-AUSYD-SYD", "kg", 100) == 3.20  # E-AIR-OCEANIA
    assert rate(network, "AIR-CNSHA-PVG-CAVAN-YVR", "kg", 100) == 4.10  # E-AIR-NA
    assert rate(network, "AIR-AEDXB-DWC-NGLOS-LOS", "kg", 500) == 1.84  # E-AIR-ONWARD 2.00 x 0.92


def test_air_to_lagos_connects_in_dubai(network: Network) -> None:
    modes = frozenset({"air", "road"})
    plan = plan_routes(
        network, Shipment("Chengdu", "Lagos", 800, 4.2, ready_at=READY, allowed_modes=modes)
    )
    option = next(o for o in plan.options if o.legs[-1].destination == "MKT-NG")
    onward = next(leg for leg in option.legs if leg.corridor_id == "AIR-AEDXB-DWC-NGLOS-LOS")
    # 800 kg actual > 4.2 m3 / 6,000 = 700 kg volumetric: 800 kg at the +500 kg break,
    # USD 2.00 x 0.92 = 1.84 per kg: 800 x 1.84 x 7.16 = CNY 10,539.52
    assert onward.chargeable_kg == 800
    assert onward.charge_cny("line_haul") == pytest.approx(800 * 1.84 * USD, abs=0.01)


def test_us_intermodal_rail_rate(network: Network) -> None:
    # E-RAIL-US: USD 400 + 0.45 per km per 40GP
    assert rate(network, "mode:rail:US", "container:40GP") == 400
    rows = network.tariffs[
        (network.tariffs["scope"] == "mode:rail:US") & (network.tariffs["unit"] == "container:40GP")
    ]
    assert float(rows["rate_per_km"].iloc[0]) == 0.45


def test_kenya_sgr_carries_the_box_to_nairobi(network: Network) -> None:
    plan = plan_routes(network, Shipment("Chongqing", "Nairobi", 10_000, 25, ready_at=READY))
    option = plan.options[0]
    sgr = next(leg for leg in option.legs if leg.corridor_id == "RAIL-KEMBA-KENBO-ICD")
    # 25 m3 fits one 20GP (28 m3 usable); E-RAIL-KE: USD 195 + 0.65 per km x 456 km = USD 491.40
    assert network.corridors.at["RAIL-KEMBA-KENBO-ICD", "distance_km"] == 456
    assert sgr.charge_cny("line_haul") == pytest.approx((195 + 0.65 * 456) * USD, abs=0.01)
