"""Plans a forwarder would quote (issue 17, item 1), on the bundled network: the absurd options
the issue names are gone, shown options differ meaningfully, and the full front stays."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from network_data import Network, load_network
from network_data.load import BUNDLED_DATA_DIR
from optimizer.model import RouteOption, Shipment
from optimizer.quotable import BARELY_DIFFERENT, NOT_SOLD, Candidate, Similarity
from optimizer.routing import plan_routes

READY = datetime(2026, 12, 7, 8, tzinfo=UTC)


def ship(origin: str, destination: str, weight_kg: float, volume_m3: float) -> Shipment:
    return Shipment(origin, destination, weight_kg, volume_m3, ready_at=READY)


def main_modes(option: RouteOption) -> list[str]:
    """Modes of the option's legs longer than drayage, in order, repeats merged."""
    modes: list[str] = []
    for leg in option.legs:
        if leg.mode == "road" and leg.distance_km <= 150:
            continue
        if not modes or modes[-1] != leg.mode:
            modes.append(leg.mode)
    return modes


@pytest.mark.parametrize(
    ("origin", "destination", "weight_kg", "volume_m3"),
    [
        ("Chongqing", "CNSHA-YSN", 5_600, 25),
        ("Linshui", "Duisburg", 800, 4.2),
        ("Chengdu", "HUBUD", 3_000, 15),
        ("CNDAX-RLY", "CNFAN", 5_000, 20),
        ("Anqing", "Hamburg", 3_000, 15),
    ],
)
def test_no_named_absurd_option_is_shown(
    network: Network, origin: str, destination: str, weight_kg: float, volume_m3: float
) -> None:
    plan = plan_routes(network, ship(origin, destination, weight_kg, volume_m3))
    assert plan.options, plan.infeasible_reason
    visited = {leg.destination for option in plan.options for leg in option.legs}
    if destination == "CNSHA-YSN":
        assert "DEFRA-FRA" not in visited  # no flight through Frankfurt to reach Shanghai
    if destination == "CNFAN":
        # by road from Qinzhou or Nanning since issue 18, never by sea round Vietnam
        assert "VNSGN" not in visited
    for option in plan.options:
        modes = main_modes(option)
        # Nothing flies to a hub to go on by rail, sea or river (Almaty, Budapest).
        after_air = modes[modes.index("air") + 1 :] if "air" in modes else []
        assert not set(after_air) & {"rail", "sea", "inland_water"}, option.summary
        assert option.product is not None and option.family
    similarity = Similarity()
    for a in plan.options:
        for b in plan.options:
            if a is not b:
                assert not similarity.covers(_candidate(a), _candidate(b)), (
                    f"{b.summary} is barely different from {a.summary}"
                )


def _candidate(option: RouteOption) -> Candidate:
    return Candidate(
        option.cost_cny, (option.arrival - READY).total_seconds() / 3600, option.co2e_kg
    )


def test_a_rail_option_is_offered_for_anqing_to_hamburg_by_default(network: Network) -> None:
    """It appeared only with max_options 20 before."""
    plan = plan_routes(network, ship("Anqing", "Hamburg", 3_000, 15))
    assert len(plan.options) <= 5
    assert any(option.product == "RAIL" for option in plan.options)


def test_no_option_goes_far_out_of_its_way_over_land(network: Network) -> None:
    """Anqing to Hamburg: trucking east to Ningbo to rail back west through Chongqing (2,334 km
    to cover 1,027), or by road through Shanghai to Chengdu (2,480 km for 1,330), is a detour;
    the rail options start with the 199 km truck to Hefei's China-Europe trains (issue 18),
    not 1,338 km of the G50 to the Chongqing railport."""
    plan = plan_routes(network, ship("Anqing", "Hamburg", 3_000, 15), every_journey=True)
    for option in plan.options:
        path = [leg.corridor_id for leg in option.legs]
        if "RAIL-CNNGB-CNCKG-RLY" in path or "ROAD-CNSHA-YSN-CNCTU" in path:
            assert option.hidden == ("not sold" if option.product is None else "doubles back")
    rail = [o for o in plan.options if o.product == "RAIL" and o.hidden is None]
    assert rail and all(o.legs[0].corridor_id == "ROAD-CNAQG-CNHFE-RLY" for o in rail)


def test_no_option_comes_back_to_where_it_has_been(network: Network) -> None:
    """Chongqing port to Rotterdam, 8 t / 30 m3: the flight to Liège was trucked to a
    warehouse nearby and back to the airport before Rotterdam, a loop that saved part of a
    truck's fixed charge. It is hidden as doubling back and a flight without it is shown."""
    plan = plan_routes(network, ship("CNCKG-PRT", "NLRTM", 8_000, 30), every_journey=True)
    loops = 0
    for option in plan.options:
        places = [option.legs[0].origin] + [leg.destination for leg in option.legs]
        if len(set(places)) < len(places):
            loops += 1
            assert option.hidden in ("not sold", "doubles back"), option.summary
    assert loops >= 1
    shown = [o for o in plan.options if o.hidden is None]
    assert any(o.product == "AIR" for o in shown)


def test_the_whole_front_stays_with_why_each_journey_is_hidden(network: Network) -> None:
    shipment = ship("Linshui", "Duisburg", 800, 4.2)
    plan = plan_routes(network, shipment)
    everything = plan_routes(network, shipment, every_journey=True)
    assert len(plan.front) == len(everything.front) == len(everything.options)
    shown = [j for j in plan.front if j.hidden is None]
    assert len(shown) == len(plan.options)
    assert {j.hidden for j in plan.front} - {None} <= {NOT_SOLD, BARELY_DIFFERENT, "doubles back",
                                                       "beyond max_options"}  # fmt: skip
    assert [o.hidden for o in everything.options] == [j.hidden for j in plan.front]
    document = plan.to_dict()
    assert len(document["front"]) == len(plan.front)
    assert sum(j["shown"] for j in document["front"]) == len(document["options"])


def test_nothing_quotable_says_so(tmp_path: Path) -> None:
    """On a dataset whose only product is ocean freight, Chengdu -> Lodz by rail is found but
    not offered: the plan says so, names what it found, and keeps the front."""
    shutil.copytree(BUNDLED_DATA_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "products.csv").write_text("id,name,chain,source\nSEA,Ocean freight,sea,PROD\n")
    shipment = Shipment("CNCTU-RLY", "PLLOD", 800, 4.2, ready_at=READY,
                        allowed_modes=frozenset({"rail", "road"}))  # fmt: skip
    plan = plan_routes(load_network(tmp_path), shipment)
    assert plan.front and not plan.options
    assert all(j.hidden == NOT_SOLD for j in plan.front)
    assert (plan.infeasible_reason or "").startswith(f"the {len(plan.front)} Pareto-best journeys")
    assert "rail via Alashankou" in (plan.infeasible_reason or "")
    assert f"{len(plan.front)} are no product a forwarder sells" in (plan.infeasible_reason or "")
