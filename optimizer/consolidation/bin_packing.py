"""Exact one-dimensional bin packing: the fewest bins of one capacity that hold every item.

:func:`solve_bin_packing` works in three steps, stopping as soon as the answer is proven:

1. first-fit decreasing (:func:`first_fit_decreasing`) gives a packing, an upper bound;
2. the Martello-Toth bound L2 (:func:`bin_packing_lower_bound`) gives a lower bound; when the two
   meet, the first-fit packing is optimal;
3. otherwise the arc-flow model of Valerio de Carvalho (1999) is solved as a MIP with HiGHS
   through OR-Tools MathOpt. Its nodes are the filled heights ``0..capacity`` of one bin, an arc
   ``(p, p + w)`` places one item of size ``w`` at height ``p``, loss arcs ``(p, capacity)``
   close a bin, and every unit of flow from ``0`` to ``capacity`` is one bin. Only heights
   reachable by placing items in order of decreasing size (at most as many copies of a size as
   there are items of that size) get arcs, which keeps every packing representable and the
   graph small. The MIP is first capped at the lower bound (is a packing that tight possible?);
   if that is proven impossible, the bound rises by one and the MIP minimises the bins below
   the first-fit count. An integer flow is decomposed back into bins of item indices, and the
   MIP's dual bound, rounded up, becomes the proven lower bound when it is higher.

The arc-flow model is used instead of the textbook item-to-bin assignment model because its
linear relaxation equals the Gilmore-Gomory bound, which is almost always tight, and it has no
symmetry between bins. In ``benchmarks/bench_bin_packing.py`` (10 s per instance) it solves all
60 Falkenauer u120, t60 and t120 instances, each in at most about 5 s, where the assignment model
in CP-SAT solves 2 of the 15 it is given. Weak spots: with capacities like 100,000 and hundreds of
distinct sizes the graph exceeds :data:`MAX_ARCS` and first-fit is returned; on some Scholl
instances of capacity 1000 HiGHS needs most of the time for the root LP.

Sizes and the capacity are whole numbers, as in the BPPLIB files read by :func:`read_bpp`. Scale
fractional sizes to integers first (e.g. kilograms to grams); floats such as ``5.0`` are accepted,
``5.5`` is rejected.
"""

from __future__ import annotations

import bisect
import math
import numbers
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ortools.math_opt.python import mathopt

from optimizer._ortools import check_run_limits, mathopt_status, run_with_deadline
from optimizer.errors import InvalidInputError
from optimizer.results import SolveStatus, relative_gap

#: Above this many arcs, building the MIP and solving its root LP would use up a typical time
#: limit (capacities of 100,000 with hundreds of distinct sizes give millions of arcs); the
#: solver then returns the first-fit packing with the L2 bound.
MAX_ARCS = 150_000
#: Seconds past the time limit allowed for starting and ending the solver's process.
DEADLINE_GRACE_S = 0.25

# The dual bound of a MIP is a float; a bin count within this of an integer counts as that integer.
_BOUND_TOLERANCE = 1e-6


@dataclass(frozen=True)
class BinPackingResult:
    """The packing found by :func:`solve_bin_packing` and what is proven about it.

    Attributes
    ----------
    bins : list of list of int
        Indices into ``sizes``, one list per bin; every item appears in exactly one bin.
    lower_bound : int
        A proven lower bound on the number of bins of any packing.
    status : SolveStatus
        ``OPTIMAL`` when ``len(bins) == lower_bound``, otherwise ``FEASIBLE`` (time limit reached
        or model too large).
    runtime_s : float
        Wall-clock seconds of the whole solve.
    seed : int
        The random seed passed to the MIP solver.

    Examples
    --------
    >>> result = BinPackingResult([[0, 2], [1]], 2, SolveStatus.OPTIMAL, 0.01, 0)
    >>> result.num_bins, result.gap
    (2, 0.0)
    """

    bins: list[list[int]]
    lower_bound: int
    status: SolveStatus
    runtime_s: float
    seed: int

    @property
    def num_bins(self) -> int:
        """Number of bins used.

        Examples
        --------
        >>> BinPackingResult([[0], [1]], 1, SolveStatus.FEASIBLE, 0.0, 0).num_bins
        2
        """
        return len(self.bins)

    @property
    def objective(self) -> float:
        """The number of bins, as :class:`~optimizer.results.SolverResult` reads it."""
        return float(self.num_bins)

    @property
    def bound(self) -> float:
        """The proven lower bound, as :class:`~optimizer.results.SolverResult` reads it."""
        return float(self.lower_bound)

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(num_bins - lower_bound) / num_bins``; 0 when optimal.

        Examples
        --------
        >>> BinPackingResult([[0], [1]], 1, SolveStatus.FEASIBLE, 0.0, 0).gap
        0.5
        """
        return relative_gap(self.objective, self.bound) or 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document: status, bins (item indices), bound and run.

        Examples
        --------
        >>> BinPackingResult([[0, 2], [1]], 2, SolveStatus.OPTIMAL, 0.0123, 0).to_dict()["bins"]
        [[0, 2], [1]]
        """
        return {
            "status": self.status.value,
            "objective": self.num_bins,
            "bound": self.lower_bound,
            "gap": round(self.gap, 6),
            "runtime_s": round(self.runtime_s, 3),
            "seed": self.seed,
            "bins": [list(items) for items in self.bins],
        }


