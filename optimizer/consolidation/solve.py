"""Pool lots into boxes on departures: greedy first-fit-decreasing, then a MIP, then exact packing.

The MIP (OR-Tools MathOpt, HiGHS) decides for every lot whether it is pooled on a through route
or booked alone, and how many boxes of each type every route takes; it keeps each route's boxes
large enough for their lots' total volume and weight, and each departure within its slots. That
is a relaxation of packing lots into individual boxes, so its dual bound is a lower bound for
every real plan. The lots of each route are then packed box by box (first-fit decreasing on
volume and weight, opening another box or sending a lot alone when they do not fit), boxes are
shrunk to the cheapest type that holds them, and boxes that cost more than booking their lots
alone are emptied. The greedy plan warm-starts the MIP and stands when the MIP does no better.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from ortools.math_opt.python import mathopt

from network_data import Network
from optimizer._ortools import check_run_limits, mathopt_status
from optimizer.consolidation._options import (
    SEGREGATION,
    Option,
    ThroughRoute,
    Timing,
    UnitLoad,
    drop_detours,
    list_departures,
    lot_costs,
    route_options,
    standalone_option,
    through_route,
    unit_loads,
)
from optimizer.consolidation.problem import (
    ConsolidationProblem,
    ConsolidationShipment,
    hubs_near,
)
from optimizer.consolidation.result import (
    ConsolidationResult,
    DepartureUse,
    LoadedUnit,
    Placement,
    Unplaced,
)
from optimizer.quotable import EXACT
from optimizer.results import SolveStatus, relative_gap
from optimizer.routing import map_on_network, plan_routes

_EPS = 1e-6
_Task = TypeVar("_Task")
_Answer = TypeVar("_Answer")
#: The first pass over the blocks stops each within this relative gap; time left then goes to
#: closing the blocks' gaps further.
FIRST_PASS_GAP = 0.002
#: Routes and stand-alone options are computed in chunks of this many, checking the clock.
PREPARE_CHUNK = 250
#: The greedy plan opens a box for lots that could still wait only when they fill this share.
FULL_SHARE = 0.98


@dataclass
class _Lot:
    lot: ConsolidationShipment
    alone: Option
    pools: dict[int, Option]  # route index -> pool option

    @property
    def volume_m3(self) -> float:
        return self.lot.shipment.volume_m3

    @property
    def weight_kg(self) -> float:
        return self.lot.shipment.weight_kg


@dataclass
class _Box:
    route: int
    unit: UnitLoad
    lots: list[int]
    volume_m3: float = 0.0
    weight_kg: float = 0.0

    def fits(self, lot: _Lot, unit: UnitLoad | None = None) -> bool:
        unit = unit or self.unit
        return (
            self.volume_m3 + lot.volume_m3 <= unit.volume_m3 + _EPS
            and self.weight_kg + lot.weight_kg <= unit.weight_kg + _EPS
        )

    def add(self, index: int, lot: _Lot) -> None:
        self.lots.append(index)
        self.volume_m3 += lot.volume_m3
        self.weight_kg += lot.weight_kg


@dataclass
class _Plan:
    boxes: list[_Box]
    pooled: dict[int, int]  # lot index -> box index

    def cost(self, lots: list[_Lot], routes: list[ThroughRoute]) -> float:
        total = sum(routes[b.route].unit_price_cny[b.unit.name] for b in self.boxes)
        for i, lot in enumerate(lots):
            box = self.pooled.get(i)
            total += (
                lot.alone.cost_cny if box is None else lot.pools[self.boxes[box].route].cost_cny
            )
        return total


class _Prepared:
    """Departures, through routes and each lot's options."""

    def __init__(
        self,
        problem: ConsolidationProblem,
        workers: int | None,
        remaining: Callable[[], float],
    ) -> None:
        network = problem.network
        self.problem = problem
        self.cut_short = False
        self.loads = unit_loads(network)
        self.departures = list_departures(network, problem)
        self.routes: list[ThroughRoute] = []
        self.lots: list[_Lot] = []
        self.unplaced: list[Unplaced] = [
            Unplaced(r.shipment_id, r.field, r.message) for r in problem.rejected
        ]
        wanted = sorted(
            {
                (s.shipment.destination, SEGREGATION[s.shipment.cargo_class])
                for s in problem.shipments
            }
        )
        by_key: dict[tuple[str, str], list[ThroughRoute]] = defaultdict(list)
        near = {hub: set(hubs_near(network, hub, problem.hubs)) for hub in problem.hubs}
        tasks = [(d, k, s, self.loads) for d in self.departures for k, s in wanted]
        found = self._timed_map(network, through_route, tasks, workers, remaining)
        for route in drop_detours([r for r in found if r is not None]):
            by_key[route.destination, route.segregation].append(route)
            self.routes.append(route)
        index = {id(route): r for r, route in enumerate(self.routes)}
        timing = Timing.of(problem)
        standalone = self._timed_map(
            network, standalone_option, [(timing, lot) for lot in problem.shipments], workers,
            remaining,
        )  # fmt: skip
        for lot, alone_option in zip(problem.shipments, standalone, strict=True):
            key = (lot.shipment.destination, SEGREGATION[lot.shipment.cargo_class])
            routes = [r for r in by_key[key] if r.departure.hub in near[lot.shipment.origin]]
            options = route_options(timing, lot, lot_costs(network, lot), routes)
            alone = [o for o in options if o.kind == "own"]
            alone += [alone_option] if alone_option else []
            if not alone and self.cut_short:
                reason = "the time limit ran out before this lot's routes were priced"
                self.unplaced.append(Unplaced(lot.shipment_id, None, reason))
                continue
            if not alone:
                reason = _why_not(network, problem, lot, routes)
                self.unplaced.append(Unplaced(lot.shipment_id, "deadline", reason))
                continue
            best = min(alone, key=lambda o: (o.cost_cny, o.arrival))
            pools = {
                index[id(o.route)]: o
                for o in options
                if o.kind == "pool" and o.route is not None and o.cost_cny < best.cost_cny
            }
            self.lots.append(_Lot(lot, best, pools))

    def _timed_map(
        self,
        network: Network,
        function: Callable[[Network, _Task], _Answer | None],
        items: list[_Task],
        workers: int | None,
        remaining: Callable[[], float],
    ) -> list[_Answer | None]:
        """``function`` over ``items`` chunk by chunk while time remains; None for the rest."""
        answers: list[_Answer | None] = []
        for start in range(0, len(items), PREPARE_CHUNK):
            if remaining() <= 0:
                self.cut_short = True
                return answers + [None] * (len(items) - len(answers))
            chunk = items[start : start + PREPARE_CHUNK]
            answers += map_on_network(network, function, chunk, workers=workers)
        return answers

    def box_share_floor(self, lot: _Lot, route: int) -> float:
        """The least a perfectly shared box could charge ``lot`` on ``route``."""
        prices = self.routes[route].unit_price_cny
        units = [self.loads[name] for name in prices]
        per_m3 = min(prices[u.name] / u.volume_m3 for u in units)
        per_kg = min(prices[u.name] / u.weight_kg for u in units)
        return max(lot.volume_m3 * per_m3, lot.weight_kg * per_kg)

    def prune(self) -> None:
        """Drop pool options that cannot beat booking alone even in a perfectly shared box."""
        for lot in self.lots:
            lot.pools = {
                r: o
                for r, o in lot.pools.items()
                if o.cost_cny + self.box_share_floor(lot, r) < lot.alone.cost_cny - _EPS
            }


