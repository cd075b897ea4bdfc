"""First-mile pickups: truck routes from factories and parks to the hub, timed to the departure.

:func:`solve_pickups` routes a fleet to collect the lots of a :class:`PickupProblem` and unload
them at the hub by the booking cut-off; :func:`read_vrplib` reads CVRPLIB and Solomon instances
into the same problem so the same code is measured against published best-known values.
"""

from optimizer.first_mile.problem import (
    Pickup,
    PickupProblem,
    Place,
    VehicleType,
    fleet_from_records,
    problem_from_records,
    read_fleet,
)
from optimizer.first_mile.result import PickupResult, Route, Stop, Unserved, evaluate_routes
from optimizer.first_mile.solve import BACKENDS, DEFAULT_BACKEND, solve_pickups, unservable
from optimizer.first_mile.travel import travel_matrices
from optimizer.first_mile.vrplib_io import read_vrplib

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Pickup",
    "PickupProblem",
    "PickupResult",
    "Place",
    "Route",
    "Stop",
    "Unserved",
    "VehicleType",
    "evaluate_routes",
    "fleet_from_records",
    "problem_from_records",
    "read_fleet",
    "read_vrplib",
    "solve_pickups",
    "travel_matrices",
    "unservable",
]
