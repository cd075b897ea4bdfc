"""The allocation MIP as arrays, and its hand-over to OR-Tools MathOpt.

Columns (all in [0, 1]): ``y[w]`` a warehouse with a fixed cost is used (binary); ``z[c, w]``
customer ``c`` is assigned to ``w`` (binary, single sourcing only); ``x[c, w, t]`` the share of
``c``'s demand in week ``t`` served by ``w``; ``u[c, t]`` the share left unserved (only with a
penalty); ``f[t]`` the share of servable demand left unserved in week ``t`` (fairness only).

Rows: every share of demand served or unserved (``sum_w x + u = 1``); capacity per warehouse,
resource and week (``sum_c usage * demand * x <= (capacity - booked) * y``); the service level
per market and week (on-time served demand >= level * served demand); fairness per seller and
week (its served share >= fairness * the overall served share); single sourcing (``x <= z``,
``sum_w z <= 1``, ``z <= y``); and, when all demand must be served, the aggregate capacity of
the used warehouses covering all demand. The strong linking rows ``x[c, w, t] <= y[w]`` are
kept apart (:attr:`Formulation.link_x`): the solver adds all of them, or on large instances
those a Lagrangian relaxation finds in use (:mod:`optimizer.allocation._lagrange`).

The arrays are plain numpy so that the benchmark can hand the identical model to ``highspy``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt

from optimizer._ortools import mathopt_status
from optimizer.allocation.problem import AllocationProblem
from optimizer.results import SolveStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Longest time limit handed to the solver (timedelta and HiGHS take no more).
MAX_TIME_LIMIT_S = 1e7


@dataclass
class Formulation:
    """The MIP of an :class:`AllocationProblem` as arrays (see the module docstring)."""

    # Columns.
    lower: FloatArray
    upper: FloatArray
    cost: FloatArray
    integer: BoolArray
    #: Warehouse of each y column; ``y_col[w]`` its column or -1 (always used, or never).
    y_warehouse: IntArray
    y_col: IntArray
    #: z columns: customer, warehouse.
    z_start: int
    z_customer: IntArray
    z_warehouse: IntArray
    #: x columns: customer, warehouse, week (0-based).
    x_start: int
    x_customer: IntArray
    x_warehouse: IntArray
    x_week: IntArray
    #: u columns: customer, week.
    u_start: int
    u_customer: IntArray
    u_week: IntArray
    f_start: int
    # Rows other than the strong linking rows: bounds, and the matrix as (row, col, value).
    row_lower: FloatArray
    row_upper: FloatArray
    entry_row: IntArray
    entry_col: IntArray
    entry_value: FloatArray
    #: Demand rows: ``demand_row[c, t]`` or -1 without demand.
    demand_row: IntArray
    #: Strong linking candidates ``x <= y``: x column and y column.
    link_x: IntArray
    link_y: IntArray
    #: Fixed cost of the warehouses used for sure (they hold bookings).
    constant: float
    #: Warehouses whose fixed cost is paid whatever the plan (bookings).
    forced: BoolArray

    @property
    def columns(self) -> int:
        """Number of columns."""
        return len(self.cost)

    @property
    def rows(self) -> int:
        """Number of rows without the linking rows."""
        return len(self.row_lower)


class _Rows:
    """Accumulates rows and their entries."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.values: list[FloatArray] = []

    def add(self, lower: float, upper: float) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add_many(self, lower: FloatArray, upper: FloatArray) -> IntArray:
        first = len(self.lower)
        self.lower.extend(lower.tolist())
        self.upper.extend(upper.tolist())
        return np.arange(first, len(self.lower), dtype=np.int64)

    def entries(self, rows: IntArray | int, cols: IntArray, values: FloatArray | float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        self.rows.append(np.broadcast_to(np.asarray(rows, dtype=np.int64), cols.shape).copy())
        self.cols.append(cols)
        self.values.append(np.broadcast_to(np.asarray(values, dtype=np.float64), cols.shape).copy())


def _groups(keys: IntArray) -> Iterator[tuple[int, IntArray]]:
    """``(key, positions)`` for each distinct value of ``keys``, in ascending order."""
    order = np.argsort(keys, kind="stable")
    for chunk in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1):
        if len(chunk):
            yield int(keys[chunk[0]]), chunk


