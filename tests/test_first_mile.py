"""First-mile pickups (issue 7): travel kernel, known optima, reasons, both backends, checker.

Tiny instances put the hub and the pickups on a straight road, so every distance is a
difference of kilometre posts and every optimum can be argued by hand (see each test).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import vrplib
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import BENCHMARKS_DIR
from network_data import Network
from network_data.load import BUNDLED_DATA_DIR
from network_data.road import CHINA, road_transit_h
from network_data.validate import haversine_km
from optimizer.check import check_pickups
from optimizer.errors import InvalidInputError
from optimizer.first_mile import (
    BACKENDS,
    Pickup,
    PickupProblem,
    PickupResult,
    Place,
    VehicleType,
    evaluate_routes,
    fleet_from_records,
    problem_from_records,
    read_fleet,
    read_vrplib,
    solve_pickups,
    travel_matrices,
)
from optimizer.first_mile import problem as problem_module
from optimizer.first_mile.travel import (
    CIRCUITY,
    NATIONAL_KM,
    SPEED_KMH,
    URBAN_KM,
    driving_h,
    travel_kernel,
    with_rests_h,
)
from optimizer.results import SolveStatus

CST = timezone(timedelta(hours=8))
START = datetime(2026, 12, 3, 8, 0, tzinfo=CST)
CUTOFF = datetime(2026, 12, 3, 18, 0, tzinfo=CST)
#: Tiny instances: pyvrp iterations / OR-Tools solutions, ample for a handful of pickups and
#: independent of the machine's speed.
ITERATIONS = 300


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def line_problem(
    posts_km: Mapping[str, float],
    weights_kg: Mapping[str, float] | None = None,
    *,
    windows: Mapping[str, tuple[tuple[float, float], ...]] | None = None,
    capacity_kg: float = 10_000,
    count: int = 1,
    drop_penalty_cny: float | None = None,
    service_min: float = 0,
) -> PickupProblem:
    """Hub at km 0 and pickups at kilometre posts of one straight road, driven at 60 km/h
    (1 minute a km); trucks cost CNY 1 per km and nothing else."""
    names = list(posts_km)
    posts = np.array([0.0, *posts_km.values()])
    km = np.abs(posts[:, None] - posts[None, :])
    pickups = tuple(
        Pickup(
            name,
            Place(name),
            (weights_kg or {}).get(name, 100.0),
            windows=tuple((at(a), at(b)) for a, b in (windows or {}).get(name, ())),
            service_min=service_min,
        )
        for name in names
    )
    truck = VehicleType(
        "truck", capacity_kg, 50, count=count, fixed_cost_cny=0, cost_cny_per_km=1,
        cost_cny_per_h=0,
    )  # fmt: skip
    return PickupProblem(
        pickups, (truck,), Place("hub"), CUTOFF, START, drop_penalty_cny=drop_penalty_cny,
        distance_km=km, duration_h=km / 60,
    )  # fmt: skip


def solve(
    problem: PickupProblem,
    backend: str,
    *,
    time_limit_s: float = 2.0,
    max_iterations: int | None = ITERATIONS,
) -> PickupResult:
    """Solve with seed 1 and run the independent checker on the result."""
    result = solve_pickups(
        problem, time_limit_s=time_limit_s, seed=1, backend=backend, max_iterations=max_iterations
    )
    assert check_pickups(problem, result) == []
    return result


def routes_of(result: PickupResult) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((r.vehicle_type, r.pickup_ids) for r in result.routes)


# --- travel kernel -------------------------------------------------------------------------

points = st.lists(
    st.tuples(
        st.floats(min_value=20, max_value=40),
        st.floats(min_value=95, max_value=115),
        st.sampled_from(list(CIRCUITY)),
    ),
    min_size=1,
    max_size=6,
)


def reference_travel(
    lat: list[float], lon: list[float], terrain: list[str]
) -> tuple[list[list[float]], list[list[float]]]:
    """The kernel's twin from the stated rules: haversine x mean circuity; urban, national and
    expressway stretches; a 20-minute break per 4 h and a day's rest per 8 h of driving."""
    n = len(lat)
    km = [[0.0] * n for _ in range(n)]
    hours = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            road = haversine_km(lat[i], lon[i], lat[j], lon[j])
            road *= (CIRCUITY[terrain[i]] + CIRCUITY[terrain[j]]) / 2
            left, driving = road, 0.0
            for stretch, speed in ((2 * URBAN_KM, "urban"), (2 * NATIONAL_KM, "national")):
                part = min(left, stretch)
                driving += part / SPEED_KMH[speed]
                left -= part
            driving += left / SPEED_KMH["expressway"]
            days = 0
            while driving > CHINA.daily_driving_h * (days + 1):
                days += 1
            last = driving - days * CHINA.daily_driving_h
            breaks = max(0, math.ceil(last / CHINA.continuous_driving_h) - 1)
            km[i][j] = road
            hours[i][j] = days * 24 + last + breaks * CHINA.break_h
    return km, hours


