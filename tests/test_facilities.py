"""The facilities the pilot zones' plans name (issue 18 item 2 and 3): operating ones in plans,
planned ones set aside until a scenario opens them, and README's seeds-to-network table in step
with the dataset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from network_data import Network, UnknownPlaceError
from network_data.status import opening
from optimizer.costs.reference import reference_next_departure
from optimizer.routing import Shipment, plan_routes
from scenarios.changes import apply_changes
from scenarios.spec import Change, ScenarioError, load_scenario

READY = datetime(2026, 12, 7, 8, tzinfo=UTC)
README = Path(__file__).parents[1] / "README.md"


def _plan(network: Network, origin: str, destination: str, modes: set[str]) -> list:
    shipment = Shipment(origin, destination, 8_000, 30, ready_at=READY, allowed_modes=modes)
    return plan_routes(network, shipment).options


def test_plans_use_operating_facilities_only(network: Network) -> None:
    planned = network.planned
    assert {"CN-GUANGAN-APT", "CNMYG-CRX", "CN-GUANGAN-DRY"} <= set(planned.nodes.index)
    assert not set(planned.nodes.index) & set(network.nodes.index)
    assert not set(planned.corridors.index) & set(network.graph.edges(keys=True).__iter__())
    # a corridor declared operating waits on its planned end: the airport's road link
    assert planned.corridors.at["ROAD-CN-GUANGAN-APT-CN-GUANGAN", "status"] == "planned"
    # a planned service on a planned corridor, none of either among the operating
    assert not network.services["corridor_id"].isin(planned.corridors.index).any()
    assert set(network.nodes["status"]) == {"operating"}


def test_summary_counts_nodes_by_status(network: Network) -> None:
    summary = network.summary()
    assert summary["nodes_by_status"] == {
        "operating": len(network.nodes),
        "planned": int((network.planned.nodes["status"] == "planned").sum()),
        "under_construction": 1,  # Anqing's comprehensive bonded zone
    }
    listed = {row["id"]: row for row in summary["not_operating"]}
    assert listed["CNAQG-CBZ"]["status"] == "under_construction"
    assert listed["RAIL-CNDAX-RLY-CNQZH"]["what"] == "corridor"
    # a planned node stands for its own road links
    assert "ROAD-CN-GUANGAN-APT-CN-GUANGAN" not in listed


def test_a_planned_place_is_named_as_such(network: Network) -> None:
    with pytest.raises(UnknownPlaceError, match=r"Guang'an Airport .*CN-GUANGAN-APT.*planned"):
        network.find_node("广安机场")


def test_opening_brings_what_a_facility_needs_and_what_runs_on_it(network: Network) -> None:
    opened = opening(network.planned, ["RAIL-CNMYG-CRX-CNHRS"])
    assert opened.nodes == ["CNMYG-CRX"]  # its end
    assert "RAIL-CNHRS-CNMYG-CRX" in opened.corridors  # its return
    assert "ROAD-CNMYG-CRX-CNMYG" in opened.corridors  # the opened node's road links
    assert "S-RAIL-CNMYG-CRX-CNHRS-1" in opened.services  # its timetable
    assert opening(network.planned, opening_by=2000) == ([], [], [])
    with pytest.raises(KeyError, match="not a planned"):
        opening(network.planned, ["CNCTU"])


def test_a_scenario_opens_planned_facilities(network: Network) -> None:
    changed = apply_changes(network, load_scenario("guangan_airport").changes).network
    assert {"CN-GUANGAN-APT", "CN-GUANGAN-AIRPARK"} <= set(changed.nodes.index)
    assert changed.corridors.at["AIR-CN-GUANGAN-APT-CNSHA-PVG", "departures_per_week"] == 7
    assert "CN-GUANGAN-APT" not in changed.planned.nodes.index
    assert "CNMYG-CRX" in changed.planned.nodes.index  # the others still wait
    for ids, expected in (
        (["NOWHERE"], "planned or under-construction"),
        (["CNCTU"], "it operates already"),
    ):
        with pytest.raises(ScenarioError, match=rf"changes\[0\]\.open\.ids\[0\].*{expected}"):
            apply_changes(network, [Change.model_validate({"open": {"ids": ids}})])


def test_mianyang_own_china_europe_train_in_its_scenario(network: Network) -> None:
    """Mianyang -> Almaty: trucked to Chengdu's railport today; from Mianyang's own station
    when the scenario opens it, cheaper for the week's wait."""
    today = _plan(network, "Mianyang", "Almaty", {"road", "rail"})
    assert today and all("CNMYG-CRX" not in (leg.origin for leg in option.legs) for option in today)
    changed = apply_changes(network, load_scenario("mianyang_china_europe").changes).network
    options = _plan(changed, "Mianyang", "Almaty", {"road", "rail"})
    own = [o for o in options if any(leg.origin == "CNMYG-CRX" for leg in o.legs)]
    assert own and own[0].cost_cny < min(o.cost_cny for o in today)
    assert own[0].legs[1].corridor_id == "RAIL-CNMYG-CRX-CNHRS"


