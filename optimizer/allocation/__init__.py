"""Allocation: which overseas warehouse serves how much of each seller's demand, week by week.

:func:`solve_allocation` solves an :class:`AllocationProblem` (a capacitated warehouse location
problem with weeks, bookings, service level, fairness and single sourcing);
:func:`allocation_problem` builds one from sellers' forecasts and warehouses' terms, with
inbound costs from the route planner; :func:`read_orlib_cap` reads the OR-Library instances
into the same model.
"""

from optimizer.allocation.freight import (
    PALLET_M3,
    MarketDemand,
    MarketService,
    OverseasWarehouse,
    RecordError,
    Seller,
    allocation_problem,
    bookings_from_records,
    sellers_from_records,
    warehouses_from_records,
)
from optimizer.allocation.problem import (
    AllocationProblem,
    Booking,
    Customer,
    Lane,
    Warehouse,
    read_orlib_cap,
)
from optimizer.allocation.result import AllocationResult, Flow, Unserved, WarehouseWeek
from optimizer.allocation.solve import solve_allocation

__all__ = [
    "PALLET_M3",
    "AllocationProblem",
    "AllocationResult",
    "Booking",
    "Customer",
    "Flow",
    "Lane",
    "MarketDemand",
    "MarketService",
    "OverseasWarehouse",
    "RecordError",
    "Seller",
    "Unserved",
    "Warehouse",
    "WarehouseWeek",
    "allocation_problem",
    "bookings_from_records",
    "read_orlib_cap",
    "sellers_from_records",
    "solve_allocation",
    "warehouses_from_records",
]