@settings(max_examples=60, deadline=None)
@given(points)
def test_travel_kernel_matches_its_twin_and_is_a_sane_metric(
    places: list[tuple[float, float, str]],
) -> None:
    lat, lon, terrain = (list(column) for column in zip(*places, strict=True))
    km, hours = travel_matrices(lat, lon, terrain)
    expected_km, expected_h = reference_travel(lat, lon, terrain)
    np.testing.assert_allclose(km, expected_km, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(hours, expected_h, rtol=1e-9, atol=1e-9)
    assert np.array_equal(km, km.T) and np.array_equal(hours, hours.T)
    assert np.all(np.diag(km) == 0) and np.all(np.diag(hours) == 0)
    # no faster than the expressway speed, no slower than the urban speed with its rests
    assert np.all(hours >= km / SPEED_KMH["expressway"] - 1e-12)
    rules = (CHINA.continuous_driving_h, CHINA.break_h, CHINA.daily_driving_h)
    slowest = np.vectorize(lambda d: with_rests_h(d / SPEED_KMH["urban"], *rules))(km)
    assert np.all(hours <= slowest + 1e-12)
    # triangle inequality up to the spread of circuity factors
    spread = max(CIRCUITY.values()) / min(CIRCUITY.values())
    n = len(lat)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                assert km[i, k] <= spread * (km[i, j] + km[j, k]) + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0, max_value=3000))
def test_rests_follow_the_road_transit_rule_of_the_network(distance_km: float) -> None:
    # With one speed everywhere the kernel's rests are network_data.road's (0.1 h rounding).
    speeds = np.full(3, CHINA.speed_kmh)
    driving = driving_h(distance_km, URBAN_KM, NATIONAL_KM, speeds)
    hours = with_rests_h(driving, CHINA.continuous_driving_h, CHINA.break_h, CHINA.daily_driving_h)
    assert hours == pytest.approx(road_transit_h(distance_km), abs=0.05 + 1e-9)


def test_travel_kernel_runs_on_raw_arrays() -> None:
    lat = np.array([30.80, 30.3331])
    lon = np.array([104.20, 106.931])
    km, _ = travel_kernel(
        lat, lon, np.array([1.2, 1.5]), URBAN_KM, NATIONAL_KM, np.array([25.0, 50.0, 70.0]),
        4.0, 1 / 3, 8.0,
    )  # fmt: skip
    assert km[0, 1] == pytest.approx(haversine_km(30.80, 104.20, 30.3331, 106.931) * 1.35)


def test_travel_matrices_reject_bad_points() -> None:
    with pytest.raises(InvalidInputError, match="terrain: got 'swamp'"):
        travel_matrices([30.0, 31.0], [104.0, 105.0], ["plain", "swamp"])
    with pytest.raises(InvalidInputError, match="lat_deg"):
        travel_matrices([95.0], [104.0])