def _why_not(
    network: Network,
    problem: ConsolidationProblem,
    lot: ConsolidationShipment,
    routes: list[ThroughRoute],
) -> str:
    """Why ``lot`` has no option: no route at all, or the earliest arrival is too late."""
    shipment = lot.shipment
    assert shipment.deadline is not None
    boardable = [r for r in routes if shipment.ready_at <= r.departure.cutoff]
    arrivals = [(r.option.arrival, f"on {r.departure.service}") for r in boardable]
    fastest = plan_routes(
        network, replace(shipment, deadline=None, similar_within=EXACT), max_options=None
    )
    if fastest.options:
        option = min(fastest.options, key=lambda o: o.arrival)
        arrivals.append((option.arrival, f"booked alone ({option.summary})"))
    if not arrivals:
        return (
            f"no departure from {shipment.origin} between {problem.first_day} and "
            f"{problem.last_day} after its ready time, and no stand-alone route, takes "
            f"{shipment.cargo_class} cargo to {shipment.destination}"
            + (f": {fastest.infeasible_reason}" if fastest.infeasible_reason else "")
        )
    arrival, how = min(arrivals)
    allowed = f" plus the {problem.max_late_days:g} days allowed" if problem.max_late_days else ""
    return (
        f"the earliest arrival at {shipment.destination} is {arrival:%Y-%m-%d %H:%M} UTC "
        f"{how}, after its deadline {shipment.deadline.isoformat()}{allowed}"
    )


