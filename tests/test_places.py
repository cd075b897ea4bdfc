"""A place is what a person means (issue 18 item 1): ids, UN/LOCODE and IATA codes, city and
node names in English, Chinese or pinyin, cities of several terminals, and suggestions for
near misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from network_data import Network, UnknownPlaceError
from optimizer.routing import Shipment, plan_routes

READY = datetime(2026, 12, 7, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "node", "city"),
    [
        # refused before: the network holds these places under other names
        ("Shanghai", "CNSHA-WGQ", "CITY-SHANGHAI"),
        ("Shenzhen", "CNYTN", "CITY-SHENZHEN"),
        ("Hefei", "CNHFE-RLY", None),
        ("SZX", "CNSZX-SZX", None),
        ("Gaozhu", "CN-GAOZHU", None),
        ("川渝高竹新区", "CN-GAOZHU", None),
        ("岳池", "CN-YUECHI-PARK", None),
        ("Taqiao", "CNWHI-RLY", None),
        ("KMG", "CNKMG-KMG", None),
        ("Ho Chi Minh City", "VNSGN", "CITY-HO-CHI-MINH"),
        ("Saigon", "VNSGN", "CITY-HO-CHI-MINH"),
        ("Baku", "AZALT", None),
        ("华沙", "MKT-PL", None),
        ("Fangchenggang", "CNFAN", None),
        # resolved to one terminal before: now the city with all of them
        ("Singapore", "SGSIN", "CITY-SINGAPORE"),
        ("Los Angeles", "USLAX", "CITY-LOS-ANGELES"),
        ("Istanbul", "TRIST", "CITY-ISTANBUL"),
        # case, accents and punctuation
        ("Lodz", "PLLOD", None),
        ("ŁÓDŹ", "PLLOD", None),
        ("Guangan", "CN-GUANGAN", None),
        ("Guang'an", "CN-GUANGAN", None),
        ("广安", "CN-GUANGAN", None),
        # codes: a UN/LOCODE shared by two terminals of a city names the city
        ("CNSHA", "CNSHA-WGQ", "CITY-SHANGHAI"),
        ("TRAMR", "TRIST", None),
        ("PVG", "CNSHA-PVG", None),
        ("pvg", "CNSHA-PVG", None),
        ("IST", "TRIST-IST", None),
        # a city's id, as the type-ahead offers it
        ("CITY-SHANGHAI", "CNSHA-WGQ", "CITY-SHANGHAI"),
        # a node id stays a node, even a city's
        ("CNSHA-YSN", "CNSHA-YSN", None),
        ("CNCKG", "CNCKG", None),
    ],
)
def test_places_resolve(network: Network, query: str, node: str, city: str | None) -> None:
    assert network.find_node(query) == node
    found = network.find_city(query)
    assert (found.id if found else None) == city


def test_a_city_has_all_its_terminals(network: Network) -> None:
    shanghai = network.find_city("上海")
    assert shanghai is not None and shanghai.name == "Shanghai"
    assert set(shanghai.members) == {"CNSHA-WGQ", "CNSHA-YSN", "CNSHA-PVG"}
    # with a mode, the city's terminal of that mode
    assert network.find_node("Shanghai", mode="air") == "CNSHA-PVG"
    assert network.find_node("Singapore", mode="air") == "SGSIN-SIN"


@pytest.mark.parametrize(
    ("typo", "first"),
    [
        ("Chongqnig", "CNCKG"),  # suggested Singapore Changi before
        ("Shangai", "Shanghai"),
        ("Duisberg", "DEDUI"),
        ("Istambul", "Istanbul"),
        ("Hamburgh", "Hamburg"),
        ("Fangchenggan", "Fangchenggang"),
    ],
)
def test_a_near_miss_is_answered_with_suggestions(network: Network, typo: str, first: str) -> None:
    """Never corrected silently: the error lists what it may mean, the best first, and each
    suggestion resolves."""
    with pytest.raises(UnknownPlaceError, match="closest matches") as raised:
        network.find_node(typo)
    assert raised.value.candidates[0] == first
    for candidate in raised.value.candidates:
        network.find_node(candidate)


def test_suggestions_put_names_before_ids(network: Network) -> None:
    with pytest.raises(UnknownPlaceError) as raised:
        network.find_node("Chengud")
    assert raised.value.candidates[:3] == ["CNCTU", "CNCTU-BZ", "CNCTU-RLY"]
    assert "CNCTU (Chengdu)" in str(raised.value)


def test_plans_to_and_from_cities(network: Network) -> None:
    """Chengdu -> Shanghai, Chongqing -> Singapore by road and air, Chengdu -> Istanbul with a
    flight of under 3 days: each refused or without such an option before."""
    to_shanghai = plan_routes(network, Shipment("Chengdu", "Shanghai", 2_000, 10, ready_at=READY))
    assert to_shanghai.options and to_shanghai.destination == "Shanghai"
    by_air = plan_routes(
        network,
        Shipment("Chongqing", "Singapore", 2_000, 10, ready_at=READY,
                 allowed_modes={"road", "air"}),
    )  # fmt: skip
    assert by_air.options and all("air" in o.modes for o in by_air.options)
    istanbul = plan_routes(network, Shipment("Chengdu", "Istanbul", 2_000, 10, ready_at=READY))
    flights = [o for o in istanbul.options if "air" in o.modes]
    assert flights and min(o.arrival - READY for o in flights) < timedelta(days=3)
    assert flights[0].legs[-1].destination == "Istanbul"  # delivered in the city


def test_a_plan_from_a_city_says_which_terminal(network: Network) -> None:
    plan = plan_routes(network, Shipment("上海", "Rotterdam", 2_000, 10, ready_at=READY),
                       every_journey=True)  # fmt: skip
    assert plan.origin == "Shanghai"
    firsts = {o.legs[0] for o in plan.options}
    assert all(leg.origin == "Shanghai" and leg.mode == "road" for leg in firsts)
    assert {leg.destination for leg in firsts} <= {"CNSHA-WGQ", "CNSHA-YSN", "CNSHA-PVG"}
    sea = next(o for o in plan.options if o.modes == ("road", "sea"))
    # the local drayage is priced, and the summary names the port it reaches
    assert sea.legs[0].cost_cny > 0 and "Shanghai → Shanghai" in sea.summary


def test_a_market_is_reachable_by_air_and_by_road(network: Network) -> None:
    """Northern Vietnam's market from Chongqing: flown to Noi Bai and trucked on, or trucked
    all the way through Pingxiang."""
    for modes, last_but_one in (({"road", "air"}, "air"), ({"road"}, "road")):
        plan = plan_routes(
            network,
            Shipment("Chongqing", "MKT-VN-N", 500, 2, ready_at=READY, allowed_modes=modes),
        )
        assert any(o.legs[-2].mode == last_but_one for o in plan.options), modes
        assert all(o.legs[-1].destination == "MKT-VN-N" for o in plan.options)


def test_every_terminal_of_a_city_trucks_to_its_market(network: Network) -> None:
    """A market is reachable by every mode that serves its city: each of the city's ports,
    airports and rail terminals has a road corridor to it."""
    corridors, nodes = network.corridors, network.nodes
    road = set(zip(corridors["origin"][corridors["mode"] == "road"],
                   corridors["destination"][corridors["mode"] == "road"], strict=True))  # fmt: skip
    for city in network.cities.index:
        members = nodes.index[nodes["city"] == city]
        markets = [m for m in members if nodes.at[m, "kind"] == "market"]
        for market in markets:
            assert {(t, market) for t in members if t != market} <= road, city


def test_fangchenggang_is_reached(network: Network) -> None:
    """It resolved to nothing and its port had no link in (issue 18)."""
    plan = plan_routes(network, Shipment("Dazhou", "Fangchenggang", 2_000, 10, ready_at=READY))
    assert plan.options and plan.destination == "CNFAN"


def test_dazhou_ships_east_by_rail_water_via_wanzhou(network: Network) -> None:
    """The seed's east-bound rail-water train (四川东出铁水联运班列): Dazhou by rail to Wanzhou
    Xintian, then down the Yangtze; booked on Mondays, so a Monday shipment waits a week."""
    plan = plan_routes(network, Shipment("Dazhou", "Shanghai", 8_000, 30, ready_at=READY))
    option = next(o for o in plan.options if o.family.startswith("Rail-water"))
    train, barge = (leg for leg in option.legs if leg.mode != "road")
    assert (train.corridor_id, train.destination) == ("RAIL-CNDAX-RLY-CNWZH-PRT", "CNWZH-PRT")
    assert train.depart == datetime(2026, 12, 14, 2, tzinfo=UTC)  # Monday 10:00 Beijing
    assert barge.mode == "inland_water" and barge.origin == "CNWZH-PRT"


# A road leg from a city's centre or a coordinate is priced by the road default tariffs of its
# country (tariffs.csv: scope mode:road:<country>, else mode:road), unit by unit, in CNY at the
# dataset's FX rates (fx.csv: USD 7.16, EUR 8.40). One degree of latitude is 111.2 km by great
# circle, 139.0 km by road (x 1.25).
@pytest.mark.parametrize(
    ("country", "truck_cny", "ltl_min_cny", "ltl_per_t_km_cny"),
    [
        ("CN", 800 + 5.5 * 139.0, 100.0, 0.45),  # CNY rows of its own
        (
            "US",
            (150 + 1.69 * 139.0) * 7.16,
            40 * 8.40,
            0.12 * 8.40,
        ),  # own truck row (USD), LTL default (EUR)
        ("DE", (150 + 1.7 * 139.0) * 8.40, 40 * 8.40, 0.12 * 8.40),  # the EUR defaults
    ],
)
def test_a_road_leg_is_priced_by_its_countrys_road_tariff(
    network: Network, country: str, truck_cny: float, ltl_min_cny: float, ltl_per_t_km_cny: float
) -> None:
    from optimizer._compile import routing_data
    from optimizer.routing.places import road_leg

    data = routing_data(network)
    start, end = ("A", 40.0, 100.0), ("B", 41.0, 100.0)
    truckload = road_leg(data, Shipment("X", "Y", 20_000, 60), start, end, country, "boxed")
    assert truckload.distance_km == pytest.approx(139.0, abs=0.01)
    assert (truckload.product, truckload.trucks) == ("FTL", 1)
    assert truckload.cost_cny == pytest.approx(truck_cny, abs=0.1)
    parcel = road_leg(data, Shipment("X", "Y", 200, 0.5), start, end, country, "loose")
    assert (parcel.product, parcel.cost_cny) == ("LTL", pytest.approx(ltl_min_cny))
    # a truck already on the road carries it on for the per-km part alone
    assert parcel.continuation_cny == pytest.approx(0.2 * ltl_per_t_km_cny * 139.0, abs=0.01)
