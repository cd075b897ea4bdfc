"""Route planner: input checks, hand-checked plans, constraints and explanations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from network_data import Network
from optimizer.charges import KINDS
from optimizer.errors import InvalidInputError
from optimizer.routing import Shipment, plan_routes

MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)


def ship(origin: str, destination: str, **kwargs: object) -> Shipment:
    defaults: dict[str, object] = {"weight_kg": 800, "volume_m3": 4.2, "ready_at": MONDAY}
    return Shipment(origin, destination, **{**defaults, **kwargs})  # type: ignore[arg-type]


# ----- input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"weight_kg": -5}, "weight_kg", "a number > 0"),
        ({"volume_m3": 0}, "volume_m3", "a number > 0"),
        ({"deadline": MONDAY - timedelta(days=1)}, "deadline", "a time after ready_at"),
        (
            {"cargo_class": "explosive"},
            "cargo_class",
            "general, battery, perishable, high_value, express",
        ),
        ({"customs_regime": "9999"}, "customs_regime", "9610, 9710, 9810, 1210, general"),
        ({"allowed_modes": {"rail", "teleport"}}, "allowed_modes", "road, rail, inland_water"),
        ({"ready_at": datetime(2026, 11, 23)}, "ready_at", "timezone-aware"),
        ({"max_options": 0}, "max_options", "an integer >= 1"),
    ],
)
def test_invalid_shipment_names_field_and_allowed_values(
    kwargs: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(InvalidInputError, match=allowed) as info:
        ship("Linshui", "Duisburg", **kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_unknown_place_lists_closest_matches(network: Network) -> None:
    with pytest.raises(InvalidInputError, match=r"origin: got 'Chengdoo'.*CNCTU \(Chengdu\)"):
        plan_routes(network, ship("Chengdoo", "Duisburg"))


def test_unknown_passage_lists_the_known_ones(network: Network) -> None:
    with pytest.raises(
        InvalidInputError, match=r"avoid: got 'panama-canal'.*bab-el-mandeb, belarus"
    ):
        plan_routes(network, ship("Chongqing", "Rotterdam", avoid={"panama-canal"}))


def test_same_origin_and_destination(network: Network) -> None:
    with pytest.raises(InvalidInputError, match="a place other than the origin"):
        plan_routes(network, ship("成都", "chengdu"))


# ----- hand-checked plans ------------------------------------------------------------------


def test_chengdu_to_lodz_by_rail_hand_checked(network: Network) -> None:
    plan = plan_routes(
        network, ship("CNCTU-RLY", "PLLOD", allowed_modes={"rail"}), every_journey=True
    )
    option = next(
        o for o in plan.options if [leg.corridor_id for leg in o.legs] == [
            "RAIL-CNCTU-RLY-CNAKL", "RAIL-CNAKL-KZDOS", "RAIL-KZDOS-BYBRE", "RAIL-BYBRE-PLMAL",
            "RAIL-PLMAL-PLLOD",
        ]
    )  # fmt: skip
    legs = option.legs
    # Trains at 10:00 and 22:00 Beijing time (02:00, 14:00 UTC), cut-off 48 h: ready Mon
    # 08:00 UTC -> Wed 22:00 Beijing.
    assert legs[0].depart == datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert legs[0].arrive == datetime(2026, 11, 28, 22, tzinfo=UTC)  # + 80 h
    # Alashankou: gauge change 1.5 h + border dwell 12 h (median)
    assert legs[1].depart == datetime(2026, 11, 29, 11, 30, tzinfo=UTC)
    # Dostyk: 4 h entry dwell, then the 1,520 mm leg of 7.3 days (175.2 h)
    assert legs[2].depart == datetime(2026, 11, 29, 15, 48, tzinfo=UTC)
    assert legs[2].arrive == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    # Brest 8 h; Malaszewicze gauge change 2 h + 36 h dwell; 12.7 h to Lodz
    assert legs[4].depart == datetime(2026, 12, 8, 21, 42, tzinfo=UTC)
    assert option.arrival == datetime(2026, 12, 9, 10, 24, tzinfo=UTC)
    # LCL, 4.2 revenue tonnes (4.2 m3 > 0.8 t):
    expected = {
        "RAIL-CNCTU-RLY-CNAKL": 4.2 * (60 + 0.08 * 3019),  # CNY, China rail default
        "RAIL-CNAKL-KZDOS": 4.2 * 0.08 * 12,  # border link: per-km part only
        "RAIL-KZDOS-BYBRE": 4.2 * 90 * 7.16,  # ERAI leg, USD 90 per W/M
        "RAIL-BYBRE-PLMAL": 4.2 * 0.015 * 16 * 7.16,  # 1,520 mm default per km, USD
        "RAIL-PLMAL-PLLOD": 4.2 * (15 + 0.03 * 305) * 8.40,  # EU rail, EUR
    }
    for leg in legs:
        assert leg.charge_cny("line_haul") == pytest.approx(expected[leg.corridor_id])
    # CFS at Chengdu railport and at Lodz, where the cargo is unloaded, and reloading at the
    # two gauge-change stations (a border charge), each CNY 60 per W/M tonne; no rail waybill
    # fee (it is in the rail rate).
    assert [leg.charge_cny("cfs") for leg in legs] == pytest.approx([252, 0, 0, 0, 252])
    assert [leg.charge_cny("border") for leg in legs] == pytest.approx([0, 252, 0, 0, 252])
    # Export declaration CNY 200 on the leg leaving China, import EUR 125 entering Poland.
    assert [leg.charge_cny("export_declaration") for leg in legs] == [0, 200, 0, 0, 0]
    assert [leg.charge_cny("import_declaration") for leg in legs] == pytest.approx(
        [0, 0, 0, 125 * 8.40, 0]
    )
    assert option.cost_cny == pytest.approx(sum(expected.values()) + 4 * 252 + 200 + 1050)
    # CO2e: 0.8 t x km x g/t-km
    assert legs[0].co2e_kg == pytest.approx(0.8 * 3019 * 22 / 1000)
    assert "China-Europe rail via Alashankou" in option.summary


def test_chongqing_to_singapore_by_the_land_sea_corridor(network: Network) -> None:
    plan = plan_routes(network, ship("CNCKG-RLY", "SGSIN"))
    rail_sea = [[leg.corridor_id for leg in o.legs] == ["RAIL-CNCKG-RLY-CNQZH", "SEA-CNQZH-SGSIN"]
                for o in plan.options]  # fmt: skip
    assert any(rail_sea)
    train, ship_leg = plan.options[rail_sea.index(True)].legs
    # Trains at 10:00 and 22:00 Beijing time, 48 h cut-off: Wed 22:00 (14:00 UTC), 40 h run.
    assert train.depart == datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert train.arrive == datetime(2026, 11, 27, 6, tzinfo=UTC)
    # Qinzhou: 7 h transfer to the quay (Fri 13:00 UTC). Booked rail-sea, the box makes the
    # feeder's 6 h rail cut-off for Sat 28 Nov 16:00 Beijing time; trucked in, it would have
    # missed its 72 h cut-off and waited for Tue 1 Dec (tests/test_services.py).
    assert ship_leg.depart == datetime(2026, 11, 28, 8, tzinfo=UTC)
    assert ship_leg.service == "ILSTC Qinzhou-SIN feeder"
    assert train.charge_cny("line_haul") == pytest.approx(4.2 * (60 + 0.08 * 1225))
    assert train.charge_cny("cfs") == pytest.approx(4.2 * 60)  # loaded at the railport
    # seaports CNY 80 per W/M: loaded at Qinzhou, unloaded at Singapore
    assert ship_leg.charge_cny("cfs") == pytest.approx(2 * 4.2 * 80)
    assert ship_leg.charge_cny("documentation") == 450  # bill of lading, China origin


def test_wuhu_to_rotterdam_by_yangtze_and_sea(network: Network) -> None:
    plan = plan_routes(
        network, ship("Wuhu", "Rotterdam", allowed_modes={"road", "inland_water", "sea"},
                      use_passages={"suez", "bab-el-mandeb"}),
        every_journey=True,
    )  # fmt: skip
    corridor_paths = [[leg.corridor_id for leg in o.legs] for o in plan.options]
    assert [
        "ROAD-CNWHI-CNWHI-PRT",
        "IWW-CNWHI-PRT-CNSHA-YSN",
        "SEA-CNSHA-YSN-NLRTM",
    ] in corridor_paths
    barge = next(o for o in plan.options if o.legs[1].corridor_id == "IWW-CNWHI-PRT-CNSHA-YSN")
    assert barge.modes == ("road", "inland_water", "sea")
    assert "river barge" in barge.summary and "via Suez" in barge.summary


def test_battery_cannot_fly_on_passenger_belly(network: Network) -> None:
    general = plan_routes(network, ship("CNCTU-TFU", "SGSIN-SIN", allowed_modes={"air"}))
    assert general.options and general.options[0].legs[0].corridor_id == "AIR-CNCTU-TFU-SGSIN-SIN"
    battery = plan_routes(
        network, ship("CNCTU-TFU", "SGSIN-SIN", allowed_modes={"air"}, cargo_class="battery")
    )
    assert battery.options == ()
    assert battery.infeasible_reason is not None
    assert "lithium batteries" in battery.infeasible_reason


def test_battery_flies_on_freighters(network: Network) -> None:
    plan = plan_routes(
        network, ship("CNCKG-CKG", "HUBUD-BUD", allowed_modes={"air"}, cargo_class="battery")
    )
    assert plan.options[0].legs[0].corridor_id == "AIR-CNCKG-CKG-HUBUD-BUD"


def test_9810_ends_at_an_overseas_warehouse(network: Network) -> None:
    plan = plan_routes(network, ship("Linshui", "WH-DEDUI", customs_regime="9810"))
    assert plan.options and all(o.legs[-1].destination == "WH-DEDUI" for o in plan.options)
    refused = plan_routes(network, ship("Linshui", "MKT-DE", customs_regime="9810"))
    assert refused.options == ()
    assert "must end at an overseas_warehouse" in (refused.infeasible_reason or "")


def test_export_clears_at_a_node_that_handles_the_regime(network: Network) -> None:
    # Dazhou's rail terminal clears 9710 and general only; a 9610 parcel must clear elsewhere.
    plan = plan_routes(network, ship("CNDAX-RLY", "KZALA", customs_regime="9610"), max_options=None)
    assert plan.options
    nodes = network.nodes
    for option in plan.options:
        cleared = False
        for leg in option.legs:
            cleared |= (
                nodes.at[leg.origin, "country"] == "CN"
                and "9610" in nodes.at[leg.origin, "regimes"]
            )
            if (
                nodes.at[leg.origin, "country"] == "CN"
                and nodes.at[leg.destination, "country"] != "CN"
            ):
                assert cleared, option.summary


def test_1210_bonded_import_passes_a_bonded_zone(network: Network) -> None:
    plan = plan_routes(network, ship("DEDUI", "CNCTU", customs_regime="1210"), max_options=None)
    assert plan.options
    for option in plan.options:
        visited = {leg.destination for leg in option.legs}
        assert visited & {"CNCTU-BZ", "CNCKG-BZ", "CNMYG-BZ", "CNDAX-BLC", "CNWHI-BZ", "CNAQG-BLC"}


def test_avoid_suez_goes_round_the_cape(network: Network) -> None:
    sea_only = {"allowed_modes": {"sea"}}
    # The main carriers avoid Suez on MONDAY (passage_status.csv), so the shipment names it.
    suez = {"use_passages": {"suez", "bab-el-mandeb"}}
    via_suez = plan_routes(network, ship("CNSHA-YSN", "NLRTM", **suez, **sea_only))
    assert any("suez" in leg.passages for leg in via_suez.options[0].legs)
    cape = plan_routes(network, ship("CNSHA-YSN", "NLRTM", avoid={"suez"}, **sea_only))
    assert cape.options
    for option in cape.options:
        assert all("suez" not in leg.passages for leg in option.legs)
        assert any("cape" in leg.passages for leg in option.legs)
    assert cape.options[0].arrival > via_suez.options[0].arrival + timedelta(days=7)
    assert "via the Cape" in cape.options[0].summary


def test_avoid_explains_what_it_blocked(network: Network) -> None:
    plan = plan_routes(
        network, ship("CNSHA-YSN", "NLRTM", allowed_modes={"sea"}, avoid={"suez", "cape"})
    )
    assert plan.options == ()
    assert "which was avoided" in (plan.infeasible_reason or "")
    assert "cape" in (plan.infeasible_reason or "") and "suez" in (plan.infeasible_reason or "")


def test_deadline_before_earliest_arrival(network: Network) -> None:
    plan = plan_routes(network, ship("Linshui", "Duisburg", deadline=MONDAY + timedelta(days=1)))
    assert plan.options == ()
    reason = plan.infeasible_reason or ""
    assert reason.startswith("the deadline 2026-11-24T08:00:00+00:00 is before the earliest")
    assert "Duisburg" in reason


def test_deadline_keeps_only_options_that_meet_it(network: Network) -> None:
    deadline = MONDAY + timedelta(days=20)
    plan = plan_routes(network, ship("Linshui", "Duisburg", deadline=deadline), max_options=None)
    assert plan.options and all(o.arrival <= deadline for o in plan.options)


def test_options_are_pareto_and_span_the_front(network: Network) -> None:
    full = plan_routes(network, ship("Linshui", "Duisburg"), max_options=None)
    values = [(o.cost_cny, o.arrival, o.co2e_kg) for o in full.options]
    for a in values:
        assert not any(b != a and b[0] <= a[0] and b[1] <= a[1] and b[2] <= a[2] for b in values)
    top = plan_routes(network, ship("Linshui", "Duisburg", max_options=3))
    assert len(top.options) == 3
    chosen = {(o.cost_cny, o.arrival, o.co2e_kg) for o in top.options}
    assert min(values, key=lambda v: v[0]) in chosen
    assert min(values, key=lambda v: (v[1], v[0])) in chosen
    assert min(values, key=lambda v: (v[2], v[0])) in chosen


def test_first_and_last_mile_to_coordinates(network: Network) -> None:
    plan = plan_routes(network, ship("30.25,106.80", "51.45,6.62"))
    assert plan.options
    first, last = plan.options[0].legs[0], plan.options[0].legs[-1]
    assert first.origin == "30.2500,106.8000" and first.mode == "road" and first.corridor_id is None
    assert last.destination == "51.4500,6.6200" and last.mode == "road"


def test_same_input_same_output(network: Network) -> None:
    first = plan_routes(network, ship("Linshui", "Duisburg")).to_dict()
    second = plan_routes(network, ship("Linshui", "Duisburg")).to_dict()
    assert json.dumps(first) == json.dumps(second)


def test_json_document(network: Network) -> None:
    doc = plan_routes(network, ship("Linshui", "Duisburg")).to_dict("USD")
    assert set(doc) == {
        "dataset_version", "currency", "options", "front", "infeasible_reason", "status",
        "time_limit_s", "unexplored", "warnings", "parcel_channels",
    }  # fmt: skip
    assert doc["currency"] == "USD" and doc["dataset_version"] == network.version
    assert (doc["status"], doc["time_limit_s"], doc["unexplored"]) == ("optimal", None, None)
    for option in doc["options"]:
        assert set(option) == {
            "summary", "total_cost", "departure", "arrival", "arrival_p90", "transit_hours",
            "co2e_kg", "modes", "product", "family", "legs",
        }  # fmt: skip
        assert option["total_cost"] == pytest.approx(sum(leg["cost"] for leg in option["legs"]))
        assert option["arrival_p90"] >= option["arrival"]
        for leg in option["legs"]:
            assert set(leg) == {
                "from", "to", "mode", "service", "depart", "arrive", "distance_km",
                "chargeable_kg", "cost", "charges", "co2e_kg",
            }  # fmt: skip
            assert leg["cost"] == pytest.approx(sum(c["amount"] for c in leg["charges"]))
            assert {c["kind"] for c in leg["charges"]} <= set(KINDS)


def test_a_batch_row_may_give_dates_alone(network: Network) -> None:
    """In a batch CSV, a date alone is a local day: the ready date's start at the origin, the
    deadline's end at the destination, as in the CLI and the API."""
    import pandas as pd

    from optimizer.routing import plan_batch, shipment_from_record

    row = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": "800",
           "volume_m3": "4.2", "ready_at": "2026-12-10", "deadline": "2027-01-31"}  # fmt: skip
    shipment = shipment_from_record(row, network)
    assert shipment.ready_at.isoformat() == "2026-12-10T00:00:00+08:00"
    assert shipment.deadline is not None
    assert shipment.deadline.isoformat() == "2027-01-31T23:59:59+01:00"
    result = plan_batch(network, pd.DataFrame([row, {**row, "ready_at": "2026-13-01"}]), workers=1)
    assert list(result["status"]) == ["planned", "invalid"]
    assert "ready_at: got '2026-13-01'" in result["error"].iloc[1]