def _whole_number(field: str, value: object, allowed: str) -> int:
    """``value`` as an int if it is a whole number > 0 (``5`` or ``5.0``), else raise."""
    whole: object = value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        whole = int(value)
    if isinstance(whole, bool) or not isinstance(whole, numbers.Integral) or whole <= 0:
        raise InvalidInputError(field, value, allowed)
    return int(whole)


def _validated(sizes: Sequence[int], capacity: int) -> tuple[list[int], int]:
    """Sizes and capacity as positive ints, each size at most the capacity."""
    whole_capacity = _whole_number("capacity", capacity, "a whole number > 0")
    if len(sizes) == 0:
        raise InvalidInputError("sizes", sizes, "at least one item size")
    whole_sizes = []
    for index, size in enumerate(sizes):
        field = f"sizes[{index}]"
        whole = _whole_number(field, size, f"a whole number in 1..{whole_capacity} (the capacity)")
        if whole > whole_capacity:
            raise InvalidInputError(
                field, size, f"a whole number in 1..{whole_capacity} (the capacity)"
            )
        whole_sizes.append(whole)
    return whole_sizes, whole_capacity


def first_fit_decreasing(sizes: Sequence[int], capacity: int) -> list[list[int]]:
    """Pack items largest first, each into the first bin with room (first-fit decreasing).

    Uses at most ``11/9 * OPT + 6/9`` bins (Dosa 2007). Equal sizes are taken in index order.

    Parameters
    ----------
    sizes : sequence of int
        Item sizes, whole numbers in ``1..capacity``.
    capacity : int
        Capacity of every bin.

    Returns
    -------
    list of list of int
        Indices into ``sizes``, one list per bin, in the order the bins were opened.

    Raises
    ------
    InvalidInputError
        If a size or the capacity is not a whole number > 0, or a size exceeds the capacity.

    Examples
    --------
    >>> first_fit_decreasing([5, 4, 3, 3, 3, 2], 10)
    [[0, 1], [2, 3, 4], [5]]
    """
    whole_sizes, whole_capacity = _validated(sizes, capacity)
    order = sorted(range(len(whole_sizes)), key=lambda index: (-whole_sizes[index], index))
    bins: list[list[int]] = []
    free: list[int] = []
    for index in order:
        size = whole_sizes[index]
        for position, room in enumerate(free):
            if size <= room:
                bins[position].append(index)
                free[position] -= size
                break
        else:
            bins.append([index])
            free.append(whole_capacity - size)
    return bins


