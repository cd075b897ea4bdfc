"""What an allocation run answers: who serves which demand each week, what is left, the cost."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from optimizer.allocation.problem import AllocationProblem
from optimizer.results import SolveStatus


@dataclass(frozen=True)
class Flow:
    """Demand of one customer in one week served by one warehouse.

    ``quantity`` is in units of demand (orders); ``cost_cny`` = quantity x the unit cost.
    """

    customer_id: str
    warehouse_id: str
    week: int
    quantity: float
    cost_cny: float


@dataclass(frozen=True)
class Unserved:
    """Demand of one customer in one week that no warehouse serves, and its penalty."""

    customer_id: str
    week: int
    quantity: float
    penalty_cny: float


@dataclass(frozen=True)
class WarehouseWeek:
    """One warehouse in one week: capacity, what bookings take and what the plan adds.

    Tuples hold one number per resource of the problem.
    """

    warehouse_id: str
    week: int
    capacity: tuple[float, ...]
    booked: tuple[float, ...]
    planned: tuple[float, ...]

    @property
    def free(self) -> tuple[float, ...]:
        """Capacity left after bookings and the plan."""
        return tuple(
            c - b - p for c, b, p in zip(self.capacity, self.booked, self.planned, strict=True)
        )


@dataclass(frozen=True)
class AllocationResult:
    """An allocation with its status, proven bound and cost.

    ``objective`` (CNY) = fixed costs of the warehouses used + flows' costs + penalties of
    unserved demand. ``bound`` is a proven lower bound on the objective of any allocation;
    ``gap`` = (objective - bound) / objective. Without a solution (``infeasible``,
    ``timed_out``) the objective is ``inf`` and there are no flows.
    """

    status: SolveStatus
    objective: float
    bound: float
    gap: float
    runtime_s: float
    seed: int
    open_warehouses: tuple[str, ...]
    flows: tuple[Flow, ...]
    unserved: tuple[Unserved, ...]
    fixed_cost_cny: float
    flow_cost_cny: float
    penalty_cny: float
    loads: tuple[WarehouseWeek, ...] = ()
    #: Flow costs split into inbound, storage, handling and last mile (freight problems).
    breakdown_cny: dict[str, float] = field(default_factory=dict)

    @property
    def served(self) -> float:
        """Units of demand served."""
        return sum(f.quantity for f in self.flows)

    @property
    def unserved_quantity(self) -> float:
        """Units of demand left unserved."""
        return sum(u.quantity for u in self.unserved)

    def assignments(self) -> dict[tuple[str, str], float]:
        """Units served per (customer, warehouse), over all weeks.

        Examples
        --------
        >>> r = AllocationResult(SolveStatus.OPTIMAL, 5.0, 5.0, 0.0, 0.1, 0, ("W1",),
        ...     (Flow("c1", "W1", 1, 2.0, 2.0), Flow("c1", "W1", 2, 3.0, 3.0)), (), 0.0, 5.0, 0.0)
        >>> r.assignments()
        {('c1', 'W1'): 5.0}
        """
        total: dict[tuple[str, str], float] = defaultdict(float)
        for flow in self.flows:
            total[flow.customer_id, flow.warehouse_id] += flow.quantity
        return dict(total)

    def to_dict(self, problem: AllocationProblem | None = None) -> dict[str, Any]:
        """A JSON-ready document (no ``inf``: missing figures are None).

        With the ``problem`` it was solved from, the document also holds ``customers`` (demand,
        served and unserved units and the warehouses serving each) and ``lanes`` (the unit
        costs, days and inbound route of every customer-warehouse pair that carries a flow).
        """

        def number(value: float, digits: int = 2) -> float | None:
            return round(value, digits) if math.isfinite(value) else None

        document = {
            "status": self.status.value,
            "objective": number(self.objective),
            "bound": number(self.bound),
            "gap": number(self.gap, 6),
            "runtime_s": round(self.runtime_s, 3),
            "seed": self.seed,
            "fixed_cost_cny": round(self.fixed_cost_cny, 2),
            "flow_cost_cny": round(self.flow_cost_cny, 2),
            "penalty_cny": round(self.penalty_cny, 2),
            "breakdown_cny": {k: round(v, 2) for k, v in self.breakdown_cny.items()},
            "open_warehouses": list(self.open_warehouses),
            "flows": [
                {
                    "customer_id": f.customer_id,
                    "warehouse_id": f.warehouse_id,
                    "week": f.week,
                    "quantity": round(f.quantity, 4),
                    "cost_cny": round(f.cost_cny, 2),
                }
                for f in self.flows
            ],
            "unserved": [
                {
                    "customer_id": u.customer_id,
                    "week": u.week,
                    "quantity": round(u.quantity, 4),
                    "penalty_cny": round(u.penalty_cny, 2),
                }
                for u in self.unserved
            ],
            "loads": [
                {
                    "warehouse_id": load.warehouse_id,
                    "week": load.week,
                    "capacity": [number(v, 4) for v in load.capacity],
                    "booked": [round(v, 4) for v in load.booked],
                    "planned": [round(v, 4) for v in load.planned],
                }
                for load in self.loads
            ],
        }
        if problem is not None:
            document.update(self._details(problem))
        return document

    def _details(self, problem: AllocationProblem) -> dict[str, Any]:
        served: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for (customer_id, warehouse_id), quantity in self.assignments().items():
            served[customer_id][warehouse_id] += quantity
        unserved: dict[str, float] = defaultdict(float)
        for entry in self.unserved:
            unserved[entry.customer_id] += entry.quantity
        customers = [
            {
                "customer_id": c.customer_id,
                "seller": c.seller,
                "market": c.market,
                "demand": round(sum(c.demand), 4),
                "served": round(sum(served[c.customer_id].values()), 4),
                "unserved": round(unserved[c.customer_id], 4),
                "by_warehouse": {w: round(q, 4) for w, q in served[c.customer_id].items()},
            }
            for c in problem.customers
        ]
        lanes = [
            {
                "customer_id": lane.customer_id,
                "warehouse_id": lane.warehouse_id,
                "cost_cny_per_unit": round(lane.cost_cny, 4),
                "inbound_cny": round(lane.inbound_cny, 4),
                "storage_cny": round(lane.storage_cny, 4),
                "handling_cny": round(lane.handling_cny, 4),
                "last_mile_cny": round(lane.last_mile_cny, 4),
                "inbound_days": round(lane.inbound_days, 2),
                "delivery_days": lane.delivery_days,
                "route": lane.route,
            }
            for lane in problem.lanes
            if served[lane.customer_id].get(lane.warehouse_id)
        ]
        return {"resources": list(problem.resources), "customers": customers, "lanes": lanes}