def _slot_limits(prepared: _Prepared) -> dict[str, float]:
    return {d.departure_id: d.slots for d in prepared.departures}


def _pack(
    prepared: _Prepared, route: int, members: list[int], units: list[UnitLoad]
) -> tuple[list[_Box], list[int]]:
    """First-fit decreasing of ``members`` into boxes of ``units`` (largest first)."""
    lots = prepared.lots
    order = sorted(members, key=lambda i: (-lots[i].volume_m3, -lots[i].weight_kg, i))
    boxes = [_Box(route, u, []) for u in sorted(units, key=lambda u: (-u.volume_m3, u.name))]
    left = []
    for i in order:
        box = next((b for b in boxes if b.fits(lots[i])), None)
        if box is None:
            left.append(i)
        else:
            box.add(i, lots[i])
    return [b for b in boxes if b.lots], left


def _cheapest_unit(prepared: _Prepared, box: _Box) -> UnitLoad:
    prices = prepared.routes[box.route].unit_price_cny
    fitting = [
        prepared.loads[name]
        for name in prices
        if box.volume_m3 <= prepared.loads[name].volume_m3 + _EPS
        and box.weight_kg <= prepared.loads[name].weight_kg + _EPS
    ]
    return min(fitting, key=lambda u: (prices[u.name], u.name))


def _finish(prepared: _Prepared, boxes: list[_Box]) -> _Plan:
    """Shrink boxes to their cheapest type; empty boxes that cost more than going alone."""
    lots, routes = prepared.lots, prepared.routes
    kept: list[_Box] = []
    for box in boxes:
        box.unit = _cheapest_unit(prepared, box)
        pooled = routes[box.route].unit_price_cny[box.unit.name] + sum(
            lots[i].pools[box.route].cost_cny for i in box.lots
        )
        if pooled < sum(lots[i].alone.cost_cny for i in box.lots) - _EPS:
            kept.append(box)
    kept.sort(key=lambda b: (b.route, -b.volume_m3, min(b.lots)))
    return _Plan(kept, {i: k for k, box in enumerate(kept) for i in box.lots})


