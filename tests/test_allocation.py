"""Allocation: hand-checked optima, each rule binding, bookings, determinism, the checker,
OR-Library cap41, bad input, and the freight builder on the bundled network."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import BENCHMARKS_DIR
from network_data import Network
from optimizer.allocation import (
    PALLET_M3,
    AllocationProblem,
    AllocationResult,
    Booking,
    Customer,
    Flow,
    MarketDemand,
    MarketService,
    OverseasWarehouse,
    RecordError,
    Seller,
    Unserved,
    Warehouse,
    _lagrange,
    allocation_problem,
    bookings_from_records,
    freight,
    read_orlib_cap,
    sellers_from_records,
    solve_allocation,
    warehouses_from_records,
)
from optimizer.allocation._model import formulate
from optimizer.check import check_allocation
from optimizer.errors import InvalidInputError
from optimizer.results import SolveStatus

INF = math.inf

CAP41 = BENCHMARKS_DIR / "cflp_orlib" / "cap41.txt"
CAP41_OPTIMUM = 1040444.375  # known_optima.csv (OR-Library capopt)


def solve(problem: AllocationProblem, **params: Any) -> AllocationResult:
    """Solve, then insist on the independent checker."""
    result = solve_allocation(problem, time_limit_s=params.pop("time_limit_s", 20), **params)
    assert check_allocation(problem, result) == []
    return result


def shares(result: AllocationResult) -> dict[tuple[str, str], float]:
    return {key: round(value, 6) for key, value in sorted(result.assignments().items())}


def two_warehouses(capacity_a: float, **rules: Any) -> AllocationProblem:
    """c1 (8 units) and c2 (6): A costs 1 for both; B costs 2 for c1 and 3 for c2."""
    return AllocationProblem(
        (Warehouse("A", (capacity_a,)), Warehouse("B", (100.0,))),
        (Customer("c1", (8.0,)), Customer("c2", (6.0,))),
        ((1.0, 2.0), (1.0, 3.0)),
        **rules,
    )


# --- hand-checked optima, one rule binding at a time -------------------------------------------


def test_capacity_binds() -> None:
    # Roomy A serves all 14 units at 1: 14. With A holding 10, the unit B costs least extra
    # goes there: c1 (+1 per unit, against +2 for c2), so c2 6 + c1 4 at A, c1 4 at B:
    # 6 + 4 + 8 = 18.
    roomy = solve(two_warehouses(100.0))
    assert roomy.objective == pytest.approx(14.0)
    assert shares(roomy) == {("c1", "A"): 8.0, ("c2", "A"): 6.0}
    tight = solve(two_warehouses(10.0))
    assert tight.status == SolveStatus.OPTIMAL
    assert tight.objective == pytest.approx(18.0)
    assert shares(tight) == {("c1", "A"): 4.0, ("c1", "B"): 4.0, ("c2", "A"): 6.0}
    assert tight.loads[0].planned == pytest.approx((10.0,))


def test_fixed_costs_open_the_cheapest_set() -> None:
    # The docstring instance: W1 (fixed 100) and W2 (fixed 50), capacity 10, c1 and c2 of 6.
    # Both at W1 is 12 > 10; W1 + W2 with c1 split 4/2: 150 + 6*2 + 4*1 + 2*3 = 172; W2 alone
    # cannot serve c2. 172 is optimal, and the bound proves it.
    problem = AllocationProblem(
        (Warehouse("W1", (10.0,), 100.0), Warehouse("W2", (10.0,), 50.0)),
        (Customer("c1", (6.0,)), Customer("c2", (6.0,))),
        ((1.0, 3.0), (2.0, INF)),
    )
    result = solve(problem)
    assert (result.objective, result.fixed_cost_cny) == pytest.approx((172.0, 150.0))
    assert result.bound == pytest.approx(172.0)
    assert result.gap == pytest.approx(0.0, abs=1e-7)
    assert result.open_warehouses == ("W1", "W2")
    # With room for both at W1, W2 is not opened: 100 + 6 + 12 = 118.
    roomy = dataclasses.replace(problem, warehouses=(Warehouse("W1", (12.0,), 100.0),
                                                     problem.warehouses[1]))  # fmt: skip
    assert solve(roomy).open_warehouses == ("W1",)
    assert solve(roomy).objective == pytest.approx(118.0)


def test_service_level_binds() -> None:
    # One market, 10 orders: A (1 per order) delivers late, B (2) on time. Without the rule
    # all go to A: 10. With 70 % on time, 7 go to B: 3 + 14 = 17.
    base = AllocationProblem(
        (Warehouse("A", (INF,)), Warehouse("B", (INF,))),
        (Customer("c1", (10.0,), market="M"),),
        ((1.0, 2.0),),
        on_time=((False, True),),
    )
    assert shares(solve(base)) == {("c1", "A"): 10.0}
    result = solve(dataclasses.replace(base, service_level=0.7))
    assert result.objective == pytest.approx(17.0)
    assert shares(result) == {("c1", "A"): 3.0, ("c1", "B"): 7.0}


def test_service_level_counts_served_orders_only() -> None:
    # Only a late warehouse, capacity 4 of 10, penalty 5: under a 50 % rule nothing may be
    # served late alone, so all 10 are unserved (50); without the rule 4 are served (4 + 30).
    problem = AllocationProblem(
        (Warehouse("A", (4.0,)),),
        (Customer("c1", (10.0,)),),
        ((1.0,),),
        on_time=((False,),),
        unserved_penalty_cny=5.0,
    )
    assert solve(problem).objective == pytest.approx(34.0)
    strict = solve(dataclasses.replace(problem, service_level=0.5))
    assert strict.objective == pytest.approx(50.0)
    assert strict.flows == ()
    assert strict.unserved == (Unserved("c1", 1, 10.0, 50.0),)


def fairness_problem(fairness: float) -> AllocationProblem:
    """A holds 10; S1 (10 units at 1) and S2 (10 at 5); 10 per unit unserved."""
    return AllocationProblem(
        (Warehouse("A", (10.0,)),),
        (Customer("c1", (10.0,), seller="S1"), Customer("c2", (10.0,), seller="S2")),
        ((1.0,), (5.0,)),
        fairness=fairness,
        unserved_penalty_cny=10.0,
    )


def test_fairness_binds() -> None:
    # Without fairness S1 takes A (saves 9 per unit, S2 only 5): 10 + 100 = 110.
    # With fairness 1 both keep half: 5 + 25 + 100 = 130. With 0.5, S2 keeps at least half
    # the overall share (0.5) of its demand: 2.5 units, S1 7.5: 7.5 + 12.5 + 100 = 120.
    free = solve(fairness_problem(0.0))
    assert free.objective == pytest.approx(110.0)
    assert shares(free) == {("c1", "A"): 10.0}
    equal = solve(fairness_problem(1.0))
    assert equal.objective == pytest.approx(130.0)
    assert shares(equal) == {("c1", "A"): 5.0, ("c2", "A"): 5.0}
    half = solve(fairness_problem(0.5))
    assert half.objective == pytest.approx(120.0)
    assert shares(half) == {("c1", "A"): 7.5, ("c2", "A"): 2.5}


def test_single_sourcing() -> None:
    # 12 units; A holds 10 at 1, B 20 at 2. Split: 10 + 4 = 14. One warehouse: B, 24.
    # With a penalty of 3, A with 2 unserved costs 10 + 6 = 16 < 24.
    problem = AllocationProblem(
        (Warehouse("A", (10.0,)), Warehouse("B", (20.0,))),
        (Customer("c1", (12.0,)),),
        ((1.0, 2.0),),
    )
    assert solve(problem).objective == pytest.approx(14.0)
    single = solve(dataclasses.replace(problem, single_sourcing=True))
    assert single.objective == pytest.approx(24.0)
    assert shares(single) == {("c1", "B"): 12.0}
    partial = solve(dataclasses.replace(problem, single_sourcing=True, unserved_penalty_cny=3.0))
    assert partial.objective == pytest.approx(16.0)
    assert shares(partial) == {("c1", "A"): 10.0}
    assert partial.unserved_quantity == pytest.approx(2.0)


def test_single_sourcing_holds_over_weeks() -> None:
    # Week 1 needs 4, week 2 needs 12; A (cost 1) holds 10 a week, B (cost 2) 20. Split:
    # 4 + 10 + 2*2 = 18. One warehouse for both weeks: B, 32 (A cannot take week 2).
    problem = AllocationProblem(
        (Warehouse("A", (10.0,)), Warehouse("B", (20.0,))),
        (Customer("c1", (4.0, 12.0)),),
        ((1.0, 2.0),),
        single_sourcing=True,
    )
    result = solve(problem)
    assert result.objective == pytest.approx(32.0)
    assert {f.warehouse_id for f in result.flows} == {"B"}


def test_confirmed_bookings_are_kept() -> None:
    # Two weeks of 8 units; A (cost 1) holds 10 a week but 5 are booked in week 1, so week 1
    # sends 5 to A and 3 to B (cost 2): 11; week 2 all at A: 8. C (fixed 50) is never needed
    # but holds a booking: it counts as used and its 50 is paid. 11 + 8 + 50 = 69.
    problem = AllocationProblem(
        (Warehouse("A", (10.0,)), Warehouse("B", (100.0,)), Warehouse("C", (10.0,), 50.0)),
        (Customer("c1", (8.0, 8.0)),),
        ((1.0, 2.0, 5.0),),
        bookings=(Booking("A", 1, (5.0,), "B-1"), Booking("C", 2, (1.0,))),
    )
    result = solve(problem)
    assert result.objective == pytest.approx(69.0)
    assert "C" in result.open_warehouses
    week1 = {f.warehouse_id: f.quantity for f in result.flows if f.week == 1}
    assert week1 == pytest.approx({"A": 5.0, "B": 3.0})
    load = next(x for x in result.loads if (x.warehouse_id, x.week) == ("A", 1))
    assert (load.booked, load.planned, load.free) == ((5.0,), pytest.approx((5.0,)),
                                                      pytest.approx((0.0,)))  # fmt: skip


def test_capacity_by_week() -> None:
    # A (cost 1) holds 10, but only 2 in week 2; B costs 2. Weeks of 6: 6 + (2 + 4*2) = 16.
    problem = AllocationProblem(
        (Warehouse("A", (10.0,), capacity_by_week=((2, (2.0,)),)), Warehouse("B", (100.0,))),
        (Customer("c1", (6.0, 6.0)),),
        ((1.0, 2.0),),
    )
    assert solve(problem).objective == pytest.approx(16.0)


def test_short_capacity_leaves_demand_unserved_at_the_penalty() -> None:
    # 8 units, only 5 of room at cost 1. All demand required: infeasible. With a penalty of
    # 10, 3 are unserved: 5 + 30 = 35. With a penalty below the cost nothing is served: 4.
    problem = AllocationProblem((Warehouse("A", (5.0,)),), (Customer("c1", (8.0,)),), ((1.0,),))
    infeasible = solve(problem)
    assert infeasible.status == SolveStatus.INFEASIBLE
    assert (infeasible.objective, infeasible.flows) == (INF, ())
    assert infeasible.to_dict()["objective"] is None
    short = solve(dataclasses.replace(problem, unserved_penalty_cny=10.0))
    assert short.objective == pytest.approx(35.0)
    assert short.unserved == (Unserved("c1", 1, pytest.approx(3.0), pytest.approx(30.0)),)
    cheap = solve(dataclasses.replace(problem, unserved_penalty_cny=0.5))
    assert (cheap.objective, cheap.flows) == (pytest.approx(4.0), ())


def test_no_warehouse_may_serve() -> None:
    problem = AllocationProblem(
        (Warehouse("A", (5.0,)),), (Customer("c1", (2.0,)),), ((INF,),), unserved_penalty_cny=7.0
    )
    assert solve(problem).objective == pytest.approx(14.0)


# --- determinism, JSON, the large-instance path -----------------------------------------------


def random_cflp(seed: int, customers: int = 30, warehouses: int = 8) -> AllocationProblem:
    """A capacitated location instance drawn like OR-Library's (fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 50, customers).astype(float)
    xy_c, xy_w = rng.random((customers, 2)), rng.random((warehouses, 2))
    distance = np.linalg.norm(xy_c[:, None] - xy_w[None], axis=2)
    capacity = float(demand.sum()) / warehouses * 2.5
    return AllocationProblem(
        tuple(
            Warehouse(f"w{i}", (capacity,), float(rng.integers(200, 800)))
            for i in range(warehouses)
        ),
        tuple(Customer(f"c{j}", (float(demand[j]),)) for j in range(customers)),
        tuple(tuple(float(v) for v in 40 * row) for row in distance),
    )


