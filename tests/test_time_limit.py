"""Route plans under a time limit: what a search stopped part way shows is exact, and what it
bounds holds, checked against the same plan searched to the end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.model import FrontJourney, RoutePlan
from optimizer.results import SolveStatus
from optimizer.routing import Shipment, plan_routes

MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)
#: Rounding of costs and CO2e summed in another order.
TOLERANCE = 1e-6


def linshui_duisburg() -> Shipment:
    return Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=MONDAY)


def same(a: FrontJourney, b: FrontJourney) -> bool:
    return (
        a.arrival == b.arrival
        and abs(a.cost_cny - b.cost_cny) <= TOLERANCE
        and abs(a.co2e_kg - b.co2e_kg) <= TOLERANCE
    )


def check_against_the_whole_search(stopped: RoutePlan, whole: RoutePlan) -> None:
    """What a plan stopped at its limit claims, checked journey by journey on the full front."""
    assert stopped.unexplored is not None and whole.unexplored is None
    least = stopped.unexplored
    missing = [j for j in whole.front if not any(same(j, f) for f in stopped.front)]
    for journey in missing:  # nothing it missed beats the bound, on any criterion
        assert journey.arrival >= least.arrival
        assert journey.cost_cny >= least.cost_cny - TOLERANCE
        assert journey.co2e_kg >= least.co2e_kg - TOLERANCE
    for journey in stopped.front:  # what it found before the bound is on the full front
        if (
            journey.arrival < least.arrival
            or journey.cost_cny < least.cost_cny - TOLERANCE
            or journey.co2e_kg < least.co2e_kg - TOLERANCE
        ):
            assert any(same(journey, w) for w in whole.front), journey
    assert stopped.bound is not None and stopped.bound <= least.cost_cny
    assert stopped.status == (SolveStatus.FEASIBLE if stopped.options else SolveStatus.TIMED_OUT)
    assert "stopped at its time limit" in stopped.warnings[0]


def test_a_plan_that_runs_to_the_end_is_unchanged_by_a_limit(network: Network) -> None:
    free = plan_routes(network, linshui_duisburg())
    limited = plan_routes(network, linshui_duisburg(), time_limit_s=60)
    assert limited.unexplored is None and limited.status == SolveStatus.OPTIMAL
    assert limited.front == free.front and limited.options == free.options
    assert limited.to_dict()["time_limit_s"] == 60


def test_a_search_stopped_at_once_finds_nothing_and_bounds_everything(network: Network) -> None:
    whole = plan_routes(network, linshui_duisburg())
    stopped = plan_routes(network, linshui_duisburg(), time_limit_s=1e-9)
    assert stopped.options == () and stopped.front == ()
    assert stopped.status == SolveStatus.TIMED_OUT
    assert "no complete route within its time limit" in (stopped.infeasible_reason or "")
    check_against_the_whole_search(stopped, whole)
    # the origin's own bounds: later than the ready time, dearer than nothing
    assert stopped.unexplored is not None and stopped.unexplored.arrival > MONDAY
    assert stopped.unexplored.cost_cny > 0 and stopped.unexplored.co2e_kg > 0
    document = stopped.to_dict("EUR")
    assert document["status"] == "timed_out"
    assert set(document["unexplored"]) == {"arrival", "cost", "co2e_kg"}


def test_searches_stopped_part_way_keep_what_they_claim(network: Network) -> None:
    plan_routes(network, linshui_duisburg())  # the network's arrays, built on first use
    whole = plan_routes(network, linshui_duisburg(), every_journey=True)
    assert len(whole.front) > 10
    partial = 0
    # The limit counts the searches alone, a part of the plan's time.
    for share in (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4):
        stopped = plan_routes(
            network, linshui_duisburg(), every_journey=True,
            time_limit_s=share * whole.runtime_s,
        )  # fmt: skip
        if stopped.unexplored is None:  # the machine was fast enough this time
            assert stopped.front == whole.front
            continue
        check_against_the_whole_search(stopped, whole)
        partial += bool(stopped.front)
    # The clock is read every 128 labels, a tenth of this search: some stop finds journeys.
    assert partial >= 1


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), True, "10"])
def test_a_bad_time_limit_names_the_field(network: Network, seconds: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        plan_routes(network, linshui_duisburg(), time_limit_s=seconds)  # type: ignore[arg-type]
    assert raised.value.field == "time_limit_s"
    assert "seconds > 0 (inf or None: no limit)" in str(raised.value)


def test_an_infinite_limit_is_none(network: Network) -> None:
    plan = plan_routes(network, linshui_duisburg(), time_limit_s=float("inf"))
    assert plan.unexplored is None and plan.front == plan_routes(network, linshui_duisburg()).front
