"""World coverage, western half (issue 21): every pilot-zone city reaches every market.

Europe (Spain, Italy, Czechia, Austria, Belgium, Greece, Belarus, Georgia), the Middle East
(Saudi Arabia, Iran, Israel, Egypt), Central Asia (with Kazakhstan and Uzbekistan, which were
markets already) and Mongolia. Figures: ``network_data/SOURCES.md``, "World coverage: Europe,
Middle East, Central Asia" (keys ``W-*``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from network_data import Network
from optimizer.model import Leg, RoutePlan
from optimizer.routing import Shipment, plan_routes

PILOT_CITIES = [
    "Chengdu", "Chongqing", "Mianyang", "Dazhou", "Guang'an", "Nanchong", "Wuhu", "Anqing"
]  # fmt: skip
#: The market node each market a seller types is.
MARKET_NODE = {
    "Madrid": "MKT-ES",
    "Milan": "MKT-IT",
    "Prague": "MKT-CZ",
    "Vienna": "MKT-AT",
    "Antwerp": "MKT-BE",
    "Athens": "MKT-GR",
    "Minsk": "MKT-BY",
    "Tbilisi": "MKT-GE",
    "Riyadh": "MKT-SA",
    "Tehran": "MKT-IR",
    "Tel Aviv": "MKT-IL",
    "Cairo": "MKT-EG",
    "Bishkek": "MKT-KG",
    "Dushanbe": "MKT-TJ",
    "Ashgabat": "MKT-TM",
    "Ulaanbaatar": "MKT-MN",
    "Kazakhstan": "MKT-KZ",
    "Uzbekistan": "MKT-UZ",
}
#: The markets of the western half as a seller types them.
WEST_MARKETS = list(MARKET_NODE)
#: Their Chinese names, for the new markets (Kazakhstan's and Uzbekistan's are older).
CHINESE = {
    "Madrid": "马德里", "Milan": "米兰", "Prague": "布拉格", "Vienna": "维也纳",
    "Antwerp": "安特卫普", "Athens": "雅典", "Minsk": "明斯克", "Tbilisi": "第比利斯",
    "Riyadh": "利雅得", "Tehran": "德黑兰", "Tel Aviv": "特拉维夫", "Cairo": "开罗",
    "Bishkek": "比什凯克", "Dushanbe": "杜尚别", "Ashgabat": "阿什哈巴德",
    "Ulaanbaatar": "乌兰巴托",
}  # fmt: skip
READY = datetime(2026, 11, 23, 8, tzinfo=UTC)  # a Monday
LOOSE = {"weight_kg": 800, "volume_m3": 4.2}  # a pallet lot of general cargo
BOXED = {"weight_kg": 20000, "volume_m3": 60}  # a full container: one 40HQ (68 m3 usable)
USD = 7.16  # CNY per USD, fx.csv (FX)


def plan(network: Network, origin: str, destination: str, load: dict[str, float]) -> RoutePlan:
    return plan_routes(network, Shipment(origin, destination, ready_at=READY, **load))


@pytest.mark.parametrize("market", list(CHINESE))
def test_markets_resolve_by_english_and_chinese_name_and_point(
    network: Network, market: str
) -> None:
    node_id = MARKET_NODE[market]
    assert network.find_node(market) == node_id
    assert network.find_node(CHINESE[market]) == node_id
    # a point 5-7 km off the centre is a place of the market's country (its nearest node)
    lat, lon = network.nodes.at[node_id, "lat"], network.nodes.at[node_id, "lon"]
    near = network.find_node(f"{lat + 0.05:.4f},{lon + 0.05:.4f}")
    assert network.nodes.at[near, "country"] == network.nodes.at[node_id, "country"]


@pytest.mark.parametrize("load", [LOOSE, BOXED], ids=["loose", "boxed"])
@pytest.mark.parametrize("market", WEST_MARKETS)
@pytest.mark.parametrize("city", PILOT_CITIES)
def test_every_pilot_city_reaches_every_market(
    network: Network, city: str, market: str, load: dict[str, float]
) -> None:
    result = plan(network, city, market, load)
    assert result.destination == MARKET_NODE[market]
    assert result.options, result.infeasible_reason
    for option in result.options:
        assert option.legs[-1].destination == MARKET_NODE[market]
        assert option.cost_cny > 0
        assert option.arrival > option.departure >= READY
        for leg in option.legs:
            assert leg.arrive >= leg.depart, leg.corridor_id
            assert leg.cost_cny >= 0, leg.corridor_id
        for before, after in zip(option.legs, option.legs[1:], strict=False):
            assert after.depart >= before.arrive, (before.corridor_id, after.corridor_id)


def leg_on(result: RoutePlan, corridor_id: str) -> Leg:
    legs = [leg for o in result.options for leg in o.legs if leg.corridor_id == corridor_id]
    assert legs, [o.summary for o in result.options]
    return legs[0]


def test_mediterranean_sea_lane_prices_a_40hq_from_its_tariff_row(network: Network) -> None:
    # W-WCI-MED: USD 3,330/FEU round the Cape; 40HQ = 3,330 x 1.05 = 3,496.5 -> USD 3,497
    # (TAR-SEA); 60 m3 needs a 40HQ (40GP holds 58 m3 usable), so CNY 3,497 x 7.16 = 25,038.52.
    rows = network.tariffs_for("SEA-CNYTN-ITGOA-CAPE").set_index("unit")
    assert rows.at["container:40HQ", "rate"] == 3497
    assert rows.at["container:40GP", "rate"] == 3330
    sea = leg_on(plan(network, "Chengdu", "Milan", BOXED), "SEA-CNYTN-ITGOA-CAPE")
    assert sea.charge_cny("line_haul") == pytest.approx(3497 * USD)
    assert sea.passages == ("cape",)


def test_gulf_lane_prices_lcl_by_revenue_tonne(network: Network) -> None:
    # W-GULF-SA: USD 1,900/FEU; LCL = 1,900 / 40 = USD 47.50 per W/M tonne (TAR-SEA);
    # 4.2 m3 against 0.8 t is 4.2 revenue tonnes: 4.2 x 47.5 x 7.16 = CNY 1,428.42.
    result = plan(network, "Chongqing", "Riyadh", LOOSE)
    legs = [leg for o in result.options for leg in o.legs if "SADMM" in (leg.corridor_id or "")]
    sea = next(leg for leg in legs if leg.mode == "sea")
    assert sea.charge_cny("line_haul") == pytest.approx(4.2 * 47.5 * USD)


def test_chongqing_tel_aviv_freighter_by_weight_break(network: Network) -> None:
    # W-AIR-TLV: band USD 2.60/kg; 800 kg chargeable (4.2 m3 x 166.7 = 700 kg < 800 kg) falls in
    # the 500 kg break at 0.92 x 2.60 = USD 2.39/kg: 800 x 2.39 x 7.16 = CNY 13,689.92.
    air = leg_on(plan(network, "Chengdu", "Tel Aviv", LOOSE), "AIR-CNCKG-CKG-ILTLV-TLV")
    assert air.chargeable_kg == 800
    assert air.charge_cny("line_haul") == pytest.approx(800 * 2.39 * USD)


def test_china_iran_train_prices_the_1520_leg_per_box(network: Network) -> None:
    # W-CN-IRAN: Altynkol-Incheh Borun 3,197 km at the Kazakh 1,520 mm rate (TAR-RAIL-1520),
    # USD 200 + 0.55/km per 40HQ: 200 + 0.55 x 3,197 = USD 1,958.35 = CNY 14,021.79.
    row = network.corridors.loc["RAIL-KZALT-IRINB"]
    assert row["distance_km"] == 3197
    rail = leg_on(plan(network, "Chengdu", "Tehran", BOXED), "RAIL-KZALT-IRINB")
    assert rail.charge_cny("line_haul") == pytest.approx((200 + 0.55 * 3197) * USD)


def test_middle_corridor_reaches_tbilisi_through_baku(network: Network) -> None:
    # CF1, DW-CASPIAN: Altynkol-Aktau by rail, the Caspian ferry to Alat, rail on to Tbilisi.
    result = plan(network, "Chongqing", "Tbilisi", LOOSE)
    corridors = [[leg.corridor_id for leg in o.legs] for o in result.options]
    assert any("SEA-KZAKU-AZALT" in ids and "RAIL-AZALT-GETBS-RLY" in ids for ids in corridors), (
        corridors
    )
