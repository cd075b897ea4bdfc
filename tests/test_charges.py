"""A plan's whole price, leg by leg: hand-computed breakdowns and prices that never fall.

Rates are those of ``network_data/data`` (``tariffs.csv``, ``nodes.csv``), FX USD 7.16 and
EUR 8.40 CNY; every breakdown must sum to the option's ``total_cost`` in the JSON document.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network_data import Network
from optimizer.model import RouteOption
from optimizer.routing import Shipment, plan_routes

MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)
USD, EUR = 7.16, 8.40


def only_option(network: Network, shipment: Shipment, corridors: list[str]) -> RouteOption:
    plan = plan_routes(network, shipment, every_journey=True)
    return next(o for o in plan.options if [leg.corridor_id for leg in o.legs] == corridors)


def breakdown(option: RouteOption) -> list[list[tuple[str, float]]]:
    return [[(c.kind, round(c.amount_cny, 2)) for c in leg.charges] for leg in option.legs]


def assert_sums_to_total(network: Network, shipment: Shipment, option: RouteOption) -> None:
    plan = plan_routes(network, shipment, every_journey=True)
    document = plan.to_dict()
    [shown] = [o for o in document["options"] if o["summary"] == option.summary]
    assert shown["total_cost"] == pytest.approx(
        sum(c["amount"] for leg in shown["legs"] for c in leg["charges"]), abs=0.011
    )
    assert shown["total_cost"] == pytest.approx(option.cost_cny, abs=0.011)


def test_lcl_by_sea_qinzhou_to_singapore(network: Network) -> None:
    """800 kg / 4.2 m3 loose: 4.2 revenue tonnes (W/M, 1 m3 = 1 t)."""
    shipment = Shipment("CNQZH", "SGSIN", 800, 4.2, ready_at=MONDAY, allowed_modes={"sea"})
    option = only_option(network, shipment, ["SEA-CNQZH-SGSIN"])
    assert option.legs[0].product == "LCL"
    assert breakdown(option) == [[
        ("line_haul", round(4.2 * 15 * USD, 2)),  # USD 15 per W/M (TAR-SEA, intra-Asia)
        ("cfs", 4.2 * 80),  # Chinese seaport CFS, CNY 80 per W/M (H-DEF)
        ("documentation", 450.0),  # bill of lading from China, CNY 450 (DOC-BL-CN)
        ("cfs", 4.2 * 80),  # unloaded at Singapore, CNY 80 per W/M (H-DEF)
        ("export_declaration", 200.0),  # CUSTOMS-CN
        ("import_declaration", 125 * EUR),  # Singapore: the default EUR 125 (CUSTOMS-EU)
    ]]  # fmt: skip
    assert option.legs[0].charges[3].basis.endswith("at Port of Singapore (destination)")
    assert option.cost_cny == pytest.approx(451.08 + 336 + 450 + 336 + 200 + 1050)
    assert_sums_to_total(network, shipment, option)


def test_fcl_by_rail_chengdu_to_lodz(network: Network) -> None:
    """18 t / 40 m3 boxed: one 40GP (58 m3, 26.7 t) on every leg, handled per box."""
    shipment = Shipment("CNCTU-RLY", "PLLOD", 18_000, 40, ready_at=MONDAY, allowed_modes={"rail"})
    option = only_option(network, shipment, [
        "RAIL-CNCTU-RLY-CNAKL", "RAIL-CNAKL-KZDOS", "RAIL-KZDOS-RUMOW", "RAIL-RUMOW-BYBRE",
        "RAIL-BYBRE-PLMAL", "RAIL-PLMAL-PLLOD",
    ])  # fmt: skip
    assert [leg.product for leg in option.legs] == ["FCL"] * 6
    assert all(c.basis == "FCL: 1 x 40GP" for leg in option.legs for c in leg.charges
               if c.kind == "line_haul")  # fmt: skip
    assert breakdown(option) == [
        # China rail 40GP: CNY 1,000 + 2.3/km x 3,019 km; the box is lifted on at the railport
        [("line_haul", 7943.7), ("terminal_handling", 450.0)],
        # border link, per-km part only: 2.3 x 12 km; gauge change at Alashankou, CNY 450 a box
        [("line_haul", 27.6), ("border", 450.0), ("export_declaration", 200.0)],
        # 1,520 mm network via Moscow, USD 200 + 0.55/km per 40' (3,675 km, then 1,051 km)
        [("line_haul", round((200 + 0.55 * 3675) * USD, 2))],
        [("line_haul", round((200 + 0.55 * 1051) * USD, 2))],
        # 1,520 mm link: USD 0.55/km x 16 km; enters Poland: EU import declaration EUR 125
        [("line_haul", round(0.55 * 16 * USD, 2)), ("import_declaration", 125 * EUR)],
        # Malaszewicze gauge change CNY 450; EU rail 40GP EUR 300 + 0.9/km x 305 km; the box
        # is lifted off at Lodz, CNY 450
        [
            ("line_haul", round((300 + 0.9 * 305) * EUR, 2)),
            ("border", 450.0),
            ("terminal_handling", 450.0),
        ],
    ]
    assert_sums_to_total(network, shipment, option)


def test_bulky_air_chongqing_to_liege(network: Network) -> None:
    """500 kg / 6 m3: 1,000 chargeable kg (6 m3 x 166.7 kg, IATA 1:6000), handled per
    chargeable kg at both airports, then 2 km by truck to the Liège warehouse."""
    shipment = Shipment("CNCKG-CKG", "WH-BELGG", 500, 6, ready_at=MONDAY)
    option = only_option(network, shipment, ["AIR-CNCKG-CKG-BELGG", "ROAD-BELGG-WH-BELGG"])
    flight, truck = option.legs
    assert flight.chargeable_kg == 1000
    assert breakdown(option)[0] == [
        ("line_haul", round(1000 * 3.67 * USD, 2)),  # +1,000 kg break, USD 3.67/kg, all-in
        ("airport_handling", 1000 * 0.50),  # Chinese airport CNY 0.50/kg (HDL-AIR-CN)
        ("documentation", 15 * USD),  # air waybill USD 15 (DOC-AWB)
        ("export_declaration", 200.0),
        ("import_declaration", 125 * EUR),
    ]
    # Liège: EUR 0.12 (CNY 1.00) per chargeable kg, not per W/M tonne (6 t would be CNY 6,000)
    assert truck.charge_cny("airport_handling") == pytest.approx(1000 * 1.0)
    assert truck.cost_cny < 1000 * 1.0 + 1_500  # plus one truck for 2 km
    assert_sums_to_total(network, shipment, option)


def test_a_china_europe_train_to_hamburg_is_handled_at_its_rail_terminal(
    network: Network,
) -> None:
    """3 t / 12 m3 loose, Hefei to Hamburg by train: unloaded at the Billwerder rail terminal
    at CNY 60 per W/M (H-DEF), not at the sea quay's CNY 504 (THC-EU, CFS-EU), so the direct
    train is cheaper than a train to Duisburg and 454 km of road (issue 17: it was dearer)."""
    shipment = Shipment("CNHFE-RLY", "Hamburg", 3_000, 12, ready_at=MONDAY,
                        allowed_modes={"rail", "road"})  # fmt: skip
    plan = plan_routes(network, shipment, every_journey=True)
    by_rail = min(plan.options, key=lambda o: o.cost_cny)
    rail_legs = [leg for leg in by_rail.legs if leg.mode == "rail"]
    assert rail_legs[-1].corridor_id == "RAIL-PLMAL-DEHAM-RLY"
    assert sum(leg.distance_km for leg in by_rail.legs if leg.mode == "road") < 20
    unloaded = [c for leg in by_rail.legs for c in leg.charges if "Billwerder" in c.basis]
    assert [(c.kind, c.amount_cny) for c in unloaded] == [("cfs", 12 * 60.0)]
    without = replace(shipment, avoid=frozenset({"RAIL-PLMAL-DEHAM-RLY"}))
    via_duisburg = min(plan_routes(network, without).options, key=lambda o: o.cost_cny)
    assert "RAIL-PLMAL-DEDUI" in [leg.corridor_id for leg in via_duisburg.legs]
    assert via_duisburg.cost_cny > by_rail.cost_cny
    assert_sums_to_total(network, shipment, by_rail)


def test_the_truck_that_brings_the_load_drives_on_to_the_city_centre(network: Network) -> None:
    """800 kg / 4 m3 by road from Duisburg to Hamburg's centre: the truck reaching the port
    drives on to the centre at the per-km part of the LTL rate (EUR 0.12 per chargeable t-km,
    TAR-ROAD-INTL), not as a new booking with its EUR 20 fixed charge and EUR 40 minimum
    (issue 17: it charged the minimum, CNY 336, for the last 2 km)."""
    shipment = Shipment("DEDUI", "Hamburg", 800, 4, ready_at=MONDAY, allowed_modes={"road"})
    plan = plan_routes(network, shipment, every_journey=True)
    cheapest = min(plan.options, key=lambda o: o.cost_cny)
    last = cheapest.legs[-1]
    assert last.corridor_id is None and last.destination == "Hamburg"
    chargeable_t = 4 * 333.333 / 1000  # 1 m3 = 333 kg, above the 800 kg
    [charge] = last.charges
    assert charge.amount_cny == pytest.approx(chargeable_t * 0.12 * last.distance_km * EUR, 1e-3)
    assert charge.amount_cny < 40 * EUR and "driving on" in charge.basis
    assert_sums_to_total(network, shipment, cheapest)


def test_a_fresh_truck_from_the_quay_pays_its_minimum(network: Network) -> None:
    """Off a ship at Hamburg the last 2 km are a new LTL booking: EUR 20 + 0.12 per t-km,
    at least EUR 40, plus CFS at the quay."""
    shipment = Shipment("CNSHA-YSN", "Hamburg", 800, 4, ready_at=MONDAY)
    plan = plan_routes(network, shipment, every_journey=True)
    by_sea = min((o for o in plan.options if o.legs[0].mode == "sea"), key=lambda o: o.cost_cny)
    line_haul = by_sea.legs[-1].charges[0]
    assert line_haul.amount_cny == pytest.approx(40 * EUR)
    assert "driving on" not in line_haul.basis


LANES = [
    ("CN-LINSHUI-PARK", "DEDUI"), ("CNCTU", "PLLOD"), ("CNCKG", "SGSIN"), ("CNCKG", "LAVTE"),
    ("CNWHI", "NLRTM"), ("CNCTU", "VNHAN"), ("CNDAX", "DEHAM"), ("CNCKG-PRT", "CNSHA-YSN"),
    ("CNMYG", "HUBUD"), ("CNNAO", "THLCH"), ("CNAQG", "GBFXT"), ("CNCTU", "KZALA"),
]  # fmt: skip


def cheapest_cny(network: Network, origin: str, destination: str, kg: float, m3: float) -> float:
    plan = plan_routes(network, Shipment(origin, destination, kg, m3, ready_at=MONDAY))
    return min((journey.cost_cny for journey in plan.front), default=float("inf"))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(LANES),
    st.floats(min_value=50, max_value=20_000),
    st.floats(min_value=0.2, max_value=120),
    st.floats(min_value=1.0, max_value=2.5),
    st.booleans(),
)
def test_cheapest_cost_never_falls_as_the_load_grows(
    network: Network, lane: tuple[str, str], kg: float, m3: float, growth: float, heavier: bool
) -> None:
    """More weight or more volume on the same lane and day never costs less (on the whole
    front, so the option filter plays no part)."""
    smaller = cheapest_cny(network, *lane, kg, m3)
    bigger = cheapest_cny(network, *lane, kg * growth if heavier else kg,
                          m3 if heavier else m3 * growth)  # fmt: skip
    assert bigger >= smaller - 1e-6, (lane, kg, m3, growth, heavier, smaller, bigger)