def comparable(result: AllocationResult) -> str:
    document = result.to_dict()
    del document["runtime_s"]
    return json.dumps(document, sort_keys=True)


def test_same_seed_same_result() -> None:
    problem = random_cflp(7)
    first, second = solve(problem, seed=5), solve(problem, seed=5)
    assert first.status == SolveStatus.OPTIMAL
    assert comparable(first) == comparable(second)
    assert first.seed == 5


def test_large_instance_path_finds_the_same_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forcing the Lagrangian link selection (meant for > 20,000 links) on a small instance
    # must not change the optimum: the rows it leaves out only weaken the LP.
    problem = random_cflp(11, customers=40, warehouses=10)
    direct = solve(problem)
    monkeypatch.setattr(_lagrange, "FULL_LINKING_MAX", 0)
    deadline = time.perf_counter() + 30
    prepared = _lagrange.prepare(problem, formulate(problem), deadline=deadline, seed=0, log=False)
    assert 0 < len(prepared.links) < 400
    assert prepared.hint is not None
    assert prepared.bound <= direct.objective * (1 + 1e-9)
    lagrangian = solve(problem)
    assert lagrangian.objective == pytest.approx(direct.objective, rel=1e-7)
    assert lagrangian.status == SolveStatus.OPTIMAL


def test_result_to_dict_is_json() -> None:
    result = solve(two_warehouses(10.0))
    document = json.loads(json.dumps(result.to_dict()))
    assert document["status"] == "optimal"
    assert {f["warehouse_id"] for f in document["flows"]} == {"A", "B"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    demand=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    costs=st.lists(st.integers(1, 9), min_size=12, max_size=12),
    fixed=st.lists(st.integers(0, 20), min_size=3, max_size=3),
    capacity=st.integers(5, 20),
)
def test_single_sourcing_matches_enumeration(
    demand: list[int], costs: list[int], fixed: list[int], capacity: int
) -> None:
    # The reference twin: try every assignment of customers to warehouses.
    n = len(demand)
    cost = [[float(costs[3 * j + i]) for i in range(3)] for j in range(n)]
    problem = AllocationProblem(
        tuple(Warehouse(f"w{i}", (float(capacity),), float(fixed[i])) for i in range(3)),
        tuple(Customer(f"c{j}", (float(demand[j]),)) for j in range(n)),
        tuple(tuple(row) for row in cost),
        single_sourcing=True,
    )
    best = INF
    for choice in itertools.product(range(3), repeat=n):
        load = [sum(demand[j] for j in range(n) if choice[j] == i) for i in range(3)]
        if max(load) <= capacity:
            total = sum(fixed[i] for i in set(choice))
            best = min(best, total + sum(demand[j] * cost[j][choice[j]] for j in range(n)))
    result = solve(problem)
    if best == INF:
        assert result.status == SolveStatus.INFEASIBLE
    else:
        assert result.objective == pytest.approx(best)