def bin_packing_lower_bound(sizes: Sequence[int], capacity: int) -> int:
    """Martello-Toth lower bound L2 on the number of bins.

    For a threshold ``k <= capacity / 2``: items larger than ``capacity - k`` each need their own
    bin, items in ``(capacity / 2, capacity - k]`` cannot share a bin with each other, and items in
    ``[k, capacity / 2]`` must fit into the room those bins leave or into new bins. L2 is the best
    such bound over ``k`` in ``{0} | {sizes <= capacity / 2}`` (Martello and Toth 1990); it is at
    least ``ceil(sum(sizes) / capacity)``.

    Parameters
    ----------
    sizes : sequence of int
        Item sizes, whole numbers in ``1..capacity``.
    capacity : int
        Capacity of every bin.

    Returns
    -------
    int
        A lower bound on the number of bins of every packing.

    Raises
    ------
    InvalidInputError
        If a size or the capacity is not a whole number > 0, or a size exceeds the capacity.

    Examples
    --------
    Three items of 6 cannot share bins of 10, although their total fits in two:

    >>> bin_packing_lower_bound([6, 6, 6], 10)
    3
    >>> bin_packing_lower_bound([5, 4, 3, 3, 3, 2], 10)
    2
    """
    whole_sizes, whole_capacity = _validated(sizes, capacity)
    ascending = sorted(whole_sizes)
    prefix = [0]
    for size in ascending:
        prefix.append(prefix[-1] + size)
    half = whole_capacity // 2  # a whole size w is <= capacity / 2 exactly when w <= half
    above_half = bisect.bisect_right(ascending, half)
    best = 0
    for k in {0, *(size for size in ascending if size <= half)}:
        alone = bisect.bisect_right(ascending, whole_capacity - k)
        large_count = len(ascending) - above_half
        large_room = (alone - above_half) * whole_capacity - (prefix[alone] - prefix[above_half])
        small_start = bisect.bisect_left(ascending, k)
        small_total = prefix[above_half] - prefix[small_start]
        extra = max(0, -(-(small_total - large_room) // whole_capacity))
        best = max(best, large_count + extra)
    return best


@dataclass(frozen=True)
class _ArcFlowGraph:
    """Arcs of the reduced arc-flow graph; ``item_arcs`` are ``(tail, head, size)``."""

    item_arcs: list[tuple[int, int, int]]
    loss_tails: list[int]


def _arc_flow_graph(demand: dict[int, int], capacity: int) -> _ArcFlowGraph | None:
    """The reduced arc-flow graph, or None when it would have more than :data:`MAX_ARCS` arcs."""
    reachable = {0}
    item_arcs: set[tuple[int, int, int]] = set()
    for size in sorted(demand, reverse=True):
        # Heights reached by larger items only; from each, a chain of up to `demand` copies.
        reached = set()
        for start in sorted(reachable):
            height = start
            for _ in range(demand[size]):
                if height + size > capacity:
                    break
                item_arcs.add((height, height + size, size))
                height += size
                reached.add(height)
        reachable |= reached
        if len(item_arcs) + len(reachable) > MAX_ARCS:
            return None
    return _ArcFlowGraph(
        item_arcs=sorted(item_arcs, key=lambda arc: (arc[0], -arc[2])),
        loss_tails=sorted(height for height in reachable if 0 < height < capacity),
    )


@dataclass(frozen=True)
class _MipOutcome:
    """How one MIP solve ended, its proven bound and, if it found one, a packing by sizes."""

    status: SolveStatus
    dual_bound: int
    bins_by_size: list[list[int]] | None


class _ArcFlowModel:
    """The arc-flow MIP of one instance, re-solved with different caps on the number of bins."""

    def __init__(self, graph: _ArcFlowGraph, demand: dict[int, int], capacity: int) -> None:
        self.capacity = capacity
        self.model = mathopt.Model(name="bin_packing_arc_flow")
        self.bins_used = self.model.add_variable(lb=0, is_integer=True, name="bins")
        balance = {
            height: self.model.add_linear_constraint(lb=0.0, ub=0.0, name=f"balance_{height}")
            for height in [0, *graph.loss_tails, capacity]
        }
        # Over-covering a size is allowed (>=): it keeps the relaxation easy and costs nothing,
        # the surplus copies are dropped when the flow is turned into bins.
        covers = {
            size: self.model.add_linear_constraint(lb=count, name=f"cover_{size}")
            for size, count in demand.items()
        }
        # With these two rows, flow out of 0 = flow into capacity = bins used.
        balance[0].set_coefficient(self.bins_used, -1.0)
        balance[capacity].set_coefficient(self.bins_used, 1.0)
        self.arcs: list[tuple[tuple[int, int, int], mathopt.Variable]] = []
        loss_arcs = [(tail, capacity, 0) for tail in graph.loss_tails]
        for tail, head, size in [*graph.item_arcs, *loss_arcs]:
            most = demand[size] if size > 0 else math.inf  # no arc carries more than its items
            flow = self.model.add_variable(lb=0, ub=most, is_integer=True)
            balance[tail].set_coefficient(flow, 1.0)
            balance[head].set_coefficient(flow, -1.0)
            if size > 0:
                covers[size].set_coefficient(flow, 1.0)
            self.arcs.append(((tail, head, size), flow))
        self.model.minimize(self.bins_used)

    def solve(self, max_bins: int, time_limit: timedelta, seed: int) -> _MipOutcome:
        """Look for a packing into at most ``max_bins`` bins with HiGHS."""
        self.bins_used.upper_bound = max_bins
        params = mathopt.SolveParameters(
            time_limit=time_limit,
            random_seed=seed,
            # The objective is a whole number of bins, so a gap below 1 proves optimality.
            absolute_gap_tolerance=0.99,
            relative_gap_tolerance=0.0,
        )
        # MathOpt rejects `threads` for HiGHS (a process-wide setting there); HiGHS's own
        # `parallel` option keeps this solve on one thread, which also keeps it reproducible.
        params.highs.string_options["parallel"] = "off"
        result = mathopt.solve(self.model, mathopt.SolverType.HIGHS, params=params)
        status = mathopt_status(result)
        if status == SolveStatus.INFEASIBLE:
            return _MipOutcome(status, max_bins + 1, None)
        dual = result.termination.objective_bounds.dual_bound
        # Any packing into fewer bins than this bound would be within the cap, so the bound
        # holds for the uncapped problem too.
        dual_bound = math.ceil(dual - _BOUND_TOLERANCE) if math.isfinite(dual) else 0
        if status == SolveStatus.TIMED_OUT:
            return _MipOutcome(status, dual_bound, None)
        values = result.variable_values()
        flows = {arc: round(values[flow]) for arc, flow in self.arcs if values[flow] > 0.5}
        return _MipOutcome(status, dual_bound, _decompose(flows, self.capacity))


def _decompose(flows: dict[tuple[int, int, int], int], capacity: int) -> list[list[int]]:
    """Split an integer 0 -> capacity flow into paths, one bin (a list of item sizes) each."""
    out_arcs: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for arc in sorted(flows, key=lambda arc: (arc[0], -arc[2], arc[1])):
        out_arcs[arc[0]].append(arc)
    remaining = dict(flows)
    bins = []
    while any(remaining[arc] > 0 for arc in out_arcs[0]):
        height, sizes = 0, []
        while height != capacity:
            # Rounding can in principle leave a node with inflow but no outflow; the bin then
            # ends there and items it misses are repaired by the caller.
            step = next((arc for arc in out_arcs[height] if remaining[arc] > 0), None)
            if step is None:
                break
            remaining[step] -= 1
            _, height, size = step
            if size > 0:
                sizes.append(size)
        bins.append(sizes)
    return bins


def _assign_items(
    bins_by_size: list[list[int]], sizes: list[int], capacity: int
) -> list[list[int]]:
    """Turn bins of sizes into bins of item indices; equal sizes are handed out by index order."""
    unused: dict[int, list[int]] = defaultdict(list)
    for index in sorted(range(len(sizes)), key=lambda index: -index):
        unused[sizes[index]].append(index)  # popped from the end: smallest index first
    bins: list[list[int]] = []
    for bin_sizes in bins_by_size:
        indices = [unused[size].pop() for size in sorted(bin_sizes, reverse=True) if unused[size]]
        if indices:
            bins.append(indices)
    leftovers = sorted(index for indices in unused.values() for index in indices)
    loads = [sum(sizes[index] for index in indices) for indices in bins]
    for index in leftovers:
        position = next(
            (p for p, load in enumerate(loads) if load + sizes[index] <= capacity), len(bins)
        )
        if position == len(bins):
            bins.append([])
            loads.append(0)
        bins[position].append(index)
        loads[position] += sizes[index]
    return bins


def solve_bin_packing(
    sizes: Sequence[int], capacity: int, *, time_limit_s: float = 10.0, seed: int = 0
) -> BinPackingResult:
    """Pack items into the fewest bins of one capacity, with a proven lower bound.

    First-fit decreasing and the L2 bound first; if they differ, the arc-flow MIP (HiGHS,
    one thread) with the time that is left. See the module docstring for the method.

    Parameters
    ----------
    sizes : sequence of int
        Item sizes, whole numbers in ``1..capacity`` (scale fractional sizes first).
    capacity : int
        Capacity of every bin, a whole number > 0.
    time_limit_s : float, default 10.0
        Wall-clock limit of the whole solve in seconds, > 0. HiGHS does not look at the clock
        in every phase of its root node, so the MIP runs in a child process that is stopped
        at the limit (plus :data:`DEADLINE_GRACE_S`); the best packing found by then stands.
    seed : int, default 0
        Random seed of the MIP solver. The same seed gives the same bins whenever the MIP ends
        by proving optimality rather than by the time limit.

    Returns
    -------
    BinPackingResult
        ``OPTIMAL`` when the packing meets the proven bound; ``FEASIBLE`` otherwise (the time
        ran out, or the arc-flow graph has more than :data:`MAX_ARCS` arcs), with the best of
        first-fit decreasing and the MIP's incumbent.

    Raises
    ------
    InvalidInputError
        If ``sizes`` is empty, a size or the capacity is not a whole number > 0, a size exceeds
        the capacity (the field names the item, e.g. ``sizes[3]``), or ``time_limit_s <= 0``.

    Examples
    --------
    First-fit decreasing needs three bins here; two are enough, and the bound proves it:

    >>> sizes = [5, 4, 3, 3, 3, 2]
    >>> result = solve_bin_packing(sizes, 10, time_limit_s=5.0)
    >>> result.num_bins, result.lower_bound, result.status.value
    (2, 2, 'optimal')
    >>> [[sizes[index] for index in indices] for indices in result.bins]
    [[5, 3, 2], [4, 3, 3]]
    """
    start = time.perf_counter()
    check_run_limits(time_limit_s, seed)
    deadline = start + time_limit_s
    whole_sizes, whole_capacity = _validated(sizes, capacity)
    best = first_fit_decreasing(whole_sizes, whole_capacity)
    lower_bound = bin_packing_lower_bound(whole_sizes, whole_capacity)

    def result(bins: list[list[int]], bound: int) -> BinPackingResult:
        status = SolveStatus.OPTIMAL if len(bins) == bound else SolveStatus.FEASIBLE
        return BinPackingResult(bins, bound, status, time.perf_counter() - start, seed)

    if len(best) == lower_bound:
        return result(best, lower_bound)
    demand = Counter(whole_sizes)
    graph = _arc_flow_graph(demand, whole_capacity)
    if graph is None:
        return result(best, lower_bound)
    model = _ArcFlowModel(graph, demand, whole_capacity)
    # First ask "is there a packing into lower_bound bins?": capped there, every bin must be
    # (nearly) full, which HiGHS propagates far better than it improves on first-fit
    # (Falkenauer t249: 6-9 s capped, 2 of 4 unsolved in 10 s uncapped). If that is proven
    # impossible the instance has slack, and minimising below first-fit works better.
    for max_bins in (lower_bound, len(best) - 1):
        remaining_s = deadline - time.perf_counter()
        if lower_bound >= len(best) or remaining_s <= 0:
            break
        # HiGHS can overrun its time limit inside a long root LP; the child is cut off at the
        # deadline (plus a little for process start-up) and then counts as timed out.
        outcome = run_with_deadline(
            partial(model.solve, max_bins, timedelta(seconds=remaining_s), seed),
            remaining_s + DEADLINE_GRACE_S,
            _MipOutcome(SolveStatus.TIMED_OUT, 0, None),
        )
        lower_bound = max(lower_bound, outcome.dual_bound)
        if outcome.bins_by_size is not None:
            found = _assign_items(outcome.bins_by_size, whole_sizes, whole_capacity)
            if len(found) < len(best):
                best = found
        if outcome.status != SolveStatus.INFEASIBLE:
            break
    return result(best, lower_bound)


def read_bpp(path: str | Path) -> tuple[list[int], int]:
    """Read a BPPLIB instance in BPP format: item sizes and bin capacity.

    The format (Delorme, Iori and Martello 2018): line 1 the number of items ``n``, line 2 the
    capacity, then ``n`` lines of one item size each; all positive integers. Blank lines at the
    end and Windows line endings are accepted.

    Parameters
    ----------
    path : str or Path
        The instance file, e.g. ``Falkenauer_u120_00.txt``.

    Returns
    -------
    tuple of (list of int, int)
        The item sizes in file order and the capacity.

    Raises
    ------
    InvalidInputError
        If the file is malformed; the field names the file and the line number.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.txt"
    ...     _ = path.write_text("3\\n10\\n6\\n5\\n4\\n")
    ...     read_bpp(path)
    ([6, 5, 4], 10)
    """
    lines = Path(path).read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()

    def number(line_number: int, what: str) -> int:
        field = f"{path} line {line_number}"
        if line_number > len(lines):
            raise InvalidInputError(field, "end of file", what)
        text = lines[line_number - 1].strip()
        if not (text.isascii() and text.isdigit()) or int(text) == 0:
            raise InvalidInputError(field, text, what)
        return int(text)

    count = number(1, "the number of items, an integer > 0")
    capacity = number(2, "the bin capacity, an integer > 0")
    sizes = [number(line, "an item size, an integer > 0") for line in range(3, 3 + count)]
    if len(lines) > 2 + count:
        raise InvalidInputError(
            f"{path} line {3 + count}", lines[2 + count].strip(), f"end of file after {count} items"
        )
    return sizes, capacity