def formulate(problem: AllocationProblem) -> Formulation:
    """The MIP of ``problem`` as arrays.

    Examples
    --------
    >>> from optimizer.allocation.problem import Customer, Warehouse
    >>> problem = AllocationProblem((Warehouse("W1", (10.0,), 100.0),),
    ...     (Customer("c1", (6.0,)),), ((1.0,),))
    >>> form = formulate(problem)
    >>> form.columns, form.rows, form.cost.tolist(), len(form.link_x)
    (2, 3, [100.0, 6.0], 1)
    """
    n_c, n_w, weeks = len(problem.customers), len(problem.warehouses), problem.weeks
    n_r = len(problem.resources)
    demand = problem.demand_array
    usage = np.array([c.usage for c in problem.customers], dtype=np.float64).reshape(n_c, n_r)
    fixed = np.array([w.fixed_cost_cny for w in problem.warehouses], dtype=np.float64)
    allowed = problem.allowed
    booked = {b.warehouse_id for b in problem.bookings}
    forced = np.array([w.warehouse_id in booked for w in problem.warehouses], dtype=np.bool_)
    active = (demand > 0)[:, None, :] & allowed[:, :, None]  # (c, w, t)
    x_customer, x_warehouse, x_week = (a.astype(np.int64) for a in np.nonzero(active))
    serves = np.zeros(n_w, dtype=np.bool_)
    serves[x_warehouse] = True

    # y: warehouses with a fixed cost that may be left unused and could serve.
    y_warehouse = np.flatnonzero((fixed > 0) & ~forced & serves).astype(np.int64)
    y_col = np.full(n_w, -1, dtype=np.int64)
    y_col[y_warehouse] = np.arange(len(y_warehouse))
    lower, upper, cost, integer = [], [], [], []
    lower.append(np.zeros(len(y_warehouse)))
    upper.append(np.ones(len(y_warehouse)))
    cost.append(fixed[y_warehouse])
    integer.append(np.ones(len(y_warehouse), dtype=np.bool_))
    z_start = len(y_warehouse)
    if problem.single_sourcing:
        pairs = np.argwhere(allowed & (demand.sum(axis=1) > 0)[:, None])
        z_customer, z_warehouse = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    else:
        z_customer = z_warehouse = np.zeros(0, dtype=np.int64)
    n_z = len(z_customer)
    lower.append(np.zeros(n_z))
    upper.append(np.ones(n_z))
    cost.append(np.zeros(n_z))
    integer.append(np.ones(n_z, dtype=np.bool_))
    x_start = z_start + n_z
    n_x = len(x_customer)
    x_demand = demand[x_customer, x_week]
    lower.append(np.zeros(n_x))
    upper.append(np.ones(n_x))
    cost.append(problem.cost_array[x_customer, x_warehouse] * x_demand)
    integer.append(np.zeros(n_x, dtype=np.bool_))
    u_start = x_start + n_x
    penalty = problem.unserved_penalty_cny
    if penalty is not None:
        u_customer, u_week = (a.astype(np.int64) for a in np.nonzero(demand > 0))
    else:
        u_customer = u_week = np.zeros(0, dtype=np.int64)
    n_u = len(u_customer)
    lower.append(np.zeros(n_u))
    upper.append(np.ones(n_u))
    cost.append((penalty or 0.0) * demand[u_customer, u_week])
    integer.append(np.zeros(n_u, dtype=np.bool_))
    f_start = u_start + n_u
    servable: BoolArray = np.asarray(allowed.any(axis=1), dtype=np.bool_)
    sellers = sorted({c.seller for c, ok in zip(problem.customers, servable, strict=True) if ok})
    fair = problem.fairness > 0 and penalty is not None and len(sellers) > 1
    n_f = weeks if fair else 0
    lower.append(np.zeros(n_f))
    upper.append(np.ones(n_f))
    cost.append(np.zeros(n_f))
    integer.append(np.zeros(n_f, dtype=np.bool_))

    rows = _Rows()
    # Demand: sum_w x + u = 1 for every customer and week with demand.
    demand_row = np.full((n_c, weeks), -1, dtype=np.int64)
    has_demand = demand > 0
    demand_row[has_demand] = rows.add_many(
        np.ones(int(has_demand.sum())), np.ones(int(has_demand.sum()))
    )
    x_cols = x_start + np.arange(n_x, dtype=np.int64)
    rows.entries(demand_row[x_customer, x_week], x_cols, 1.0)
    rows.entries(demand_row[u_customer, u_week], u_start + np.arange(n_u), 1.0)

    # Capacity per warehouse, resource and week.
    free = problem.capacity_array - problem.booked_array  # (w, r, t)
    for key, members in _groups(x_warehouse * weeks + x_week):
        w, t = divmod(key, weeks)
        for r in range(n_r):
            if not math.isfinite(free[w, r, t]):
                continue
            coefficients = usage[x_customer[members], r] * x_demand[members]
            keep = coefficients > 0
            if not keep.any():
                continue
            if y_col[w] >= 0:
                row = rows.add(-math.inf, 0.0)
                rows.entries(row, np.array([y_col[w]]), -max(free[w, r, t], 0.0))
            else:
                row = rows.add(-math.inf, max(free[w, r, t], 0.0))
            rows.entries(row, x_cols[members[keep]], coefficients[keep])

    # All demand served: the used warehouses' free capacity covers it.
    if penalty is None and len(y_warehouse):
        for r in range(n_r):
            for t in range(weeks):
                need = float((usage[:, r] * demand[:, t]).sum())
                always = [w for w in range(n_w) if y_col[w] < 0 and serves[w]]
                need -= float(sum(free[w, r, t] for w in always))
                spare = free[y_warehouse, r, t]
                if need > 0 and np.isfinite(spare).all() and math.isfinite(need):
                    row = rows.add(need, math.inf)
                    rows.entries(row, np.arange(len(y_warehouse)), spare)

    # Service level per market and week: sum (on_time - level) * share * x >= 0.
    if problem.service_level > 0:
        on_time = problem.on_time_array[x_customer, x_warehouse].astype(np.float64)
        names = sorted({c.market for c in problem.customers})
        market = np.array([names.index(c.market) for c in problem.customers], dtype=np.int64)
        totals = np.zeros((len(names), weeks))
        np.add.at(totals, market, demand)
        for key, members in _groups(market[x_customer] * weeks + x_week):
            g, t = divmod(key, weeks)
            if on_time[members].all():
                continue
            row = rows.add(0.0, math.inf)
            values = (on_time[members] - problem.service_level) * x_demand[members] / totals[g, t]
            rows.entries(row, x_cols[members], values)

    # Fairness per seller and week: its unserved share <= 1 - fairness * (1 - f[t]), where
    # f[t] is the unserved share of all servable demand.
    if fair:
        owner = np.array([sellers.index(c.seller) if ok else -1
                          for c, ok in zip(problem.customers, servable, strict=True)])  # fmt: skip
        shares = np.zeros((len(sellers), weeks))
        np.add.at(shares, owner[servable], demand[servable])
        totals = shares.sum(axis=0)
        counted = np.flatnonzero(servable[u_customer])
        for t, members in _groups(u_week[counted]):
            row = rows.add(0.0, 0.0)
            rows.entries(row, np.array([f_start + t]), 1.0)
            units = counted[members]
            rows.entries(row, u_start + units, -demand[u_customer[units], t] / totals[t])
        for key, members in _groups(owner[u_customer[counted]] * weeks + u_week[counted]):
            seller, t = divmod(key, weeks)
            units = counted[members]
            row = rows.add(problem.fairness - 1.0, math.inf)
            rows.entries(row, np.array([f_start + t]), problem.fairness)
            rows.entries(row, u_start + units, -demand[u_customer[units], t] / shares[seller, t])

    # Single sourcing: x <= z, one z per customer, z <= y.
    if n_z:
        z_index = np.full((n_c, n_w), -1, dtype=np.int64)
        z_index[z_customer, z_warehouse] = z_start + np.arange(n_z)
        ones = np.ones(n_x)
        link_rows = rows.add_many(np.full(n_x, -math.inf), np.zeros(n_x))
        rows.entries(link_rows, x_cols, ones)
        rows.entries(link_rows, z_index[x_customer, x_warehouse], -ones)
        for c in np.unique(z_customer):
            row = rows.add(-math.inf, 1.0)
            rows.entries(row, z_start + np.flatnonzero(z_customer == c), 1.0)
        linked = y_col[z_warehouse] >= 0
        z_rows = rows.add_many(np.full(int(linked.sum()), -math.inf), np.zeros(int(linked.sum())))
        rows.entries(z_rows, z_start + np.flatnonzero(linked), 1.0)
        rows.entries(z_rows, y_col[z_warehouse[linked]], -1.0)
        link_x = link_y = np.zeros(0, dtype=np.int64)
    else:
        linked = y_col[x_warehouse] >= 0
        link_x = x_cols[linked]
        link_y = y_col[x_warehouse[linked]]

    def joined(parts: list[npt.NDArray[np.generic]], dtype: type) -> npt.NDArray[np.generic]:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return Formulation(
        lower=np.concatenate(lower),
        upper=np.concatenate(upper),
        cost=np.concatenate(cost),
        integer=np.concatenate(integer),
        y_warehouse=y_warehouse,
        y_col=y_col,
        z_start=z_start,
        z_customer=z_customer,
        z_warehouse=z_warehouse,
        x_start=x_start,
        x_customer=x_customer,
        x_warehouse=x_warehouse,
        x_week=x_week,
        u_start=u_start,
        u_customer=u_customer,
        u_week=u_week,
        f_start=f_start,
        row_lower=np.array(rows.lower, dtype=np.float64),
        row_upper=np.array(rows.upper, dtype=np.float64),
        entry_row=joined(rows.rows, np.int64),  # type: ignore[arg-type]
        entry_col=joined(rows.cols, np.int64),  # type: ignore[arg-type]
        entry_value=joined(rows.values, np.float64),  # type: ignore[arg-type]
        demand_row=demand_row,
        link_x=link_x,
        link_y=link_y,
        constant=float(fixed[forced].sum()),
        forced=forced,
    )