# --- the checker catches what it should -------------------------------------------------------


def test_checker_catches_violations() -> None:
    problem = dataclasses.replace(
        two_warehouses(10.0), unserved_penalty_cny=None, single_sourcing=False
    )
    result = solve(problem)

    def broken(**changes: Any) -> list[str]:
        return check_allocation(problem, dataclasses.replace(result, **changes))

    over = tuple(
        dataclasses.replace(f, quantity=f.quantity + 1, cost_cny=(f.quantity + 1) * 1.0)
        if (f.customer_id, f.warehouse_id) == ("c2", "A")
        else f
        for f in result.flows
    )
    found = broken(flows=over)
    assert any("capacity" in p for p in found)
    assert any("demand 6" in p for p in found)
    assert any("objective" in p for p in broken(objective=result.objective + 1))
    assert any("bound" in p for p in broken(bound=result.objective + 1))
    assert any("not listed as used" in p for p in broken(open_warehouses=("A",)))
    assert any("all demand must be served" in p for p in broken(
        unserved=(Unserved("c1", 1, 0.0, 0.0),)))  # fmt: skip
    forbidden = AllocationProblem(problem.warehouses, problem.customers, ((1.0, INF), (1.0, 3.0)))
    assert any("may not serve" in p for p in check_allocation(forbidden, result))
    single = dataclasses.replace(problem, single_sourcing=True)
    assert any("not one warehouse" in p for p in check_allocation(single, result))
    booked = dataclasses.replace(problem, bookings=(Booking("A", 1, (1.0,)),))
    found = check_allocation(booked, result)
    assert any("booked > capacity" in p for p in found)
    assert any("bookings reported wrongly" in p for p in found)