def _greedy(prepared: _Prepared) -> _Plan:
    """Departure by departure, fill boxes with the lots that cannot wait, topped up with those
    that could (those with the fewest chances left first).

    A box opens when it saves money and holds a lot that has no later departure, or is nearly
    full (:data:`FULL_SHARE`); lots left at their last departure go alone.
    """
    lots, routes = prepared.lots, prepared.routes
    slots_left = _slot_limits(prepared)
    taken: set[int] = set()
    boxes: list[_Box] = []
    candidates: dict[int, list[int]] = defaultdict(list)
    for i, lot in enumerate(lots):
        for r in lot.pools:
            candidates[r].append(i)
    last = {
        i: max(routes[r].departure.depart for r in lot.pools)
        for i, lot in enumerate(lots)
        if lot.pools
    }
    for r in sorted(candidates, key=lambda r: (routes[r].departure.depart, r)):
        departure = routes[r].departure
        largest = _largest(prepared, r)
        members = [i for i in candidates[r] if i not in taken]
        urgent = {i for i in members if last[i] <= departure.depart}
        order = sorted(
            members,
            key=lambda i: (i not in urgent, last[i], -lots[i].volume_m3, -lots[i].weight_kg, i),
        )
        while order and slots_left[departure.departure_id] > _EPS:
            box, left = _Box(r, largest, []), []
            for i in order:
                if box.fits(lots[i]):
                    box.add(i, lots[i])
                else:
                    left.append(i)
            box.unit = _cheapest_unit(prepared, box)
            full = max(box.volume_m3 / largest.volume_m3, box.weight_kg / largest.weight_kg)
            price = routes[r].unit_price_cny[box.unit.name]
            gain = sum(lots[i].alone.cost_cny - lots[i].pools[r].cost_cny for i in box.lots)
            if (
                gain <= price + _EPS
                or box.unit.slots > slots_left[departure.departure_id] + _EPS
                or not (urgent & set(box.lots) or full >= FULL_SHARE)
            ):
                break
            boxes.append(box)
            taken.update(box.lots)
            slots_left[departure.departure_id] -= box.unit.slots
            order = left
    return _finish(prepared, boxes)


@dataclass
class _MipOutcome:
    status: SolveStatus
    bound_cny: float
    objective_cny: float
    chosen: dict[int, int]  # lot -> route
    counts: dict[tuple[int, str], int]  # (route, unit) -> boxes


