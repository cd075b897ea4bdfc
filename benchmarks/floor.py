"""The floor of issue 23: earliest arrival by one criterion on a time-expanded graph.

What one criterion costs at best: :func:`build_floor_graph` turns a network's timetable over a
window into a time-expanded graph once, and :func:`earliest_arrival` answers a query (origin,
destination, ready time) with ``scipy.sparse.csgraph.dijkstra`` from a query vertex.
``benchmarks/scale`` times it beside the planner on the same shipments. It is a measurement
aid, not a planner.

What the graph models
---------------------
Arc weights are elapsed hours, so a vertex's distance from the query vertex is its time minus
the ready time.

- *Event vertices*, one per (node, time), sorted by node and time: every departure of a
  timetabled corridor at its origin, at its booking cut-off (the latest moment the cargo may be
  there), and its arrival at the destination (departure, run time and the corridor's passage
  dwell, as the planner times it); through trains add their later timetabled corridors'
  departures at their scheduled times. Continuous corridors (roads, and rail or river legs
  without a timetable) depart at any time, so a continuous corridor x -> w also gives w a
  *landing* vertex per arrival at x (its time plus the run time). A node that still has no
  vertex (reached by continuous legs only, such as rail stations beyond a border) gets the
  vertices of the nodes it is reached from, shifted by the run time, one layer at a time; so
  every node has vertices and the graph grows in proportion to the network (a transitive
  closure of the continuous legs instead grew with its square on the scaled networks, whose
  road links chain the replicas).
- *Wait* arcs chain each node's vertices in time order; *trip* arcs join a departure to its
  arrival; *continuous* arcs join each vertex at x, along every continuous corridor x -> w, to
  the first vertex at w at or after its time plus the run time.
- A *final layer*, one vertex per node: every event vertex has an arc to its node's final
  vertex, and final vertices are joined by the continuous corridors. Cargo that leaves the
  timetables for good drives on at its true times, so the destination's final vertex holds the
  exact earliest arrival of journeys that end with continuous legs.
- The *query vertex* (the last one) has one arc slot per node, rewritten per query: a
  node-level Dijkstra over the continuous corridors from the origin gives the exact times by
  continuous legs alone, and the slots go to the first event vertex at or after that time at
  each node reached, and to the origin's final vertex.

A query searches with a cut-off (``limit=``) of two days, doubled until the destination is
reached within it or the horizon is searched: a destination reached within a cut-off is
reached earliest, and the work of all the cut-offs is about twice the last one's (one search to
the horizon costs 5 to 10 times more). csgraph's Dijkstra cannot stop at a target and sets up
its arrays for every vertex of the graph on each call, so each call also costs time in
proportion to the graph (about 6 ms at 10x); starting from a lower bound on the arrival (run
times alone) instead of two days measured no faster.

What it simplifies (so it is a computational floor, not a plan)
---------------------------------------------------------------
- One criterion, time: no cost, CO2e, capacity, cargo class, customs regime or export
  clearance, avoided places, deadline, or p90 times; every corridor of the network is usable.
- No handling time at transfers and no node dwell (the planner adds both): cargo can board any
  departure whose cut-off it reaches, and a through train's later corridors can be boarded at
  their departure times without a cut-off. These make its arrivals earlier than the planner's.
- Every departure is boarded at its booking cut-off, also for a box off a train where the
  planner lets it make a sailing at the later rail-sea cut-off (``rail_cutoff_h``).
- Continuous legs are exact out of the origin and into the destination. Between two timetabled
  legs, a continuous leg lands on the next event vertex at its end, so cargo that drives on
  through a node with vertices waits there for that node's next event; an arrival can then be
  later than the planner's.

Build time and size (event vertices are timetabled departures in the window x (1 + continuous
corridors per node)) are reported beside the query times, not counted in them.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from network_data import Network
from optimizer._compile import routing_data

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The first cut-off of a query's search, hours (doubled until the destination is reached).
FIRST_LIMIT_H = 48.0


@dataclass(frozen=True)
class FloorGraph:
    """A network's time-expanded graph over ``[start_h, end_h)`` (epoch hours)."""

    #: Arcs, hours: event vertices, then one final vertex per node, then the query vertex,
    #: whose ``n_nodes + 1`` arc slots each query rewrites.
    matrix: sp.csr_matrix
    #: Event vertices of node ``i`` are ``vertex_ptr[i]:vertex_ptr[i + 1]``, in time order.
    vertex_ptr: IntArray
    vertex_h: FloatArray
    #: Sorted key of each event vertex, ``node * span + hours - start_h``.
    keys: FloatArray
    span: float
    #: The continuous corridors between nodes (quickest of parallel ones), hours.
    continuous: sp.csr_matrix
    node_index: dict[str, int]
    start_h: float
    end_h: float
    build_s: float

    @property
    def events(self) -> int:
        """Event vertices."""
        return len(self.vertex_h)

    @property
    def vertices(self) -> int:
        """Vertices: events, the final layer and the query vertex."""
        return int(self.matrix.shape[0])

    @property
    def arcs(self) -> int:
        """Arcs, the query vertex's slots included."""
        return int(self.matrix.nnz)

    @property
    def megabytes(self) -> float:
        """Memory of the graph's arrays."""
        m = self.matrix
        arrays = (m.data, m.indices, m.indptr, self.vertex_h, self.keys)
        return sum(a.nbytes for a in arrays) / 1e6

    @property
    def source(self) -> int:
        """The query vertex."""
        return self.vertices - 1

    def final(self, node: int) -> int:
        """The final-layer vertex of ``node``."""
        return self.events + node


