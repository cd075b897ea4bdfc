"""Scenarios: Monte Carlo sweep throughput on 1 and 2 local Dask workers, and one full run.

(1) ``border_congestion`` swept over its two uncertain parameters (border dwell, demand scale):
``SAMPLES`` samples of ``SHIPMENTS`` shipments each, ``CHUNK`` samples per task, on a fresh
LocalCluster of 1 and of 2 worker processes (cluster start-up included, as a user sees it).
Each sample rebuilds the changed network's routing data (about 1.3 s) and plans its shipments,
so throughput is bounded by cores. Scaling ratio = samples/s with 2 workers / with 1.

(2) The ``baseline`` scenario with its demand scaled to about 10,000 shipments (four weeks of
the pilot zones' lots, seed 1): every shipment's whole Pareto front planned on every core,
then chosen and loaded within corridor capacity.
"""

from __future__ import annotations

import os
import tempfile
import time

from scenarios.demand import read_demand
from scenarios.runner import run_scenario
from scenarios.spec import load_scenario
from scenarios.sweep import run_sweep

SAMPLES = 12
SHIPMENTS = 50
CHUNK = 2
FULL_SHIPMENTS = 10_000


def sweep_row(workers: int) -> tuple[str, float]:
    """Sweep once on ``workers`` local workers; one formatted line and samples/s."""
    scenario = load_scenario("border_congestion")
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        run_sweep(scenario, directory, samples=SAMPLES, shipments=SHIPMENTS, chunk_size=CHUNK,
                  workers=workers, seed=0)  # fmt: skip
        elapsed = time.perf_counter() - started
    rate = SAMPLES / elapsed
    return (
        f"{'sweep, ' + str(workers) + ' worker(s)':<28} {SAMPLES:>8} {elapsed:>8.1f} {rate:>10.3f}",
        rate,
    )


def full_row() -> str:
    """The baseline with its demand scaled to about ``FULL_SHIPMENTS`` shipments."""
    base = load_scenario("baseline")
    document = base.model_dump(mode="json", exclude_none=True)
    document["demand"]["generate"]["scale"] = FULL_SHIPMENTS / len(read_demand(base))
    scenario = base.model_validate({**document, "base_dir": base.base_dir})
    started = time.perf_counter()
    result = run_scenario(scenario, workers=None)
    elapsed = time.perf_counter() - started
    planned = result.kpis["planned"]
    return f"{'baseline, full demand':<28} {planned:>8} {elapsed:>8.1f} {planned / elapsed:>10.1f}"


def main() -> None:
    """Print the table."""
    print(
        f"Scenarios: sweeps of border_congestion ({SHIPMENTS} shipments per sample, {CHUNK} "
        f"samples per task) and one baseline run; {os.cpu_count()} cores"
    )
    print(f"{'run':<28} {'items':>8} {'secs':>8} {'items/s':>10}")
    one_line, one = sweep_row(1)
    print(one_line, flush=True)
    two_line, two = sweep_row(2)
    print(two_line, flush=True)
    print(f"{'scaling 2 workers / 1':<28} {'':>8} {'':>8} {two / one:>10.2f}", flush=True)
    print(full_row(), flush=True)
    print("items: samples for sweeps (cluster start-up included), shipments for the full run")


if __name__ == "__main__":
    main()