def _mip(
    prepared: _Prepared,
    subset: list[int],
    hint: _Plan,
    time_limit_s: float,
    seed: int,
    gap_tolerance: float = 1e-4,
) -> _MipOutcome:
    """Solve the aggregate model over the lots in ``subset``.

    The objective counts every lot of ``subset`` (alone cost as a constant plus the change when
    pooled), so the dual bound bounds their total cost. The solver stops once its relative gap
    is within ``gap_tolerance``.
    """
    lots, routes = prepared.lots, prepared.routes
    model = mathopt.Model(name="consolidation")
    pool: dict[tuple[int, int], mathopt.Variable] = {}
    for i in subset:
        for r in sorted(lots[i].pools):
            pool[i, r] = model.add_binary_variable(name=f"x_{i}_{r}")
    members: dict[int, list[int]] = defaultdict(list)
    for i, r in pool:
        members[r].append(i)
    boxes: dict[tuple[int, str], mathopt.Variable] = {}
    for r in sorted(members):
        volume = sum(lots[i].volume_m3 for i in members[r])
        for name in sorted(routes[r].unit_price_cny):
            unit = prepared.loads[name]
            upper = math.ceil(volume / unit.volume_m3) + 1
            boxes[r, name] = model.add_integer_variable(lb=0, ub=upper, name=f"n_{r}_{name}")
    for i in subset:
        own = [pool[i, r] for r in sorted(lots[i].pools)]
        if own:
            model.add_linear_constraint(mathopt.fast_sum(own) <= 1)
    by_departure: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (r, name), _ in boxes.items():
        by_departure[routes[r].departure.departure_id].append((r, name))
    for r in sorted(members):
        names = sorted(routes[r].unit_price_cny)
        units = [prepared.loads[n] for n in names]
        model.add_linear_constraint(
            mathopt.fast_sum(lots[i].volume_m3 * pool[i, r] for i in members[r])
            <= mathopt.fast_sum(u.volume_m3 * boxes[r, u.name] for u in units)
        )
        model.add_linear_constraint(
            mathopt.fast_sum(lots[i].weight_kg * pool[i, r] for i in members[r])
            <= mathopt.fast_sum(u.weight_kg * boxes[r, u.name] for u in units)
        )
        model.add_linear_constraint(
            mathopt.fast_sum(pool[i, r] for i in members[r])
            <= mathopt.fast_sum(_most_lots(lots, members[r], u) * boxes[r, u.name] for u in units)
        )
        opened = mathopt.fast_sum(boxes[r, n] for n in names)
        for i in members[r]:
            model.add_linear_constraint(pool[i, r] <= opened)
    limits = _slot_limits(prepared)
    for departure, keys in sorted(by_departure.items()):
        model.add_linear_constraint(
            mathopt.fast_sum(prepared.loads[n].slots * boxes[r, n] for r, n in keys)
            <= limits[departure]
        )
    # Objective: boxes + every lot's alone cost + (pool - alone) for the pooled ones.
    constant = sum(lots[i].alone.cost_cny for i in subset)
    model.minimize(
        constant
        + mathopt.fast_sum(routes[r].unit_price_cny[n] * v for (r, n), v in boxes.items())
        + mathopt.fast_sum(
            (lots[i].pools[r].cost_cny - lots[i].alone.cost_cny) * v for (i, r), v in pool.items()
        )
    )
    pool_lots = {i for i, _ in pool}
    values: dict[mathopt.Variable, float] = {v: 0.0 for v in pool.values()}
    values.update({v: 0.0 for v in boxes.values()})
    for i, k in hint.pooled.items():
        if (i, hint.boxes[k].route) in pool:
            values[pool[i, hint.boxes[k].route]] = 1.0
    for box in hint.boxes:
        if (box.route, box.unit.name) in boxes and box.lots[0] in pool_lots:
            values[boxes[box.route, box.unit.name]] += 1.0
    for departure, keys in by_departure.items():
        if sum(prepared.loads[n].slots * values[boxes[k, n]] for k, n in keys) > limits[departure]:
            values = {}  # the hint breaks this subset's slot caps: let the solver start afresh
            break
    result = mathopt.solve(
        model,
        mathopt.SolverType.HIGHS,
        msg_cb=(lambda lines: print(*lines, sep="\n"))
        if os.environ.get("SHUDAO_SOLVER_LOG")
        else None,
        params=mathopt.SolveParameters(
            time_limit=timedelta(seconds=max(time_limit_s, 0.1)),
            random_seed=seed,
            relative_gap_tolerance=gap_tolerance,
        ),
        model_params=mathopt.ModelSolveParameters(
            solution_hints=[mathopt.SolutionHint(variable_values=values)] if values else []
        ),
    )
    status = mathopt_status(result)
    bound = float(result.termination.objective_bounds.dual_bound)
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return _MipOutcome(status, bound if math.isfinite(bound) else 0.0, math.inf, {}, {})
    chosen = {i: r for (i, r), v in pool.items() if result.variable_values(v) > 0.5}
    counts = {key: round(result.variable_values(v)) for key, v in boxes.items()}
    return _MipOutcome(
        status, bound, result.objective_value(), chosen, {k: c for k, c in counts.items() if c > 0}
    )


def _most_lots(lots: list[_Lot], members: list[int], unit: UnitLoad) -> int:
    """How many of ``members`` one ``unit`` can hold at most: its smallest ones, by volume
    and by weight. Lots are whole, so this cut is valid and tightens the volume totals."""
    counts = []
    for size, capacity in (
        (sorted(lots[i].volume_m3 for i in members), unit.volume_m3),
        (sorted(lots[i].weight_kg for i in members), unit.weight_kg),
    ):
        total, count = 0.0, 0
        for value in size:
            total += value
            if total > capacity + _EPS:
                break
            count += 1
        counts.append(count)
    return min(counts)


def _blocks(prepared: _Prepared) -> list[list[int]]:
    """Lots that may share boxes: one destination and segregation class (routes never mix)."""
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, lot in enumerate(prepared.lots):
        if lot.pools:
            route = prepared.routes[next(iter(lot.pools))]
            blocks[route.destination, route.segregation].append(i)
    return [blocks[key] for key in sorted(blocks)]


def _slots_used(prepared: _Prepared, counts: dict[tuple[int, str], int]) -> dict[str, float]:
    used: dict[str, float] = defaultdict(float)
    for (r, name), count in counts.items():
        used[prepared.routes[r].departure.departure_id] += prepared.loads[name].slots * count
    return used