# --- known optima on a straight road ------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_truck_sweeps_the_road(backend: str) -> None:
    # Pickups at km 10, 20 and 30: any route through all three reaches km 30 and comes back,
    # so at least 60 km; out and back along the road is exactly 60.
    result = solve(line_problem({"A": 10, "B": 20, "C": 30}), backend)
    assert result.objective == pytest.approx(60)
    assert len(result.routes) == 1 and sorted(result.routes[0].pickup_ids) == ["A", "B", "C"]
    assert result.status == SolveStatus.FEASIBLE and result.backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_capacity_forces_two_trucks(backend: str) -> None:
    # 400, 700 and 500 kg at km 10, 20, 30 with two 1,000 kg trucks: B fits with neither
    # other lot (1,100 and 1,200 kg), so B rides alone and A and C share: 40 + 60 = 100 km, the
    # only split into two loads that fit.
    problem = line_problem(
        {"A": 10, "B": 20, "C": 30}, {"A": 400, "B": 700, "C": 500}, capacity_kg=1000, count=2
    )
    result = solve(problem, backend)
    assert result.objective == pytest.approx(100)
    assert sorted(sorted(r.pickup_ids) for r in result.routes) == [["A", "C"], ["B"]]
    assert max(s.load_kg for r in result.routes for s in r.stops) == 900


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_windows_force_the_order(backend: str) -> None:
    # A at km 10 opens 50-60 min after the start, B at km 20 closes 25 min after it. Going to A
    # first reaches B at minute 60 at the earliest, too late, so the truck must serve B first:
    # leave at minute 5 (as late as B allows), B at 25, A at 35, wait until 50, hub at 60.
    problem = line_problem({"A": 10, "B": 20}, windows={"A": ((50, 60),), "B": ((15, 25),)})
    result = solve(problem, backend)
    route = result.routes[0]
    assert route.pickup_ids == ("B", "A")
    assert result.objective == pytest.approx(40)
    assert [s.arrival for s in route.stops] == [at(5), at(25), at(35), at(60)]
    assert route.stops[2].service_start == at(50)
    assert route.duration_h == pytest.approx(55 / 60)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pickup_dearer_than_its_penalty_is_dropped(backend: str) -> None:
    # F at km 100 adds 180 km to the 20 km trip to A (200 km in all); its penalty is 150, so
    # dropping it costs 20 + 150 = 170 < 200.
    problem = line_problem({"A": 10, "F": 100}, drop_penalty_cny=150)
    result = solve(problem, backend)
    assert routes_of(result) == [("truck", ("A",))]
    assert result.objective == pytest.approx(170)
    [dropped] = result.unserved
    assert dropped.pickup_id == "F" and dropped.penalty_cny == 150
    assert dropped.reason.startswith("dropped: serving it costs more than its penalty")
    # With a penalty above the detour (or none) F is served: 200 km.
    for penalty in (250.0, None):
        kept = solve(line_problem({"A": 10, "F": 100}, drop_penalty_cny=penalty), backend)
        assert kept.objective == pytest.approx(200) and not kept.unserved


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_second_of_two_windows_is_used(backend: str) -> None:
    # A at km 10 is reached at minute 10 at the earliest: its first window (minutes 2-5) has
    # closed, its second (30-40) is used; the truck leaves at minute 20 to arrive at 30.
    problem = line_problem({"A": 10}, windows={"A": ((2, 5), (30, 40))})
    result = solve(problem, backend)
    assert result.routes[0].stops[1].service_start == at(30)
    assert result.routes[0].stops[0].departure == at(20)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unservable_pickups_are_reported_with_their_reason(backend: str) -> None:
    # From a hub where trucks may leave at minute 0 and must be back by the cut-off (600 min):
    # HEAVY weighs more than any truck carries; GONE's window closes at minute 5 but it is 20
    # minutes away; LATE opens at minute 590 and is 20 minutes from the hub; FAR is 300 km
    # away, a 600-minute round trip, more than the 8 h shift (and the cut-off). OK is served.
    posts = {"OK": 10, "HEAVY": 10, "GONE": 20, "LATE": 20, "FAR": 300}
    problem = line_problem(
        posts, {"HEAVY": 20_000}, windows={"GONE": ((0, 5),), "LATE": ((590, 600),)},
        drop_penalty_cny=1000,
    )  # fmt: skip
    result = solve(problem, backend)
    reasons = {u.pickup_id: u.reason for u in result.unserved}
    assert reasons["HEAVY"].startswith("too big for any truck: 20,000 kg")
    assert reasons["GONE"].startswith("its window closes at 2026-12-03 08:05 +0800")
    assert reasons["LATE"].startswith(
        "cut-off unreachable: loaded at the earliest at 2026-12-03 17:50"
    )
    assert reasons["FAR"].startswith("a round trip through it takes 10.0 h")
    assert routes_of(result) == [("truck", ("OK",))]
    assert all(u.penalty_cny == 0 for u in result.unserved)


