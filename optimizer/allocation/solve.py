"""Allocate demand to warehouses at least cost: one MIP, OR-Tools MathOpt with HiGHS.

The model is the strong formulation of the capacitated warehouse location problem with weeks,
several resources, bookings, a service level, fairness, single sourcing and a penalty for
unserved demand (see :mod:`optimizer.allocation._model`). Demand may be split between
warehouses unless single sourcing is asked for; warehouses with a fixed cost are opened by
binary decisions, linked to every share of demand they serve (``x <= y``), which keeps the LP
bound tight enough to prove optimality. On large instances (more than 20,000 such rows) a
Lagrangian relaxation picks the rows that matter and a start (:mod:`._lagrange`).
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict

import numpy as np

from optimizer._ortools import check_run_limits
from optimizer.allocation._lagrange import TIME_SHARE, prepare
from optimizer.allocation._model import Formulation, Solved, formulate, matrix, solve_matrix
from optimizer.allocation.problem import AllocationProblem
from optimizer.allocation.result import AllocationResult, Flow, Unserved, WarehouseWeek
from optimizer.errors import InvalidInputError
from optimizer.results import SolveStatus, relative_gap

#: Default relative gap at which HiGHS stops: small enough that an optimal value matches the
#: published optima of the OR-Library instances to 1e-6.
GAP_TOLERANCE = 1e-7
#: Shares of demand below this (relative to the demand) are solver noise and dropped.
_NOISE = 1e-7


#: Default time limit of an allocation, seconds (the CLI's and the job's default too).
TIME_LIMIT_S = 60.0


def solve_allocation(
    problem: AllocationProblem,
    *,
    time_limit_s: float = TIME_LIMIT_S,
    seed: int = 0,
    gap_tolerance: float = GAP_TOLERANCE,
) -> AllocationResult:
    """Decide which warehouse serves how much of each customer's demand in each week.

    Minimises the fixed costs of the warehouses used + the cost per unit of every flow +
    the penalty per unit of unserved demand, subject to capacity per warehouse, resource and
    week (bookings kept), the service level, fairness and single sourcing if asked for.

    Parameters
    ----------
    problem
        Warehouses, customers, costs and rules.
    time_limit_s
        Wall-clock limit for building and solving.
    seed
        Random seed of HiGHS; the same seed gives the same allocation.
    gap_tolerance
        Relative gap at which the solver may stop and call the allocation optimal.

    Returns
    -------
    AllocationResult
        Status, objective, proven bound and gap, flows per customer, warehouse and week.

    Examples
    --------
    Two customers of 6 units, warehouses of capacity 10: W1 (fixed 100) serves both at 1 and
    2 per unit, W2 (fixed 50) only c1 at 3. Both at W1 cannot be (12 > 10); W1 with c1 split
    is 100 + 6*2 (c2) + 4*1 + 2*3 (c1 rest from W2) + 50 = 172; c1 at W2 costs 50 + 18 + 100 +
    12 = 180. So 172:

    >>> from optimizer.allocation.problem import Customer, Warehouse
    >>> problem = AllocationProblem(
    ...     warehouses=(Warehouse("W1", (10.0,), 100.0), Warehouse("W2", (10.0,), 50.0)),
    ...     customers=(Customer("c1", (6.0,)), Customer("c2", (6.0,))),
    ...     cost_cny=((1.0, 3.0), (2.0, math.inf)))
    >>> result = solve_allocation(problem, time_limit_s=10)
    >>> result.status.value, round(result.objective, 6), result.open_warehouses
    ('optimal', 172.0, ('W1', 'W2'))
    >>> {k: round(v, 6) for k, v in sorted(result.assignments().items())}
    {('c1', 'W1'): 4.0, ('c1', 'W2'): 2.0, ('c2', 'W1'): 6.0}
    """
    check_run_limits(time_limit_s, seed)
    if (
        isinstance(gap_tolerance, bool)
        or not isinstance(gap_tolerance, int | float)
        or not 0 <= gap_tolerance < 1
    ):
        raise InvalidInputError("gap_tolerance", gap_tolerance, "a number in [0, 1)")
    if not isinstance(problem, AllocationProblem):
        raise InvalidInputError("problem", type(problem).__name__, "an AllocationProblem")
    start = time.perf_counter()
    log = bool(os.environ.get("SHUDAO_SOLVER_LOG"))
    form = formulate(problem)
    prepared = prepare(
        problem, form, deadline=start + TIME_SHARE * time_limit_s, seed=seed, log=log
    )
    # Keep back time to read the solution and build the result.
    reserve_s = min(1.0, 0.02 * time_limit_s)
    solved = solve_matrix(
        matrix(form, links=prepared.links),
        time_limit_s=time_limit_s - reserve_s - (time.perf_counter() - start),
        seed=seed,
        gap_tolerance=float(gap_tolerance),
        hint=prepared.hint,
        log=log,
    )
    return _result(problem, form, solved, prepared.bound, time.perf_counter() - start, seed)


def _result(
    problem: AllocationProblem,
    form: Formulation,
    solved: Solved,
    lp_bound: float,
    runtime_s: float,
    seed: int,
) -> AllocationResult:
    bound = max(solved.bound, lp_bound)
    names = [w.warehouse_id for w in problem.warehouses]
    if solved.values is None:
        if solved.status == SolveStatus.INFEASIBLE:
            bound = math.inf
        return AllocationResult(
            solved.status, math.inf, bound, math.inf, runtime_s, seed, (), (), (), 0.0, 0.0, 0.0
        )
    values = solved.values
    demand = problem.demand_array
    fixed = np.array([w.fixed_cost_cny for w in problem.warehouses])
    is_open = form.forced.copy()
    with_y = form.y_col >= 0
    is_open[with_y] |= values[form.y_col[with_y]] > 0.5
    always = (fixed == 0) & ~with_y
    n_x = len(form.x_customer)
    shares = values[form.x_start : form.x_start + n_x]
    quantity = shares * demand[form.x_customer, form.x_week]
    keep = (shares > _NOISE) & (is_open | always)[form.x_warehouse]
    costs = problem.cost_array
    flows = []
    served: dict[tuple[int, int], float] = defaultdict(float)
    used = np.zeros(len(names), dtype=np.bool_)
    for k in np.flatnonzero(keep):
        c, w, t = int(form.x_customer[k]), int(form.x_warehouse[k]), int(form.x_week[k])
        amount = float(quantity[k])
        flows.append(
            Flow(
                problem.customers[c].customer_id,
                names[w],
                t + 1,
                amount,
                float(amount * costs[c, w]),
            )
        )
        served[c, t] += amount
        used[w] = True
    is_open |= used
    unserved = []
    penalty = problem.unserved_penalty_cny
    if penalty is not None:
        for c, t in zip(*np.nonzero(demand > 0), strict=True):
            left = float(demand[c, t]) - served.get((int(c), int(t)), 0.0)
            if left > _NOISE * max(1.0, float(demand[c, t])):
                customer = problem.customers[int(c)].customer_id
                unserved.append(Unserved(customer, int(t) + 1, left, float(left * penalty)))
    fixed_cost = float(fixed[is_open].sum())
    flow_cost = float(sum(f.cost_cny for f in flows))
    penalty_cost = float(sum(u.penalty_cny for u in unserved))
    objective = fixed_cost + flow_cost + penalty_cost
    bound = float(min(bound, objective))
    gap = relative_gap(objective, bound) or 0.0
    return AllocationResult(
        status=solved.status,
        objective=objective,
        bound=bound,
        gap=gap,
        runtime_s=runtime_s,
        seed=seed,
        open_warehouses=tuple(n for n, o in zip(names, is_open, strict=True) if o),
        flows=tuple(flows),
        unserved=tuple(unserved),
        fixed_cost_cny=fixed_cost,
        flow_cost_cny=flow_cost,
        penalty_cny=penalty_cost,
        loads=_loads(problem, flows),
        breakdown_cny=_breakdown(problem, flows),
    )


def _loads(problem: AllocationProblem, flows: list[Flow]) -> tuple[WarehouseWeek, ...]:
    usage = {c.customer_id: np.array(c.usage) for c in problem.customers}
    index = {w.warehouse_id: k for k, w in enumerate(problem.warehouses)}
    planned = np.zeros(problem.capacity_array.shape)
    for flow in flows:
        planned[index[flow.warehouse_id], :, flow.week - 1] += usage[flow.customer_id] * (
            flow.quantity
        )
    return tuple(
        WarehouseWeek(
            w.warehouse_id,
            t + 1,
            tuple(float(v) for v in problem.capacity_array[k, :, t]),
            tuple(float(v) for v in problem.booked_array[k, :, t]),
            tuple(float(v) for v in planned[k, :, t]),
        )
        for k, w in enumerate(problem.warehouses)
        for t in range(problem.weeks)
    )


def _breakdown(problem: AllocationProblem, flows: list[Flow]) -> dict[str, float]:
    if not problem.lanes:
        return {}
    lanes = {(lane.customer_id, lane.warehouse_id): lane for lane in problem.lanes}
    parts = {"inbound_cny": 0.0, "storage_cny": 0.0, "handling_cny": 0.0, "last_mile_cny": 0.0}
    for flow in flows:
        lane = lanes.get((flow.customer_id, flow.warehouse_id))
        if lane is None:
            continue
        for name in parts:
            parts[name] += flow.quantity * float(getattr(lane, name))
    return parts