def _merge(
    prepared: _Prepared, blocks: list[list[int]], outcomes: list[_MipOutcome]
) -> _MipOutcome:
    """One outcome of the blocks' outcomes; lots in no block count their alone cost."""
    merged = _MipOutcome(SolveStatus.OPTIMAL, 0.0, 0.0, {}, {})
    for outcome in outcomes:
        if outcome.status != SolveStatus.OPTIMAL:
            merged.status = SolveStatus.FEASIBLE
        merged.bound_cny += outcome.bound_cny
        merged.objective_cny += outcome.objective_cny
        merged.chosen.update(outcome.chosen)
        merged.counts.update(outcome.counts)
    pooled = {i for block in blocks for i in block}
    merged.bound_cny += sum(
        lot.alone.cost_cny for i, lot in enumerate(prepared.lots) if i not in pooled
    )
    return merged


def _solve_mip(
    prepared: _Prepared, hint: _Plan, remaining: Callable[[], float], seed: int
) -> _MipOutcome:
    """Solve block by block; when the blocks' boxes overbook a departure, solve all at once.

    Blocks share nothing but departure slots, so the sum of their bounds bounds the whole, and
    when their boxes keep every departure within its slots their union solves the whole. When
    they overbook, the whole model starts from the better of ``hint`` and the union with its
    overbooked boxes dropped (:func:`_from_mip`), and keeps the larger of the two bounds.
    """
    lots = prepared.lots
    blocks = _blocks(prepared)
    outcomes = []
    for k, block in enumerate(blocks):
        share = remaining() * 0.5 * len(block) / sum(len(b) for b in blocks[k:])
        outcomes.append(_mip(prepared, block, hint, share, seed, FIRST_PASS_GAP))
    merged = _merge(prepared, blocks, outcomes)
    limits = _slot_limits(prepared)
    used = _slots_used(prepared, merged.counts)
    if all(used[d] <= limits[d] + _EPS for d in used):
        # The blocks are independent here: spend the time left on those not yet proven.
        start = _from_mip(prepared, merged.chosen, merged.counts)
        open_blocks = [b for b, o in enumerate(outcomes) if o.status != SolveStatus.OPTIMAL]
        for k, b in enumerate(open_blocks):
            share = remaining() * len(blocks[b]) / sum(len(blocks[c]) for c in open_blocks[k:])
            again = _mip(prepared, blocks[b], start, share, seed)
            bound = max(again.bound_cny, outcomes[b].bound_cny)
            if again.objective_cny < outcomes[b].objective_cny:
                outcomes[b] = again
            outcomes[b].bound_cny = bound
        return _merge(prepared, blocks, outcomes)
    repaired = _from_mip(prepared, merged.chosen, merged.counts)
    start = min((hint, repaired), key=lambda plan: plan.cost(lots, prepared.routes))
    whole = _mip(prepared, list(range(len(lots))), start, remaining(), seed)
    whole.bound_cny = max(whole.bound_cny, merged.bound_cny)
    if whole.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        whole.status = SolveStatus.FEASIBLE
        whole.chosen = {i: start.boxes[k].route for i, k in start.pooled.items()}
        whole.counts = defaultdict(int)
        for box in start.boxes:
            whole.counts[box.route, box.unit.name] += 1
    return whole


