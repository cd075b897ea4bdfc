"""What a consolidation run answers: a loading plan, every lot's fate, costs both ways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from optimizer.consolidation.problem import PreCarriage
from optimizer.results import SolveStatus


@dataclass(frozen=True)
class LoadedUnit:
    """One box or pallet on one departure, with the lots inside it."""

    unit_id: str
    departure_id: str
    container_type: str
    destination: str
    segregation: str
    shipment_ids: tuple[str, ...]
    volume_m3: float
    weight_kg: float
    capacity_m3: float
    capacity_kg: float
    slots: float
    cost_cny: float

    @property
    def volume_utilisation(self) -> float:
        """Share of the usable volume filled."""
        return self.volume_m3 / self.capacity_m3

    @property
    def weight_utilisation(self) -> float:
        """Share of the payload (the pivot weight for air pallets) used."""
        return self.weight_kg / self.capacity_kg


@dataclass(frozen=True)
class Placement:
    """How one lot travels and what it costs, beside booking it alone.

    ``kind`` is ``container`` (pooled into ``unit_id``), ``own`` (booked alone on a departure:
    LCL, or the cheapest product for its size) or ``standalone`` (the route planner's best
    option). ``cost_cny`` is freight booked alone plus storage and lateness; a pooled lot's share
    of its box is in the box's cost, not here.
    """

    shipment_id: str
    seller: str
    kind: str
    departure_id: str | None
    unit_id: str | None
    depart: datetime
    arrival: datetime
    deadline: datetime
    freight_cny: float
    storage_cny: float
    lateness_cny: float
    co2e_kg: float
    alone_cost_cny: float
    alone_co2e_kg: float
    summary: str

    @property
    def cost_cny(self) -> float:
        """Freight booked alone (0 when pooled) plus storage and lateness."""
        return self.freight_cny + self.storage_cny + self.lateness_cny


@dataclass(frozen=True)
class Unplaced:
    """A lot with no way to travel, or a row that could not be read, and why."""

    shipment_id: str
    field: str | None
    reason: str


@dataclass(frozen=True)
class DepartureUse:
    """One candidate departure and how much of its allotment the plan books."""

    departure_id: str
    hub: str
    service: str
    mode: str
    cutoff: datetime
    depart: datetime
    slots: float
    slot_unit: str
    slots_used: float


@dataclass(frozen=True)
class ConsolidationResult:
    """A loading plan with its status, bound and savings against booking every lot alone.

    ``objective_cny`` = boxes + placements' costs. ``bound_cny`` is a proven lower bound on the
    objective of any plan for the same lots and departures; ``gap`` = (objective - bound) /
    objective. ``baseline_cny`` books every placed lot alone (its cheapest own booking or
    stand-alone option, storage and lateness included); ``warm_start_cny`` is the cost of the
    greedy first-fit-decreasing plan the MIP starts from.
    """

    status: SolveStatus
    objective_cny: float
    bound_cny: float
    gap: float
    runtime_s: float
    seed: int
    departures: tuple[DepartureUse, ...]
    units: tuple[LoadedUnit, ...]
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    baseline_cny: float
    co2e_kg: float
    baseline_co2e_kg: float
    warm_start_cny: float
    #: The trucks that bring lots from farther than the hub radius to their hubs, by lot id
    #: (not in the objective: the same whichever departure a lot takes).
    pre_carriage: tuple[tuple[str, PreCarriage], ...] = ()

    @property
    def objective(self) -> float:
        """``objective_cny``, as :class:`~optimizer.results.SolverResult` reads it."""
        return self.objective_cny

    @property
    def bound(self) -> float:
        """``bound_cny``, as :class:`~optimizer.results.SolverResult` reads it."""
        return self.bound_cny

    @property
    def savings_cny(self) -> float:
        """Baseline minus objective."""
        return self.baseline_cny - self.objective_cny

    @property
    def savings_pct(self) -> float:
        """Savings as a percentage of the baseline (0 without placed lots)."""
        return 100 * self.savings_cny / self.baseline_cny if self.baseline_cny else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document: departure -> boxes -> lots, placements, unplaced, totals."""
        units_by_departure: dict[str, list[dict[str, Any]]] = {}
        for unit in self.units:
            units_by_departure.setdefault(unit.departure_id, []).append(
                {
                    "unit_id": unit.unit_id,
                    "container_type": unit.container_type,
                    "destination": unit.destination,
                    "segregation": unit.segregation,
                    "shipments": list(unit.shipment_ids),
                    "volume_m3": round(unit.volume_m3, 3),
                    "weight_kg": round(unit.weight_kg, 1),
                    "volume_utilisation": round(unit.volume_utilisation, 4),
                    "weight_utilisation": round(unit.weight_utilisation, 4),
                    "cost_cny": round(unit.cost_cny, 2),
                }
            )
        return {
            "status": self.status.value,
            "objective_cny": round(self.objective_cny, 2),
            "bound_cny": round(self.bound_cny, 2),
            "gap": round(self.gap, 6),
            "runtime_s": round(self.runtime_s, 3),
            "seed": self.seed,
            "baseline_cny": round(self.baseline_cny, 2),
            "warm_start_cny": round(self.warm_start_cny, 2),
            "savings_cny": round(self.savings_cny, 2),
            "savings_pct": round(self.savings_pct, 2),
            "co2e_kg": round(self.co2e_kg, 1),
            "baseline_co2e_kg": round(self.baseline_co2e_kg, 1),
            "departures": [
                {
                    "departure_id": d.departure_id,
                    "hub": d.hub,
                    "service": d.service,
                    "mode": d.mode,
                    "cutoff": d.cutoff.isoformat(),
                    "depart": d.depart.isoformat(),
                    "slots": d.slots,
                    "slot_unit": d.slot_unit,
                    "slots_used": d.slots_used,
                    "units": units_by_departure.get(d.departure_id, []),
                }
                for d in self.departures
                if d.slots_used > 0 or d.departure_id in units_by_departure
            ],
            "placements": [
                {
                    "shipment_id": p.shipment_id,
                    "seller": p.seller,
                    "kind": p.kind,
                    "departure_id": p.departure_id,
                    "unit_id": p.unit_id,
                    "depart": p.depart.isoformat(),
                    "arrival": p.arrival.isoformat(),
                    "deadline": p.deadline.isoformat(),
                    "freight_cny": round(p.freight_cny, 2),
                    "storage_cny": round(p.storage_cny, 2),
                    "lateness_cny": round(p.lateness_cny, 2),
                    "co2e_kg": round(p.co2e_kg, 2),
                    "alone_cost_cny": round(p.alone_cost_cny, 2),
                    "summary": p.summary,
                }
                for p in self.placements
            ],
            "unplaced": [
                {"shipment_id": u.shipment_id, "field": u.field, "reason": u.reason}
                for u in self.unplaced
            ],
            "pre_carriage_cny": round(sum(p.cost_cny for _, p in self.pre_carriage), 2),
            "pre_carriage": [
                {
                    "shipment_id": lot_id,
                    "from": p.origin,
                    "hub": p.hub,
                    "distance_km": round(p.distance_km, 1),
                    "cost_cny": round(p.cost_cny, 2),
                    "depart": p.depart.isoformat(),
                    "arrive": p.arrive.isoformat(),
                }
                for lot_id, p in self.pre_carriage
            ],
        }
