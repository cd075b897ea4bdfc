"""The multi-criteria, time-dependent label-setting search as a numba kernel.

Labels live in flat arrays; ``parent`` links rebuild a journey. Labels leave the queue in
lexicographic order of (arrival, cost, CO2e) each plus the node's lower bound to the
destination (A* on all three criteria). The bounds are consistent, so the keys never decrease
along a journey: a complete journey can never be dominated by one found later, which keeps the
complete set a Pareto front. A label is kept only if no settled label at its node dominates it
for every continuation (:func:`_settled_dominated`: the same or a richer customs state, any
arrival class up to one transfer's handling), nor, with its bounds, a complete journey (see
:mod:`optimizer.routing` for the model). The brute-force oracle in
``tests/test_routing_oracle.py`` is this kernel's reference twin.

The search and the bounds release the GIL (as :func:`optimizer.costs.line_haul.line_haul_costs`
does), so plans made on several threads run side by side and leave the interpreter to the
others meanwhile.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from optimizer.costs.clock import monotonic_s
from optimizer.costs.timetable import Departures, next_departure, next_departure_off_a_train

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CLEARED, BONDED = 1, 2
STATES = 4
ROAD, RAIL = 0, 1  # indices in optimizer.model.MODES
#: Arrival kinds: -1 at the origin, else mode x 2 + scheduled.
#: Arrival classes, which decide what the next leg costs: 0 at the origin, 1 off a scheduled
#: service (every next leg is a transfer), 2 + mode off an unscheduled corridor of that mode.
#: 7: on a through train that runs on from here (it may stay aboard, so no other arrival's
#: future covers its own). 8: off a booked train where sailings take such a box at a later
#: cut-off (rail-sea through booking), whose future covers every scheduled arrival's.
CLASSES = 9
ORIGIN_CLASS, SCHEDULED_CLASS, THROUGH_CLASS, CONNECTING_CLASS = 0, 1, 7, 8
#: Label columns (float): arrival, cost, co2e, arrival_p90, depart, handling, border, line_haul,
#: and on a complete journey ending at a node the destination's handling of its last leg.
ARRIVAL, COST, CO2E, ARRIVAL_P90, DEPART, HANDLING, BORDER, LINE_HAUL, DESTINATION = range(9)
FLOAT_COLUMNS = 9
#: Label columns (int): node (-1 once complete), state, kind, parent, edge, position, final
NODE, STATE, KIND, PARENT, EDGE, POSITION, FINAL = range(7)
#: The search reads the clock once every this many labels taken from the queue.
CLOCK_EVERY = 128


class SearchGraph(NamedTuple):
    """The network as the search walks it: corridors in CSR order, nodes, the timetable.

    ``departures``, ``rail_departures``, ``tt_through`` and ``thru_*`` are
    :class:`optimizer._compile.Timetable`'s (see :func:`optimizer.costs.timetable.next_departure`).
    """

    indptr: IntArray
    edge_destination: IntArray
    edge_mode: IntArray
    edge_scheduled: BoolArray
    duration_h: FloatArray
    duration_p90_h: FloatArray
    passage_dwell_h: FloatArray
    passage_dwell_p90_h: FloatArray
    node_handling_h: FloatArray
    node_dwell_h: FloatArray
    node_dwell_p90_h: FloatArray
    node_always_transfer: BoolArray
    node_is_border: BoolArray
    node_in_china: BoolArray
    node_regimes: IntArray
    node_is_bonded_zone: BoolArray
    #: Whether a box off a booked train connects to a sailing here at ``rail_departures``'
    #: later cut-off.
    node_rail_connects: BoolArray
    departures: Departures
    rail_departures: Departures
    #: Through trains (:class:`optimizer._compile.Timetable`): per departure the through
    #: departure it runs on as (-1: none), and per through departure its corridor, time and
    #: the next one.
    tt_through: IntArray
    thru_edge: IntArray
    thru_depart_h: FloatArray
    thru_next: IntArray


class SearchCosts(NamedTuple):
    """What one shipment pays and emits on each corridor, and on the last legs to its
    destination when that is a coordinate (``final_*`` per node, NaN where a node has none)."""

    usable: BoolArray
    line_haul_cny: FloatArray
    road_continuation_cny: FloatArray
    transfer_cny: FloatArray
    co2e_kg: FloatArray
    final_duration_h: FloatArray
    final_duration_p90_h: FloatArray
    final_cost_cny: FloatArray
    final_co2e_kg: FloatArray
    #: The last leg's cost when the truck that brought the shipment drives on (see
    #: ``road_continuation_cny``); at most ``final_cost_cny``.
    final_continuation_cny: FloatArray
    #: Handling at the node when the last leg starts with a transfer.
    final_handling_cny: FloatArray
    #: Handling at the destination node when the journey reaches it other than by road (the
    #: cargo is unloaded from the train, ship or aircraft there).
    arrival_handling_cny: FloatArray


class SearchQuery(NamedTuple):
    """Where a search goes and the rules it must keep.

    ``target`` is the destination node, or -1 when the destination is a coordinate reached by
    the final legs. A journey is complete once its customs state holds ``required_state``;
    ``regime_bit`` and ``bonded_bit`` say which nodes clear the regime or are bonded zones, and
    with ``need_export`` an export must clear before it leaves China.
    """

    target: int
    required_state: int
    regime_bit: int
    bonded_bit: int
    need_export: bool
    deadline_h: float
    horizon_h: float


class Rival(NamedTuple):
    """The settled labels of a search of the same shipment priced another way, and the most
    this search's pricing can save over it along any path (``slack_cny``).

    A label of this search is dropped when a rival label at its node, in its arrival class and
    with at least its customs state, arrives no later, emits no more and costs at least
    ``slack_cny`` less: the rival's continuation along any path then costs no more, so every
    journey the label could complete is dominated by one the rival search has found.
    """

    floats: FloatArray
    head: IntArray
    link: IntArray
    slack_cny: float


def no_rival(n_nodes: int) -> Rival:
    """A rival with no labels, for a search that has none."""
    return Rival(
        np.empty((0, FLOAT_COLUMNS)),
        np.full(n_nodes * STATES * CLASSES, -1, dtype=np.int64),
        np.empty(0, dtype=np.int64),
        np.inf,
    )


@njit(cache=True)
def _grow(floats: FloatArray, ints: IntArray) -> tuple[FloatArray, IntArray]:
    bigger_f = np.empty((floats.shape[0] * 2, floats.shape[1]))
    bigger_i = np.empty((ints.shape[0] * 2, ints.shape[1]), dtype=np.int64)
    bigger_f[: floats.shape[0]] = floats
    bigger_i[: ints.shape[0]] = ints
    return bigger_f, bigger_i


@njit(cache=True)
def _dominated(
    floats: FloatArray, members: IntArray, count: int, a: float, c: float, g: float
) -> bool:
    for k in range(count):
        i = members[k]
        if floats[i, ARRIVAL] <= a and floats[i, COST] <= c and floats[i, CO2E] <= g:
            return True
    return False


@njit(cache=True)
def _bag_dominated(
    floats: FloatArray, head: IntArray, link: IntArray, key: int, a: float, c: float, g: float
) -> bool:
    i = head[key]
    while i >= 0:
        if floats[i, ARRIVAL] <= a and floats[i, COST] <= c and floats[i, CO2E] <= g:
            return True
        i = link[i]
    return False


@njit(cache=True)
def _rival_dominated(
    rival_floats: FloatArray,
    rival_head: IntArray,
    rival_link: IntArray,
    slack_cny: float,
    node: int,
    state: int,
    klass: int,
    a: float,
    c: float,
    g: float,
) -> bool:
    """Whether a rival label at ``node`` in the same arrival class dominates (a, c, g) by at
    least the rival's slack (see :class:`Rival`).

    The rival comes as its arrays, not as the :class:`Rival` tuple: a tuple of arrays passed
    in the search's inner loop made the whole search about 15 % slower.
    """
    if klass == THROUGH_CLASS:
        return False
    for other_state in range(STATES):
        if (other_state & state) != state:
            continue
        key = (node * STATES + other_state) * CLASSES + klass
        if _bag_dominated(rival_floats, rival_head, rival_link, key, a, c - slack_cny, g):
            return True
    return False


@njit(cache=True)
def _runs_on(position: int, tt_through: IntArray, thru_next: IntArray) -> int:
    """The through departure a label's train runs on as (-1: none). ``position`` is the
    timetable departure it came on (>= 0), a through departure ``-(k + 2)``, or -1."""
    if position >= 0:
        return int(tt_through[position])
    if position <= -2:
        return int(thru_next[-(position + 2)])
    return -1


@njit(cache=True)
def _label_class(kind: int, runs_on: int, connects: bool) -> int:
    """The arrival class (see :data:`CLASSES`) of a label that arrived by ``kind`` on a train
    running on as ``runs_on`` (-1: none) at a node where a box off a train connects to
    sailings at a later cut-off (``connects``) or not."""
    if kind < 0:
        return ORIGIN_CLASS
    if runs_on >= 0:
        return THROUGH_CLASS
    if kind % 2 == 1:
        return CONNECTING_CLASS if connects and kind == RAIL * 2 + 1 else SCHEDULED_CLASS
    return 2 + kind // 2


@njit(cache=True)
def _settled_dominated(
    floats: FloatArray,
    head: IntArray,
    link: IntArray,
    node: int,
    state: int,
    klass: int,
    a: float,
    c: float,
    g: float,
    penalty_h: float,
    penalty_cny: float,
    unscheduled_penalty_cny: float,
) -> bool:
    """Whether a settled label at ``node`` dominates (a, c, g) for every continuation.

    A label whose customs state holds every bit of ``state`` can go wherever this one can. In
    the same arrival class the futures are equal; across classes a label may pay one more
    transfer (``penalty_h``, ``penalty_cny``: the most handling and the dearest line-haul
    difference on any next leg), except that an unscheduled arrival never transfers more than
    a scheduled one (``unscheduled_penalty_cny``: only the road continuation difference).
    Origin labels are compared only among themselves. A label on a through train that runs
    on is never dropped (it may stay aboard); as a rival it counts as a scheduled arrival.
    """
    if klass == THROUGH_CLASS:
        return False
    for other_state in range(STATES):
        if (other_state & state) != state:
            continue
        base = (node * STATES + other_state) * CLASSES
        if klass == ORIGIN_CLASS:
            if _bag_dominated(floats, head, link, base, a, c, g):
                return True
            continue
        for other in range(1, CLASSES):
            if head[base + other] < 0:
                continue
            if other == klass or (
                klass == SCHEDULED_CLASS and other in (THROUGH_CLASS, CONNECTING_CLASS)
            ):
                if _bag_dominated(floats, head, link, base + other, a, c, g):
                    return True
            elif klass == CONNECTING_CLASS:
                continue  # no other arrival makes the later rail-sea cut-off
            elif 2 <= other < THROUGH_CLASS and klass == SCHEDULED_CLASS:
                if _bag_dominated(
                    floats, head, link, base + other, a, c - unscheduled_penalty_cny, g
                ):
                    return True
            elif _bag_dominated(
                floats, head, link, base + other, a - penalty_h, c - penalty_cny, g
            ):
                return True
    return False


@njit(cache=True)
def transfer_penalties(
    n_nodes: int,
    indptr: IntArray,
    edge_mode: IntArray,
    usable: BoolArray,
    line_haul_cny: FloatArray,
    road_continuation_cny: FloatArray,
    transfer_cny: FloatArray,
    final_cost_cny: FloatArray,
    final_continuation_cny: FloatArray,
    final_handling_cny: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per node, the most a label's arrival class can add to the cost of any next leg.

    Returns the penalty across classes (the dearest transfer charge plus the road
    continuation difference, on a corridor or the last leg to a coordinate) and the penalty of
    an unscheduled arrival over a scheduled one (the continuation difference alone, when
    continuing costs more than a new booking).
    """
    penalty = np.zeros(n_nodes)
    unscheduled = np.zeros(n_nodes)
    for u in range(n_nodes):
        if not np.isnan(final_cost_cny[u]):
            extra = final_cost_cny[u] - final_continuation_cny[u]
            penalty[u] = final_handling_cny[u] + abs(extra)
            unscheduled[u] = max(0.0, -extra)
        for e in range(indptr[u], indptr[u + 1]):
            if not usable[e]:
                continue
            extra = 0.0
            if edge_mode[e] == ROAD:
                extra = line_haul_cny[e] - road_continuation_cny[e]
                unscheduled[u] = max(unscheduled[u], -extra)
            penalty[u] = max(penalty[u], transfer_cny[e] + abs(extra))
    return penalty, unscheduled