@pytest.mark.parametrize("backend", BACKENDS)
def test_required_pickups_beyond_the_fleet_leave_no_plan(backend: str) -> None:
    # Three 600 kg lots, one 1,000 kg truck, nothing may be dropped: no plan exists.
    problem = line_problem(
        {"A": 10, "B": 20, "C": 30}, {"A": 600, "B": 600, "C": 600}, capacity_kg=1000
    )
    result = solve(problem, backend, time_limit_s=1, max_iterations=None)
    assert result.status in (SolveStatus.INFEASIBLE, SolveStatus.TIMED_OUT)
    assert not result.routes and len(result.unserved) == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_routes(backend: str) -> None:
    rng = np.random.default_rng(7)
    rows = [
        {
            "id": f"P{k:02d}",
            "place": f"{30.2 + rng.uniform(0, 0.6):.4f},{106.4 + rng.uniform(0, 0.8):.4f}",
            "weight_kg": float(rng.uniform(200, 3000)),
            "volume_m3": float(rng.uniform(1, 12)),
            "windows": "09:00-13:00" if k % 3 else "13:00-16:00",
            "service_min": 20,
        }
        for k in range(25)
    ]
    fleet = [
        VehicleType("9.6 m truck", 18_000, 55, count=4),
        VehicleType("van", 3_000, 16, count=4),
    ]
    problem = problem_from_records(
        rows, fleet=fleet, hub="29.62,106.42", cutoff=CUTOFF, start=START
    )
    # Iterations (PyVRP) or solutions (OR-Tools) stop the search before the time limit does.
    iterations = {"pyvrp": 500, "ortools": 100}[backend]
    first = solve(problem, backend, max_iterations=iterations, time_limit_s=20)
    again = solve(problem, backend, max_iterations=iterations, time_limit_s=20)
    assert routes_of(first) == routes_of(again)
    assert first.objective == again.objective


# --- real places on the bundled network -----------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_guangan_parks_to_the_chongqing_rail_hub(network: Network, backend: str) -> None:
    columns = ("id", "place", "weight_kg", "volume_m3", "windows")
    rows = [
        dict(zip(columns, values, strict=True))
        for values in (
            ("LS-1", "Linshui", 6000, 30, "08:30-11:00"),
            ("LS-2", "CN-LINSHUI-PARK", 2500, 9, ""),
            ("HY-1", "Huaying", 3000, 20, "10:00-12:00;14:00-15:00"),
            ("QF-1", "Qianfeng", 1800, 14, ""),
            ("GA-1", "30.474,106.637", 900, 5, ""),
            ("BIG", "Huaying", 40_000, 90, ""),
        )
    ]
    rows[4]["terrain"] = "plain"
    fleet = fleet_from_records(
        [
            {"name": "40HQ truck", "capacity_kg": 26_500, "capacity_m3": 68, "count": 2},
            {"name": "9.6 m truck", "capacity_kg": 18_000, "capacity_m3": 55, "count": 2,
             "start_depot": "Guang'an"},
        ]
    )  # fmt: skip
    problem = problem_from_records(
        rows, fleet=fleet, hub="Chongqing railport", cutoff="2026-12-03T18:00+08:00",
        network=network, start="2026-12-03T06:00+08:00",
    )  # fmt: skip
    assert problem.hub.label == "CNCKG-RLY" and problem.depots[0].label == "CN-GUANGAN"
    assert problem.pickups[4].place.label == "CN-GUANGAN"  # within 1 km: the node itself
    result = solve(problem, backend, max_iterations=None, time_limit_s=2)
    assert {u.pickup_id for u in result.unserved} == {"BIG"}
    assert result.unserved[0].reason.startswith("too big for any truck")
    assert sorted(i for r in result.routes for i in r.pickup_ids) == [
        "GA-1", "HY-1", "LS-1", "LS-2", "QF-1",
    ]  # fmt: skip
    assert all(r.stops[-1].arrival <= CUTOFF for r in result.routes)
    assert result.co2e_kg > 0 and result.cost_cny > 0
    document = json.loads(json.dumps(result.to_dict()))
    assert document["totals"]["served"] == 5 and document["unserved"][0]["pickup_id"] == "BIG"
    geojson = json.loads(json.dumps(result.to_geojson()))
    legs = [f for f in geojson["features"] if f["properties"]["kind"] == "leg"]
    assert len(legs) == sum(len(r.stops) - 1 for r in result.routes)
    assert all(f["geometry"]["type"] == "LineString" for f in legs)


