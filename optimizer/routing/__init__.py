"""Door-to-door route planning: Pareto-best options by cost, arrival time and CO2e.

The search is an exact multi-criteria, time-dependent label-setting algorithm (Martins'
algorithm on a timetable, in the spirit of McRAPTOR). A label is a partial journey at a node:
arrival time, cost, CO2e, p90 arrival, the customs state (export cleared, bonded zone entered)
and how it arrived (mode, scheduled or not), which decides whether the next leg is a transfer.
Labels leave the queue in order of (arrival, cost, CO2e) plus lower bounds to the destination;
a label dominated for every continuation by a settled label at its node, or with its bounds by
a complete journey, is dropped (see :mod:`optimizer.costs.search` and ``docs/routing.md``).

A transfer (handling time and cost at the node) happens where the mode changes, where a
scheduled service is joined or left, and at gauge-change stations; a truck or a through train
passing a node does not stop for handling. Border dwell applies to every crossing. Waiting for a
later departure never helps arrive earlier (FIFO), costs and emissions do not depend on time, so
dropping dominated labels keeps every Pareto-optimal journey.

Per-corridor charges, emissions and the next bookable departure come from the numba kernels in
:mod:`optimizer.costs`.

The package is laid out as the other solvers are: :mod:`~optimizer.routing.places` (where a
plan starts and ends), :mod:`~optimizer.routing.problem` (the shipment's limits and usable
corridors), :mod:`~optimizer.routing.costs` (what the shipment pays on each corridor and node),
:mod:`~optimizer.routing.search` (the kernel run once per load basis),
:mod:`~optimizer.routing.result` (journeys read back into legs, charges and summaries),
:mod:`~optimizer.routing.plan` (:func:`plan_routes`) and :mod:`~optimizer.routing.batch`.
"""

from optimizer.model import RoutePlan, Shipment
from optimizer.routing.batch import (
    BatchRun,
    map_on_network,
    plan_batch,
    plan_batch_to_parquet,
    plan_record,
)
from optimizer.routing.costs import (
    EdgeCosts,
    air_chargeable_kg,
    edge_costs,
    handling_rates,
    node_handling,
    truckloads,
)
from optimizer.routing.places import SNAP_KM, find_place
from optimizer.routing.plan import plan_routes
from optimizer.routing.problem import (
    DEFAULT_HORIZON_DAYS,
    MAX_HORIZON_DAYS,
    TEU_USABLE_M3,
    shipment_from_record,
)
from optimizer.routing.result import plan_summary_row

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "MAX_HORIZON_DAYS",
    "SNAP_KM",
    "TEU_USABLE_M3",
    "BatchRun",
    "EdgeCosts",
    "RoutePlan",
    "Shipment",
    "air_chargeable_kg",
    "edge_costs",
    "find_place",
    "handling_rates",
    "map_on_network",
    "node_handling",
    "plan_batch",
    "plan_batch_to_parquet",
    "plan_record",
    "plan_routes",
    "plan_summary_row",
    "shipment_from_record",
    "truckloads",
]
