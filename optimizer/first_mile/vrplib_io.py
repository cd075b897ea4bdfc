"""Read CVRPLIB and Solomon instances into a :class:`PickupProblem`, keeping their conventions.

Parsing is the ``vrplib`` package's. Distances follow the conventions of the published values
(``shared/benchmarks/README.md``): for CVRP, the Euclidean distance rounded to the nearest
integer per edge; for VRPTW (Solomon and Gehring-Homberger), truncated to one decimal, travel
time equal to distance. The problem carries these matrices, its one vehicle type costs 1 per
unit of distance and nothing else, and no pickup may be dropped, so
:attr:`PickupResult.objective` is the total distance as the published values count it.

An instance's distance unit is read as a km and its time unit as a minute; vehicles leave the
depot at :data:`EPOCH` and return by the depot's due time (CVRP: no time limit).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import vrplib

from optimizer.errors import InvalidInputError
from optimizer.first_mile.problem import Pickup, PickupProblem, Place, VehicleType

#: The instant an instance's time 0 stands for.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: CVRP instances have no horizon: routes must end within this many time units (a year).
CVRP_HORIZON = 366 * 24 * 60


def read_vrplib(path: str | os.PathLike[str]) -> PickupProblem:
    """A CVRPLIB ``.vrp`` (CVRP or VRPTW) or Solomon ``.txt`` instance as a problem.

    Customer ``i`` of the file (node ``i`` after the depot) becomes pickup ``"i"``, the
    numbering of the ``.sol`` files; its demand is its weight in kg.

    Examples
    --------
    A depot and two customers 3-4-5 apart, capacity 10:

    >>> import tempfile
    >>> text = '''NAME : tiny
    ... TYPE : CVRP
    ... DIMENSION : 3
    ... EDGE_WEIGHT_TYPE : EUC_2D
    ... CAPACITY : 10
    ... NODE_COORD_SECTION
    ... 1 0 0
    ... 2 3 4
    ... 3 3 0
    ... DEMAND_SECTION
    ... 1 0
    ... 2 6
    ... 3 4
    ... DEPOT_SECTION
    ... 1
    ... -1
    ... EOF
    ... '''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = Path(folder) / "tiny.vrp"
    ...     _ = file.write_text(text)
    ...     problem = read_vrplib(file)
    >>> problem.name, [p.weight_kg for p in problem.pickups], problem.distance_matrix[0].tolist()
    ('tiny', [6.0, 4.0], [0.0, 5.0, 3.0])
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError("path", str(path), "an existing .vrp or .txt instance file")
    solomon = file.suffix.lower() == ".txt"
    instance = vrplib.read_instance(file, instance_format="solomon" if solomon else "vrplib")
    if "edge_weight" not in instance:
        raise InvalidInputError("path", str(path), "an instance with coordinates or edge weights")
    weights = np.asarray(instance["edge_weight"], dtype=np.float64)
    windows = instance.get("time_window")
    if windows is not None:
        distance = np.floor(weights * 10 + 1e-9) / 10
    elif instance.get("edge_weight_type", "EXPLICIT") == "EUC_2D":
        distance = np.floor(weights + 0.5)
    else:
        distance = weights
    depot = int(np.atleast_1d(instance.get("depot", [0]))[0])
    if depot != 0:
        raise InvalidInputError("path", str(path), "an instance whose depot is its first node")
    demand = np.asarray(instance["demand"], dtype=np.float64)
    service = np.asarray(instance.get("service_time", np.zeros(len(demand))), dtype=np.float64)
    service = np.broadcast_to(service, demand.shape)
    horizon = float(windows[0][1]) if windows is not None else float(CVRP_HORIZON)
    pickups = tuple(
        Pickup(
            str(i),
            Place(str(i)),
            float(demand[i]),
            windows=(((_at(windows[i][0]), _at(windows[i][1])),) if windows is not None else ()),
            service_min=float(service[i]),
        )
        for i in range(1, len(demand))
    )
    vehicles = int(instance.get("vehicles", len(demand) - 1))
    truck = VehicleType(
        "vehicle", float(instance["capacity"]), 1.0, count=vehicles, fixed_cost_cny=0.0,
        cost_cny_per_km=1.0, cost_cny_per_h=0.0, shift_h=horizon / 60,
    )  # fmt: skip
    return PickupProblem(
        pickups, (truck,), Place("depot"), _at(horizon), start=EPOCH, drop_penalty_cny=None,
        distance_km=distance, duration_h=distance / 60, name=str(instance.get("name", file.stem)),
    )  # fmt: skip


def _at(minutes: float) -> datetime:
    return EPOCH + timedelta(minutes=float(minutes))