def _from_mip(
    prepared: _Prepared, chosen: dict[int, int], counts: dict[tuple[int, str], int]
) -> _Plan:
    """Pack the MIP's lots into real boxes, then admit boxes to departures within their slots.

    Lots that do not fit the MIP's boxes get more boxes; boxes are admitted in order of what
    they save per slot, and the lots of a box that finds no slot go alone.
    """
    routes, lots = prepared.routes, prepared.lots
    members: dict[int, list[int]] = defaultdict(list)
    for i, r in chosen.items():
        members[r].append(i)
    candidates: list[_Box] = []
    for r in sorted(members):
        units = [
            prepared.loads[n] for (q, n), c in sorted(counts.items()) if q == r for _ in range(c)
        ]
        packed, left = _pack(prepared, r, members[r], units)
        while left:
            extra, left = _pack(prepared, r, left, [_largest(prepared, r)])
            packed.extend(extra)
        for box in packed:
            box.unit = _cheapest_unit(prepared, box)
        candidates.extend(packed)

    def saving_per_slot(box: _Box) -> float:
        saving = sum(lots[i].alone.cost_cny - lots[i].pools[box.route].cost_cny for i in box.lots)
        return (saving - routes[box.route].unit_price_cny[box.unit.name]) / box.unit.slots

    slots_left = _slot_limits(prepared)
    admitted = []
    for box in sorted(candidates, key=lambda b: (-saving_per_slot(b), b.route, min(b.lots))):
        departure = routes[box.route].departure.departure_id
        if box.unit.slots <= slots_left[departure] + _EPS:
            slots_left[departure] -= box.unit.slots
            admitted.append(box)
    return _finish(prepared, admitted)


def _largest(prepared: _Prepared, route: int) -> UnitLoad:
    units = [prepared.loads[n] for n in prepared.routes[route].unit_price_cny]
    return max(units, key=lambda u: (u.volume_m3, -u.slots, u.name))


#: Default time limit of a consolidation, seconds (the CLI's and the job's default too).
TIME_LIMIT_S = 60.0


def solve_consolidation(
    problem: ConsolidationProblem,
    *,
    time_limit_s: float = TIME_LIMIT_S,
    seed: int = 0,
    workers: int | None = 1,
) -> ConsolidationResult:
    """Decide for every lot its departure and box, or its booking alone, at least total cost.

    Cost = boxes + freight of lots booked alone + hub storage for every day waited + lateness
    penalty. Boxes hold at most their usable volume and payload; each departure takes at most
    its slots; a lot boards only after it is ready and only if it arrives by its deadline (plus
    ``max_late_days``); batteries share boxes only with batteries, perishables ride in reefers,
    and a box carries one destination.

    Parameters
    ----------
    problem
        Lots, their network, hubs, departure days and cost parameters.
    time_limit_s
        Wall-clock limit for the whole run (routes, options and the MIP).
    seed
        Random seed of the MIP solver; the same seed gives the same plan.
    workers
        Processes that compute routes and stand-alone options (None: every core). The plan
        does not depend on it.

    Returns
    -------
    ConsolidationResult
        Status, objective, proven bound and gap, the loading plan and every lot's placement.

    Examples
    --------
    >>> from datetime import date
    >>> from network_data import load_network
    >>> from optimizer.consolidation.problem import problem_from_records
    >>> network = load_network()
    >>> rows = [{"id": f"S{i}", "seller": "Acme", "origin": "Chengdu",
    ...          "destination": "Duisburg", "ready_date": "2026-12-01",
    ...          "deadline": "2026-12-31", "weight_kg": 2000, "volume_m3": 10} for i in range(6)]
    >>> problem = problem_from_records(network, rows, hubs=["Chengdu"],
    ...     first_day=date(2026, 12, 1), last_day=date(2026, 12, 3))
    >>> result = solve_consolidation(problem, time_limit_s=30)
    >>> result.status.value, [u.container_type for u in result.units]
    ('optimal', ['40HQ'])
    >>> result.savings_pct > 50
    True
    """
    check_run_limits(time_limit_s, seed)
    start = time.perf_counter()

    def remaining() -> float:
        # Keep back time to pack the boxes and build the result after the last MIP.
        reserve_s = min(1.0, 0.05 * time_limit_s)
        return time_limit_s - reserve_s - (time.perf_counter() - start)

    prepared = _Prepared(problem, workers, remaining)
    prepared.prune()
    greedy = _greedy(prepared)
    plan, status, bound = greedy, SolveStatus.FEASIBLE, 0.0
    if remaining() <= 0:
        pass  # no time for the MIP: the greedy plan stands, with no proven bound
    elif any(lot.pools for lot in prepared.lots):
        outcome = _solve_mip(prepared, greedy, remaining, seed)
        status, bound = outcome.status, outcome.bound_cny
        packed = _from_mip(prepared, outcome.chosen, outcome.counts)
        if (
            packed.cost(prepared.lots, prepared.routes)
            < greedy.cost(prepared.lots, prepared.routes) - _EPS
        ):
            plan = packed
    else:
        bound = greedy.cost(prepared.lots, prepared.routes)
        status = SolveStatus.OPTIMAL
    if prepared.cut_short:
        # Options left unpriced make any bound of the rest meaningless for the whole.
        status, bound = SolveStatus.FEASIBLE, 0.0
    elapsed_s = time.perf_counter() - start
    return _result(prepared, plan, greedy, status, bound, elapsed_s, seed)


