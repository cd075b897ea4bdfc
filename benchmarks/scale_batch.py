"""A route batch of many shipments on Dask (issue 23 item 3): ``python -m benchmarks.scale_batch``.

Writes ``SHUDAO_BENCH_BATCH_ROWS`` random shipments (default 20,000;
``SHUDAO_BENCH_MILLION=1`` for 1,000,000) of the bundled network to a Parquet file
(``bench_routing.random_shipments``: origins in the pilot zones, destinations abroad, seeded),
then, for 1 and for 2 worker processes (``SHUDAO_BENCH_BATCH_WORKERS``, default ``1,2``), a child
process starts a LocalCluster (one thread a worker, the settings of
:data:`~optimizer.distributed.QUIET_LOCAL_CLUSTER`), loads the network on every worker
(``warm-up``), and plans the file with :func:`optimizer.routing.batch.plan_batch_to_parquet`
into a temporary directory. Reported: the batch's wall time and rows/s (the warm-up apart),
the driver's CPU time and peak memory (the child process: driver and the cluster's
scheduler), the largest worker's peak memory, rows per CPU second of the workers (which
other programs on the machine change far less than rows/s), the 2-vs-1 throughput ratio
against the target of 1.8x, and the machine's load average around the batch. Beside them, the
peer in the same run: :func:`plan_batch` (a process pool, every row in memory) on the first
5,000 rows with as many processes.

The million rows take 80 minutes to two hours on a 2-core machine (53 minutes on 1 worker,
then 27 on 2, on 2026-12-07's Intel Xeon; about 215 rows/s a worker on a slower AMD EPYC),
hence the switch.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.bench_routing import SEED, random_shipments
from network_data import load_network
from optimizer.distributed import local_cluster
from optimizer.routing.batch import cached_network, plan_batch, plan_batch_to_parquet

MILLION = os.environ.get("SHUDAO_BENCH_MILLION") == "1"
ROWS = 1_000_000 if MILLION else int(os.environ.get("SHUDAO_BENCH_BATCH_ROWS", "20000"))
WORKER_COUNTS = tuple(
    int(count) for count in os.environ.get("SHUDAO_BENCH_BATCH_WORKERS", "1,2").split(",")
)
#: Rows per chunk: about 100 chunks (so the last ones leave no worker idle for long), at most
#: the default of the batch function.
CHUNK_ROWS = int(os.environ.get("SHUDAO_BENCH_BATCH_CHUNK", str(max(100, min(1000, ROWS // 100)))))
PEER_ROWS = 5000
RATIO_TARGET = 1.8
#: Shipments generated at a time when writing the input file.
BLOCK_ROWS = 100_000


def write_shipments(path: Path, rows: int) -> None:
    """``rows`` random shipments, ids ``S0000000`` onwards, to a Parquet file, a block at a
    time."""
    network = load_network()
    writer: pq.ParquetWriter | None = None
    try:
        for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
            frame = random_shipments(network, min(BLOCK_ROWS, rows - start), seed=SEED + block)
            frame["id"] = [f"S{start + i:07d}" for i in range(len(frame))]
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(workers: int, source: Path, chunk_rows: int) -> dict[str, Any]:
    """Plan ``source`` on a new LocalCluster of ``workers`` processes; the figures."""
    from distributed import Client

    output = Path(tempfile.mkdtemp(prefix="shudao-batch-"))
    try:
        with (
            local_cluster(workers, silence_logs=logging.ERROR) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            began = time.perf_counter()
            client.run(cached_network)
            warm_s = time.perf_counter() - began
            load_before = os.getloadavg()[0]
            cpu_before, workers_before = _cpu_s(), client.run(_cpu_s)
            run = plan_batch_to_parquet(source, output / "plans", chunk_size=chunk_rows,
                                        client=client)  # fmt: skip
            driver_cpu_s = _cpu_s() - cpu_before
            workers_after = client.run(_cpu_s)
            worker_cpu_s = sum(workers_after[w] - workers_before.get(w, 0.0) for w in workers_after)
            worker_peak_mb = max(client.run(_peak_mb).values())
            load = (load_before, os.getloadavg()[0])
        return {
            "workers": workers,
            "rows": run.rows,
            "chunks": run.chunks,
            "seconds": run.elapsed_s,
            "rows_per_s": run.rows / run.elapsed_s,
            "warm_s": warm_s,
            "driver_cpu_s": driver_cpu_s,
            "worker_cpu_s": worker_cpu_s,
            "load": load,
            "driver_peak_mb": _peak_mb(),
            "worker_peak_mb": worker_peak_mb,
            "by_status": run.by_status,
        }
    finally:
        shutil.rmtree(output, ignore_errors=True)


def measure_peer(workers: int, source: Path) -> float:
    """Rows/s of :func:`plan_batch` (a process pool) on the first rows of ``source``."""
    network = load_network()
    table = pq.ParquetFile(source).read_row_group(0).slice(0, PEER_ROWS).to_pandas()
    plan_batch(network, table.iloc[:1], workers=1)  # compile the network before the clock
    began = time.perf_counter()
    plan_batch(network, table, workers=workers)
    return len(table) / (time.perf_counter() - began)


def main() -> None:
    """Write the shipments, measure each worker count in a child process, print the table."""
    directory = Path(tempfile.mkdtemp(prefix="shudao-batch-input-"))
    source = directory / "shipments.parquet"
    try:
        began = time.perf_counter()
        write_shipments(source, ROWS)
        written_s = time.perf_counter() - began
        print(
            f"Route batch on Dask, {ROWS:,} random shipments from Parquet (written in "
            f"{written_s:.1f} s, {source.stat().st_size / 2**20:.1f} MB), chunks of "
            f"{CHUNK_ROWS:,} rows, LocalCluster of 1-thread worker processes"
        )
        print(
            f"{'workers':>7} {'seconds':>8} {'rows/s':>8} {'warm-up s':>9} "
            f"{'driver CPU s':>12} {'driver peak MB':>14} {'worker peak MB':>14} "
            f"{'rows/worker CPU s':>17} {'x 1 worker':>10} {'peer rows/s':>11} {'load avg':>9}"
        )
        base: dict[str, Any] | None = None
        for workers in WORKER_COUNTS:
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.scale_batch", "--child", str(workers),
                 str(source), str(CHUNK_ROWS)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            row = json.loads(child.stdout.strip().splitlines()[-1])
            base = base or row
            peer = measure_peer(workers, source)
            print(
                f"{workers:>7} {row['seconds']:>8.1f} {row['rows_per_s']:>8,.0f} "
                f"{row['warm_s']:>9.1f} {row['driver_cpu_s']:>12.1f} "
                f"{row['driver_peak_mb']:>14,.0f} {row['worker_peak_mb']:>14,.0f} "
                f"{row['rows'] / row['worker_cpu_s']:>17,.0f} "
                f"{row['rows_per_s'] / base['rows_per_s']:>10.2f} {peer:>11,.0f} "
                f"{row['load'][0]:>4.1f}-{row['load'][1]:.1f}"
            )
        statuses = ", ".join(f"{k} {v:,}" for k, v in (base or {}).get("by_status", {}).items())
        print(f"rows by status: {statuses}")
        print(
            f"target: 2 workers >= {RATIO_TARGET}x the rows/s of 1 worker; peer: plan_batch "
            f"(process pool, in memory) on the first {PEER_ROWS:,} rows, as many processes; "
            f"load avg: the machine's 1-minute load before and after the batch ({os.cpu_count()} "
            "cores; above the worker count, something else was running)"
        )
        if not MILLION:
            print("SHUDAO_BENCH_MILLION=1 plans 1,000,000 shipments (about two hours on 2 cores)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        figures = measure(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        print(json.dumps(figures))
    else:
        main()