def test_default_costs_and_emissions_come_from_the_network_data() -> None:
    with (BUNDLED_DATA_DIR / "tariffs.csv").open(newline="") as file:
        truck = next(
            r for r in csv.DictReader(file) if r["scope"] == "mode:road:CN" and r["unit"] == "truck"
        )
    assert float(truck["rate"]) == problem_module.FIXED_COST_CNY
    assert float(truck["rate_per_km"]) == problem_module.COST_CNY_PER_KM
    with (BUNDLED_DATA_DIR / "emission_factors.csv").open(newline="") as file:
        factors = {r["vehicle"]: float(r["co2e_g_per_tkm"]) for r in csv.DictReader(file)}
    assert factors["truck_artic_diesel"] == problem_module.TRUCK_CO2E_G_PER_TKM
    assert CHINA.daily_driving_h == problem_module.SHIFT_H


# --- bad input --------------------------------------------------------------------------------


def test_bad_rows_name_the_pickup_the_field_and_what_is_allowed(network: Network) -> None:
    fleet = [VehicleType("truck", 10_000, 40)]

    def read(row: dict[str, object]) -> PickupProblem:
        return problem_from_records(
            [{"id": "P1", "place": "Linshui", "weight_kg": 100} | row], fleet=fleet,
            hub="CNCKG-RLY", cutoff=CUTOFF, network=network,
        )  # fmt: skip

    with pytest.raises(
        InvalidInputError, match=r"P1.place: got 'Huaiying'.*closest matches: CN-HUAYING-PARK"
    ):
        read({"place": "Huaiying"})
    with pytest.raises(
        InvalidInputError, match=r"P1.windows: got .*expected an end after the start"
    ):
        read({"windows": "2026-12-03T12:00/2026-12-03T10:00"})
    with pytest.raises(InvalidInputError, match=r"P1.weight_kg: got -3.0; expected a number >= 0"):
        read({"weight_kg": "-3"})
    with pytest.raises(InvalidInputError, match=r"P1.volume_m3: got 'lots'; expected a number"):
        read({"volume_m3": "lots"})
    with pytest.raises(InvalidInputError, match=r"P1.pieces: got 'inf'; expected a finite number"):
        read({"pieces": "inf"})
    with pytest.raises(InvalidInputError, match=r"P1.weight_kg: got 'nan'; expected a finite"):
        read({"weight_kg": "nan"})
    with pytest.raises(InvalidInputError, match=r"P1.windows: got '9-12'"):
        read({"windows": "9-12"})
    with pytest.raises(InvalidInputError, match=r"P1.cargo_class: got 'gold'"):
        read({"cargo_class": "gold"})
    with pytest.raises(
        InvalidInputError, match=r"cutoff: got '2026-12-03T18:00'; expected an ISO 8601 time with"
    ):
        problem_from_records(
            [], fleet=fleet, hub="CNCKG-RLY", cutoff="2026-12-03T18:00", network=network
        )
    with pytest.raises(InvalidInputError, match=r"P1.place: got 'Linshui'; expected 'lat,lon'"):
        problem_from_records(
            [{"id": "P1", "place": "Linshui", "weight_kg": 1}],
            fleet=fleet,
            hub="29.6,106.4",
            cutoff=CUTOFF,
        )
    with pytest.raises(InvalidInputError, match="id: got 'P1'; expected a unique pickup id"):
        problem_from_records(
            [{"id": "P1", "place": "30,106", "weight_kg": 1}] * 2,
            fleet=fleet,
            hub="29.6,106.4",
            cutoff=CUTOFF,
        )


def test_a_clock_range_over_midnight_ends_the_next_day() -> None:
    problem = problem_from_records(
        [{"id": "N", "place": "30.3,106.9", "weight_kg": 10, "windows": "22:00-02:00"}],
        fleet=[VehicleType("truck", 1000, 10)], hub="29.62,106.42", cutoff=CUTOFF,
    )  # fmt: skip
    [(start, end)] = problem.pickups[0].windows
    assert end - start == timedelta(hours=4) and start.tzinfo == CST