def test_checker_catches_service_and_fairness() -> None:
    late = AllocationProblem(
        (Warehouse("A", (INF,)), Warehouse("B", (INF,))),
        (Customer("c1", (10.0,)),),
        ((1.0, 2.0),),
        on_time=((False, True),),
    )
    result = solve(late)
    strict = dataclasses.replace(late, service_level=0.5)
    assert any("service level" in p for p in check_allocation(strict, result))
    unfair = solve(fairness_problem(0.0))
    assert any("seller S2" in p for p in check_allocation(fairness_problem(1.0), unfair))


# --- OR-Library -------------------------------------------------------------------------------


@pytest.mark.skipif(
    not CAP41.is_file(), reason=f"OR-Library instances not found in {BENCHMARKS_DIR}"
)
def test_orlib_cap41_known_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = read_orlib_cap(CAP41)
    assert (len(problem.warehouses), len(problem.customers)) == (16, 50)
    result = solve(problem)
    assert result.status == SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(CAP41_OPTIMUM, rel=1e-6)
    assert result.bound == pytest.approx(CAP41_OPTIMUM, rel=1e-6)
    monkeypatch.setattr(_lagrange, "FULL_LINKING_MAX", 0)
    assert solve(problem).objective == pytest.approx(CAP41_OPTIMUM, rel=1e-6)