@njit(cache=True, nogil=True)
def lower_bounds(
    n_nodes: int,
    target: int,
    final_duration_h: FloatArray,
    final_cost_cny: FloatArray,
    final_co2e_kg: FloatArray,
    into_ptr: IntArray,
    edges_into: IntArray,
    edge_origin: IntArray,
    usable: BoolArray,
    edge_hours: FloatArray,
    edge_cost_cny: FloatArray,
    edge_co2e_kg: FloatArray,
) -> FloatArray:
    """Per node, the least hours, cost and CO2e still needed to reach the destination.

    Three backward Dijkstra runs, one criterion each, over usable corridors with their
    smallest possible values (no waits, handling or dwell; road legs at the continuation
    price), so each bound is admissible: a label whose bound is dominated by a complete
    journey cannot lead to a Pareto-optimal one. Each is also consistent (a corridor's value is
    at least the fall in bound along it), which the search's queue order relies on.
    ``edges_into[into_ptr[v]:into_ptr[v + 1]]`` are the corridors ending at ``v``.
    Unreachable nodes get +inf.
    """
    bounds = np.full((n_nodes, 3), np.inf)
    for criterion in range(3):
        weight = (
            edge_hours if criterion == 0 else (edge_cost_cny if criterion == 1 else edge_co2e_kg)
        )
        finals = (
            final_duration_h
            if criterion == 0
            else (final_cost_cny if criterion == 1 else final_co2e_kg)
        )
        best = np.full(n_nodes, np.inf)
        heap = [(0.0, np.int64(0))]
        heap.pop()
        if target >= 0:
            best[target] = 0.0
            heapq.heappush(heap, (0.0, np.int64(target)))
        for w in range(n_nodes):
            if not np.isnan(finals[w]) and finals[w] < best[w]:
                best[w] = finals[w]
                heapq.heappush(heap, (finals[w], np.int64(w)))
        while len(heap) > 0:
            d, node = heapq.heappop(heap)
            if d > best[node]:
                continue
            for k in range(into_ptr[node], into_ptr[node + 1]):
                e = edges_into[k]
                if not usable[e]:
                    continue
                u = edge_origin[e]
                candidate = d + weight[e]
                if candidate < best[u]:
                    best[u] = candidate
                    heapq.heappush(heap, (candidate, u))
        bounds[:, criterion] = best
    return bounds