@dataclass
class Matrix:
    """One model to solve: columns, rows and entries, sorted the way solvers take them."""

    column_ids: IntArray
    lower: FloatArray
    upper: FloatArray
    cost: FloatArray
    integer: BoolArray
    row_lower: FloatArray
    row_upper: FloatArray
    #: Entries sorted by row, then column; rows and columns as positions in this matrix.
    entry_row: IntArray
    entry_col: IntArray
    entry_value: FloatArray
    constant: float


def matrix(
    form: Formulation,
    *,
    links: IntArray | None = None,
    columns: BoolArray | None = None,
    relax: bool = False,
    fixed: dict[int, float] | None = None,
) -> Matrix:
    """The model with the linking rows ``links`` (indices into ``form.link_x``; None: all).

    ``columns`` keeps a subset of the columns (entries of the others dropped), ``fixed`` fixes
    columns to values, ``relax`` drops integrality.
    """
    keep = np.ones(form.columns, dtype=np.bool_) if columns is None else columns
    chosen = np.arange(len(form.link_x)) if links is None else links
    ids = np.flatnonzero(keep).astype(np.int64)
    position = np.full(form.columns, -1, dtype=np.int64)
    position[ids] = np.arange(len(ids))
    link_rows = form.rows + np.arange(len(chosen), dtype=np.int64)
    entry_rows = [form.entry_row, link_rows, link_rows]
    entry_cols = [form.entry_col, form.link_x[chosen], form.link_y[chosen]]
    entry_values = [form.entry_value, np.ones(len(chosen)), -np.ones(len(chosen))]
    rows_all = np.concatenate(entry_rows)
    cols_all = position[np.concatenate(entry_cols)]
    values_all = np.concatenate(entry_values)
    lower = form.lower[ids].copy()
    upper = form.upper[ids].copy()
    cost = form.cost[ids]
    integer = form.integer[ids] & (not relax)
    for col, value in (fixed or {}).items():
        lower[position[col]] = upper[position[col]] = value
    present = cols_all >= 0
    rows_all, cols_all, values_all = rows_all[present], cols_all[present], values_all[present]
    order = np.lexsort((cols_all, rows_all))
    return Matrix(
        column_ids=ids,
        lower=lower,
        upper=upper,
        cost=cost,
        integer=integer,
        row_lower=np.concatenate([form.row_lower, np.full(len(chosen), -math.inf)]),
        row_upper=np.concatenate([form.row_upper, np.zeros(len(chosen))]),
        entry_row=rows_all[order],
        entry_col=cols_all[order],
        entry_value=values_all[order],
        constant=form.constant,
    )