def test_read_orlib_cap_formats(tmp_path: Path) -> None:
    # A split-demand instance: 2 warehouses, 2 customers; costs are for all of the demand.
    path = tmp_path / "tiny.txt"
    path.write_text("2 2\n capacity 10.\n capacity 0.\n 4 8 12\n 6\n 6 3\n")
    problem = read_orlib_cap(path, capacity=7)
    assert [w.capacity for w in problem.warehouses] == [(7.0,), (7.0,)]
    assert problem.cost_cny == ((2.0, 3.0), (1.0, 0.5))
    # Per unit: c1 (4 units) 2 at w1, 3 at w2; c2 (6) 1 and 0.5. 10 units, 7 per warehouse:
    # w1 (fixed 10) must open beside w2 (fixed 0); c2 at w2 (3), c1 at w1 (8): 21.
    assert solve(problem).objective == pytest.approx(21.0)
    with pytest.raises(InvalidInputError, match="capacity"):
        read_orlib_cap(path)
    numeric = tmp_path / "numeric.txt"
    numeric.write_text("1 1\n5 0\n3 9\n")
    with pytest.raises(InvalidInputError) as excinfo:
        read_orlib_cap(numeric, capacity=5)
    assert excinfo.value.field == "capacity"
    (tmp_path / "short.txt").write_text("2 2\n5 0\n")
    with pytest.raises(InvalidInputError) as excinfo:
        read_orlib_cap(tmp_path / "short.txt")
    assert excinfo.value.field == "path"