def _by_node(node: IntArray, n_nodes: int) -> tuple[IntArray, IntArray]:
    """Stable order of rows by ``node`` and the CSR pointer of that order."""
    order = np.argsort(node, kind="stable")
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(node, minlength=n_nodes))
    return order, ptr


def _ranges(ptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """For each of ``rows``, the positions ``ptr[row]:ptr[row + 1]``, end to end, and the
    index into ``rows`` each came from."""
    counts = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return ptr[rows][owner] + np.arange(len(owner)) - starts, owner


def _csr(row: IntArray, col: IntArray, weight: FloatArray, n: int) -> sp.csr_matrix:
    """The ``n`` x ``n`` arc matrix, built directly: parallel arcs stay (Dijkstra takes the
    shorter; a COO conversion would add them up). Weights a rounding made negative (-1e-10 h)
    are zero."""
    order = np.argsort(row, kind="stable")
    row, col, weight = row[order], col[order], np.maximum(weight[order], 0.0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(row, minlength=n))
    return sp.csr_matrix((weight, col.astype(np.int32), indptr.astype(np.int32)), shape=(n, n))


def _trips(
    network: Network, start_h: float, end_h: float
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Every timetabled departure boarded in ``[start_h, end_h)`` and arriving before
    ``end_h``: (corridor, boarding hour, arrival hour). Boarding is the booking cut-off, or for
    a through train's later timetabled corridors the departure itself."""
    data = routing_data(network)
    timetable = data.ensure_timetable(start_h, end_h)
    run_h = data.arrays.edge_duration_h + data.edge_passage_dwell_h
    scheduled = data.edge_scheduled
    # the index keeps each corridor's rows by cut-off, departure times beside them
    ptr = timetable.departures.ptr
    through = scheduled[timetable.thru_edge]
    edge = np.concatenate(
        [np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)), timetable.thru_edge[through]]
    )
    board_h = np.concatenate([timetable.departures.cutoff_h, timetable.thru_depart_h[through]])
    arrive_h = np.concatenate([timetable.depart_h, timetable.thru_depart_h[through]]) + run_h[edge]
    keep = scheduled[edge] & (board_h >= start_h) & (arrive_h < end_h)
    return edge[keep], board_h[keep], arrive_h[keep]