def test_bad_problems_and_parameters_are_refused() -> None:
    problem = line_problem({"A": 10})
    with pytest.raises(InvalidInputError, match="backend: got 'gurobi'"):
        solve_pickups(problem, backend="gurobi")
    with pytest.raises(InvalidInputError, match="time_limit_s"):
        solve_pickups(problem, time_limit_s=0)
    with pytest.raises(InvalidInputError, match=r"distance_km: got \(3, 3\)"):
        PickupProblem(
            problem.pickups,
            problem.fleet,
            problem.hub,
            CUTOFF,
            distance_km=np.zeros((3, 3)),
            duration_h=np.zeros((3, 3)),
        )
    with pytest.raises(
        InvalidInputError, match="distance_km: got None; expected matrices, or coordinates"
    ):
        PickupProblem(problem.pickups, problem.fleet, problem.hub, CUTOFF)
    with pytest.raises(InvalidInputError, match=r"truck\.end_depot: got 'Chengdu'"):
        PickupProblem(
            problem.pickups,
            (VehicleType("truck", 10, 1, end_depot="Chengdu"),),
            problem.hub,
            CUTOFF,
            distance_km=problem.distance_km,
            duration_h=problem.duration_h,
        )
    with pytest.raises(InvalidInputError, match=r"start: got .*expected a time before the cut-off"):
        PickupProblem(
            problem.pickups,
            problem.fleet,
            problem.hub,
            CUTOFF,
            CUTOFF,
            distance_km=problem.distance_km,
            duration_h=problem.duration_h,
        )


def test_fleet_csv(tmp_path: Path) -> None:
    path = tmp_path / "fleet.csv"
    path.write_text(
        "name,capacity_kg,capacity_m3,count,fixed_cost_cny,cost_cny_per_h\n"
        "40HQ truck,26500,68,3,,\n"
        "van,3000,16,2,300,40\n",
        encoding="utf-8",
    )
    truck, van = read_fleet(path)
    assert (truck.count, truck.fixed_cost_cny, truck.cost_cny_per_h) == (3, 800.0, 36.0)
    assert (van.fixed_cost_cny, van.cost_cny_per_h, van.start_depot) == (300.0, 40.0, None)
    with pytest.raises(InvalidInputError, match=r"van\.count: got '1\.5'"):
        fleet_from_records([{"name": "van", "capacity_kg": 1, "capacity_m3": 1, "count": "1.5"}])


def test_the_checker_finds_broken_plans() -> None:
    problem = line_problem({"A": 10, "B": 20}, {"A": 600, "B": 600}, capacity_kg=1000, count=2)
    overloaded = evaluate_routes(problem, [("truck", ["A", "B"])])
    assert "route 1 (truck): load 1200 kg after stop 2, over the capacity 1000 kg" in check_pickups(
        problem, overloaded
    )
    late = line_problem({"A": 10}, windows={"A": ((0, 5),)})
    assert any(
        "outside its windows" in line
        for line in check_pickups(late, evaluate_routes(late, [("truck", ["A"])]))
    )
    twice = evaluate_routes(problem, [("truck", ["A"]), ("truck", ["B"]), ("truck", ["A"])])
    lines = check_pickups(problem, twice)
    assert "3 routes of truck, which has 2" in lines
    assert "pickup A is served 2 times and listed unserved 0 times" in lines


# --- public instances -------------------------------------------------------------------------


def instance(relative: str) -> Path:
    path = BENCHMARKS_DIR / relative
    if not path.is_file():
        pytest.skip(f"{relative} not found in {BENCHMARKS_DIR} (set SHUDAO_BENCHMARKS_DIR)")
    return path