def test_legs_name_the_services_of_the_timetable_searched_even_if_it_has_since_widened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search's departures are positions in the timetable it ran on. When another plan widens
    the network's timetable between this plan's search and its legs (a plan for another year,
    on another thread), the legs must still name the services that search took: read from the
    new timetable, the same positions name other trains."""
    from network_data import load_network
    from optimizer._compile import epoch_hours, routing_data
    from optimizer.routing import plan as plan_module

    shipment = Shipment("CNCTU-RLY", "PLLOD", 5000, 20, ready_at=datetime(2026, 11, 23, tzinfo=UTC))
    network = load_network()
    expected = [[leg.service for leg in o.legs] for o in plan_routes(network, shipment).options]
    assert any(service for services in expected for service in services)

    searched = plan_module.search_shipment

    def search_then_widen(*args: object, **kwargs: object) -> object:
        found = searched(*args, **kwargs)  # type: ignore[arg-type]
        data = routing_data(network)
        before = data.timetable
        year_before = epoch_hours(datetime(2025, 12, 1, tzinfo=UTC))
        assert data.ensure_timetable(year_before, year_before + 24) is not before
        return found

    monkeypatch.setattr(plan_module, "search_shipment", search_then_widen)
    widened = plan_routes(network, shipment)
    assert [[leg.service for leg in o.legs] for o in widened.options] == expected


def test_a_plan_is_the_same_whatever_window_the_timetable_was_built_over() -> None:
    """The timetable is built over a window around the dataset date and widened when a
    shipment needs more; which window it holds must not change a plan (the departures are
    the same dated trains, only their positions differ)."""
    from network_data import load_network
    from optimizer._compile import epoch_hours, routing_data

    shipment = Shipment("CNCTU-RLY", "PLLOD", 5000, 20, ready_at=datetime(2026, 11, 23, tzinfo=UTC))
    as_built = plan_routes(load_network(), shipment).to_dict()
    widened = load_network()
    data = routing_data(widened)
    data.ensure_timetable(
        epoch_hours(datetime(2025, 1, 1, tzinfo=UTC)), epoch_hours(datetime(2029, 6, 1, tzinfo=UTC))
    )
    assert data.timetable.start_day.year == 2024
    assert plan_routes(widened, shipment).to_dict() == as_built
    assert as_built["options"]


def test_a_p90_time_past_the_timetable_widens_it_instead_of_failing() -> None:
    """Labels are kept by their mean arrival; their p90 times, weeks later after a missed
    monthly sailing, look up departures past the search horizon. With the timetable ending
    there, the p90 departure was missing (infinite) and building the legs failed with
    OverflowError; the search now widens the timetable and finds the same journeys."""
    from network_data import load_network
    from optimizer._compile import epoch_hours, routing_data

    shipment = Shipment("TRIST", "MKT-NG", 5000, 20, ready_at=datetime(2027, 10, 12, tzinfo=UTC))
    planned = plan_routes(load_network(), shipment, horizon_days=60, every_journey=True)
    wide = load_network()
    routing_data(wide).ensure_timetable(
        epoch_hours(datetime(2026, 1, 1, tzinfo=UTC)), epoch_hours(datetime(2029, 6, 1, tzinfo=UTC))
    )
    expected = plan_routes(wide, shipment, horizon_days=60, every_journey=True)
    assert planned.to_dict() == expected.to_dict()
    assert max(o.legs[-1].arrive_p90 for o in planned.options) > datetime(2028, 1, 1, tzinfo=UTC)
