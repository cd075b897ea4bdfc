"""The label search run for a shipment, once per load basis, and what it found."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from optimizer._compile import REGIME_BIT, RoutingData, Timetable, epoch_hours
from optimizer.costs import search
from optimizer.model import Shipment
from optimizer.routing.costs import (
    ROAD_MODE,
    EdgeCosts,
    edge_costs,
    most_saved,
    never_cheaper,
    never_cheaper_boxed,
)
from optimizer.routing.places import Place, SyntheticLeg, node_point, road_leg
from optimizer.routing.problem import usable_corridors

FloatArray = npt.NDArray[np.float64]

#: How far past the search horizon the timetable must reach: labels are kept by their mean
#: arrival, but their p90 times, weeks later after a missed monthly sailing, look up the
#: departures there too.
P90_REACH_DAYS = 60
#: Searches on a timetable widened each time by :data:`P90_REACH_DAYS`, at most.
_WIDENINGS = 4


class Journey(NamedTuple):
    """One complete journey found by the search: its totals and where its labels are.

    A named tuple, not a frozen dataclass: a search yields tens of them per plan, and a frozen
    dataclass costs several times as much to build.
    """

    arrival_h: float
    cost_cny: float
    co2e_kg: float
    #: Row of its last label in the search result.
    label: int
    #: Which of the search's results (one per load basis) holds its labels.
    result: int = 0


@dataclass(frozen=True)
class BasisResult:
    """Everything the label search returned, with the synthetic legs it refers to."""

    floats: FloatArray
    ints: npt.NDArray[np.int64]
    journeys: list[Journey]
    settled: int
    first_legs: list[SyntheticLeg]
    final_legs: dict[int, SyntheticLeg]
    costs: EdgeCosts
    #: The settled labels by (node, customs state, arrival class), as :class:`search.Rival`.
    head: npt.NDArray[np.int64]
    link: npt.NDArray[np.int64]
    #: The timetable searched, which labels' departure positions index: another search may
    #: since have widened ``RoutingData.timetable``.
    timetable: Timetable
    #: (arrival, cost, CO2e) no journey this search did not return beats: +inf each unless it
    #: stopped at its time limit (:func:`optimizer.costs.search.label_search`).
    unexplored: FloatArray


@dataclass(frozen=True)
class Search:
    """A shipment searched with each load basis: the results and their merged Pareto front."""

    results: tuple[BasisResult, ...]
    journeys: list[Journey]
    settled: int

    @property
    def unexplored(self) -> FloatArray | None:
        """(arrival h, cost CNY, CO2e kg) that no Pareto-best journey missing from ``journeys``
        beats, each the least over the searches; None when every search ran to the end."""
        least = np.min([r.unexplored for r in self.results], axis=0)
        return least if np.isfinite(least).any() else None


def search_shipment(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    destination: Place,
    horizon_days: int,
    time_left_s: FloatArray | None = None,
) -> Search:
    """Search the shipment priced loose, then boxed (unless boxed costs more on every corridor).

    The boxed search starts knowing the loose journeys, so it keeps only what beats them; loose
    journeys a boxed one dominates are then dropped, leaving the exact front of both.

    The searches share the time limit ``time_left_s[0]`` seconds (None: none), which each takes
    down by the time it ran. Stopped at it, they return what they found, and
    ``Search.unexplored`` bounds the rest: a journey found that is earlier, cheaper or cleaner
    than it is Pareto-best; one that is not may be beaten by a journey the boxed search did not
    reach.
    """
    if time_left_s is None:
        time_left_s = np.array([math.inf])
    usable = usable_corridors(data, shipment)
    loose = _run_basis(
        data, shipment, origin, destination, horizon_days, "loose", [], usable,
        edge_costs(data, shipment, "loose"), time_left_s,
    )  # fmt: skip
    if never_cheaper_boxed(data, shipment, loose.costs):
        return Search((loose,), loose.journeys, loose.settled)
    boxed_costs = edge_costs(data, shipment, "boxed")
    if never_cheaper(data, loose.costs, boxed_costs):
        return Search((loose,), loose.journeys, loose.settled)
    rival = search.Rival(
        loose.floats, loose.head, loose.link, most_saved(data, loose.costs, boxed_costs, usable)
    )
    boxed = _run_basis(
        data, shipment, origin, destination, horizon_days, "boxed", loose.journeys, usable,
        boxed_costs, time_left_s, rival,
    )  # fmt: skip
    boxed_journeys = [j._replace(result=1) for j in boxed.journeys]
    kept = [
        j for j in loose.journeys
        if not any(
            b.arrival_h <= j.arrival_h and b.cost_cny <= j.cost_cny and b.co2e_kg <= j.co2e_kg
            for b in boxed_journeys
        )
    ]  # fmt: skip
    return Search((loose, boxed), kept + boxed_journeys, loose.settled + boxed.settled)


def _run_basis(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    destination: Place,
    horizon_days: int,
    basis: str,
    known: list[Journey],
    usable_edges: npt.NDArray[np.bool_],
    costs: EdgeCosts,
    time_left_s: FloatArray,
    rival: search.Rival | None = None,
) -> BasisResult:
    """Search the shipment priced one way (``costs``), knowing journeys found before, within
    the time left (see :func:`search_shipment`)."""
    arrays = data.arrays
    ready_h = epoch_hours(shipment.ready_at)
    deadline_h = epoch_hours(shipment.deadline) if shipment.deadline else math.inf
    horizon_h = ready_h + horizon_days * 24
    origin_country = origin.country
    need_export = origin_country == "CN" and destination.country != "CN"
    required = search.BONDED if shipment.customs_regime == "1210" else 0
    # A customs state the plan never asks about stays unset, so labels that differ only in it
    # are compared (and the dominated one dropped) instead of being searched twice.
    regime_bit = REGIME_BIT[shipment.customs_regime] if need_export else 0
    bonded_bit = REGIME_BIT["1210"] if required else 0

    def arrival_state(i: int) -> int:
        state = search.CLEARED if data.node_in_china[i] and data.node_regimes[i] & regime_bit else 0
        if data.node_is_bonded_zone[i] and data.node_regimes[i] & bonded_bit:
            state |= search.BONDED
        return state

    first_legs: list[SyntheticLeg] = []
    start_floats: list[list[float]] = []
    start_ints: list[list[int]] = []
    if origin.is_node:
        i = data.node_index[origin.label]
        start_floats.append([ready_h, 0.0, 0.0, ready_h, ready_h, 0.0, 0.0, 0.0, 0.0])
        start_ints.append([i, arrival_state(i), -1, -1, -1, -1, -1])
    else:
        for i in origin.links:
            leg = road_leg(
                data, shipment, (origin.label, origin.lat, origin.lon),
                node_point(data, i), origin_country, basis,
            )  # fmt: skip
            start_floats.append(
                [ready_h + leg.duration_h, leg.cost_cny, leg.co2e_kg, ready_h + leg.duration_p90_h,
                 ready_h, 0.0, 0.0, leg.cost_cny, 0.0]
            )  # fmt: skip
            start_ints.append([i, arrival_state(i), ROAD_MODE * 2, -1, -1, -1, len(first_legs)])
            first_legs.append(leg)
    n = len(arrays.node_ids)
    final = {name: np.full(n, np.nan) for name in ("h", "p90", "cost", "continuation", "co2e")}
    final_legs: dict[int, SyntheticLeg] = {}
    target = -1
    if destination.is_node:
        target = data.node_index[destination.label]
    else:
        country = destination.country
        for i in destination.links:
            leg = road_leg(
                data, shipment, node_point(data, i),
                (destination.label, destination.lat, destination.lon), country, basis,
            )  # fmt: skip
            final_legs[i] = leg
            final["h"][i], final["p90"][i] = leg.duration_h, leg.duration_p90_h
            final["cost"][i], final["co2e"][i] = leg.cost_cny, leg.co2e_kg
            final["continuation"][i] = leg.continuation_cny
    usable = usable_edges & np.isfinite(costs.line_haul_cny)
    bounds = search.lower_bounds(
        n, target, final["h"], final["continuation"], final["co2e"], data.into_ptr, data.edges_into,
        arrays.edge_origin, usable, arrays.edge_duration_h + data.edge_passage_dwell_h,
        np.where(arrays.edge_mode == ROAD_MODE, costs.road_continuation_cny, costs.line_haul_cny),
        costs.co2e_kg,
    )  # fmt: skip
    handled = costs.node_handling_cny
    search_costs = search.SearchCosts(
        usable, costs.line_haul_cny, costs.road_continuation_cny, costs.transfer_cny,
        costs.co2e_kg, final["h"], final["p90"], final["cost"], final["co2e"],
        final["continuation"], handled, handled,
    )  # fmt: skip
    query = search.SearchQuery(
        target, required, regime_bit, bonded_bit, need_export, deadline_h, horizon_h
    )
    seeds = np.array(
        [(j.arrival_h, j.cost_cny, j.co2e_kg) for j in known], dtype=np.float64
    ).reshape(-1, 3)
    reach_h = horizon_h + 24 * P90_REACH_DAYS
    finished = None
    for _ in range(_WIDENINGS):
        timetable = data.ensure_timetable(ready_h - 48, reach_h)
        searched = search.label_search(
            np.array(start_floats, dtype=np.float64), np.array(start_ints, dtype=np.int64),
            query, data.search_graph(timetable), search_costs, bounds, seeds,
            rival or search.no_rival(n), time_left_s,
        )  # fmt: skip
        cut_off = bool(np.isfinite(searched[-1]).any())  # its unexplored
        if cut_off and finished is not None:
            # Out of time to search again: the search that ran to the end stands.
            searched, timetable = finished
        floats, ints, complete, settled, head, link, unexplored = searched
        # A journey's p90 time ran past the timetable (its next departure there was not in
        # it): the same search on a wider timetable finds the same journeys with their p90.
        p90_known = np.isfinite(floats[complete, search.ARRIVAL_P90])
        if cut_off or p90_known.all():
            break
        finished = searched, timetable
        reach_h = timetable.end_h + 24 * P90_REACH_DAYS
    if cut_off and not p90_known.all():
        # Such journeys are left out, and what is left unexplored now covers them.
        left_out = floats[complete[~p90_known], : search.CO2E + 1]
        unexplored = np.minimum(unexplored, left_out.min(axis=0))
        complete = complete[p90_known]
    found = floats[complete]
    journeys = [
        Journey(*values)
        for values in zip(
            found[:, search.ARRIVAL].tolist(), found[:, search.COST].tolist(),
            found[:, search.CO2E].tolist(), complete.tolist(), strict=True,
        )
    ]  # fmt: skip
    return BasisResult(
        floats, ints, journeys, int(settled), first_legs, final_legs, costs, head, link, timetable,
        unexplored,
    )  # fmt: skip