def to_mathopt(m: Matrix) -> mathopt.Model:
    """``m`` as a MathOpt model: variable and constraint ids are positions in ``m``."""
    proto = model_pb2.ModelProto()
    n_cols, n_rows = len(m.cost), len(m.row_lower)
    proto.variables.ids.extend(range(n_cols))
    proto.variables.lower_bounds.extend(m.lower.tolist())
    proto.variables.upper_bounds.extend(m.upper.tolist())
    proto.variables.integers.extend(m.integer.tolist())
    proto.objective.maximize = False
    proto.objective.offset = m.constant
    nonzero = np.flatnonzero(m.cost)
    proto.objective.linear_coefficients.ids.extend(nonzero.tolist())
    proto.objective.linear_coefficients.values.extend(m.cost[nonzero].tolist())
    proto.linear_constraints.ids.extend(range(n_rows))
    proto.linear_constraints.lower_bounds.extend(m.row_lower.tolist())
    proto.linear_constraints.upper_bounds.extend(m.row_upper.tolist())
    proto.linear_constraint_matrix.row_ids.extend(m.entry_row.tolist())
    proto.linear_constraint_matrix.column_ids.extend(m.entry_col.tolist())
    proto.linear_constraint_matrix.coefficients.extend(m.entry_value.tolist())
    return mathopt.Model.from_model_proto(proto)


