"""Large instances: a Lagrangian relaxation picks the linking rows, gives a bound and a start.

With many customers and warehouses with fixed costs, the strong formulation has a linking row
``x[c, w, t] <= y[w]`` for every share of demand and warehouse (100,000 in OR-Library's
``capa``), and its LP relaxation alone takes HiGHS minutes. Few of those rows matter: those
where the LP would use a warehouse for more than it opens. Relaxing the demand rows with
multipliers ``lam`` splits the problem into one continuous knapsack per warehouse and week
(take the shares of demand with ``lam > cost`` best ratio first until capacity; open the
warehouse when that pays its fixed cost). Subgradient steps on ``lam`` approach the strong LP
bound. Linking rows go to the shares worth taking at the best multipliers (``lam >= cost``)
and to those the knapsacks took in the last iterations; on ``capa`` that is a quarter of the
rows, and the LP bound stays that of the strong formulation. Every other share keeps its
column, linked only through the capacity row, so the MIP stays exact.

The same relaxation gives a proven lower bound when there is one resource (the knapsack is
then solved exactly; the service, fairness and aggregate rows are dropped, which only lowers
it), and a start for the MIP: the warehouses the relaxation opened most often (more while
capacity is short), the flows by LP, then closing or swapping warehouses while that pays."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optimizer.allocation._model import (
    BoolArray,
    FloatArray,
    Formulation,
    IntArray,
    matrix,
    solve_matrix,
)
from optimizer.allocation.problem import AllocationProblem
from optimizer.results import SolveStatus

#: Instances with at most this many strong linking rows get all of them.
FULL_LINKING_MAX = 20_000
#: Subgradient iterations; linking rows go to the shares taken in the last quarter of them.
ITERATIONS = 300
LAST_SHARE = 0.25
#: Share of the time limit the relaxation and the start may take.
TIME_SHARE = 0.25
#: Step control: the target exceeds the best bound by this share; the step halves after this
#: many iterations without a better bound.
TARGET_MARGIN = 0.01
PATIENCE = 20
#: The start's local search: at most this many LPs, swapping with this many closed warehouses.
MOVES = 40
SWAP_CANDIDATES = 5


@dataclass
class Preparation:
    """What the MIP gets: its linking rows, a proven bound (or -inf) and a start (or None)."""

    links: IntArray
    bound: float
    hint: FloatArray | None


@dataclass
class _Relaxation:
    bound: float
    multipliers: FloatArray
    #: Per x column: the last iteration whose knapsacks took it (-1: never).
    last_taken: IntArray
    iterations: int
    #: Per warehouse: fixed cost minus what its knapsacks earn at the best multipliers.
    reduced_fixed: FloatArray
    #: Per warehouse: the share of the iterations in the second half that opened it.
    opened: FloatArray


class _Knapsacks:
    """The arrays of the relaxed problem: x columns grouped by warehouse and week."""

    def __init__(self, problem: AllocationProblem, form: Formulation) -> None:
        n_x = len(form.x_customer)
        self.n_rows = int((form.demand_row >= 0).sum())
        self.x_cost = form.cost[form.x_start : form.x_start + n_x]
        self.x_row = form.demand_row[form.x_customer, form.x_week]
        self.x_warehouse = form.x_warehouse
        n_u = len(form.u_customer)
        self.u_cost = form.cost[form.u_start : form.u_start + n_u]
        self.u_row = form.demand_row[form.u_customer, form.u_week]
        demand = problem.demand_array[form.x_customer, form.x_week]
        usage = np.array([c.usage for c in problem.customers])[form.x_customer]
        free = (problem.capacity_array - problem.booked_array)[form.x_warehouse, :, form.x_week]
        need = usage * demand[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.isinf(free) | (need == 0), 0.0, need / free)
        # Several resources: the scarcest one decides (exact for one resource).
        self.weight = np.nan_to_num(share, nan=math.inf, posinf=math.inf).max(axis=1)
        self.group = form.x_warehouse * problem.weeks + form.x_week
        n_w = len(problem.warehouses)
        self.n_w = n_w
        self.has_y = form.y_col >= 0
        self.fixed = np.zeros(n_w)
        self.fixed[form.y_warehouse] = form.cost[: form.z_start]
        self.constant = form.constant

    def solve(self, multipliers: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        """Bound, x values, u values and reduced fixed costs at ``multipliers``."""
        profit = multipliers[self.x_row] - self.x_cost
        items = np.flatnonzero((profit > 0) & np.isfinite(self.weight))
        taken = np.zeros(len(profit))
        if len(items):
            ratio = profit[items] / np.maximum(self.weight[items], 1e-300)
            order = items[np.lexsort((-ratio, self.group[items]))]
            groups, weights = self.group[order], self.weight[order]
            filled = np.cumsum(weights)
            starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
            offset = np.repeat(filled[starts] - weights[starts], np.diff(np.r_[starts, len(order)]))
            before = filled - weights - offset
            with np.errstate(divide="ignore", invalid="ignore"):
                fraction = np.clip((1.0 - before) / weights, 0.0, 1.0)
            fraction[weights == 0] = 1.0
            taken[order] = fraction
        earned = np.bincount(self.x_warehouse, weights=taken * profit, minlength=self.n_w)
        reduced = self.fixed - earned
        is_open = ~self.has_y | (reduced < 0)
        taken *= is_open[self.x_warehouse]
        u_value = (self.u_cost - multipliers[self.u_row] < 0).astype(np.float64)
        bound = (
            float(multipliers.sum())
            + float(np.minimum(reduced[self.has_y], 0.0).sum())
            - float(earned[~self.has_y].sum())
            + float(np.minimum(self.u_cost - multipliers[self.u_row], 0.0).sum())
            + self.constant
        )
        return bound, taken, u_value, reduced


def _subgradient(knapsacks: _Knapsacks, deadline: float) -> _Relaxation:
    multipliers = np.full(knapsacks.n_rows, math.inf)
    np.minimum.at(multipliers, knapsacks.x_row, knapsacks.x_cost)
    np.minimum.at(multipliers, knapsacks.u_row, knapsacks.u_cost)
    multipliers[~np.isfinite(multipliers)] = 0.0
    best, best_multipliers = -math.inf, multipliers.copy()
    last_taken = np.full(len(knapsacks.x_cost), -1, dtype=np.int64)
    step_scale, stall, done = 2.0, 0, 0
    opened = np.zeros(knapsacks.n_w)
    for iteration in range(ITERATIONS):
        if time.perf_counter() >= deadline:
            break
        bound, taken, u_value, reduced = knapsacks.solve(multipliers)
        done = iteration + 1
        if iteration >= ITERATIONS // 2:
            opened += reduced < 0
        last_taken[taken > 0] = iteration
        if bound > best + 1e-9 * abs(best) or not math.isfinite(best):
            best, best_multipliers, stall = bound, multipliers.copy(), 0
        else:
            stall += 1
            if stall >= PATIENCE:
                step_scale, stall = step_scale / 2, 0
        slack = 1.0 - np.bincount(knapsacks.x_row, weights=taken, minlength=knapsacks.n_rows)
        slack -= np.bincount(knapsacks.u_row, weights=u_value, minlength=knapsacks.n_rows)
        norm = float((slack**2).sum())
        if norm == 0:  # the relaxed solution is feasible: the bound is the optimum
            break
        target = best + TARGET_MARGIN * max(abs(best), 1.0)
        multipliers = multipliers + step_scale * (target - bound) / norm * slack
    _, _, _, reduced = knapsacks.solve(best_multipliers)
    share = opened / max(done - ITERATIONS // 2, 1)
    return _Relaxation(best, best_multipliers, last_taken, done, reduced, share)


def prepare(
    problem: AllocationProblem, form: Formulation, *, deadline: float, seed: int, log: bool
) -> Preparation:
    """Linking rows, a bound and a start for the MIP of ``problem`` (see the module docstring).

    Examples
    --------
    >>> from optimizer.allocation.problem import Customer, Warehouse
    >>> from optimizer.allocation._model import formulate
    >>> problem = AllocationProblem((Warehouse("W1", (10.0,), 100.0),),
    ...     (Customer("c1", (6.0,)),), ((1.0,),))
    >>> prepare(problem, formulate(problem), deadline=0.0, seed=0, log=False).links
    array([0])
    """
    everything = np.arange(len(form.link_x), dtype=np.int64)
    if len(everything) <= FULL_LINKING_MAX:
        return Preparation(everything, -math.inf, None)
    knapsacks = _Knapsacks(problem, form)
    relaxation = _subgradient(knapsacks, deadline)
    # Link the shares worth taking at the best multipliers, and those taken lately.
    wanted = relaxation.multipliers[knapsacks.x_row] >= knapsacks.x_cost
    wanted |= relaxation.last_taken >= (1 - LAST_SHARE) * relaxation.iterations - 1
    links = np.flatnonzero(wanted[form.link_x - form.x_start])
    exact = len(problem.resources) == 1
    bound = relaxation.bound if exact else -math.inf
    hint = _start(problem, form, relaxation, deadline=deadline, seed=seed, log=log)
    return Preparation(links, bound, hint)


def _start(
    problem: AllocationProblem,
    form: Formulation,
    relaxation: _Relaxation,
    *,
    deadline: float,
    seed: int,
    log: bool,
) -> FloatArray | None:
    """A feasible allocation, or None if none is found in time.

    The warehouses the relaxation opened in at least half of its later iterations (more, in
    that order, while capacity is short), the flows by LP; then close one, or swap one for one
    of the next :data:`SWAP_CANDIDATES`, while that lowers the cost (at most :data:`MOVES`
    LPs).
    """
    candidates = form.y_warehouse[
        np.lexsort(
            (relaxation.reduced_fixed[form.y_warehouse], -relaxation.opened[form.y_warehouse])
        )
    ]
    free = problem.capacity_array - problem.booked_array  # (w, r, t)
    usage = np.array([c.usage for c in problem.customers])
    need = np.einsum("cr,ct->rt", usage, problem.demand_array)
    always = form.y_col < 0
    hard = problem.unserved_penalty_cny is None

    def enough(is_open: BoolArray) -> bool:
        return not hard or bool((free[is_open | always].sum(axis=0) >= need).all())

    is_open = np.zeros(len(problem.warehouses), dtype=np.bool_)
    is_open[candidates[relaxation.opened[candidates] >= 0.5]] = True
    for w in candidates:
        if enough(is_open):
            break
        is_open[w] = True
    best: tuple[float, FloatArray] | None = None
    for _ in range(3):  # the LP may still be infeasible (service level, fairness)
        best = _flows(form, is_open, deadline=deadline, seed=seed, log=log)
        closed = candidates[~is_open[candidates]]
        if best is not None or not len(closed) or time.perf_counter() >= deadline:
            break
        is_open[closed[: max(1, len(closed) // 4)]] = True
    if best is None:
        return None
    moves = 0

    def better(trial: BoolArray) -> bool:
        nonlocal best, is_open, moves
        if moves >= MOVES or time.perf_counter() >= deadline or not enough(trial):
            return False
        moves += 1
        found = _flows(form, trial, deadline=deadline, seed=seed, log=log)
        if found is None or best is None or found[0] >= best[0] * (1 - 1e-9):
            return False
        best, is_open = found, trial
        return True

    improved = True
    while improved and moves < MOVES and time.perf_counter() < deadline:
        improved = False
        for w in candidates[is_open[candidates]][::-1]:  # the least often opened first
            trial = is_open.copy()
            trial[w] = False
            if better(trial):
                improved = True
                break
            for c in candidates[~is_open[candidates]][:SWAP_CANDIDATES]:
                trial = is_open.copy()
                trial[w], trial[c] = False, True
                if better(trial):
                    improved = True
                    break
            if improved:
                break
    return best[1]


def _flows(
    form: Formulation, is_open: BoolArray, *, deadline: float, seed: int, log: bool
) -> tuple[float, FloatArray] | None:
    """The LP of the flows with the warehouses ``is_open`` open and the others closed."""
    columns = np.ones(form.columns, dtype=np.bool_)
    n_x = len(form.x_customer)
    has_y = form.y_col[form.x_warehouse] >= 0
    columns[form.x_start : form.x_start + n_x] = ~has_y | is_open[form.x_warehouse]
    fixed = {int(form.y_col[w]): float(is_open[w]) for w in form.y_warehouse}
    restricted = matrix(form, links=np.zeros(0, dtype=np.int64), columns=columns, fixed=fixed)
    solved = solve_matrix(
        restricted,
        time_limit_s=deadline - time.perf_counter(),
        seed=seed,
        gap_tolerance=0.0,
        log=log,
    )
    if solved.status != SolveStatus.OPTIMAL or solved.values is None:
        return None
    hint = np.zeros(form.columns)
    hint[restricted.column_ids] = solved.values
    return solved.objective, hint