def build_floor_graph(network: Network, start_h: float, end_h: float) -> FloorGraph:
    """The time-expanded graph of ``network``'s departures with cut-offs in
    ``[start_h, end_h)`` and arrivals before ``end_h`` (see the module docstring)."""
    began = time.perf_counter()
    data = routing_data(network)
    arrays = data.arrays
    n_nodes = len(arrays.node_ids)
    run_h = arrays.edge_duration_h + data.edge_passage_dwell_h
    scheduled = data.edge_scheduled
    edge, board_h, arrive_h = _trips(network, start_h, end_h)
    board_node, arrive_node = arrays.edge_origin[edge], arrays.edge_destination[edge]
    # Continuous corridors, and a landing along each per arrival at its origin.
    continuous = np.flatnonzero(~scheduled)
    c_origin, c_destination = arrays.edge_origin[continuous], arrays.edge_destination[continuous]
    c_h = run_h[continuous]
    arrival_order, arrival_ptr = _by_node(arrive_node, n_nodes)
    position, corridor = _ranges(arrival_ptr, c_origin)
    landing_node = c_destination[corridor]
    landing_h = arrive_h[arrival_order[position]] + c_h[corridor]
    inside = landing_h < end_h
    landing_node, landing_h = landing_node[inside], landing_h[inside]
    # Event vertices: unique (node, time), sorted by a float key node * span + hours.
    span = float(np.ceil(end_h - start_h) + 1.0)

    def key(node: IntArray, hours: FloatArray) -> FloatArray:
        return node * span + (hours - start_h)

    keys = np.unique(
        np.concatenate([key(board_node, board_h), key(arrive_node, arrive_h),
                        key(landing_node, landing_h)])
    )  # fmt: skip
    # Nodes still without vertices (continuous legs only, e.g. rail beyond a border) get the
    # vertices of the nodes they are reached from by a continuous leg, one layer at a time.
    tried = np.zeros(n_nodes, dtype=bool)
    while True:
        vertex_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        vertex_ptr[1:] = np.cumsum(np.bincount((keys // span).astype(np.int64), minlength=n_nodes))
        has = np.diff(vertex_ptr) > 0
        tried |= has
        layer = np.flatnonzero(has[c_origin] & ~tried[c_destination])
        if len(layer) == 0:
            break
        tried[c_destination[layer]] = True
        position, corridor = _ranges(vertex_ptr, c_origin[layer])
        node = c_destination[layer][corridor]
        hours = keys[position] - c_origin[layer][corridor] * span + start_h + c_h[layer][corridor]
        inside = hours < end_h
        keys = np.unique(np.concatenate([keys, key(node[inside], hours[inside])]))
    vertex_node = (keys // span).astype(np.int64)
    vertex_h = keys - vertex_node * span + start_h
    vertex_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    vertex_ptr[1:] = np.cumsum(np.bincount(vertex_node, minlength=n_nodes))
    n_events = len(keys)
    source = n_events + n_nodes
    # Wait and trip arcs.
    wait = np.flatnonzero(vertex_node[1:] == vertex_node[:-1])
    rows = [wait, np.searchsorted(keys, key(board_node, board_h))]
    cols = [wait + 1, np.searchsorted(keys, key(arrive_node, arrive_h))]
    weights = [vertex_h[wait + 1] - vertex_h[wait], arrive_h - board_h]
    # Continuous arcs from every vertex at x, along every continuous corridor x -> w.
    tail, corridor = _ranges(vertex_ptr, c_origin)
    to_node = c_destination[corridor]
    head = np.searchsorted(keys, key(to_node, vertex_h[tail] + c_h[corridor]))
    found = head < vertex_ptr[to_node + 1]
    rows.append(tail[found])
    cols.append(head[found])
    weights.append(vertex_h[head[found]] - vertex_h[tail[found]])
    del tail, corridor, to_node, head, found
    # The final layer: events to their node's final vertex, final vertices by continuous legs.
    rows += [np.arange(n_events), n_events + c_origin]
    cols += [n_events + vertex_node, n_events + c_destination]
    weights += [np.zeros(n_events), c_h]
    # The query vertex's slots, one per node and one more, pointing at itself until a query
    # writes them.
    rows.append(np.full(n_nodes + 1, source))
    cols.append(np.full(n_nodes + 1, source))
    weights.append(np.zeros(n_nodes + 1))
    matrix = _csr(np.concatenate(rows), np.concatenate(cols), np.concatenate(weights), source + 1)
    return FloorGraph(
        matrix=matrix,
        vertex_ptr=vertex_ptr,
        vertex_h=vertex_h,
        keys=keys,
        span=span,
        continuous=_csr(c_origin, c_destination, c_h, n_nodes),
        node_index=data.node_index,
        start_h=start_h,
        end_h=end_h,
        build_s=time.perf_counter() - began,
    )


def earliest_arrival(
    graph: FloorGraph, origin: str, destination: str, ready_h: float, horizon_h: float
) -> float:
    """Earliest arrival (epoch hours) at ``destination`` of cargo ready at ``origin`` at
    ``ready_h``, within ``horizon_h`` hours; inf if none.

    Not thread-safe: the query vertex's arcs are rewritten in place.

    Examples
    --------
    Chengdu railport to Erenhot (the hand-checked case of ``tests/test_scale_floor.py``):

    >>> from datetime import UTC, datetime
    >>> from network_data import load_network
    >>> from optimizer._compile import epoch_hours, from_epoch_hours
    >>> ready_h = epoch_hours(datetime(2026, 11, 23, 1, tzinfo=UTC))
    >>> graph = build_floor_graph(load_network(), ready_h - 24, ready_h + 100 * 24)
    >>> print(from_epoch_hours(earliest_arrival(graph, "CNCTU-RLY", "CNERC", ready_h, 90 * 24)))
    2026-11-28 09:12:00+00:00
    """
    if not graph.start_h <= ready_h < graph.end_h:
        raise ValueError(f"ready_h {ready_h} is outside the graph's window [start_h, end_h)")
    o, d = graph.node_index[origin], graph.node_index[destination]
    m, vp = graph.matrix, graph.vertex_ptr
    # Continuous legs alone from the origin: exact times, to the first event after each.
    by_road = dijkstra(graph.continuous, indices=o, limit=horizon_h)
    reached = np.flatnonzero(by_road < np.inf)
    at_h = ready_h + by_road[reached]
    first = np.searchsorted(graph.keys, reached * graph.span + (at_h - graph.start_h))
    ok = first < vp[reached + 1]
    slots = m.indptr[graph.source]
    taken = int(ok.sum())
    m.indices[slots : slots + taken] = first[ok]
    m.data[slots : slots + taken] = graph.vertex_h[first[ok]] - ready_h
    m.indices[slots + taken] = graph.final(o)
    m.data[slots + taken] = 0.0
    m.indices[slots + taken + 1 :] = graph.source
    target = graph.final(d)
    limit = FIRST_LIMIT_H
    while True:
        limit = min(limit, horizon_h)
        reach = float(dijkstra(m, indices=graph.source, limit=limit)[target])
        if reach <= limit or limit >= horizon_h:
            return ready_h + reach if reach <= horizon_h else math.inf
        limit *= 2


class ReferenceArrival:
    """The floor's slow reference twin: a time-dependent Dijkstra over nodes with the floor's
    simplifications and none of its rounding.

    Cargo reaches each node at its earliest time; a continuous corridor takes its run time from
    then, and a timetabled corridor gives the earliest arrival among its departures still
    boardable (:func:`_trips`). With waiting allowed that is the exact earliest arrival under
    the floor's simplifications, so :func:`earliest_arrival` is never earlier. It is also a
    lower bound on any planner journey from the same node and time, but for one thing the
    planner has and it has not: a box off a train may board a sailing at its later rail-sea
    cut-off (``rail_cutoff_h``).
    """

    def __init__(self, network: Network, start_h: float, end_h: float) -> None:
        data = routing_data(network)
        arrays = data.arrays
        edge, board_h, arrive_h = _trips(network, start_h, end_h)
        order = np.lexsort((board_h, edge))
        edge, board_h, arrive_h = edge[order], board_h[order], arrive_h[order]
        self._ptr = np.searchsorted(edge, np.arange(len(arrays.edge_ids) + 1))
        self._board_h = board_h
        # per corridor, the earliest arrival among the departures from each row on
        self._best_h = arrive_h.copy()
        for e in range(len(arrays.edge_ids)):
            start, end = self._ptr[e], self._ptr[e + 1]
            self._best_h[start:end] = np.minimum.accumulate(arrive_h[start:end][::-1])[::-1]
        self._indptr = arrays.indptr.tolist()
        self._destination = arrays.edge_destination.tolist()
        self._scheduled = data.edge_scheduled.tolist()
        self._run_h = (arrays.edge_duration_h + data.edge_passage_dwell_h).tolist()
        self.node_index = data.node_index

    def __call__(self, origin: str, destination: str, ready_h: float, horizon_h: float) -> float:
        """Earliest arrival (epoch hours) within ``horizon_h`` hours of ``ready_h``, or inf."""
        o, d = self.node_index[origin], self.node_index[destination]
        best = {o: ready_h}
        heap = [(ready_h, o)]
        while heap:
            t, u = heapq.heappop(heap)
            if t > best[u]:
                continue
            if u == d:
                return t if t - ready_h <= horizon_h else math.inf
            for e in range(self._indptr[u], self._indptr[u + 1]):
                if self._scheduled[e]:
                    start, end = self._ptr[e], self._ptr[e + 1]
                    i = start + int(np.searchsorted(self._board_h[start:end], t))
                    arrival = float(self._best_h[i]) if i < end else math.inf
                else:
                    arrival = t + self._run_h[e]
                v = self._destination[e]
                if arrival < best.get(v, math.inf):
                    best[v] = arrival
                    heapq.heappush(heap, (arrival, v))
        return math.inf


def search_last_query(graph: FloorGraph, limit_h: float) -> float:
    """Run the last query's search once more, cut off at ``limit_h`` hours, and return the
    least distance to any final vertex reached (inf if none): what one csgraph search costs when
    the cut-off is known, the least a query can cost (:func:`earliest_arrival` must find it)."""
    distance = dijkstra(graph.matrix, indices=graph.source, limit=limit_h)
    return float(distance[graph.events : graph.source].min())
