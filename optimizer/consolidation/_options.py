"""Departures out of the hubs, their through routes, and every way each lot can travel.

A departure's through route is the route planner's cheapest option for a full 40HQ load (a full
PMC pallet on flights) from the hub to a destination whose first leg is that very departure
(other corridors out of the hub are avoided); routes that a departure with a later or equal
cut-off beats on price, arrival and CO2e at once are detours and are dropped. A box on a route
is charged what the planner charges for a load that fills it (reefer boxes: their dry
equivalent times ``rate_factor``), so pooled and single-lot prices come from one cost model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from network_data import Network
from optimizer._compile import RoutingData, epoch_hours, from_epoch_hours, routing_data
from optimizer.consolidation.problem import ConsolidationProblem, ConsolidationShipment
from optimizer.model import MODES, RouteOption, Shipment
from optimizer.quotable import EXACT
from optimizer.routing import EdgeCosts, edge_costs, plan_routes

#: Air chargeable kg per m3 (IATA 1:6000): a unit load is priced as its volume at this density.
AIR_KG_PER_M3 = 1e6 / 6000
#: Cargo classes that may share a box; batteries and perishables are segregated.
SEGREGATION = {
    "general": "general",
    "high_value": "general",
    "express": "general",
    "battery": "battery",
    "perishable": "perishable",
}
_SURFACE = ("rail", "sea", "inland_water")


@dataclass(frozen=True)
class Departure:
    """One dated departure of a scheduled service out of a hub."""

    departure_id: str
    hub: str
    corridor_id: str
    service: str
    mode: str
    cutoff: datetime
    depart: datetime
    slots: float
    slot_unit: str


@dataclass(frozen=True)
class UnitLoad:
    """A box or pallet type: capacity, slot use and what it is priced as."""

    name: str
    kind: str
    volume_m3: float
    weight_kg: float
    slots: float
    pricing_volume_m3: float
    rate_factor: float


@dataclass(frozen=True)
class ThroughRoute:
    """A departure continued to one destination for one segregation class."""

    departure: Departure
    destination: str
    segregation: str
    option: RouteOption
    edges: npt.NDArray[np.int64]
    continues_road: npt.NDArray[np.bool_]
    transfer: npt.NDArray[np.bool_]
    unit_price_cny: dict[str, float]
    #: The export and import declarations of the box's consignment.
    declarations_cny: float = 0.0
    #: The destination node where the box is unloaded off a train or ship (-1: it arrives by
    #: road), which charges its handling.
    unloaded_at: int = -1

    def price(self, costs: EdgeCosts) -> tuple[float, float]:
        """(cost CNY, CO2e kg) of a load with these edge costs on this route."""
        line_haul = np.where(
            self.continues_road,
            costs.road_continuation_cny[self.edges],
            costs.line_haul_cny[self.edges],
        )
        cost = float(line_haul.sum() + costs.transfer_cny[self.edges][self.transfer].sum())
        if self.unloaded_at >= 0:
            cost += float(costs.node_handling_cny[self.unloaded_at])
        return cost + self.declarations_cny, float(costs.co2e_kg[self.edges].sum())


@dataclass(frozen=True)
class Option:
    """One way a lot can travel: pooled on a route, booked alone on it, or stand-alone."""

    kind: str  # "pool", "own" or "standalone"
    route: ThroughRoute | None
    freight_cny: float
    storage_cny: float
    lateness_cny: float
    co2e_kg: float
    depart: datetime
    arrival: datetime
    summary: str

    @property
    def cost_cny(self) -> float:
        """What this option costs the lot besides its share of boxes."""
        return self.freight_cny + self.storage_cny + self.lateness_cny


def unit_loads(network: Network) -> dict[str, UnitLoad]:
    """The dataset's unit loads with their priced capacity.

    An air pallet carries at most its pricing weight (its volume at 1:6000), the pivot weight
    of ULD rates.
    """
    rows = {str(name): row for name, row in network.container_types.to_dict("index").items()}
    loads = {}
    for name, row in rows.items():
        basis = row["dry_equivalent"] if isinstance(row["dry_equivalent"], str) else ""
        basis = basis or name
        weight_kg = float(row["max_payload_kg"])
        if row["kind"] == "air_pallet":
            weight_kg = min(weight_kg, float(row["usable_volume_m3"]) * AIR_KG_PER_M3)
        loads[name] = UnitLoad(
            name, str(row["kind"]), float(row["usable_volume_m3"]), weight_kg,
            float(row["teu"]) if row["kind"] != "air_pallet" else 1.0,
            float(rows[basis]["usable_volume_m3"]), float(row["rate_factor"]),
        )  # fmt: skip
    return loads


def loads_for(loads: dict[str, UnitLoad], mode: str, segregation: str) -> list[UnitLoad]:
    """Unit loads a departure of ``mode`` offers to cargo of ``segregation``."""
    if mode == "air":
        kinds = () if segregation == "perishable" else ("air_pallet",)
    elif mode in _SURFACE:
        kinds = ("reefer",) if segregation == "perishable" else ("dry",)
    else:
        kinds = ()
    return [u for u in loads.values() if u.kind in kinds]


def _day_start_h(day: object) -> float:
    return epoch_hours(datetime.combine(day, time(), tzinfo=UTC))  # type: ignore[arg-type]


def list_departures(network: Network, problem: ConsolidationProblem) -> list[Departure]:
    """Every scheduled departure out of the problem's hubs leaving within its days.

    Examples
    --------
    >>> from datetime import date
    >>> from network_data import load_network
    >>> from optimizer.consolidation.problem import ConsolidationProblem
    >>> network = load_network()
    >>> problem = ConsolidationProblem(
    ...     network, (), ("CNCTU-RLY",), date(2026, 12, 1), date(2026, 12, 7))
    >>> departures = list_departures(network, problem)
    >>> all(d.hub == "CNCTU-RLY" and d.slot_unit == "TEU" for d in departures)
    True
    """
    data = routing_data(network)
    arrays = data.arrays
    first_h = _day_start_h(problem.first_day)
    last_h = _day_start_h(problem.last_day + timedelta(days=1))
    timetable = data.ensure_timetable(first_h - 24 * 14, last_h + 24 * 14)
    pmc_kg = float(network.container_types.to_dict("index")["PMC"]["max_payload_kg"])
    departures: list[Departure] = []
    for hub in problem.hubs:
        u = data.node_index[hub]
        for e in range(int(arrays.indptr[u]), int(arrays.indptr[u + 1])):
            mode = MODES[int(arrays.edge_mode[e])]
            if not data.edge_scheduled[e] or mode == "road":
                continue
            if problem.corridors is not None and arrays.edge_ids[e] not in problem.corridors:
                continue
            if mode == "air":
                slots, unit = math.floor(data.edge_capacity_t[e] * 1000 / pmc_kg), "pallet"
            else:
                capacity = float(data.edge_capacity_teu[e])
                slots = capacity if problem.slots_teu is None else min(problem.slots_teu, capacity)
                unit = "TEU"
            ptr, cutoff_h = timetable.departures.ptr, timetable.departures.cutoff_h
            for p in range(int(ptr[e]), int(ptr[e + 1])):
                depart_h = float(timetable.depart_h[p])
                if not first_h <= depart_h < last_h:
                    continue
                depart = from_epoch_hours(depart_h)
                corridor_id = str(arrays.edge_ids[e])
                departures.append(
                    Departure(
                        f"{corridor_id}@{depart:%Y-%m-%dT%H:%MZ}", hub, corridor_id,
                        timetable.service_name[timetable.service_of[p]], mode,
                        from_epoch_hours(float(cutoff_h[p])), depart, slots, unit,
                    )
                )  # fmt: skip
    departures.sort(key=lambda d: (d.depart, d.departure_id))
    return departures


def _reference_load(loads: list[UnitLoad]) -> tuple[float, float]:
    largest = max(loads, key=lambda u: u.pricing_volume_m3)
    return largest.pricing_volume_m3 * AIR_KG_PER_M3, largest.pricing_volume_m3


def through_route(
    network: Network, task: tuple[Departure, str, str, dict[str, UnitLoad]]
) -> ThroughRoute | None:
    """The planner's cheapest route from a departure on to a destination, or None.

    ``task`` is (departure, destination, segregation class, unit loads).
    """
    departure, destination, segregation, loads = task
    data = routing_data(network)
    offered = loads_for(loads, departure.mode, segregation)
    if not offered:
        return None
    arrays = data.arrays
    hub = data.node_index[departure.hub]
    others = frozenset(
        str(arrays.edge_ids[e])
        for e in range(int(arrays.indptr[hub]), int(arrays.indptr[hub + 1]))
        if str(arrays.edge_ids[e]) != departure.corridor_id
    )
    weight_kg, volume_m3 = _reference_load(offered)
    reference = Shipment(
        departure.hub, destination, weight_kg, volume_m3, ready_at=departure.cutoff,
        cargo_class=segregation, avoid=others, similar_within=EXACT,
    )  # fmt: skip
    plan = plan_routes(network, reference, max_options=None)
    options = [
        o
        for o in plan.options
        if o.legs[0].corridor_id == departure.corridor_id
        and o.legs[0].depart == departure.depart
        and all(leg.corridor_id is not None for leg in o.legs)
    ]
    if not options:
        return None
    option = min(options, key=lambda o: (o.cost_cny, o.arrival))
    edges = np.array([data.edge_index[str(leg.corridor_id)] for leg in option.legs], np.int64)
    continues_road, transfer = _path_rules(data, edges)
    declarations = sum(
        c.amount_cny for leg in option.legs for c in leg.charges if c.kind.endswith("_declaration")
    )
    last = int(edges[-1])
    unloaded_at = (
        -1 if data.arrays.edge_mode[last] == MODES.index("road")
        else int(data.arrays.edge_destination[last])
    )  # fmt: skip
    route = ThroughRoute(
        departure, destination, segregation, option, edges, continues_road, transfer, {},
        declarations, unloaded_at,
    )  # fmt: skip
    for unit in offered:
        load = Shipment(
            departure.hub, destination, unit.pricing_volume_m3 * AIR_KG_PER_M3,
            unit.pricing_volume_m3, ready_at=departure.cutoff,
        )  # fmt: skip
        cost, _ = route.price(edge_costs(data, load, "boxed"))
        route.unit_price_cny[unit.name] = cost * unit.rate_factor
    return route


def _beats(a: ThroughRoute, b: ThroughRoute) -> bool:
    """Whether ``a`` is as good as ``b`` for every lot that can take ``b``, and better somehow.

    Same hub, cut-off no earlier, arrival and CO2e no later or higher, every shared box type no
    dearer, and one of these strictly better.
    """
    shared = a.unit_price_cny.keys() & b.unit_price_cny.keys()
    if a.departure.hub != b.departure.hub or not shared or a.departure.cutoff < b.departure.cutoff:
        return False
    arrival, co2e = (a.option.arrival, b.option.arrival), (a.option.co2e_kg, b.option.co2e_kg)
    prices = [(a.unit_price_cny[u], b.unit_price_cny[u]) for u in sorted(shared)]
    if arrival[0] > arrival[1] or co2e[0] > co2e[1] + 0.01:
        return False
    if any(mine > theirs + 0.01 for mine, theirs in prices):
        return False
    return bool(
        arrival[0] < arrival[1]
        or co2e[0] < co2e[1] - 0.01
        or any(mine < theirs - 0.01 for mine, theirs in prices)
    )


def drop_detours(routes: list[ThroughRoute]) -> list[ThroughRoute]:
    """The routes no other route beats (:func:`_beats`): a train to Alashankou is no way to
    Singapore when a Qinzhou train leaves the same day, cheaper, sooner and cleaner."""
    groups: dict[tuple[str, str, str], list[ThroughRoute]] = {}
    for route in routes:
        groups.setdefault((route.departure.hub, route.destination, route.segregation), []).append(
            route
        )
    kept = []
    for group in groups.values():
        kept += [r for r in group if not any(_beats(other, r) for other in group)]
    return sorted(kept, key=lambda r: (r.departure.depart, r.departure.departure_id, r.destination,
                                       r.segregation))  # fmt: skip


def _path_rules(
    data: RoutingData, edges: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where the same truck drives on, and where the load is handled, along ``edges``.

    The route planner's rules: handled where the mode changes, a scheduled service is joined or
    left, or the node always transfers (gauge change, bonded zone); at the start only when the
    first leg is not by road (the box is lifted onto the train or ship there).
    """
    modes = data.arrays.edge_mode[edges]
    scheduled = data.edge_scheduled[edges]
    origin = data.arrays.edge_origin[edges]
    road = MODES.index("road")
    continues_road = np.zeros(len(edges), dtype=bool)
    transfer = np.zeros(len(edges), dtype=bool)
    transfer[0] = modes[0] != road
    for j in range(1, len(edges)):
        continues_road[j] = modes[j] == modes[j - 1] == road and not scheduled[j - 1]
        transfer[j] = bool(
            modes[j] != modes[j - 1]
            or scheduled[j - 1]
            or scheduled[j]
            or data.node_always_transfer[origin[j]]
        )
    return continues_road, transfer


