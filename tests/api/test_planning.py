"""Route plans on the event loop or on plan threads (:mod:`api.planning`, issue 23): the same
plans either way, and the loop free while a long plan runs on a thread."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio
import numpy as np
import pytest
from numba import config

from api import planning
from api.middleware import _QUEUE_DEADLINE
from api.planning import LOOP_BUDGET_S, Planner
from api.problems import ServerBusy
from network_data import Network, load_network
from optimizer.costs.line_haul import line_haul_costs, unit_costs
from optimizer.costs.search import label_search, lower_bounds
from optimizer.model import RoutePlan, Shipment
from optimizer.routing import plan_routes
from tests.test_synthetic import scaled

T = TypeVar("T")
READY = datetime(2026, 11, 23, 8, tzinfo=UTC)
SHIPMENTS = [
    Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=READY),
    Shipment("Anqing", "Hamburg", 3000, 15, ready_at=READY),
    Shipment("Chongqing", "Rotterdam", 12000, 40, ready_at=READY),
    Shipment("Chengdu", "Hamburg", 500, 2, ready_at=READY, deadline=READY + timedelta(days=2)),
]
LIMIT_S = 10.0


def _run(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``anyio.run(function, *args)`` on an event loop in a thread of its own: other tests
    (the browser's) leave the main thread looking as if asyncio ran in it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, function, *args).result()


@pytest.fixture(scope="module")
def tenfold() -> Network:
    return load_network(scaled(10))


async def _plan_counting_ticks(
    planner: Planner, network: Network, shipment: Shipment, time_limit_s: float = LIMIT_S
) -> tuple[RoutePlan, int]:
    """The plan, and how often another task on the same event loop ran meanwhile."""
    ticks, done = 0, False

    async def tick() -> None:
        nonlocal ticks
        while not done:
            await anyio.sleep(0)
            ticks += not done

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        plan = await planner.plan(network, shipment, time_limit_s=time_limit_s)
        done = True
    return plan, ticks


def _same_plan(plan: RoutePlan, network: Network, shipment: Shipment) -> None:
    assert plan.to_dict() == plan_routes(network, shipment, time_limit_s=LIMIT_S).to_dict()


@pytest.mark.parametrize("shipment", SHIPMENTS, ids=lambda s: f"{s.origin}-{s.destination}")
def test_a_quick_plan_runs_on_the_loop_and_says_the_limit_asked(
    network: Network, shipment: Shipment
) -> None:
    expected = plan_routes(network, shipment, time_limit_s=LIMIT_S).to_dict()
    planner = Planner(threads=1)
    plan, ticks = _run(_plan_counting_ticks, planner, network, shipment)
    assert ticks == 0  # the loop was held: no trip to a thread
    assert plan.time_limit_s == LIMIT_S
    assert plan.to_dict() == expected
    assert planner.pace_s(network) > 0  # counted


@pytest.mark.parametrize("shipment", SHIPMENTS, ids=lambda s: f"{s.origin}-{s.destination}")
def test_a_plan_that_outgrows_the_loop_budget_is_planned_again_on_a_thread(
    monkeypatch: pytest.MonkeyPatch, tenfold: Network, shipment: Shipment
) -> None:
    # A ten-times network's searches take milliseconds, far past this budget: each plan's
    # first search is cut short on the loop, and the plan is made again on a thread.
    monkeypatch.setattr(planning, "LOOP_BUDGET_S", 1e-5)
    planner = Planner(threads=1)
    plan, ticks = _run(_plan_counting_ticks, planner, tenfold, shipment)
    assert ticks > 0  # the loop ran while the plan was made
    assert plan.unexplored is None  # the thread's run went to the end
    _same_plan(plan, tenfold, shipment)
    assert planner.pace_s(tenfold) > planning.LOOP_BUDGET_S


def test_a_network_of_slow_plans_plans_on_threads_until_its_plans_are_quick(
    monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    # plans of a few ms are quick beside this, on any machine
    monkeypatch.setattr(planning, "LOOP_BUDGET_S", 0.5)
    plan_routes(network, SHIPMENTS[0])  # what a network's first plan builds, built
    planner = Planner(threads=1)
    for _ in range(3):
        planner.record(network, 10.0)
    ticks = [_run(_plan_counting_ticks, planner, network, SHIPMENTS[0])[1] for _ in range(6)]
    # the median of the latest plans' CPU times is a slow one's until quick ones outnumber them
    assert [t > 0 for t in ticks] == [True] * 4 + [False] * 2


def test_a_plan_whose_explanation_outgrows_the_loop_budget_is_planned_again(
    monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    """An infeasible shipment's plan runs more searches to say why (each relaxing a rule)
    after the first: budgets from a tenth of a millisecond to ten cut the first search, or one
    of those, or none, and the plan is the one made without a budget every time."""
    air_only = Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=READY,
                        allowed_modes=frozenset({"air"}))  # fmt: skip
    for shipment in (SHIPMENTS[3], air_only):
        expected = plan_routes(network, shipment, time_limit_s=LIMIT_S).to_dict()
        assert expected["infeasible_reason"] and "time limit" not in expected["infeasible_reason"]
        for budget_s in np.geomspace(1e-4, 1e-2, 15):
            monkeypatch.setattr(planning, "LOOP_BUDGET_S", float(budget_s))
            plan = _run(partial(Planner(threads=1).plan, network, shipment,
                                     time_limit_s=LIMIT_S))  # fmt: skip
            assert plan.to_dict() == expected, budget_s


def test_a_limit_below_the_loop_budget_is_kept_on_the_loop(network: Network) -> None:
    limit_s = LOOP_BUDGET_S / 1e6
    plan, ticks = _run(_plan_counting_ticks, Planner(threads=1), network, SHIPMENTS[2],
                            limit_s)  # fmt: skip
    assert ticks == 0
    assert plan.time_limit_s == limit_s
    assert plan.status.value in ("feasible", "timed_out")
    assert plan.unexplored is not None


def test_the_kernels_of_a_plan_release_the_gil() -> None:
    """What lets plan threads run side by side and the loop answer meanwhile
    (``benchmarks/scale_api.py`` measures it)."""
    if config.DISABLE_JIT:
        pytest.skip("plain Python functions with NUMBA_DISABLE_JIT=1")
    for kernel in (label_search, lower_bounds, line_haul_costs, unit_costs):
        assert kernel.targetoptions.get("nogil") is True, kernel


def test_plans_on_several_threads_at_once_are_the_plans_made_one_by_one(
    monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    monkeypatch.setattr(planning, "LOOP_BUDGET_S", 0.0)  # every plan on a thread
    planner = Planner(threads=3)
    shipments = SHIPMENTS * 3
    plans: list[RoutePlan | None] = [None] * len(shipments)

    async def plan_all() -> None:
        async def plan_one(k: int) -> None:
            plans[k] = await planner.plan(network, shipments[k], time_limit_s=LIMIT_S)

        async with anyio.create_task_group() as tasks:
            for k in range(len(shipments)):
                tasks.start_soon(plan_one, k)

    _run(plan_all)
    for plan, shipment in zip(plans, shipments, strict=True):
        assert plan is not None
        _same_plan(plan, network, shipment)


def test_a_plan_that_waited_too_long_for_a_plan_thread_is_refused(
    monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    monkeypatch.setattr(planning, "LOOP_BUDGET_S", 0.0)

    async def late_request() -> RoutePlan:
        _QUEUE_DEADLINE.set(time.monotonic() - 1)  # as the request's, long past
        return await Planner(threads=1).plan(network, SHIPMENTS[0], time_limit_s=1)

    with pytest.raises(ServerBusy, match="waited too long"):
        _run(late_request)