def _result(
    prepared: _Prepared,
    plan: _Plan,
    greedy: _Plan,
    status: SolveStatus,
    bound: float,
    runtime_s: float,
    seed: int,
) -> ConsolidationResult:
    lots, routes = prepared.lots, prepared.routes
    objective = plan.cost(lots, routes)
    bound = min(bound, objective) if math.isfinite(bound) else 0.0
    gap = relative_gap(objective, bound) or 0.0
    if status == SolveStatus.OPTIMAL and gap > 1e-4:
        status = SolveStatus.FEASIBLE
    units: list[LoadedUnit] = []
    unit_of: dict[int, str] = {}
    used: dict[str, float] = defaultdict(float)
    for k, box in enumerate(plan.boxes):
        route = routes[box.route]
        departure = route.departure
        unit_id = f"{departure.departure_id}#{k + 1}"
        used[departure.departure_id] += box.unit.slots
        ids = tuple(lots[i].lot.shipment_id for i in sorted(box.lots))
        for i in box.lots:
            unit_of[i] = unit_id
        units.append(
            LoadedUnit(
                unit_id, departure.departure_id, box.unit.name, route.destination,
                route.segregation, ids, box.volume_m3, box.weight_kg, box.unit.volume_m3,
                box.unit.weight_kg, box.unit.slots, route.unit_price_cny[box.unit.name],
            )
        )  # fmt: skip
    placements = []
    for i, lot in enumerate(lots):
        box_index = plan.pooled.get(i)
        option = lot.alone if box_index is None else lot.pools[plan.boxes[box_index].route]
        departure_id = option.route.departure.departure_id if option.route else None
        kind = "container" if box_index is not None else option.kind
        shipment = lot.lot.shipment
        assert shipment.deadline is not None
        placements.append(
            Placement(
                lot.lot.shipment_id, lot.lot.seller, kind, departure_id, unit_of.get(i),
                option.depart, option.arrival, shipment.deadline, option.freight_cny,
                option.storage_cny, option.lateness_cny, option.co2e_kg, lot.alone.cost_cny,
                lot.alone.co2e_kg, option.summary,
            )
        )  # fmt: skip
    departures = tuple(
        DepartureUse(
            d.departure_id, d.hub, d.service, d.mode, d.cutoff, d.depart, d.slots, d.slot_unit,
            used.get(d.departure_id, 0.0),
        )
        for d in prepared.departures
    )  # fmt: skip
    return ConsolidationResult(
        status=status,
        objective_cny=objective,
        bound_cny=bound,
        gap=gap,
        runtime_s=runtime_s,
        seed=seed,
        departures=departures,
        units=tuple(units),
        placements=tuple(placements),
        unplaced=tuple(prepared.unplaced),
        baseline_cny=sum(lot.alone.cost_cny for lot in lots),
        co2e_kg=sum(p.co2e_kg for p in placements),
        baseline_co2e_kg=sum(lot.alone.co2e_kg for lot in lots),
        warm_start_cny=greedy.cost(lots, routes),
        pre_carriage=tuple(
            (lot.shipment_id, lot.pre_carriage)
            for lot in prepared.problem.shipments
            if lot.pre_carriage is not None
        ),
    )