@dataclass(frozen=True)
class Timing:
    """The problem's prices of waiting and of lateness, and how late a lot may arrive."""

    storage_cny_per_m3_day: float
    lateness_share_per_day: float
    max_late_days: float
    max_wait_days: float | None

    @classmethod
    def of(cls, problem: ConsolidationProblem) -> Timing:
        """The timing rules of ``problem``."""
        return cls(
            problem.storage_cny_per_m3_day, problem.lateness_share_per_day,
            problem.max_late_days, problem.max_wait_days,
        )  # fmt: skip

    def costs(
        self, lot: ConsolidationShipment, depart: datetime, arrival: datetime
    ) -> tuple[float, float] | None:
        """(storage, lateness) in CNY of waiting for ``depart`` and arriving at ``arrival``."""
        shipment = lot.shipment
        assert shipment.deadline is not None
        late_h = max(0.0, (arrival - shipment.deadline).total_seconds() / 3600)
        if late_h > self.max_late_days * 24 + 1e-9:
            return None
        wait_days = max(0.0, (depart - shipment.ready_at).total_seconds() / 86400)
        storage = shipment.volume_m3 * self.storage_cny_per_m3_day * wait_days
        return storage, lot.value_cny * self.lateness_share_per_day * late_h / 24


def route_options(
    timing: Timing,
    lot: ConsolidationShipment,
    costs: EdgeCosts,
    routes: list[ThroughRoute],
) -> list[Option]:
    """Pool and own-booking options of ``lot`` on the routes to its destination.

    A lot boards a departure whose booking cut-off it is ready for, that leaves within the
    longest allowed wait, and that arrives within the allowed lateness.
    """
    options = []
    wait_limit = math.inf if timing.max_wait_days is None else timing.max_wait_days * 86400
    for route in routes:
        if lot.shipment.ready_at > route.departure.cutoff:
            continue
        if (route.departure.depart - lot.shipment.ready_at).total_seconds() > wait_limit:
            continue
        waiting = timing.costs(lot, route.departure.depart, route.option.arrival)
        if waiting is None:
            continue
        freight, co2e = route.price(costs)
        for kind, cny in (("pool", 0.0), ("own", freight)):
            options.append(
                Option(
                    kind, route, cny, *waiting, co2e, route.departure.depart,
                    route.option.arrival, route.option.summary,
                )
            )  # fmt: skip
    return options


def standalone_option(
    network: Network, task: tuple[Timing, ConsolidationShipment]
) -> Option | None:
    """The route planner's best option for ``lot`` alone (cost + storage + lateness).

    The planner searches with the latest allowed arrival as its deadline and keeps its three
    front-spanning options (the cheapest always among them).
    """
    timing, lot = task
    deadline = lot.shipment.deadline
    assert deadline is not None
    latest = deadline + timedelta(days=timing.max_late_days)
    plan = plan_routes(
        network, replace(lot.shipment, deadline=latest, similar_within=EXACT), max_options=3
    )
    best: Option | None = None
    for option in plan.options:
        waiting = timing.costs(lot, option.departure, option.arrival)
        if waiting is None:
            continue
        candidate = Option(
            "standalone", None, option.cost_cny, *waiting, option.co2e_kg, option.departure,
            option.arrival, option.summary,
        )  # fmt: skip
        if best is None or (candidate.cost_cny, candidate.arrival) < (best.cost_cny, best.arrival):
            best = candidate
    return best


def lot_costs(network: Network, lot: ConsolidationShipment) -> EdgeCosts:
    """What ``lot`` alone pays and emits on every corridor."""
    return edge_costs(routing_data(network), lot.shipment)