@pytest.mark.parametrize(
    ("relative", "published"),
    [("cvrp/P/P-n16-k8", 450), ("cvrp/A/A-n32-k5", 784), ("vrptw/solomon/C101", 827.3)],
)
def test_known_solutions_cost_their_published_value(relative: str, published: float) -> None:
    suffix = ".txt" if relative.startswith("vrptw") else ".vrp"
    problem = read_vrplib(instance(relative + suffix))
    solution = vrplib.read_solution(instance(relative + ".sol"))
    result = evaluate_routes(
        problem, [("vehicle", [str(c) for c in route]) for route in solution["routes"]]
    )
    assert check_pickups(problem, result) == []
    assert result.objective == pytest.approx(published, abs=1e-6)
    assert result.objective == pytest.approx(solution["cost"], abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_both_backends_reach_the_optimum_of_p_n16_k8(backend: str) -> None:
    problem = read_vrplib(instance("cvrp/P/P-n16-k8.vrp"))
    result = solve(problem, backend, max_iterations=None, time_limit_s=1)
    assert result.objective == pytest.approx(450)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cargo_classes_keep_batteries_on_dangerous_goods_trucks(backend: str) -> None:
    # Two trucks at the hub, one licensed for dangerous goods. Without restrictions one truck
    # would take both lots on one run (10 km out, 10 back = CNY 20 at CNY 1/km); with them the
    # battery lot must ride the dangerous-goods truck: two runs to km 5 and km 10, CNY 30.
    problem = line_problem({"CELLS": 10, "SHOES": 5}, count=1)
    general, licensed = (
        replace(problem.fleet[0], name="van", cargo_classes=frozenset({"general"})),
        replace(problem.fleet[0], name="DG truck", cargo_classes=frozenset({"battery"})),
    )
    cells = replace(problem.pickups[0], cargo_class="battery")
    restricted = replace(problem, pickups=(cells, problem.pickups[1]), fleet=(general, licensed))
    result = solve(restricted, backend)
    assert sorted(routes_of(result)) == [("DG truck", ("CELLS",)), ("van", ("SHOES",))]
    assert result.objective == pytest.approx(30)
    # No truck may carry it: reported unserved with the reason, the rest still served.
    only_vans = replace(restricted, fleet=(general,), drop_penalty_cny=1000)
    result = solve(only_vans, backend)
    assert [(u.pickup_id, u.penalty_cny) for u in result.unserved] == [("CELLS", 0.0)]
    assert result.unserved[0].reason.startswith("no truck may carry battery cargo")
    assert routes_of(result) == [("van", ("SHOES",))]


def test_the_checker_catches_a_battery_on_a_general_truck() -> None:
    problem = line_problem({"CELLS": 10})
    van = replace(problem.fleet[0], cargo_classes=frozenset({"general"}))
    cells = replace(problem.pickups[0], cargo_class="battery")
    free = solve(problem, "pyvrp")
    restricted = replace(problem, pickups=(cells,), fleet=(van,))
    assert any("carries battery cargo (CELLS)" in p for p in check_pickups(restricted, free))


def test_fleet_rows_name_their_cargo_classes() -> None:
    fleet = fleet_from_records(
        [{"name": "DG truck", "capacity_kg": 10_000, "capacity_m3": 40,
          "cargo_classes": "general; battery"}]
    )  # fmt: skip
    assert fleet[0].cargo_classes == frozenset({"general", "battery"})
    with pytest.raises(InvalidInputError, match=r"DG\.cargo_classes: got 'batteries'; expected"):
        fleet_from_records(
            [{"name": "DG", "capacity_kg": 1, "capacity_m3": 1, "cargo_classes": "batteries"}]
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_plans_with_two_windows_per_pickup_pass_the_checker(backend: str) -> None:
    # Regression: a truck's start, delayed to cut waiting, once put an arrival a float's width
    # after a window's end, so the schedule jumped to the next window and broke the cut-off.
    rng = np.random.default_rng(1)
    rows = []
    for k in range(30):
        h = int(rng.integers(6, 10))
        rows.append({
            "id": f"P{k}", "place": f"{30 + rng.random():.4f},{104 + rng.random():.4f}",
            "weight_kg": int(rng.integers(100, 3000)), "volume_m3": int(rng.integers(1, 10)),
            "windows": f"{h:02d}:00-{h + 1:02d}:00;{h + 4:02d}:00-{h + 5:02d}:00",
        })  # fmt: skip
    problem = problem_from_records(
        rows, fleet=[VehicleType("truck", 10_000, 40, count=12, shift_h=10)],
        hub="30.5,104.5", cutoff="2026-12-03T18:00+08:00",
    )  # fmt: skip
    result = solve(problem, backend, time_limit_s=2, max_iterations=None)
    assert result.routes


def test_a_clock_window_open_at_the_start_stays_on_that_day() -> None:
    rows = [
        {"id": "P1", "place": "30.5,104.6", "weight_kg": 100, "windows": "09:00-16:00"},
        {"id": "P2", "place": "30.5,104.6", "weight_kg": 100, "windows": "08:00-09:30"},
    ]
    problem = problem_from_records(
        rows, fleet=[VehicleType("truck", 10_000, 40)], hub="30.5,104.5",
        cutoff="2026-12-03T18:00+08:00", start="2026-12-03T10:00+08:00",
    )  # fmt: skip
    open_now, closed = (p.windows[0] for p in problem.pickups)
    assert open_now[1].isoformat() == "2026-12-03T16:00:00+08:00"
    assert closed[0].isoformat() == "2026-12-04T08:00:00+08:00"  # already closed: tomorrow
