"""Every solver's result answers :class:`optimizer.results.SolverResult` (issue 22): status,
objective, bound, gap, runtime and seed read the same way, on instances with known optima; a
route plan too (its objective the cheapest option shown, its bound the cheapest journey)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from network_data import Network
from optimizer import quotable, results
from optimizer.allocation import solve_allocation
from optimizer.consolidation.bin_packing import solve_bin_packing
from optimizer.first_mile import BACKENDS, solve_pickups
from optimizer.model import RoutePlan, Shipment
from optimizer.results import SolverResult, SolveStatus, relative_gap
from optimizer.routing import plan_routes
from tests.test_allocation import two_warehouses
from tests.test_consolidation import lot
from tests.test_consolidation import solve as solve_lots
from tests.test_first_mile import line_problem


def assert_reads_as_a_run(
    result: object,
    seed: int,
    optimum: float,
    status: SolveStatus = SolveStatus.OPTIMAL,
    *,
    document_reports_run: bool = True,
) -> None:
    """The protocol's figures, each against what the result says in its own words (a route
    plan's document is the forwarder's quote: it does not report the run)."""
    assert isinstance(result, SolverResult)
    assert result.status is status
    assert result.objective == pytest.approx(optimum, rel=1e-6)
    assert result.bound is None or result.bound <= result.objective + 1e-6 * abs(optimum)
    assert result.gap == relative_gap(result.objective, result.bound)
    assert result.runtime_s >= 0 and result.seed == seed
    document = result.to_dict()
    if document_reports_run:
        assert document["status"] == status.value and document["seed"] == seed
    assert result.to_dict() == document  # presentation only: reading it changes nothing


def test_allocation() -> None:
    # A holds 10 of the 14 units at cost 1; the other 4 go to B: c2's cost 3 there beats
    # c1's 2, so c1 sends 4 to B: 10 x 1 + 4 x 2 = 18
    result = solve_allocation(two_warehouses(10.0), time_limit_s=20, seed=5)
    assert_reads_as_a_run(result, 5, 18.0)
    assert result.bound == pytest.approx(18.0) and result.gap == pytest.approx(0.0, abs=1e-7)


def test_bin_packing() -> None:
    # 4 + 4 and 3 + 3 + 2 fill two bins of 8 exactly
    result = solve_bin_packing([4, 4, 3, 3, 2], 8, time_limit_s=5, seed=2)
    assert_reads_as_a_run(result, 2, 2.0)
    assert (result.bound, result.gap, result.to_dict()["bins"]) == (2.0, 0.0, result.bins)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickups(backend: str) -> None:
    # one truck from km 0 sweeps posts at km 10 and 30 and comes back: 60 km at CNY 1; the
    # routing heuristics prove no bound, so the run is feasible with no gap
    problem = line_problem({"a": 10, "b": 30})
    result = solve_pickups(problem, time_limit_s=2, seed=4, backend=backend, max_iterations=200)
    assert_reads_as_a_run(result, 4, 60.0, SolveStatus.FEASIBLE)
    assert result.bound is None and result.gap is None and result.to_dict()["gap"] is None


def test_consolidation(network: Network) -> None:
    _, result = solve_lots(network, [lot(i) for i in range(6)])
    assert_reads_as_a_run(result, 3, result.objective_cny)
    assert (result.objective, result.bound) == (result.objective_cny, result.bound_cny)
    assert result.gap == pytest.approx(0.0, abs=1e-4)


def test_relative_gap_without_a_solution() -> None:
    assert results.relative_gap(math.inf, 10.0) == math.inf


def _plan(
    network: Network, origin: str, destination: str, kg: float, m3: float, **extra: Any
) -> RoutePlan:
    ready = datetime(2027, 1, 3, 13, tzinfo=UTC)
    return plan_routes(network, Shipment(origin, destination, kg, m3, ready_at=ready, **extra))


def test_route_plan_showing_its_cheapest_journey_is_optimal(network: Network) -> None:
    plan = _plan(network, "Linshui", "Duisburg", 800, 4.2)
    assert_reads_as_a_run(plan, 0, min(j.cost_cny for j in plan.front), document_reports_run=False)
    assert plan.objective == min(o.cost_cny for o in plan.options)
    assert plan.gap == pytest.approx(0.0, abs=1e-12) and plan.runtime_s > 0


def test_route_plan_hiding_its_cheapest_journey_is_feasible_with_the_gap(network: Network) -> None:
    """Anqing's barge terminal to Germany, 14.6 t: the cheapest journey, river-sea via the
    Cape, is sold by no carrier as one product; the plan's cheapest option is dearer, and the
    gap is what quoting only sold products costs."""
    plan = _plan(network, "CNAQG-BLC", "MKT-DE", 14_617.8, 64.91)
    cheapest = plan.front[0]
    assert (cheapest.hidden, cheapest.family) == (
        quotable.NOT_SOLD, "inland_water+sea+inland_water via the Cape",
    )  # fmt: skip
    shown = min(o.cost_cny for o in plan.options)
    assert_reads_as_a_run(plan, 0, shown, SolveStatus.FEASIBLE, document_reports_run=False)
    assert plan.bound == cheapest.cost_cny < plan.objective
    assert plan.gap == pytest.approx((shown - cheapest.cost_cny) / shown)


def test_route_plan_without_options_is_infeasible(network: Network) -> None:
    plan = _plan(network, "CNCTU-TFU", "SGSIN-SIN", 300, 1, cargo_class="battery",
                 allowed_modes=frozenset({"air"}))  # fmt: skip
    assert plan.infeasible_reason and "lithium batteries" in plan.infeasible_reason
    assert (plan.status, plan.objective, plan.bound, plan.gap) == (
        SolveStatus.INFEASIBLE, math.inf, None, None,
    )  # fmt: skip
    assert isinstance(plan, SolverResult)