@dataclass
class Solved:
    """What one MathOpt solve returned, as arrays over the matrix's columns and rows."""

    status: SolveStatus
    objective: float
    bound: float
    values: FloatArray | None


def solve_matrix(
    m: Matrix,
    *,
    time_limit_s: float,
    seed: int,
    gap_tolerance: float,
    hint: FloatArray | None = None,
    log: bool = False,
) -> Solved:
    """Solve ``m`` with HiGHS through MathOpt, starting from ``hint`` (values per column)."""
    model = to_mathopt(m)
    params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=min(max(time_limit_s, 0.05), MAX_TIME_LIMIT_S)),
        random_seed=seed,
        relative_gap_tolerance=gap_tolerance,
    )
    hints = []
    if hint is not None:
        start = {model.get_variable(k): float(v) for k, v in enumerate(hint)}
        hints.append(mathopt.SolutionHint(variable_values=start))
    result = mathopt.solve(
        model,
        mathopt.SolverType.HIGHS,
        params=params,
        model_params=mathopt.ModelSolveParameters(solution_hints=hints),
        msg_cb=(lambda lines: print(*lines, sep="\n")) if log else None,
    )
    status = mathopt_status(result)
    bound = float(result.termination.objective_bounds.dual_bound)
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return Solved(status, math.inf, bound, None)
    variables = [model.get_variable(k) for k in range(len(m.cost))]
    values = np.array(result.variable_values(variables), dtype=np.float64)
    return Solved(status, float(result.objective_value()), bound, values)