@njit(cache=True)
def _is_transfer(arrived_kind: int, mode: int, scheduled: bool, always: bool) -> bool:
    if arrived_kind < 0:
        return False
    return arrived_kind // 2 != mode or arrived_kind % 2 == 1 or scheduled or always


@njit(cache=True, nogil=True)
def label_search(
    start_floats: FloatArray,
    start_ints: IntArray,
    query: SearchQuery,
    graph: SearchGraph,
    costs: SearchCosts,
    bounds: FloatArray,
    known: FloatArray,
    rival: Rival,
    time_left_s: FloatArray,
) -> tuple[FloatArray, IntArray, IntArray, int, IntArray, IntArray, FloatArray]:
    """Run the search from the start labels, until the queue is empty or the search has run
    for ``time_left_s[0]`` seconds (+inf: no limit).

    ``time_left_s`` is taken down by the time the search ran, so that searches sharing it share
    one limit. The time is counted from the search's own start, so compiling the kernel on
    first use is not counted.

    ``start_*`` rows are labels already at a node (the origin, or a node reached by a first-mile
    road leg, ``FINAL`` holding that leg's index or -1). ``bounds`` comes from
    :func:`lower_bounds`. ``known`` rows are (arrival, cost, CO2e) of journeys found before (by
    a search of the same shipment priced another way): labels they dominate are dropped, and
    none of them is returned.

    The first leg out of the origin pays its transfer charges (handling, documents) when it is
    not by road: the cargo is lifted onto the train, ship or aircraft there; its handling time
    is within the booking cut-off.

    Returns
    -------
    floats, ints, complete, settled, head, link, unexplored
        Every label created, the indices of the complete journeys, how many labels were
        settled, the settled labels by (node, customs state, arrival class): ``head[key]``
        is the last settled and ``link[i]`` the one settled before ``i`` (-1 ends), as a
        :class:`Rival` takes them; and (arrival, cost, CO2e) that no journey the search did
        not return beats: +inf each when the search ran to the end, else the least of each
        over the labels it left in the queue, each plus its node's bounds. The journeys
        returned before a stop are on this search's Pareto front all the same: none found
        later could dominate them.
    """
    target, required_state = query.target, query.required_state
    regime_bit, bonded_bit, need_export = query.regime_bit, query.bonded_bit, query.need_export
    deadline_h, horizon_h = query.deadline_h, query.horizon_h
    indptr, edge_destination, edge_mode = graph.indptr, graph.edge_destination, graph.edge_mode
    edge_scheduled, duration_h, duration_p90_h = (
        graph.edge_scheduled,
        graph.duration_h,
        graph.duration_p90_h,
    )
    passage_dwell_h, passage_dwell_p90_h = graph.passage_dwell_h, graph.passage_dwell_p90_h
    node_handling_h, node_dwell_h = graph.node_handling_h, graph.node_dwell_h
    node_dwell_p90_h, node_always_transfer = graph.node_dwell_p90_h, graph.node_always_transfer
    node_is_border, node_in_china = graph.node_is_border, graph.node_in_china
    node_regimes, node_is_bonded_zone = graph.node_regimes, graph.node_is_bonded_zone
    departures, rail_departures = graph.departures, graph.rail_departures
    node_rail_connects = graph.node_rail_connects
    tt_through, thru_edge = graph.tt_through, graph.thru_edge
    thru_depart_h, thru_next = graph.thru_depart_h, graph.thru_next
    usable, line_haul_cny = costs.usable, costs.line_haul_cny
    road_continuation_cny, transfer_cny = costs.road_continuation_cny, costs.transfer_cny
    co2e_kg = costs.co2e_kg
    final_duration_h, final_duration_p90_h = costs.final_duration_h, costs.final_duration_p90_h
    final_cost_cny, final_co2e_kg = costs.final_cost_cny, costs.final_co2e_kg
    final_continuation_cny = costs.final_continuation_cny
    final_handling_cny = costs.final_handling_cny
    arrival_handling_cny = costs.arrival_handling_cny
    rival_floats, rival_head, rival_link = rival.floats, rival.head, rival.link
    slack_cny = rival.slack_cny
    n_nodes = node_handling_h.shape[0]
    penalty_cny, unscheduled_penalty_cny = transfer_penalties(
        n_nodes, indptr, edge_mode, usable, line_haul_cny, road_continuation_cny, transfer_cny,
        final_cost_cny, final_continuation_cny, final_handling_cny,
    )  # fmt: skip
    if target >= 0:  # arriving other than by road pays the destination's handling
        penalty_cny[target] = max(penalty_cny[target], arrival_handling_cny[target])
    size = max(1024, 2 * (known.shape[0] + start_floats.shape[0]))
    floats = np.empty((size, FLOAT_COLUMNS))
    ints = np.empty((size, 7), dtype=np.int64)
    head = np.full(n_nodes * STATES * CLASSES, -1, dtype=np.int64)
    link = np.full(size, -1, dtype=np.int64)
    complete = np.empty(max(64, 2 * known.shape[0]), dtype=np.int64)
    n_complete = 0
    count = 0
    queue = [(0.0, 0.0, 0.0, np.int64(0))]
    queue.pop()
    for k in range(known.shape[0]):
        floats[count] = 0.0
        floats[count, ARRIVAL], floats[count, COST], floats[count, CO2E] = known[k]
        ints[count] = -1
        complete[n_complete] = count
        n_complete += 1
        count += 1
    for s in range(start_floats.shape[0]):
        floats[count] = start_floats[s]
        ints[count] = start_ints[s]
        heapq.heappush(
            queue,
            (floats[count, ARRIVAL], floats[count, COST], floats[count, CO2E], np.int64(count)),
        )
        count += 1
    settled = 0
    no_bound = np.zeros(3)
    unexplored = np.full(3, np.inf)
    limited = time_left_s[0] < np.inf
    deadline_s = np.inf
    if limited:
        deadline_s = monotonic_s() + time_left_s[0]
    taken = 0
    while len(queue) > 0:
        if limited and taken % CLOCK_EVERY == 0:
            now = monotonic_s()
            if now >= deadline_s:
                for _, _, _, waiting in queue:
                    node = ints[waiting, NODE]
                    ahead = bounds[node] if node >= 0 else no_bound
                    for k in range(3):
                        unexplored[k] = min(unexplored[k], floats[waiting, k] + ahead[k])
                break
        taken += 1
        _, _, _, index = heapq.heappop(queue)
        a, c, g = floats[index, ARRIVAL], floats[index, COST], floats[index, CO2E]
        u = ints[index, NODE]
        # Journeys completed since the label was made may now dominate its best completion.
        ahead = bounds[u] if u >= 0 else no_bound
        if _dominated(floats, complete, n_complete, a + ahead[0], c + ahead[1], g + ahead[2]):
            continue
        if u < 0:
            if n_complete == complete.shape[0]:
                bigger = np.empty(n_complete * 2, dtype=np.int64)
                bigger[:n_complete] = complete
                complete = bigger
            complete[n_complete] = index
            n_complete += 1
            continue
        state = ints[index, STATE]
        kind = ints[index, KIND]
        aboard = _runs_on(ints[index, POSITION], tt_through, thru_next)
        klass = _label_class(kind, aboard, node_rail_connects[u])
        if _settled_dominated(
            floats, head, link, u, state, klass, a, c, g, node_handling_h[u], penalty_cny[u],
            unscheduled_penalty_cny[u],
        ):  # fmt: skip
            continue
        key = (u * STATES + state) * CLASSES + klass
        if index >= link.shape[0]:
            bigger_link = np.full(floats.shape[0], -1, dtype=np.int64)
            bigger_link[: link.shape[0]] = link
            link = bigger_link
        link[index] = head[key]
        head[key] = index
        settled += 1
        first = kind < 0
        dwell = 0.0 if first else node_dwell_h[u]
        dwell_p90 = 0.0 if first else node_dwell_p90_h[u]
        p90 = floats[index, ARRIVAL_P90]
        reached = (state & required_state) == required_state
        if reached and u == target:
            if count == floats.shape[0]:
                floats, ints = _grow(floats, ints)
            floats[count] = floats[index]
            ints[count] = ints[index]
            ints[count, NODE] = -1
            unloaded = 0.0 if kind < 0 or kind // 2 == ROAD else arrival_handling_cny[u]
            floats[count, DESTINATION] = unloaded
            floats[count, COST] = c + unloaded
            heapq.heappush(queue, (a, c + unloaded, g, np.int64(count)))
            count += 1
            continue
        if reached and not np.isnan(final_duration_h[u]):
            transfer = _is_transfer(kind, ROAD, False, node_always_transfer[u])
            handling_h = node_handling_h[u] if transfer else 0.0
            handling = final_handling_cny[u] if transfer else 0.0
            arrival = a + dwell + handling_h + final_duration_h[u]
            last_leg = final_continuation_cny[u] if kind == ROAD * 2 else final_cost_cny[u]
            cost = c + last_leg + handling
            if arrival <= deadline_h:
                if count == floats.shape[0]:
                    floats, ints = _grow(floats, ints)
                border = handling if node_is_border[u] else 0.0
                floats[count, ARRIVAL] = arrival
                floats[count, COST] = cost
                floats[count, CO2E] = g + final_co2e_kg[u]
                floats[count, ARRIVAL_P90] = p90 + dwell_p90 + handling_h + final_duration_p90_h[u]
                floats[count, DEPART] = a + dwell + handling_h
                floats[count, HANDLING] = handling - border
                floats[count, BORDER] = border
                floats[count, LINE_HAUL] = last_leg
                floats[count, DESTINATION] = 0.0
                ints[count, NODE] = -1
                ints[count, STATE] = state
                ints[count, KIND] = ROAD * 2
                ints[count, PARENT] = index
                ints[count, EDGE] = -1
                ints[count, POSITION] = -1
                ints[count, FINAL] = u
                heapq.heappush(queue, (arrival, cost, floats[count, CO2E], np.int64(count)))
                count += 1
        for e in range(indptr[u], indptr[u + 1]):
            if not usable[e]:
                continue
            v = edge_destination[e]
            if need_export and (state & CLEARED) == 0 and node_in_china[u] and not node_in_china[v]:
                continue
            mode = edge_mode[e]
            for stay in (True, False):  # stay aboard a through train, or book the corridor
                if stay:
                    if aboard < 0 or thru_edge[aboard] != e:
                        continue
                    transfer = node_always_transfer[u]  # a gauge change still reloads
                    charged = transfer
                    handling_h = node_handling_h[u] if transfer else 0.0
                    scheduled_h = thru_depart_h[aboard]
                    depart = max(scheduled_h, a + dwell + handling_h)
                    depart_p90 = max(scheduled_h, p90 + dwell_p90 + handling_h)
                    position = -(aboard + 2)
                else:
                    transfer = _is_transfer(kind, mode, edge_scheduled[e], node_always_transfer[u])
                    handling_h = node_handling_h[u] if transfer else 0.0
                    charged = transfer or (first and mode != ROAD)
                    ready = a + dwell + handling_h
                    ready_p90 = p90 + dwell_p90 + handling_h
                    position = -1
                    if edge_scheduled[e]:
                        if kind == RAIL * 2 + 1 and node_rail_connects[u]:
                            depart, position = next_departure_off_a_train(
                                departures, rail_departures, e, ready
                            )
                            depart_p90, _ = next_departure_off_a_train(
                                departures, rail_departures, e, ready_p90
                            )
                        else:
                            depart, position = next_departure(departures, e, ready)
                            depart_p90, _ = next_departure(departures, e, ready_p90)
                        if position < 0:
                            continue
                    else:
                        depart, depart_p90 = ready, ready_p90
                arrival = depart + duration_h[e] + passage_dwell_h[e]
                if arrival > deadline_h or arrival > horizon_h:
                    continue
                handling = transfer_cny[e] if charged else 0.0
                on_road = not stay and kind == ROAD * 2 and mode == ROAD
                line_haul = road_continuation_cny[e] if on_road else line_haul_cny[e]
                cost = c + line_haul + handling
                co2e = g + co2e_kg[e]
                if np.isinf(bounds[v, 0]) or _dominated(
                    floats,
                    complete,
                    n_complete,
                    arrival + bounds[v, 0],
                    cost + bounds[v, 1],
                    co2e + bounds[v, 2],
                ):
                    continue
                new_state = state
                if node_in_china[v] and (node_regimes[v] & regime_bit) != 0:
                    new_state |= CLEARED
                if node_is_bonded_zone[v] and (node_regimes[v] & bonded_bit) != 0:
                    new_state |= BONDED
                new_kind = mode * 2 + (1 if edge_scheduled[e] or stay else 0)
                runs_on = _runs_on(position, tt_through, thru_next)
                new_class = _label_class(new_kind, runs_on, node_rail_connects[v])
                if _settled_dominated(
                    floats, head, link, v, new_state, new_class, arrival, cost, co2e,
                    node_handling_h[v], penalty_cny[v], unscheduled_penalty_cny[v],
                ) or _rival_dominated(
                    rival_floats, rival_head, rival_link, slack_cny, v, new_state, new_class,
                    arrival, cost, co2e,
                ):  # fmt: skip
                    continue
                if count == floats.shape[0]:
                    floats, ints = _grow(floats, ints)
                border = handling if node_is_border[u] else 0.0
                floats[count, ARRIVAL] = arrival
                floats[count, COST] = cost
                floats[count, CO2E] = co2e
                floats[count, ARRIVAL_P90] = depart_p90 + duration_p90_h[e] + passage_dwell_p90_h[e]
                floats[count, DEPART] = depart
                floats[count, HANDLING] = handling - border
                floats[count, BORDER] = border
                floats[count, LINE_HAUL] = line_haul
                floats[count, DESTINATION] = 0.0
                ints[count, NODE] = v
                ints[count, STATE] = new_state
                ints[count, KIND] = new_kind
                ints[count, PARENT] = index
                ints[count, EDGE] = e
                ints[count, POSITION] = position
                ints[count, FINAL] = -1
                heapq.heappush(
                    queue,
                    (
                        arrival + bounds[v, 0],
                        cost + bounds[v, 1],
                        co2e + bounds[v, 2],
                        np.int64(count),
                    ),
                )
                count += 1
    if limited:
        time_left_s[0] = max(0.0, deadline_s - monotonic_s())
    n_known = known.shape[0]
    return (
        floats[:count], ints[:count], complete[n_known:n_complete], settled, head, link,
        unexplored,
    )  # fmt: skip
