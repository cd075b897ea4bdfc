"""Independent feasibility checkers: the tests run one on every solver result.

Each checker takes a problem and a proposed answer in plain Python types and returns every
problem it finds, in words, or an empty list when the answer is feasible. They share no code with
the solvers they check, so a solver bug cannot hide behind a helper that is wrong in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optimizer.model import freight_class

if TYPE_CHECKING:
    from optimizer.consolidation import ConsolidationProblem, ConsolidationResult


def check_bin_packing(
    sizes: Sequence[float], capacity: float, bins: Sequence[Sequence[int]]
) -> list[str]:
    """Every way ``bins`` fails to be a packing of ``sizes`` into bins of ``capacity``.

    Checks that every bin holds known item indices, no item is packed twice, no item is left
    out, no bin is empty, and no bin holds more than ``capacity``.

    Parameters
    ----------
    sizes : sequence of float
        Item sizes; item ``i`` has size ``sizes[i]``.
    capacity : float
        Capacity of every bin.
    bins : sequence of sequence of int
        Item indices, one sequence per bin.

    Returns
    -------
    list of str
        One sentence per problem found; empty when the packing is valid.

    Examples
    --------
    >>> check_bin_packing([5, 4, 3], 10, [[0, 1], [2]])
    []
    >>> check_bin_packing([5, 4, 3], 8, [[0, 2], [0], []])
    ['item 1 (size 4) is in no bin', 'item 0 is packed 2 times, in bins 0, 1', 'bin 2 is empty']
    """

    def is_item(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(sizes)

    problems = []
    where: dict[int, list[int]] = {}
    for bin_number, items in enumerate(bins):
        for item in items:
            if is_item(item):
                where.setdefault(item, []).append(bin_number)
            else:
                problems.append(
                    f"bin {bin_number} holds {item!r}, which is not an item index "
                    f"(0..{len(sizes) - 1})"
                )
    problems += [
        f"item {item} (size {sizes[item]}) is in no bin"
        for item in range(len(sizes))
        if item not in where
    ]
    problems += [
        f"item {item} is packed {len(bin_numbers)} times, in bins "
        + ", ".join(map(str, bin_numbers))
        for item, bin_numbers in sorted(where.items())
        if len(bin_numbers) > 1
    ]
    for bin_number, items in enumerate(bins):
        if len(items) == 0:
            problems.append(f"bin {bin_number} is empty")
            continue
        load = sum(sizes[item] for item in items if is_item(item))
        if load > capacity:
            problems.append(
                f"bin {bin_number} holds {load}, over the capacity {capacity} by {load - capacity}"
            )
    return problems


def check_consolidation(problem: ConsolidationProblem, result: ConsolidationResult) -> list[str]:
    """Every constraint a consolidation plan breaks, in words (empty when it breaks none).

    Checked from the problem and the dataset alone: each lot placed once or listed as
    unplaced; boxes within usable volume and payload (an air pallet within its volume at
    1:6000); one destination per box; batteries only with batteries; perishables only and
    always in reefers; pallets only on flights and boxes only on surface departures; lots
    boarded after they are ready and before the cut-off; slots per departure; arrival within
    the deadline plus the allowed lateness; storage and lateness charges as the problem prices
    them; totals that add up; the bound below the objective.

    Examples
    --------
    >>> from datetime import date
    >>> from network_data import load_network
    >>> from optimizer.consolidation import problem_from_records, solve_consolidation
    >>> network = load_network()
    >>> rows = [{"id": f"S{i}", "origin": "Chengdu", "destination": "Duisburg",
    ...          "ready_date": "2026-12-01", "deadline": "2026-12-31", "weight_kg": 2000,
    ...          "volume_m3": 10} for i in range(6)]
    >>> problem = problem_from_records(network, rows, hubs=["CNCTU-RLY"],
    ...     first_day=date(2026, 12, 1), last_day=date(2026, 12, 3))
    >>> check_consolidation(problem, solve_consolidation(problem))
    []
    """
    problems: list[str] = []
    lots = {lot.shipment_id: lot for lot in problem.shipments}
    placed: dict[str, Any] = {}
    for placement in result.placements:
        if placement.shipment_id in placed:
            problems.append(f"lot {placement.shipment_id} is placed twice")
        if placement.shipment_id not in lots:
            problems.append(f"lot {placement.shipment_id} is not in the problem")
        placed[placement.shipment_id] = placement
    unplaced = {u.shipment_id for u in result.unplaced}
    for shipment_id in lots:
        if shipment_id in placed and shipment_id in unplaced:
            problems.append(f"lot {shipment_id} is both placed and unplaced")
        if shipment_id not in placed and shipment_id not in unplaced:
            problems.append(f"lot {shipment_id} is neither placed nor listed as unplaced")
    for rejected in problem.rejected:
        if rejected.shipment_id not in unplaced:
            problems.append(f"rejected row {rejected.shipment_id} is not listed as unplaced")

    table = problem.network.container_types
    units = {str(name): row for name, row in table.to_dict("index").items()}
    departures = {d.departure_id: d for d in result.departures}
    slots_used: dict[str, float] = {}
    in_unit: dict[str, str] = {}
    for unit in result.units:
        name = f"box {unit.unit_id}"
        if unit.container_type not in units:
            problems.append(f"{name}: unknown type {unit.container_type}")
            continue
        row = units[unit.container_type]
        kind = str(row["kind"])
        volume_m3 = float(row["usable_volume_m3"])
        weight_kg = float(row["max_payload_kg"])
        if kind == "air_pallet":
            weight_kg = min(weight_kg, volume_m3 * 1e6 / 6000)
        departure = departures.get(unit.departure_id)
        if departure is None:
            problems.append(f"{name}: unknown departure {unit.departure_id}")
            continue
        if (kind == "air_pallet") != (departure.mode == "air"):
            problems.append(f"{name}: a {kind} unit on a {departure.mode} departure")
        slots = 1.0 if kind == "air_pallet" else float(row["teu"])
        slots_used[departure.departure_id] = slots_used.get(departure.departure_id, 0) + slots
        members = [lots[i] for i in unit.shipment_ids if i in lots]
        if len(members) != len(unit.shipment_ids) or not members:
            problems.append(f"{name}: holds unknown lots or none")
        total_m3 = sum(lot.shipment.volume_m3 for lot in members)
        total_kg = sum(lot.shipment.weight_kg for lot in members)
        if total_m3 > volume_m3 + 1e-6:
            problems.append(
                f"{name}: {total_m3:.3f} m3 in a {volume_m3:g} m3 {unit.container_type}"
            )
        if total_kg > weight_kg + 1e-6:
            problems.append(f"{name}: {total_kg:.1f} kg over its {weight_kg:.0f} kg limit")
        if abs(total_m3 - unit.volume_m3) > 1e-6 or abs(total_kg - unit.weight_kg) > 1e-6:
            problems.append(f"{name}: reported contents differ from its lots")
        classes = {lot.shipment.cargo_class for lot in members}
        if "battery" in classes and classes != {"battery"}:
            problems.append(
                f"{name}: lithium batteries share it with {sorted(classes - {'battery'})}"
            )
        if ("perishable" in classes) != (kind == "reefer") or (
            "perishable" in classes and classes != {"perishable"}
        ):
            problems.append(f"{name}: cargo {sorted(classes)} in a {kind} unit")
        for lot in members:
            in_unit[lot.shipment_id] = unit.unit_id
            if lot.shipment.destination != unit.destination:
                problems.append(
                    f"{name}: lot {lot.shipment_id} goes to {lot.shipment.destination}, "
                    f"the box to {unit.destination}"
                )
            if lot.shipment.ready_at > departure.cutoff:
                problems.append(
                    f"{name}: lot {lot.shipment_id} is ready after the cut-off {departure.cutoff}"
                )
    for departure_id, used in slots_used.items():
        allowed = departures[departure_id].slots
        if used > allowed + 1e-6:
            problems.append(f"departure {departure_id}: {used:g} slots booked of {allowed:g}")

    for shipment_id, placement in placed.items():
        if shipment_id not in lots:
            continue
        lot = lots[shipment_id]
        if (placement.kind == "container") != (shipment_id in in_unit) or (
            placement.unit_id != in_unit.get(shipment_id)
        ):
            problems.append(f"lot {shipment_id}: its placement and the boxes disagree")
        deadline = lot.shipment.deadline
        assert deadline is not None
        late_h = max(0.0, (placement.arrival - deadline).total_seconds() / 3600)
        if late_h > problem.max_late_days * 24 + 1e-6:
            problems.append(f"lot {shipment_id}: arrives {late_h:.1f} h after its deadline")
        lateness = lot.value_cny * problem.lateness_share_per_day * late_h / 24
        wait_days = max(0.0, (placement.depart - lot.shipment.ready_at).total_seconds() / 86400)
        storage = lot.shipment.volume_m3 * problem.storage_cny_per_m3_day * wait_days
        if (
            abs(lateness - placement.lateness_cny) > 0.01
            or abs(storage - placement.storage_cny) > 0.01
        ):
            problems.append(f"lot {shipment_id}: storage or lateness charged wrongly")
        if placement.depart < lot.shipment.ready_at:
            problems.append(f"lot {shipment_id}: leaves before it is ready")
        if placement.kind == "container" and placement.freight_cny != 0:
            problems.append(f"lot {shipment_id}: pooled yet charged its own freight")

    objective = sum(u.cost_cny for u in result.units) + sum(p.cost_cny for p in result.placements)
    if abs(objective - result.objective_cny) > 0.01 * max(1.0, len(result.placements)):
        problems.append(
            f"objective {result.objective_cny:.2f} but boxes and lots add to {objective:.2f}"
        )
    baseline = sum(p.alone_cost_cny for p in result.placements)
    if abs(baseline - result.baseline_cny) > 0.01 * max(1.0, len(result.placements)):
        problems.append("baseline is not the sum of the lots' costs alone")
    if result.bound_cny > result.objective_cny + 1e-6 * max(1.0, result.objective_cny):
        problems.append(f"bound {result.bound_cny:.2f} above the objective")
    return problems


if TYPE_CHECKING:
    from optimizer.allocation import AllocationProblem, AllocationResult


def check_allocation(problem: AllocationProblem, result: AllocationResult) -> list[str]:
    """Every constraint an allocation breaks, in words (empty when it breaks none).

    Checked from the problem alone: flows only on allowed pairs, priced at the unit cost;
    every unit of demand served or listed as unserved (only with a penalty); capacity per
    warehouse, resource and week with the bookings counted; warehouses that serve or hold
    bookings counted as used; the service level per market and week; one warehouse per
    customer under single sourcing; fairness per seller and week; the reported loads; fixed
    costs, flow costs, penalties and the objective recomputed; the bound below the objective.

    Examples
    --------
    >>> from optimizer.allocation import (
    ...     AllocationProblem, Customer, Warehouse, solve_allocation)
    >>> problem = AllocationProblem((Warehouse("W1", (10.0,), 100.0),),
    ...     (Customer("c1", (6.0,)), Customer("c2", (6.0,))), ((1.0,), (2.0,)),
    ...     unserved_penalty_cny=50.0)
    >>> result = solve_allocation(problem, time_limit_s=10)
    >>> check_allocation(problem, result)
    []
    >>> import dataclasses
    >>> for line in check_allocation(problem, dataclasses.replace(result, unserved=())):
    ...     print(line)
    c2 week 1: demand 6 but 4 served and 0 unserved
    penalties 100.00 but recomputed 0.00
    objective 214.00 but its parts add to 114.00
    """
    tolerance = 1e-6
    problems: list[str] = []
    if not (result.objective < float("inf")):
        if result.flows or result.unserved:
            problems.append("flows or unserved demand without an objective")
        if result.status.value in ("optimal", "feasible"):
            problems.append(f"status {result.status.value} without a finite objective")
        return problems

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))

    weeks = len(problem.customers[0].demand)
    customers = {c.customer_id: (k, c) for k, c in enumerate(problem.customers)}
    warehouses = {w.warehouse_id: (k, w) for k, w in enumerate(problem.warehouses)}
    n_resources = len(problem.resources)
    served: dict[tuple[str, int], float] = {}
    used: dict[tuple[str, int], list[float]] = {}
    sources: dict[str, set[str]] = {}
    on_time: dict[tuple[str, int], float] = {}
    flow_cost = 0.0
    for flow in result.flows:
        name = f"flow {flow.customer_id} -> {flow.warehouse_id} week {flow.week}"
        if flow.customer_id not in customers or flow.warehouse_id not in warehouses:
            problems.append(f"{name}: unknown customer or warehouse")
            continue
        c, customer = customers[flow.customer_id]
        w, _ = warehouses[flow.warehouse_id]
        if not 1 <= flow.week <= weeks:
            problems.append(f"{name}: no such week")
            continue
        if flow.quantity < -tolerance:
            problems.append(f"{name}: negative quantity {flow.quantity:g}")
        unit_cost = problem.cost_cny[c][w]
        if not unit_cost < float("inf"):
            problems.append(f"{name}: {flow.warehouse_id} may not serve {flow.customer_id}")
            continue
        if not close(flow.cost_cny, flow.quantity * unit_cost):
            problems.append(
                f"{name}: costs {flow.cost_cny:.2f}, not {flow.quantity * unit_cost:.2f}"
            )
        flow_cost += flow.quantity * unit_cost
        served[flow.customer_id, flow.week] = served.get((flow.customer_id, flow.week), 0.0) + (
            flow.quantity
        )
        load = used.setdefault((flow.warehouse_id, flow.week), [0.0] * n_resources)
        for r in range(n_resources):
            load[r] += customer.usage[r] * flow.quantity
        sources.setdefault(flow.customer_id, set()).add(flow.warehouse_id)
        if problem.on_time is None or problem.on_time[c][w]:
            key = (customer.market, flow.week)
            on_time[key] = on_time.get(key, 0.0) + flow.quantity

    unserved: dict[tuple[str, int], float] = {}
    penalty_cost = 0.0
    for item in result.unserved:
        name = f"unserved {item.customer_id} week {item.week}"
        if item.customer_id not in customers or not 1 <= item.week <= weeks:
            problems.append(f"{name}: unknown customer or week")
            continue
        if problem.unserved_penalty_cny is None:
            problems.append(f"{name}: all demand must be served")
            continue
        if item.quantity < -tolerance:
            problems.append(f"{name}: negative quantity {item.quantity:g}")
        penalty = item.quantity * problem.unserved_penalty_cny
        if not close(item.penalty_cny, penalty):
            problems.append(f"{name}: penalty {item.penalty_cny:.2f}, not {penalty:.2f}")
        penalty_cost += penalty
        unserved[item.customer_id, item.week] = (
            unserved.get((item.customer_id, item.week), 0.0) + item.quantity
        )
    for customer in problem.customers:
        for t, demand in enumerate(customer.demand, start=1):
            got = served.get((customer.customer_id, t), 0.0)
            left = unserved.get((customer.customer_id, t), 0.0)
            if abs(got + left - demand) > tolerance * max(1.0, demand):
                problems.append(
                    f"{customer.customer_id} week {t}: demand {demand:g} but {got:g} served "
                    f"and {left:g} unserved"
                )

    booked: dict[tuple[str, int], list[float]] = {}
    for booking in problem.bookings:
        load = booked.setdefault((booking.warehouse_id, booking.week), [0.0] * n_resources)
        for r in range(n_resources):
            load[r] += booking.usage[r]
    for warehouse in problem.warehouses:
        for t in range(1, weeks + 1):
            capacity = warehouse.capacity_in(t)
            planned = used.get((warehouse.warehouse_id, t), [0.0] * n_resources)
            taken = booked.get((warehouse.warehouse_id, t), [0.0] * n_resources)
            for r, resource in enumerate(problem.resources):
                if planned[r] + taken[r] > capacity[r] + tolerance * max(1.0, capacity[r]):
                    problems.append(
                        f"{warehouse.warehouse_id} week {t}: {planned[r]:g} {resource} planned "
                        f"+ {taken[r]:g} booked > capacity {capacity[r]:g}"
                    )
    for reported in result.loads:
        key = (reported.warehouse_id, reported.week)
        expected = booked.get(key, [0.0] * n_resources)
        planned = used.get(key, [0.0] * n_resources)
        if not all(close(a, b) for a, b in zip(reported.booked, expected, strict=True)):
            problems.append(
                f"{reported.warehouse_id} week {reported.week}: bookings reported wrongly"
            )
        if not all(close(a, b) for a, b in zip(reported.planned, planned, strict=True)):
            problems.append(
                f"{reported.warehouse_id} week {reported.week}: planned load reported wrongly"
            )

    is_open = set(result.open_warehouses)
    for warehouse_id, _ in sorted(used):
        if warehouse_id not in is_open:
            problems.append(f"{warehouse_id} serves demand but is not listed as used")
    for warehouse_id, _ in sorted(booked):
        if warehouse_id not in is_open:
            problems.append(f"{warehouse_id} holds bookings but is not listed as used")
    unknown = is_open - set(warehouses)
    if unknown:
        problems.append(f"unknown warehouses listed as used: {sorted(unknown)}")
    fixed_cost = sum(w.fixed_cost_cny for w in problem.warehouses if w.warehouse_id in is_open)

    if problem.service_level > 0:
        served_by_market: dict[tuple[str, int], float] = {}
        for (customer_id, t), amount in served.items():
            key = (customers[customer_id][1].market, t)
            served_by_market[key] = served_by_market.get(key, 0.0) + amount
        for (market, t), amount in sorted(served_by_market.items()):
            timely = on_time.get((market, t), 0.0)
            if timely < problem.service_level * amount - tolerance * max(1.0, amount):
                problems.append(
                    f"market {market} week {t}: {timely:g} of {amount:g} served orders on time, "
                    f"below the service level {problem.service_level:g}"
                )

    if problem.single_sourcing:
        for customer_id, chosen in sorted(sources.items()):
            if len(chosen) > 1:
                problems.append(f"{customer_id} is served by {sorted(chosen)}, not one warehouse")

    if problem.fairness > 0:
        servable = [
            c
            for c in problem.customers
            if any(v < float("inf") for v in problem.cost_cny[customers[c.customer_id][0]])
        ]
        for t in range(1, weeks + 1):
            demand_by_seller: dict[str, float] = {}
            served_by_seller: dict[str, float] = {}
            for customer in servable:
                demand_by_seller[customer.seller] = (
                    demand_by_seller.get(customer.seller, 0.0) + customer.demand[t - 1]
                )
                served_by_seller[customer.seller] = served_by_seller.get(
                    customer.seller, 0.0
                ) + served.get((customer.customer_id, t), 0.0)
            total = sum(demand_by_seller.values())
            if total <= 0:
                continue
            overall = sum(served_by_seller.values()) / total
            for seller, demand in sorted(demand_by_seller.items()):
                if demand <= 0:
                    continue
                share = served_by_seller[seller] / demand
                if share < problem.fairness * overall - tolerance:
                    problems.append(
                        f"seller {seller} week {t}: {share:.4f} of its demand served, below "
                        f"{problem.fairness:g} x the overall {overall:.4f}"
                    )

    for label, figure, recomputed in (
        ("fixed costs", result.fixed_cost_cny, fixed_cost),
        ("flow costs", result.flow_cost_cny, flow_cost),
        ("penalties", result.penalty_cny, penalty_cost),
    ):
        if not close(figure, recomputed):
            problems.append(f"{label} {figure:.2f} but recomputed {recomputed:.2f}")
    total_cost = fixed_cost + flow_cost + penalty_cost
    if not close(result.objective, total_cost):
        problems.append(f"objective {result.objective:.2f} but its parts add to {total_cost:.2f}")
    if result.bound > result.objective + tolerance * max(1.0, abs(result.objective)):
        problems.append(f"bound {result.bound:.2f} above the objective {result.objective:.2f}")
    return problems


if TYPE_CHECKING:
    from optimizer.first_mile import PickupProblem, PickupResult


def check_pickups(problem: PickupProblem, result: PickupResult) -> list[str]:
    """Every constraint a first-mile plan breaks, in words (empty when it breaks none).

    Recomputed from the problem's matrices alone: every pickup served once or listed as
    unserved; no more trucks of a type than it has; each route from its type's start depot to
    its end depot; arrivals = departure + driving time; loading within a window, after arrival,
    for the pickup's service time; trucks leaving no earlier than the planning start and
    unloading by the cut-off; route duration within the shift; loads after each stop and
    within the capacities (kg and m3); each lot's cargo class allowed on its truck; km, hours,
    cost and CO2e of each route and in total;
    penalties only for dropped pickups, none where dropping is not allowed, and pickups listed
    as unservable really beyond every truck alone; the objective; the bound below it.

    Examples
    --------
    >>> import dataclasses, numpy as np
    >>> from datetime import datetime, timezone
    >>> from optimizer.first_mile import (Pickup, PickupProblem, Place, VehicleType,
    ...     solve_pickups)
    >>> km = np.array([[0, 10, 20], [10, 0, 10], [20, 10, 0]], dtype=float)
    >>> problem = PickupProblem((Pickup("A", Place("a"), 600), Pickup("B", Place("b"), 600)),
    ...     (VehicleType("truck", 1000, 10, count=2),), Place("hub"),
    ...     datetime(2026, 12, 3, 18, tzinfo=timezone.utc), distance_km=km, duration_h=km / 50)
    >>> result = solve_pickups(problem, time_limit_s=1)
    >>> check_pickups(problem, result)
    []
    >>> without_b = tuple(r for r in result.routes if "B" not in r.pickup_ids)
    >>> for line in check_pickups(problem, dataclasses.replace(result, routes=without_b))[:2]:
    ...     print(line)
    pickup B is served 0 times and listed unserved 0 times
    total distance_km 60.00, not 20.00
    """
    tol_h = 2 / 3600
    problems: list[str] = []

    def close(a: float, b: float, absolute: float = 0.01) -> bool:
        return abs(a - b) <= max(absolute, 1e-6 * max(abs(a), abs(b)))

    def hours(moment: Any) -> float:
        return float((moment - problem.planning_start).total_seconds() / 3600)

    fleet = {v.name: v for v in problem.fleet}
    pickups = {p.pickup_id: (k, p) for k, p in enumerate(problem.pickups)}
    depots = [problem.hub.label, *(d.label for d in problem.depots)]
    first = len(depots)
    distance, duration = problem.distance_matrix, problem.duration_matrix
    horizon = hours(problem.cutoff)
    served: dict[str, int] = {}
    used: dict[str, int] = {}
    totals = {"distance_km": 0.0, "duration_h": 0.0, "cost_cny": 0.0, "co2e_kg": 0.0}
    for number, route in enumerate(result.routes, start=1):
        name = f"route {number} ({route.vehicle_type})"
        vehicle = fleet.get(route.vehicle_type)
        if vehicle is None:
            problems.append(f"{name}: unknown vehicle type")
            continue
        used[vehicle.name] = used.get(vehicle.name, 0) + 1
        stops = route.stops
        start = depots.index(vehicle.start_depot) if vehicle.start_depot else 0
        end = depots.index(vehicle.end_depot) if vehicle.end_depot else 0
        if len(stops) < 3 or stops[0].place != depots[start] or stops[-1].place != depots[end]:
            problems.append(
                f"{name}: must run from {depots[start]} through pickups to {depots[end]}"
            )
            continue
        nodes = [start]
        for stop in stops[1:-1]:
            if stop.pickup_id not in pickups:
                problems.append(f"{name}: stops at {stop.pickup_id!r}, not a pickup")
                nodes.append(-1)
                continue
            k, pickup = pickups[stop.pickup_id]
            served[pickup.pickup_id] = served.get(pickup.pickup_id, 0) + 1
            if stop.place != pickup.place.label:
                problems.append(f"{name}: pickup {pickup.pickup_id} is at {pickup.place.label}")
            classes = vehicle.cargo_classes
            if classes is not None and not (
                {pickup.cargo_class, freight_class(pickup.cargo_class)} & classes
            ):
                problems.append(
                    f"{name}: carries {pickup.cargo_class} cargo ({pickup.pickup_id}), which "
                    "its type may not"
                )
            nodes.append(first + k)
        nodes.append(end)
        if -1 in nodes:
            continue
        if hours(stops[0].departure) < -tol_h:
            problems.append(f"{name}: leaves before the planning start")
        weight = volume = km = co2e = 0.0
        for s in range(1, len(stops)):
            stop, before = stops[s], stops[s - 1]
            leg_km = float(distance[nodes[s - 1], nodes[s]])
            co2e += weight / 1000 * leg_km * vehicle.co2e_g_per_tkm / 1000
            km += leg_km
            expected = hours(before.departure) + float(duration[nodes[s - 1], nodes[s]])
            if abs(hours(stop.arrival) - expected) > tol_h:
                problems.append(
                    f"{name}: arrives at stop {s} at {stop.arrival}, not after the drive"
                )
            if s == len(stops) - 1:
                if hours(stop.arrival) > horizon + tol_h:
                    problems.append(f"{name}: unloads at {stop.arrival}, after the cut-off")
                break
            pickup = pickups[str(stop.pickup_id)][1]
            begin = hours(stop.service_start)
            if begin < hours(stop.arrival) - tol_h:
                problems.append(f"{name}: loads {pickup.pickup_id} before arriving")
            if abs(hours(stop.departure) - begin - pickup.service_min / 60) > tol_h:
                problems.append(f"{name}: loads {pickup.pickup_id} for the wrong time")
            windows = [(hours(a), hours(b)) for a, b in pickup.windows] or [(0.0, horizon)]
            if not any(a - tol_h <= begin <= b + tol_h for a, b in windows):
                problems.append(f"{name}: loads {pickup.pickup_id} outside its windows")
            weight += pickup.weight_kg
            volume += pickup.volume_m3
            if not (close(stop.load_kg, weight, 1e-6) and close(stop.load_m3, volume, 1e-6)):
                problems.append(f"{name}: load after stop {s} reported wrongly")
            if weight > vehicle.capacity_kg + 1e-6:
                problems.append(
                    f"{name}: load {weight:.0f} kg after stop {s}, over the capacity "
                    f"{vehicle.capacity_kg:.0f} kg"
                )
            if volume > vehicle.capacity_m3 + 1e-6:
                problems.append(
                    f"{name}: load {volume:g} m3 after stop {s}, over the capacity "
                    f"{vehicle.capacity_m3:g} m3"
                )
        span = hours(stops[-1].arrival) - hours(stops[0].departure)
        if span > vehicle.shift_h + tol_h:
            problems.append(
                f"{name}: takes {span:.2f} h, longer than the {vehicle.shift_h:g} h shift"
            )
        cost = vehicle.fixed_cost_cny + km * vehicle.cost_cny_per_km + span * vehicle.cost_cny_per_h
        for label, reported, recomputed in (
            ("km", route.distance_km, km),
            ("hours", route.duration_h, span),
            ("costs", route.cost_cny, cost),
            ("kg CO2e", route.co2e_kg, co2e),
        ):
            if not close(reported, recomputed, 0.01 if label != "hours" else tol_h):
                problems.append(f"{name}: {label} {reported:.2f}, not {recomputed:.2f} recomputed")
        for key, value in zip(totals, (km, span, cost, co2e), strict=True):
            totals[key] += value
    for vehicle_name, count in used.items():
        if count > fleet[vehicle_name].count:
            problems.append(
                f"{count} routes of {vehicle_name}, which has {fleet[vehicle_name].count}"
            )

    unserved: dict[str, int] = {}
    penalties = 0.0
    for item in result.unserved:
        unserved[item.pickup_id] = unserved.get(item.pickup_id, 0) + 1
        if item.pickup_id not in pickups:
            problems.append(f"unserved {item.pickup_id!r} is not a pickup")
            continue
        penalties += item.penalty_cny
        if item.penalty_cny == 0:
            k, pickup = pickups[item.pickup_id]
            for vehicle in problem.fleet:
                if pickup.weight_kg > vehicle.capacity_kg or pickup.volume_m3 > vehicle.capacity_m3:
                    continue
                if vehicle.cargo_classes is not None and not (
                    {pickup.cargo_class, freight_class(pickup.cargo_class)} & vehicle.cargo_classes
                ):
                    continue
                start = depots.index(vehicle.start_depot) if vehicle.start_depot else 0
                end = depots.index(vehicle.end_depot) if vehicle.end_depot else 0
                there = float(duration[start, first + k])
                back = float(duration[first + k, end])
                service_h = pickup.service_min / 60
                windows = [(hours(a), hours(b)) for a, b in pickup.windows] or [(0.0, horizon)]
                alone = any(
                    max(there, a) <= b + 1e-9
                    and max(there, a) + service_h + back <= horizon + 1e-9
                    and there + service_h + back <= vehicle.shift_h + 1e-9
                    for a, b in windows
                )
                if alone and result.status.value in ("optimal", "feasible"):
                    problems.append(
                        f"pickup {item.pickup_id} is listed as unservable, yet a {vehicle.name} "
                        "could serve it alone"
                    )
                    break
        elif problem.drop_penalty_cny is None:
            problems.append(f"pickup {item.pickup_id} is dropped, but every pickup is required")
        elif not close(item.penalty_cny, problem.drop_penalty_cny):
            problems.append(
                f"pickup {item.pickup_id} is charged {item.penalty_cny:.2f}, not the penalty"
            )
    for pickup_id in pickups:
        times = served.get(pickup_id, 0) + unserved.get(pickup_id, 0)
        if times != 1:
            problems.append(
                f"pickup {pickup_id} is served {served.get(pickup_id, 0)} times and listed "
                f"unserved {unserved.get(pickup_id, 0)} times"
            )
    if result.status.value not in ("optimal", "feasible") and result.routes:
        problems.append(f"status {result.status.value} with routes")
    for key, recomputed in totals.items():
        if not close(getattr(result, key), recomputed, 0.01 if key != "duration_h" else tol_h * 10):
            problems.append(f"total {key} {getattr(result, key):.2f}, not {recomputed:.2f}")
    if not close(result.penalty_cny, penalties):
        problems.append(f"penalties {result.penalty_cny:.2f}, not {penalties:.2f}")
    if not close(result.objective, totals["cost_cny"] + penalties):
        problems.append(
            f"objective {result.objective:.2f}, but costs and penalties add to "
            f"{totals['cost_cny'] + penalties:.2f}"
        )
    if result.bound is not None and result.bound > result.objective + 1e-6 * max(
        1.0, result.objective
    ):
        problems.append(f"bound {result.bound:.2f} above the objective {result.objective:.2f}")
    return problems
