"""Where a route plan runs: on the event loop, or on a thread of its own when it takes long.

On the bundled network a plan takes a few milliseconds, less than a trip to a worker thread
and back costs (:func:`api.main._serve_lean`), so it runs on the event loop. On a network a
hundred times larger it takes up to its time limit (10 s by default), and on the loop it would
hold every other request of the process that long, health probes included. So a plan runs on
the loop only where this process's latest plans on the same network took less than
:data:`LOOP_BUDGET_S` of CPU (the median of the last few, so that neither a network's first
plan, which builds what later plans reuse, nor a rare slow one moves it), and its searches
there get that budget; a plan whose searches use it up is planned again, from the start, on a
plan thread with the time limit asked, as are all plans on a network whose plans take longer.
The budget bounds the searches only: widening the timetable for a ready date far from the
others, or building the options of a plan asked for every journey, still runs on the loop.
The label search releases the GIL, so the loop keeps answering meanwhile, and plan threads
use more than one core. A plan that has not reached a plan thread by
``SHUDAO_REQUEST_QUEUE_SECONDS`` after its request arrived is answered 503, as a request
waiting for a worker thread is.
"""

from __future__ import annotations

import functools
import statistics
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import anyio
import anyio.to_thread

from api.middleware import check_queue_deadline
from network_data import Network
from optimizer.model import RoutePlan, Shipment
from optimizer.routing import plan_routes

#: The longest a plan's searches may hold the event loop, s, and the CPU time of a network's
#: plans above which they go to plan threads. On a network ten times the bundled one, whose
#: plans take 15-25 ms, 20 ms left half of them on the loop, where a health probe waited
#: behind them (p99 200 ms) and they could not use the second core (benchmarks/scale_api.py).
LOOP_BUDGET_S = 0.01
#: How many of a network's latest plans' CPU times the pace is the median of.
_RECENT_PLANS = 9


class Planner:
    """Plans route plans on the event loop or on at most ``threads`` plan threads.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> ready = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    >>> shipment = Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=ready)
    >>> planner = Planner(threads=1)
    >>> async def endpoint() -> RoutePlan:  # as a request's handler awaits it
    ...     return await planner.plan(network, shipment, time_limit_s=10)
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1) as pool:  # an event loop of its own, in a thread of its own
    ...     plan = pool.submit(anyio.run, endpoint).result()
    >>> plan.status.value, plan.time_limit_s
    ('optimal', 10)
    """

    def __init__(self, threads: int) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self._recent_s: weakref.WeakKeyDictionary[Network, deque[float]] = (
            weakref.WeakKeyDictionary()
        )

    def pace_s(self, network: Network) -> float:
        """The median CPU time of this process's latest plans on ``network``, s (0 before any).

        CPU time, not the time between start and answer: a plan that waited for a plan thread
        or for the GIL has not taken longer to make, and counting the wait would keep quick
        plans off the loop for as long as the load lasts."""
        recent = self._recent_s.get(network)
        return statistics.median(recent) if recent else 0.0

    async def plan(
        self,
        network: Network,
        shipment: Shipment,
        *,
        time_limit_s: float,
        every_journey: bool = False,
    ) -> RoutePlan:
        """:func:`optimizer.routing.plan_routes` of the shipment, run where the module says."""
        run = functools.partial(plan_routes, network, shipment, every_journey=every_journey)
        if self.pace_s(network) < LOOP_BUDGET_S:
            budget_s = min(time_limit_s, LOOP_BUDGET_S)
            begun_s, begun_cpu_s = time.perf_counter(), time.thread_time()
            plan = run(time_limit_s=budget_s)
            if budget_s == time_limit_s or not _maybe_stopped(plan, time.perf_counter() - begun_s):
                self.record(network, time.thread_time() - begun_cpu_s)
                # it ran to the end, as it would have under the limit asked
                return replace(plan, time_limit_s=time_limit_s)
        plan, cpu_s = await anyio.to_thread.run_sync(
            _on_a_plan_thread, functools.partial(run, time_limit_s=time_limit_s),
            limiter=self.limiter,
        )  # fmt: skip
        self.record(network, cpu_s)
        return plan

    def record(self, network: Network, cpu_s: float) -> None:
        """Count a plan on ``network`` that took ``cpu_s`` seconds of CPU in its pace."""
        self._recent_s.setdefault(network, deque(maxlen=_RECENT_PLANS)).append(cpu_s)


def _on_a_plan_thread(run: Callable[[], RoutePlan]) -> tuple[RoutePlan, float]:
    """``run()`` and the CPU seconds it took, unless the request has waited longer than the
    server allows since it arrived (:func:`api.middleware.check_queue_deadline`: 503, as for
    any worker thread)."""
    check_queue_deadline()
    begun_cpu_s = time.thread_time()
    plan = run()
    return plan, time.thread_time() - begun_cpu_s


def _maybe_stopped(plan: RoutePlan, took_s: float) -> bool:
    """Whether the plan's searches may have stopped at the loop's budget: they did when
    something is left unexplored; a plan without an option that took the budget may have had
    the search explaining why cut short."""
    return plan.unexplored is not None or (not plan.options and took_s >= LOOP_BUDGET_S)
