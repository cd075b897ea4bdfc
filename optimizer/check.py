"""Independent feasibility checkers: the tests run one on every solver result.

Each checker takes a problem and a proposed answer in plain Python types and returns every
problem it finds, in words, or an empty list when the answer is feasible. They share no code with
the solvers they check, so a solver bug cannot hide behind a helper that is wrong in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
