"""Route trucks to collect the pickups and reach the hub by the cut-off, at least cost.

Two backends solve the same model, a capacitated vehicle routing problem with time windows,
several vehicle types and depots, shift lengths and optional visits:

- ``pyvrp``: PyVRP's iterated local search (the default: the benchmark
  ``benchmarks/bench_first_mile.py`` finds it closer to the best-known values at 10 s and 30 s);
- ``ortools``: OR-Tools routing with capacity dimensions (kg and m3), a time dimension with the
  windows, shift lengths and the cut-off at the end depot, disjunctions with the drop penalty,
  vehicle fixed costs, savings as first solution and guided local search.

Before either runs, every pickup is checked alone against every truck: too heavy or bulky for
all of them, a window that closes before any truck can get there, a cut-off no truck can make
after loading it, or a round trip longer than every shift. Such pickups are reported unserved
with that reason and left out of the model; pickups the solver leaves out are "dropped: serving
it costs more than its penalty". Both solvers work on integers: metres, seconds, grams, litres and
1e-5 CNY; durations are rounded up to the second so that an integer-feasible route stays
feasible in hours.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp
import pyvrp.stop
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from pyvrp.exceptions import PenaltyBoundWarning

from optimizer._ortools import check_run_limits
from optimizer.errors import InvalidInputError
from optimizer.first_mile.problem import PickupProblem
from optimizer.first_mile.result import PickupResult, Unserved, evaluate_routes
from optimizer.results import SolveStatus

IntArray = npt.NDArray[np.int64]

BACKENDS = ("pyvrp", "ortools")
DEFAULT_BACKEND = "pyvrp"
#: Integer units of the solvers.
COST_UNITS_PER_CNY = 100_000
M_PER_KM = 1000
S_PER_H = 3600
LOAD_UNITS = 1000  # grams per kg, litres per m3
_EPS = 1e-6
_Routes = list[tuple[str, list[str]]]


@dataclass
class _VehicleData:
    name: str
    count: int
    capacity: list[int]  # grams, then litres when volumes matter
    start: int  # depot node
    end: int
    fixed_cost: int
    per_m: int
    per_s: int
    shift_s: int
    forbidden: frozenset[int]  # client nodes whose cargo class it may not carry


@dataclass
class _Model:
    """The integer model: nodes are the depots (hub first), then the servable pickups."""

    problem: PickupProblem
    places: list[int]  # problem place of each node
    clients: list[int]  # problem pickup of each node after the depots
    n_depots: int
    distance_m: IntArray
    duration_s: IntArray
    service_s: list[int]
    windows_s: list[list[tuple[int, int]]]
    demand: list[list[int]]  # per client, per load dimension
    vehicles: list[_VehicleData]
    horizon_s: int
    penalty: int | None

    @property
    def uses_time(self) -> bool:
        """Whether any time constraint or time cost can matter."""
        longest = sum(self.service_s) + (len(self.clients) + 1) * int(self.duration_s.max())
        return (
            any(w != [(0, self.horizon_s)] for w in self.windows_s)
            or any(v.per_s > 0 or v.shift_s < min(longest, self.horizon_s) for v in self.vehicles)
            or longest > self.horizon_s
        )


def _hhmm(problem: PickupProblem, hours: float) -> str:
    return problem.moment(hours).strftime("%Y-%m-%d %H:%M %z")


def unservable(problem: PickupProblem) -> dict[str, str]:
    """Pickups no truck can serve even alone, with the reason (pickup id -> reason).

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timezone
    >>> from optimizer.first_mile.problem import Place, Pickup, VehicleType
    >>> km = np.array([[0.0, 100.0], [100.0, 0.0]])
    >>> problem = PickupProblem((Pickup("big", Place("p"), 30_000, 20),),
    ...     (VehicleType("truck", 26_500, 68),), Place("hub"),
    ...     datetime(2026, 12, 3, 18, tzinfo=timezone.utc), distance_km=km, duration_h=km / 50)
    >>> print(unservable(problem)["big"])
    too big for any truck: 30,000 kg and 20 m3; the largest carries 26,500 kg (truck) and 68 m3 ...
    """
    duration = problem.duration_matrix
    horizon = problem.hours(problem.cutoff)
    first = 1 + len(problem.depots)
    heaviest = max(problem.fleet, key=lambda v: v.capacity_kg)
    bulkiest = max(problem.fleet, key=lambda v: v.capacity_m3)
    reasons = {}
    for k, pickup in enumerate(problem.pickups):
        node = first + k
        allowed = [v for v in problem.fleet if v.carries(pickup.cargo_class)]
        if not allowed:
            reasons[pickup.pickup_id] = (
                f"no truck may carry {pickup.cargo_class} cargo (list it in a vehicle type's "
                "cargo_classes)"
            )
            continue
        fitting = [
            v
            for v in allowed
            if pickup.weight_kg <= v.capacity_kg and pickup.volume_m3 <= v.capacity_m3
        ]
        if not fitting:
            reasons[pickup.pickup_id] = (
                f"too big for any truck: {pickup.weight_kg:,.0f} kg and {pickup.volume_m3:g} m3; "
                f"the largest carries {heaviest.capacity_kg:,.0f} kg ({heaviest.name}) and "
                f"{bulkiest.capacity_m3:g} m3 ({bulkiest.name})"
            )
            continue
        windows = (
            [(problem.hours(a), problem.hours(b)) for a, b in pickup.windows]
            if pickup.windows
            else [(0.0, horizon)]
        )
        service_h = pickup.service_min / 60.0
        late_window, late_cutoff, long_shift = [], [], []
        for vehicle in fitting:
            start = problem.depot_index(vehicle.start_depot)
            end = problem.depot_index(vehicle.end_depot)
            arrive = float(duration[start, node])
            window = next((w for w in windows if w[1] >= arrive - _EPS), None)
            if window is None:
                late_window.append((arrive, vehicle))
                continue
            back = max(arrive, window[0]) + service_h + float(duration[node, end])
            if back > horizon + _EPS:
                late_cutoff.append((back, max(arrive, window[0]), vehicle))
                continue
            trip = float(duration[start, node]) + service_h + float(duration[node, end])
            if trip > vehicle.shift_h + _EPS:
                long_shift.append((trip, vehicle))
                continue
            break
        else:
            if long_shift:
                trip, vehicle = min(long_shift, key=lambda t: t[0])
                longest = max(v.shift_h for v in fitting)
                reasons[pickup.pickup_id] = (
                    f"a round trip through it takes {trip:.1f} h, longer than any truck's shift "
                    f"(at most {longest:g} h)"
                )
            elif late_cutoff:
                back, loaded, vehicle = min(late_cutoff, key=lambda t: t[0])
                reasons[pickup.pickup_id] = (
                    f"cut-off unreachable: loaded at the earliest at {_hhmm(problem, loaded)}, it "
                    f"reaches {vehicle.end_depot or problem.hub.label} at {_hhmm(problem, back)}, "
                    f"after the cut-off {_hhmm(problem, horizon)}"
                )
            else:
                arrive, vehicle = min(late_window, key=lambda t: t[0])
                reasons[pickup.pickup_id] = (
                    f"its window closes at {_hhmm(problem, windows[-1][1])}, before any truck can "
                    f"arrive (the earliest at {_hhmm(problem, arrive)} from "
                    f"{vehicle.start_depot or problem.hub.label})"
                )
    return reasons


def _model(problem: PickupProblem, excluded: set[str]) -> _Model:
    n_depots = 1 + len(problem.depots)
    clients = [k for k, p in enumerate(problem.pickups) if p.pickup_id not in excluded]
    places = list(range(n_depots)) + [n_depots + k for k in clients]
    rows = np.array(places, dtype=np.int64)
    distance_m = np.rint(problem.distance_matrix[np.ix_(rows, rows)] * M_PER_KM).astype(np.int64)
    duration_s = np.ceil(problem.duration_matrix[np.ix_(rows, rows)] * S_PER_H - _EPS)
    horizon_s = math.floor(problem.hours(problem.cutoff) * S_PER_H + _EPS)
    uses_volume = any(problem.pickups[k].volume_m3 > 0 for k in clients)
    service_s, windows_s, demand = [], [], []
    for k in clients:
        pickup = problem.pickups[k]
        service_s.append(round(pickup.service_min * 60))
        windows = []
        for start, end in pickup.windows or [(problem.planning_start, problem.cutoff)]:
            low = max(0, math.ceil(problem.hours(start) * S_PER_H - _EPS))
            high = min(horizon_s, math.floor(problem.hours(end) * S_PER_H + _EPS))
            if low <= high:
                windows.append((low, high))
        windows_s.append(windows)
        loads = [math.ceil(pickup.weight_kg * LOAD_UNITS - _EPS)]
        if uses_volume:
            loads.append(math.ceil(pickup.volume_m3 * LOAD_UNITS - _EPS))
        demand.append(loads)
    vehicles = []
    for vehicle in problem.fleet:
        capacity = [math.floor(vehicle.capacity_kg * LOAD_UNITS + _EPS)]
        if uses_volume:
            capacity.append(math.floor(vehicle.capacity_m3 * LOAD_UNITS + _EPS))
        vehicles.append(
            _VehicleData(
                name=vehicle.name,
                count=min(vehicle.count, max(len(clients), 1)),
                capacity=capacity,
                start=problem.depot_index(vehicle.start_depot),
                end=problem.depot_index(vehicle.end_depot),
                fixed_cost=round(vehicle.fixed_cost_cny * COST_UNITS_PER_CNY),
                per_m=round(vehicle.cost_cny_per_km * COST_UNITS_PER_CNY / M_PER_KM),
                per_s=round(vehicle.cost_cny_per_h * COST_UNITS_PER_CNY / S_PER_H),
                shift_s=min(horizon_s, math.floor(vehicle.shift_h * S_PER_H + _EPS)),
                forbidden=frozenset(
                    n_depots + c
                    for c, k in enumerate(clients)
                    if not vehicle.carries(problem.pickups[k].cargo_class)
                ),
            )
        )
    penalty = problem.drop_penalty_cny
    return _Model(
        problem=problem,
        places=places,
        clients=clients,
        n_depots=n_depots,
        distance_m=distance_m,
        duration_s=duration_s.astype(np.int64),
        service_s=service_s,
        windows_s=windows_s,
        demand=demand,
        vehicles=vehicles,
        horizon_s=horizon_s,
        penalty=None if penalty is None else round(penalty * COST_UNITS_PER_CNY),
    )


def _pickup_id(model: _Model, node: int) -> str:
    return model.problem.pickups[model.clients[node - model.n_depots]].pickup_id


def _solve_pyvrp(
    model: _Model, time_limit_s: float, seed: int, max_iterations: int | None
) -> tuple[SolveStatus, _Routes | None]:
    problem = model.problem
    locations = [
        pyvrp.Location(problem.places[p].lon or 0.0, problem.places[p].lat or 0.0)
        for p in model.places
    ]
    depots = [pyvrp.Depot(d, tw_early=0, tw_late=model.horizon_s) for d in range(model.n_depots)]
    required = model.penalty is None
    prize = model.penalty or 0
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    owner: list[int] = []  # node of each pyvrp client
    for c, windows in enumerate(model.windows_s):
        node = model.n_depots + c
        group = None
        if len(windows) > 1:
            group = len(groups)
            groups.append(pyvrp.ClientGroup(required=required))
        for low, high in windows:
            if group is not None:
                groups[group].add_client(len(clients))
            clients.append(
                pyvrp.Client(
                    node, pickup=model.demand[c], service_duration=model.service_s[c],
                    tw_early=low, tw_late=high, prize=prize,
                    required=required and group is None, group=group,
                )
            )  # fmt: skip
            owner.append(node)
    # A type that may not carry some lots drives on a profile where reaching them takes past
    # the horizon: a visit there can never be on time, so never in a feasible plan.
    profiles: dict[frozenset[int], int] = {frozenset(): 0}
    durations: list[Any] = [model.duration_s]  # the stubs type these as ndarray[int]
    for vehicle in model.vehicles:
        if vehicle.forbidden not in profiles:
            profiles[vehicle.forbidden] = len(durations)
            blocked = model.duration_s.copy()
            blocked[:, sorted(vehicle.forbidden)] = model.horizon_s + 1
            np.fill_diagonal(blocked, 0)
            durations.append(blocked)
    distances: list[Any] = [model.distance_m] * len(durations)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=v.count, capacity=v.capacity, start_depot=v.start, end_depot=v.end,
            fixed_cost=v.fixed_cost, tw_early=0, tw_late=model.horizon_s,
            shift_duration=v.shift_s, unit_distance_cost=v.per_m, unit_duration_cost=v.per_s,
            profile=profiles[v.forbidden], name=v.name,
        )
        for v in model.vehicles
    ]  # fmt: skip
    data = pyvrp.ProblemData(
        locations, clients, depots, vehicle_types, distances, durations, groups
    )
    stop: pyvrp.stop.StoppingCriterion = pyvrp.stop.MaxRuntime(time_limit_s)
    if max_iterations is not None:
        stop = pyvrp.stop.MultipleCriteria([stop, pyvrp.stop.MaxIterations(max_iterations)])
    with warnings.catch_warnings():
        # PyVRP warns when its penalties max out on an instance without a feasible plan; the
        # status below says so.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        display = bool(os.environ.get("SHUDAO_SOLVER_LOG"))
        result = pyvrp.solve(data, stop, seed=seed, collect_stats=display, display=display)
    if not result.is_feasible():
        return SolveStatus.TIMED_OUT, None
    routes = [
        (
            model.vehicles[route.vehicle_type()].name,
            [_pickup_id(model, owner[a.idx]) for a in route if a.is_client()],
        )
        for route in result.best.routes()
    ]
    return SolveStatus.FEASIBLE, routes


def _ortools_status(code: int) -> SolveStatus:
    statuses = routing_enums_pb2.RoutingSearchStatus
    if code == statuses.ROUTING_OPTIMAL:
        return SolveStatus.OPTIMAL
    if code in (
        statuses.ROUTING_SUCCESS,
        statuses.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED,
    ):
        return SolveStatus.FEASIBLE
    if code == statuses.ROUTING_INFEASIBLE:
        return SolveStatus.INFEASIBLE
    if code == statuses.ROUTING_INVALID:
        raise RuntimeError("OR-Tools rejected the routing model as invalid")
    return SolveStatus.TIMED_OUT


def ortools_parameters(
    time_limit_s: float, max_iterations: int | None
) -> pywrapcp.DefaultRoutingSearchParameters:
    """The tuned OR-Tools search: savings for the first solution, then guided local search.

    Chosen on CVRPLIB X and Solomon instances (10 s and 30 s, one core): the default first
    solution (path cheapest arc) found no plan at all for Solomon R101 and RC105 within 10 s
    and started X instances worst; savings and parallel cheapest insertion came out within a
    few tenths of a per cent of each other (savings ahead on X); guided local search beat
    simulated annealing, tabu search and the ruin-and-recreate iterated local search (SISR
    ruin), and a GLS lambda of 0.05 or 0.3, extra operators or neighbour lists did not help
    consistently. ``SHUDAO_SOLVER_LOG=1`` logs the search.
    """
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.SAVINGS
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    if max_iterations is not None:
        parameters.solution_limit = max_iterations
    parameters.log_search = bool(os.environ.get("SHUDAO_SOLVER_LOG"))
    return parameters


def _solve_ortools(
    model: _Model, time_limit_s: float, max_iterations: int | None
) -> tuple[SolveStatus, _Routes | None]:
    vehicle_of: list[_VehicleData] = [v for v in model.vehicles for _ in range(v.count)]
    manager = pywrapcp.RoutingIndexManager(
        len(model.places),
        len(vehicle_of),
        [v.start for v in vehicle_of],
        [v.end for v in vehicle_of],
    )
    routing = pywrapcp.RoutingModel(manager)
    arc_cost: dict[int, int] = {}
    for vehicle_index, vehicle in enumerate(vehicle_of):
        if vehicle.per_m not in arc_cost:
            arc_cost[vehicle.per_m] = routing.RegisterTransitMatrix(
                (model.distance_m * vehicle.per_m).tolist()
            )
        routing.SetArcCostEvaluatorOfVehicle(arc_cost[vehicle.per_m], vehicle_index)
        routing.SetFixedCostOfVehicle(vehicle.fixed_cost, vehicle_index)
    for dimension in range(len(model.vehicles[0].capacity)):
        values = [0] * model.n_depots + [d[dimension] for d in model.demand]
        demand = routing.RegisterUnaryTransitVector(values)
        routing.AddDimensionWithVehicleCapacity(
            demand, 0, [v.capacity[dimension] for v in vehicle_of], True, f"load{dimension}"
        )
    if model.uses_time:
        service = np.array([0] * model.n_depots + model.service_s, dtype=np.int64)
        travel = routing.RegisterTransitMatrix((model.duration_s + service[:, None]).tolist())
        routing.AddDimension(travel, model.horizon_s, model.horizon_s, False, "time")
        clock = routing.GetDimensionOrDie("time")
        for c, windows in enumerate(model.windows_s):
            cumul = clock.CumulVar(manager.NodeToIndex(model.n_depots + c))
            cumul.SetRange(windows[0][0], windows[-1][1])
            for (_, end), (start, _) in itertools.pairwise(windows):
                cumul.RemoveInterval(end + 1, start - 1)
        for vehicle_index, vehicle in enumerate(vehicle_of):
            clock.CumulVar(routing.Start(vehicle_index)).SetRange(0, model.horizon_s)
            clock.CumulVar(routing.End(vehicle_index)).SetRange(0, model.horizon_s)
            clock.SetSpanUpperBoundForVehicle(vehicle.shift_s, vehicle_index)
            clock.SetSpanCostCoefficientForVehicle(vehicle.per_s, vehicle_index)
    for c in range(len(model.clients)):
        node = model.n_depots + c
        barred = [i for i, v in enumerate(vehicle_of) if node in v.forbidden]
        if barred:  # (SetAllowedVehiclesForIndex's Python binding rejects lists in 9.15)
            routing.VehicleVar(manager.NodeToIndex(node)).RemoveValues(barred)
    if model.penalty is not None:
        for c in range(len(model.clients)):
            routing.AddDisjunction([manager.NodeToIndex(model.n_depots + c)], model.penalty)
    solution = routing.SolveWithParameters(ortools_parameters(time_limit_s, max_iterations))
    status = _ortools_status(routing.status())
    if solution is None or status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return status, None
    routes: _Routes = []
    for vehicle_index, vehicle in enumerate(vehicle_of):
        index = solution.Value(routing.NextVar(routing.Start(vehicle_index)))
        ids = []
        while not routing.IsEnd(index):
            ids.append(_pickup_id(model, manager.IndexToNode(index)))
            index = solution.Value(routing.NextVar(index))
        if ids:
            routes.append((vehicle.name, ids))
    return status, routes


#: Default time limit of a pickup routing, seconds (the CLI's and the job's default too).
TIME_LIMIT_S = 30.0


def solve_pickups(
    problem: PickupProblem,
    *,
    time_limit_s: float = TIME_LIMIT_S,
    seed: int = 0,
    backend: str | None = None,
    max_iterations: int | None = None,
) -> PickupResult:
    """Plan truck routes that collect the pickups and unload at the hub by the cut-off.

    Minimises the trucks' fixed costs + cost per km + cost per hour on duty + the drop penalty
    of every pickup left behind, subject to truck capacities (kg and m3), time windows, shift
    lengths, the cut-off at the end depot and the number of trucks of each type.

    Parameters
    ----------
    problem
        Pickups, fleet, hub, cut-off and costs.
    time_limit_s
        Wall-clock limit of the search.
    seed
        Seed of PyVRP's random search; OR-Tools' routing search has no random element.
    backend
        ``"pyvrp"`` (default) or ``"ortools"``.
    max_iterations
        Also stop after this many iterations (PyVRP) or solutions (OR-Tools): the plan then
        depends on the seed only, not on the machine's speed.

    Returns
    -------
    PickupResult
        Routes, unserved pickups with their reasons, totals and status: ``feasible`` for a plan
        (neither backend proves optimality; ``optimal`` only when nothing is left to route),
        ``infeasible`` when OR-Tools proves there is none, ``timed_out`` when no plan serving
        every required pickup was found in time (its pickups are then listed unserved).

    Examples
    --------
    Two parks near Guang'an to the Chongqing rail hub, one truck:

    >>> from network_data import load_network
    >>> from optimizer.first_mile.problem import VehicleType, problem_from_records
    >>> problem = problem_from_records(
    ...     [{"id": "L1", "place": "Linshui", "weight_kg": 3000, "volume_m3": 12},
    ...      {"id": "H1", "place": "Huaying", "weight_kg": 2000, "volume_m3": 9,
    ...       "windows": "09:00-12:00"}],
    ...     fleet=[VehicleType("9.6 m truck", 18_000, 55)], hub="CNCKG-RLY",
    ...     cutoff="2026-12-03T18:00+08:00", network=load_network())
    >>> result = solve_pickups(problem, time_limit_s=1, seed=1)
    >>> result.status.value, len(result.routes), sorted(result.routes[0].pickup_ids)
    ('feasible', 1, ['H1', 'L1'])
    """
    check_run_limits(time_limit_s, seed)
    chosen = DEFAULT_BACKEND if backend is None else backend
    if chosen not in BACKENDS:
        raise InvalidInputError("backend", backend, f"one of {', '.join(BACKENDS)}")
    if max_iterations is not None and (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise InvalidInputError("max_iterations", max_iterations, "an integer >= 1, or None")
    started = time.perf_counter()
    reasons = unservable(problem)
    unserved = [Unserved(pickup_id, reason) for pickup_id, reason in reasons.items()]
    model = _model(problem, set(reasons))
    status, routes = SolveStatus.OPTIMAL, []
    if model.clients:
        left_s = max(0.1, time_limit_s - (time.perf_counter() - started))
        if chosen == "pyvrp":
            status, found = _solve_pyvrp(model, left_s, seed, max_iterations)
        else:
            status, found = _solve_ortools(model, left_s, max_iterations)
        if found is None:
            why = (
                "no plan serving every required pickup was found within the time limit"
                if status == SolveStatus.TIMED_OUT
                else "no plan can serve every required pickup"
            )
            unserved += [
                Unserved(_pickup_id(model, model.n_depots + c), why)
                for c in range(len(model.clients))
            ]
        else:
            routes = found
            served = {i for _, ids in found for i in ids}
            penalty = problem.drop_penalty_cny or 0.0
            unserved += [
                Unserved(
                    pickup_id,
                    f"dropped: serving it costs more than its penalty (CNY {penalty:,.0f})",
                    penalty,
                )
                for c in range(len(model.clients))
                if (pickup_id := _pickup_id(model, model.n_depots + c)) not in served
            ]
    return evaluate_routes(
        problem, routes, unserved=unserved, status=status, runtime_s=time.perf_counter() - started,
        seed=seed, backend=chosen,
    )  # fmt: skip
