"""How planning cost grows with the network (issue 23): ``python -m benchmarks.scale``.

For each scale factor, a child process writes the network that many times the bundled one
(:func:`network_data.synthetic.write_scaled_network`), loads and validates it, plans the same
random shipments of the bundled network on it (``bench_routing.random_shipments``: origins in
the pilot zones, destinations abroad, all in the bundled replica, so every scale answers the
same queries) and reports: the time to write and to load the dataset, the first plan (which
compiles the network's arrays and timetable), single-plan p50 and p99, labels settled per plan
and the child's peak memory once the planner has run (``peak MB``) and after the floor's
graph is built too (``peak MB with floor``). The shipments are planned twice: the first pass
(``p50``) also fills what the planner keeps per network on first use (each corridor's tariff
rows for the rate warnings, distances to each destination), the second (``warm``) is the steady
state of a server that has planned them before; at 1x the first pass is about twice the
second. 1x and 10x run by default; ``SHUDAO_BENCH_SCALE_100=1`` adds 100x (about 10 minutes in
all, and 8 GB of memory while the floor's graph is built).

Beside it, in the same child and on the same shipments, the floor (issue 23 item 2): earliest
arrival by one criterion on the network's time-expanded graph with ``scipy.sparse.csgraph``
(:mod:`benchmarks.floor`, which says what it models and simplifies), built once over the
shipments' window (their ready times plus the planner's horizon): its size and build time
(not counted in a query), its p50 and p99 (a query searches with doubling cut-offs until it
reaches the destination), the p50 of one search cut off at the answer (the least a csgraph
query can cost, were the arrival known), and the ratios the issue sets targets on, at 100x:
the planner's p50 within 20x of its 1x figure and within 10x of the floor's p50.

Last, the same shipments under a time limit (``SHUDAO_BENCH_SCALE_LIMIT_S``, 0.5 s by default):
how many plans stop at it, their p50 and slowest time (the limit bounds the search; pricing
every corridor before it and building the options after it come on top), and what the stopped
plans still show: the share of each one's Pareto front (from the plans without a limit) they
found, on average, and how many found no journey at all.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_routing import _shipment, random_shipments
from benchmarks.floor import build_floor_graph, earliest_arrival, search_last_query
from network_data import load_network
from network_data.synthetic import write_scaled_network
from optimizer._compile import epoch_hours
from optimizer.routing import plan_routes
from optimizer.routing.problem import DEFAULT_HORIZON_DAYS

SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_SCALE_SHIPMENTS", "200"))
FACTORS = (1, 10, 100) if os.environ.get("SHUDAO_BENCH_SCALE_100") == "1" else (1, 10)
#: Issue 23's targets at 100x: planner p50 / its 1x p50, and planner p50 / the floor's p50.
TARGET_VS_1X, TARGET_VS_FLOOR = 20.0, 10.0
LIMIT_S = float(os.environ.get("SHUDAO_BENCH_SCALE_LIMIT_S", "0.5"))


def percentiles(times_ms: list[float]) -> tuple[float, float]:
    """p50 and p99 of the times."""
    ordered = sorted(times_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def measure(factor: int, shipments: int) -> dict[str, Any]:
    """The figures of one scale factor, measured in this process."""
    started = time.perf_counter()
    directory = write_scaled_network(factor, Path(tempfile.mkdtemp(prefix="shudao-scale-")))
    written = time.perf_counter()
    network = load_network(directory)
    loaded = time.perf_counter()
    rows = random_shipments(load_network(), shipments + 1).to_dict("records")
    queries = [_shipment(row) for row in rows]
    plan_routes(network, queries[0])
    first = time.perf_counter()
    times_ms, labels, fronts = [], [], []
    for shipment in queries[1:]:
        begun = time.perf_counter()
        plan = plan_routes(network, shipment)
        times_ms.append((time.perf_counter() - begun) * 1000)
        labels.append(plan.labels_settled)
        fronts.append({(j.arrival, round(j.cost_cny, 4)) for j in plan.front})
    warm_ms = []
    for shipment in queries[1:]:
        begun = time.perf_counter()
        plan_routes(network, shipment)
        warm_ms.append((time.perf_counter() - begun) * 1000)
    limited_ms, found_shares, found_nothing = [], [], 0
    for shipment, front in zip(queries[1:], fronts, strict=True):
        begun = time.perf_counter()
        plan = plan_routes(network, shipment, time_limit_s=LIMIT_S)
        limited_ms.append((time.perf_counter() - begun) * 1000)
        if plan.unexplored is not None:
            found = {(j.arrival, round(j.cost_cny, 4)) for j in plan.front}
            found_shares.append(len(found & front) / len(front) if front else 1.0)
            found_nothing += not plan.front
    planner_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready_h = [epoch_hours(shipment.ready_at) for shipment in queries]
    horizon_h = DEFAULT_HORIZON_DAYS * 24.0
    graph = build_floor_graph(network, min(ready_h) - 24, max(ready_h) + horizon_h + 24)
    floor_ms, once_ms = [], []
    for shipment, ready in zip(queries[1:], ready_h[1:], strict=True):
        begun = time.perf_counter()
        arrival_h = earliest_arrival(graph, shipment.origin, shipment.destination, ready, horizon_h)
        floor_ms.append((time.perf_counter() - begun) * 1000)
        begun = time.perf_counter()
        search_last_query(graph, min(arrival_h - ready, horizon_h))
        once_ms.append((time.perf_counter() - begun) * 1000)
    p50, p99 = percentiles(times_ms)
    warm_p50, warm_p99 = percentiles(warm_ms)
    floor_p50, floor_p99 = percentiles(floor_ms)
    return {
        "factor": factor,
        "nodes": len(network.nodes),
        "corridors": len(network.corridors),
        "services": len(network.services),
        "write_s": written - started,
        "load_s": loaded - written,
        "first_plan_s": first - loaded,
        "p50_ms": p50,
        "p99_ms": p99,
        "warm_p50_ms": warm_p50,
        "warm_p99_ms": warm_p99,
        "labels_p50": statistics.median(labels),
        "floor_events": graph.events,
        "floor_arcs": graph.arcs,
        "floor_mb": graph.megabytes,
        "floor_build_s": graph.build_s,
        "floor_p50_ms": floor_p50,
        "floor_p99_ms": floor_p99,
        "once_p50_ms": statistics.median(once_ms),
        "planner_peak_mb": planner_peak_mb,
        "limited_stopped": len(found_shares),
        "limited_p50_ms": statistics.median(limited_ms),
        "limited_max_ms": max(limited_ms),
        "limited_front_share": statistics.mean(found_shares) if found_shares else None,
        "limited_found_nothing": found_nothing,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Measure each factor in a child process of its own and print the tables with ratios."""
    rows = []
    for factor in FACTORS:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--child", str(factor), str(SHIPMENTS)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    base = rows[0]
    print(f"Scale, {SHIPMENTS} random shipments of the bundled network planned at each scale")
    print(
        f"{'scale':>5} {'nodes':>7} {'corridors':>9} {'services':>8} {'write s':>8} "
        f"{'load s':>7} {'1st plan s':>10} {'p50 ms':>8} {'p99 ms':>8} {'warm p50':>8} "
        f"{'warm p99':>8} {'labels p50':>10} {'peak MB':>8} {'p50 / 1x':>8} {'warm / 1x':>9}"
        f" {'peak MB with floor':>18}"
    )
    for row in rows:
        print(
            f"{row['factor']:>4}x {row['nodes']:>7,} {row['corridors']:>9,} "
            f"{row['services']:>8,} {row['write_s']:>8.1f} {row['load_s']:>7.1f} "
            f"{row['first_plan_s']:>10.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.1f} "
            f"{row['warm_p50_ms']:>8.2f} {row['warm_p99_ms']:>8.1f} "
            f"{row['labels_p50']:>10,.0f} {row['planner_peak_mb']:>8,.0f} "
            f"{row['p50_ms'] / base['p50_ms']:>8.1f} "
            f"{row['warm_p50_ms'] / base['warm_p50_ms']:>9.1f} {row['peak_mb']:>18,.0f}"
        )
    print()
    print("Floor, the same shipments: earliest arrival on the time-expanded graph (csgraph)")
    print(
        f"{'scale':>5} {'events':>10} {'arcs':>11} {'graph MB':>8} {'build s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'one cut p50':>11} {'floor p50 / 1x':>14} "
        f"{'plan p50 / 1x':>13} {'plan p50 / floor p50':>20} {'warm / floor':>12}"
    )
    for row in rows:
        print(
            f"{row['factor']:>4}x {row['floor_events']:>10,} {row['floor_arcs']:>11,} "
            f"{row['floor_mb']:>8,.0f} {row['floor_build_s']:>7.1f} "
            f"{row['floor_p50_ms']:>7.2f} {row['floor_p99_ms']:>7.1f} "
            f"{row['once_p50_ms']:>11.2f} {row['floor_p50_ms'] / base['floor_p50_ms']:>14.1f} "
            f"{row['p50_ms'] / base['p50_ms']:>13.1f} "
            f"{row['p50_ms'] / row['floor_p50_ms']:>20.1f} "
            f"{row['warm_p50_ms'] / row['floor_p50_ms']:>12.1f}"
        )
    print(
        f"targets at 100x: plan p50 / 1x <= {TARGET_VS_1X:.0f}, "
        f"plan p50 / floor p50 <= {TARGET_VS_FLOOR:.0f}"
    )
    print()
    print(f"Under a time limit of {LIMIT_S:g} s, the same shipments")
    print(
        f"{'scale':>5} {'stopped':>8} {'p50 ms':>8} {'slowest ms':>10} "
        f"{'front found when stopped':>24} {'stopped with none':>17}"
    )
    for row in rows:
        share = row["limited_front_share"]
        print(
            f"{row['factor']:>4}x {row['limited_stopped']:>8} {row['limited_p50_ms']:>8.1f} "
            f"{row['limited_max_ms']:>10.0f} {'-' if share is None else f'{share:.0%}':>24} "
            f"{row['limited_found_nothing']:>17}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