# --- bad input names the field ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Warehouse("A", (-1.0,)), "capacity[0]"),
        (lambda: Warehouse("", (1.0,)), "warehouse_id"),
        (lambda: Warehouse("A", (1.0,), fixed_cost_cny=math.nan), "fixed_cost_cny"),
        (lambda: Customer("c", (1.0, -2.0)), "demand[1]"),
        (lambda: Booking("A", 0, (1.0,)), "week"),
        (
            lambda: AllocationProblem(
                (Warehouse("A", (1.0,)),), (Customer("c", (1.0,)), Customer("d", (1.0, 1.0))),
                ((1.0,), (1.0,)),
            ),
            "customers[d].demand",
        ),
        (
            lambda: AllocationProblem(
                (Warehouse("A", (1.0,)),), (Customer("c", (1.0,)),), ((-1.0,),)
            ),
            "cost_cny[c][A]",
        ),
        (
            lambda: AllocationProblem(
                (Warehouse("A", (1.0,)),), (Customer("c", (1.0,)),), ((1.0, 2.0),)
            ),
            "cost_cny",
        ),
        (lambda: two_warehouses(10.0, service_level=1.5, on_time=((True,) * 2,) * 2),
         "service_level"),
        (lambda: two_warehouses(10.0, service_level=0.5), "on_time"),
        (lambda: two_warehouses(10.0, fairness=-0.1), "fairness"),
        (lambda: two_warehouses(10.0, bookings=(Booking("Z", 1, (1.0,)),)),
         "bookings.warehouse_id"),
        (lambda: two_warehouses(10.0, bookings=(Booking("A", 1, (11.0,)),)), "bookings"),
        (lambda: two_warehouses(10.0, unserved_penalty_cny=-1.0), "unserved_penalty_cny"),
        (lambda: solve_allocation(two_warehouses(10.0), time_limit_s=0), "time_limit_s"),
        (lambda: solve_allocation(two_warehouses(10.0), seed=-1), "seed"),
        (lambda: solve_allocation(two_warehouses(10.0), gap_tolerance=1.0), "gap_tolerance"),
        (lambda: MarketDemand("MKT-DE", (1.0,), 0.0), "m3_per_order"),
        (lambda: Seller("S", "Chengdu", (), frozenset()), "demand"),
        (lambda: Seller("S", "Chengdu", (MarketDemand("M", (1,), 0.1),), cargo_class="gold"),
         "cargo_class"),
    ],
)  # fmt: skip
def test_invalid_input_names_the_field(build: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        build()
    assert excinfo.value.field == field


def test_record_errors_name_row_and_column() -> None:
    rows: list[dict[str, Any]] = [
        {"seller": "Shu", "hub": "Chengdu", "market": "MKT-DE", "orders_per_week": 10,
         "m3_per_order": 0.03},
        {"seller": "Shu", "hub": "Chongqing", "market": "MKT-PL", "orders_per_week": 10,
         "m3_per_order": 0.03},
    ]  # fmt: skip
    with pytest.raises(RecordError) as excinfo:
        sellers_from_records(rows)
    assert (excinfo.value.row, excinfo.value.record_id, excinfo.value.column) == (2, "Shu", "hub")
    rows[1] = dict(rows[1], hub="", orders_per_week="10;x")
    with pytest.raises(RecordError, match=r"row 2 \(Shu\): orders_per_week"):
        sellers_from_records(rows)
    warehouse = {"warehouse": "WH-PLLOD", "market": "MKT-PL", "last_mile_cny_per_order": 28,
                 "delivery_days": 1, "pallets_per_week": 200, "volume_m3_per_week": 288,
                 "rent_cny_per_pallet_week": 35, "handling_cny_per_inbound_pallet": 45}  # fmt: skip
    with pytest.raises(RecordError, match=r"row 1 \(WH-PLLOD\): handling_cny_per_order"):
        warehouses_from_records([warehouse])
    with pytest.raises(RecordError, match=r"row 2 \(WH-PLLOD\): pallets_per_week"):
        warehouses_from_records(
            [
                dict(warehouse, handling_cny_per_order=8),
                dict(warehouse, market="MKT-DE", pallets_per_week=300),
            ]
        )
    nested = dict(warehouse, handling_cny_per_order=8, markets=[
        {"market": "MKT-PL", "last_mile_cny_per_order": 28, "delivery_days": 1},
        {"market": "MKT-DE", "last_mile_cny_per_order": 50, "delivery_days": 3}])  # fmt: skip
    assert [m.market for m in warehouses_from_records([nested])[0].markets] == ["MKT-PL", "MKT-DE"]
    with pytest.raises(RecordError, match="week"):
        bookings_from_records([{"warehouse": "WH-PLLOD", "week": 0, "pallets": 1,
                                "volume_m3": 1}])  # fmt: skip


# --- the freight side on the bundled network --------------------------------------------------

TERMS = {  # warehouse: pallets per week, {market: (last mile CNY per order, delivery days)}
    "WH-DEDUI": (300, {"MKT-DE": (30, 1), "MKT-PL": (55, 3)}),
    "WH-PLLOD": (200, {"MKT-DE": (50, 3), "MKT-PL": (28, 1)}),
    "WH-HUBUD": (250, {"MKT-DE": (60, 4), "MKT-PL": (45, 3)}),
}


def warehouse_rows() -> list[dict[str, Any]]:
    return [
        {"warehouse": wh, "market": market, "last_mile_cny_per_order": cny,
         "delivery_days": days, "pallets_per_week": pallets,
         "volume_m3_per_week": pallets * PALLET_M3, "rent_cny_per_pallet_week": 35,
         "handling_cny_per_inbound_pallet": 45, "handling_cny_per_order": 8}
        for wh, (pallets, markets) in TERMS.items()
        for market, (cny, days) in markets.items()
    ]  # fmt: skip


SELLER_ROWS = [
    {"seller": "Shu", "hub": "Chengdu", "market": "MKT-DE",
     "orders_per_week": "2000;2500;3000;2500", "m3_per_order": 0.03, "value_cny_per_order": 260},
    {"seller": "Shu", "market": "MKT-PL", "orders_per_week": 1500, "m3_per_order": 0.03},
    {"seller": "Yu", "hub": "Chongqing", "market": "Germany", "orders_per_week": 1800,
     "m3_per_order": 0.04},
    {"seller": "Yu", "market": "MKT-PL", "orders_per_week": 1000, "m3_per_order": 0.04,
     "excluded_warehouses": "WH-DEDUI"},
]  # fmt: skip


def test_freight_allocation_on_the_bundled_network(network: Network) -> None:
    sellers = sellers_from_records(SELLER_ROWS)
    warehouses = warehouses_from_records(warehouse_rows())
    start = date(2026, 12, 7)
    problem = allocation_problem(network, sellers, warehouses, weeks=4, start=start)
    assert problem.resources == ("pallets", "volume_m3")
    assert [c.customer_id for c in problem.customers] == [
        "Shu/MKT-DE", "Shu/MKT-PL", "Yu/MKT-DE", "Yu/MKT-PL"]  # fmt: skip
    lanes = {(lane.customer_id, lane.warehouse_id): lane for lane in problem.lanes}
    # Yu excludes Duisburg (for all its markets, whichever row says so).
    assert ("Yu/MKT-PL", "WH-DEDUI") not in lanes and ("Yu/MKT-DE", "WH-DEDUI") not in lanes
    lane = lanes["Shu/MKT-DE", "WH-DEDUI"]
    # Per order of 0.03 m3 (1/48 pallet): storage 35 x 4 weeks / 48; handling 45 / 48 + 8.
    assert lane.storage_cny == pytest.approx(35 * 4 * 0.03 / 1.44)
    assert lane.handling_cny == pytest.approx(45 * 0.03 / 1.44 + 8)
    assert lane.last_mile_cny == 30
    assert lane.inbound_cny > 0 and 10 < lane.inbound_days <= 30
    # Each customer's pallets: 4 weeks of stock; 2,000 orders of 0.03 m3 = 166.7 pallets.
    assert problem.customers[0].usage == pytest.approx((4 * 0.03 / 1.44, 0.12))

    result = solve(problem, seed=1)
    assert result.status == SolveStatus.OPTIMAL
    assert result.unserved == ()
    parts = result.breakdown_cny
    assert sum(parts.values()) == pytest.approx(result.flow_cost_cny)
    # Shu's German orders all go to Duisburg (cheapest, 166.7-250 of its 300 pallets).
    assert {f.warehouse_id for f in result.flows if f.customer_id == "Shu/MKT-DE"} == {
        "WH-DEDUI"}  # fmt: skip
    # Lodz is cheapest for Poland but its 200 pallets hold less than the 125 + 111 needed.
    lodz = [x for x in result.loads if x.warehouse_id == "WH-PLLOD"]
    assert all(x.planned[0] == pytest.approx(200.0) for x in lodz)

    # A Lodz booking of 100 pallets in week 3 moves orders elsewhere, and is kept.
    booked = allocation_problem(
        network, sellers, warehouses, weeks=4, start=start,
        confirmed=bookings_from_records([{"warehouse": "WH-PLLOD", "week": 3, "pallets": 100,
                                          "volume_m3": 144}]),
    )  # fmt: skip
    moved = solve(booked, seed=1)
    week3 = next(x for x in moved.loads if (x.warehouse_id, x.week) == ("WH-PLLOD", 3))
    assert week3.booked == (100.0, 144.0)
    assert week3.planned[0] == pytest.approx(100.0)
    assert moved.objective > result.objective

    # The inbound prices were planned once per dataset version and are cached.
    assert all(key[0] == network.version for key in freight._INBOUND_CACHE)

    # Within 5 days only air freight arrives: dearer inbound, fewer orders worth serving.
    fast = allocation_problem(network, sellers, warehouses, weeks=4, start=start,
                              lead_time_limit_days=5)  # fmt: skip
    by_air = {(x.customer_id, x.warehouse_id): x for x in fast.lanes}
    assert all(x.inbound_days <= 5 and "air" in x.route for x in by_air.values())
    assert by_air["Shu/MKT-DE", "WH-DEDUI"].inbound_cny > 5 * lane.inbound_cny
    # No inbound route within a day: nothing can be served, everything pays the penalty.
    stranded = allocation_problem(
        network, sellers, warehouses, weeks=4, start=start, lead_time_limit_days=1,
        unserved_penalty_cny=300,
    )  # fmt: skip
    assert not stranded.lanes
    orders = 2000 + 2500 + 3000 + 2500 + 4 * (1500 + 1800 + 1000)
    assert solve(stranded).penalty_cny == pytest.approx(300 * orders)


def test_freight_rules_and_bad_input(network: Network) -> None:
    sellers = sellers_from_records(SELLER_ROWS)
    warehouses = warehouses_from_records(warehouse_rows())
    start = date(2026, 12, 7)
    # All orders delivered within 1 day: each market's orders go to its local warehouse only.
    local = allocation_problem(network, sellers, warehouses, weeks=4, start=start,
                               service_days=1, service_level=1.0, single_sourcing=True)  # fmt: skip
    result = solve(local)
    for flow in result.flows:
        assert (flow.customer_id.endswith("DE")) == (flow.warehouse_id == "WH-DEDUI")
    # Fixed fees and the Lagrangian path (several resources: no Lagrangian bound).
    fees = [dataclasses.replace(w, fixed_cost_cny_per_week=5000.0) for w in warehouses]
    problem = allocation_problem(network, sellers, fees, weeks=4, start=start)
    assert problem.warehouses[0].fixed_cost_cny == 20_000
    plain = solve(problem)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lagrange, "FULL_LINKING_MAX", 0)
        assert solve(problem).objective == pytest.approx(plain.objective, rel=1e-6)
    with pytest.raises(InvalidInputError) as excinfo:
        allocation_problem(network, sellers, warehouses, weeks=3)
    assert excinfo.value.field == "sellers[Shu][MKT-DE].orders_per_week"
    with pytest.raises(InvalidInputError) as excinfo:
        allocation_problem(network, [dataclasses.replace(sellers[0], hub="Atlantis")], warehouses)
    assert excinfo.value.field == "sellers[Shu].hub"
    with pytest.raises(InvalidInputError) as excinfo:
        allocation_problem(network, [dataclasses.replace(
            sellers[0], preferred_warehouses=frozenset({"WH-XX"}))], warehouses)  # fmt: skip
    assert excinfo.value.field == "sellers[Shu].preferred_warehouses"
    with pytest.raises(InvalidInputError) as excinfo:
        allocation_problem(network, sellers, warehouses, weeks=0)
    assert excinfo.value.field == "weeks"


def test_flow_and_unserved_are_plain_records() -> None:
    flow = Flow("c1", "A", 1, 2.0, 4.0)
    assert dataclasses.asdict(flow)["cost_cny"] == 4.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.quantity = 3.0  # type: ignore[misc]
    assert MarketService("MKT-DE", 30, 1).delivery_days == 1
    assert OverseasWarehouse("WH-DEDUI", 1, 1, 1, 1, 1, (MarketService("MKT-DE", 1, 1),))