def test_anhui_rail_without_a_cross_country_truck(network: Network) -> None:
    """From Anqing and Wuhu to Europe by rail: Hefei's and Wuhu's own trains, not 1,400 km of
    road to Chongqing's railport first."""
    for origin, destination, terminal in (
        ("Anqing", "Hamburg", "CNHFE-RLY"),
        ("Wuhu", "Duisburg", "CNWHI-RLY"),
    ):
        options = _plan(network, origin, destination, {"road", "rail"})
        assert options, (origin, destination)
        best = min(options, key=lambda o: o.cost_cny)
        road_km = sum(leg.distance_km for leg in best.legs if leg.mode == "road")
        assert road_km < 250, (origin, road_km)
        first_rail = next(leg for leg in best.legs if leg.mode == "rail")
        assert first_rail.origin == terminal


def test_dazhou_laos_train_runs_once_every_four_weeks(network: Network) -> None:
    first = reference_next_departure(network, "RAIL-CNDAX-RLY-CNKMG", READY)
    assert first is not None
    second = reference_next_departure(network, "RAIL-CNDAX-RLY-CNKMG", first[0] + timedelta(days=1))
    assert second is not None and second[0] - first[0] == timedelta(days=28)
    assert network.corridors.at["RAIL-CNDAX-RLY-CNKMG", "departures_per_week"] == 0.25


def _readme_rows() -> list[tuple[str, str, list[str], str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index("### What the pilot zones' plans name")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"00\d", cells[0]):
            rows.append((cells[0], cells[1], re.findall(r"`([^`]+)`", cells[2]), cells[3]))
    return rows


def _status_of(network: Network, item: str) -> str | None:
    if item in network.nodes.index or item in network.corridors.index:
        return "operating"
    if item in set(network.services["service_id"]) or item in network.through_services.index:
        return "operating"
    found = network.planned.status_of(item)
    if found is not None:
        return found[0].replace("_", " ")
    if item in network.planned.through_services.index:
        return "planned"
    return None


def test_readme_seed_table_matches_the_dataset(network: Network) -> None:
    rows = _readme_rows()
    assert {seed for seed, *_ in rows} == {"000", "001", "002", "003", "004"}
    named: set[str] = set()
    for seed, what, ids, status in rows:
        if status == "not modelled":
            assert not ids, what
            continue
        assert ids, what
        for item in ids:
            assert _status_of(network, item) == status, (seed, what, item)
        named.update(ids)
    # every facility that waits is in the table, as is every node a seed brought
    planned = network.planned
    waiting = planned.corridors[
        (planned.corridors["reverse_of"] == "")
        & ~planned.corridors["origin"].isin(planned.nodes.index)
        & ~planned.corridors["destination"].isin(planned.nodes.index)
    ]
    assert set(planned.nodes.index) <= named
    assert set(waiting.index) <= named
    seed_keys = {"GA-APT", "GA-DRY", "GAOZHU", "GA-ETDZ", "GA-COUNTY", "DZ-COUNTY", "MY-CRX",
                 "WHI-CRX", "WHI-EXP", "WHI-PLAN", "AQG-EXP", "AQG-CBZ", "HFE-CRX"}  # fmt: skip
    nodes = pd.concat([network.nodes, planned.nodes])
    from_seeds = nodes.index[nodes["source"].map(lambda keys: bool(seed_keys & set(keys)))]
    assert set(from_seeds) <= named
