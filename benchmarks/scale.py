"""How planning cost grows with the network (issue 23): ``python -m benchmarks.scale``.

For each scale factor, a child process writes the network that many times the bundled one
(:func:`network_data.synthetic.write_scaled_network`), loads and validates it, plans the same
random shipments of the bundled network on it (``bench_routing.random_shipments``: origins in
the pilot zones, destinations abroad, all in the bundled replica, so every scale answers the
same queries) and reports: the time to write and to load the dataset, the first plan (which
compiles the network's arrays and timetable), single-plan p50 and p99, labels settled per plan
and the child's peak memory. 1x and 10x run by default; ``SHUDAO_BENCH_SCALE_100=1`` adds 100x
(about 2 minutes of set-up and 1 GB of memory).

Not measured yet: the single-criterion floor on the time-expanded graph (issue 23 item 2).
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
from network_data import load_network
from network_data.synthetic import write_scaled_network
from optimizer.routing import plan_routes

SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_SCALE_SHIPMENTS", "200"))
FACTORS = (1, 10, 100) if os.environ.get("SHUDAO_BENCH_SCALE_100") == "1" else (1, 10)


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
    times_ms, labels = [], []
    for shipment in queries[1:]:
        begun = time.perf_counter()
        plan = plan_routes(network, shipment)
        times_ms.append((time.perf_counter() - begun) * 1000)
        labels.append(plan.labels_settled)
    times_ms.sort()
    return {
        "factor": factor,
        "nodes": len(network.nodes),
        "corridors": len(network.corridors),
        "services": len(network.services),
        "write_s": written - started,
        "load_s": loaded - written,
        "first_plan_s": first - loaded,
        "p50_ms": statistics.median(times_ms),
        "p99_ms": times_ms[min(len(times_ms) - 1, int(0.99 * len(times_ms)))],
        "labels_p50": statistics.median(labels),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Measure each factor in a child process of its own and print the table with ratios."""
    print(f"Scale, {SHIPMENTS} random shipments of the bundled network planned at each scale")
    print(
        f"{'scale':>5} {'nodes':>7} {'corridors':>9} {'services':>8} {'write s':>8} "
        f"{'load s':>7} {'1st plan s':>10} {'p50 ms':>8} {'p99 ms':>8} {'labels p50':>10} "
        f"{'peak MB':>8} {'p50 / 1x':>8}"
    )
    base: dict[str, Any] | None = None
    for factor in FACTORS:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--child", str(factor), str(SHIPMENTS)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(child.stdout.strip().splitlines()[-1])
        base = base or row
        print(
            f"{row['factor']:>4}x {row['nodes']:>7,} {row['corridors']:>9,} "
            f"{row['services']:>8,} {row['write_s']:>8.1f} {row['load_s']:>7.1f} "
            f"{row['first_plan_s']:>10.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.1f} "
            f"{row['labels_p50']:>10,.0f} {row['peak_mb']:>8,.0f} "
            f"{row['p50_ms'] / base['p50_ms']:>8.1f}"
        )
    print("target at 100x: p50 within 20x of 1x (and within 10x of the floor, not measured yet)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
