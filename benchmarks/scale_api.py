"""Whether the service still answers while it plans on a large network (issue 23):
``python -m benchmarks.scale_api``.

A ``shudao serve`` process of one worker on a network ten times the bundled one (a hundred
times with ``SHUDAO_BENCH_SCALE_100=1``, :func:`network_data.synthetic.write_scaled_network`)
plans random shipments of the bundled network sent by ``PLANNERS`` clients back to back, for
``SHUDAO_BENCH_API_SECONDS`` seconds (15 by default), while a probe asks ``/healthz`` every
``PROBE_EVERY_S`` seconds and waits for each answer. Printed: the plans answered (and those
that failed: a 503 or an error), their p50 and p99, and the
probe's p50, p99 and slowest answer. A worker whose event loop is held by a plan answers its
probe only when the plan is done; one that plans off the loop answers at once.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks.bench_api import DURATION_S, serving
from benchmarks.bench_routing import random_shipments
from benchmarks.scale import percentiles
from network_data import load_network
from network_data.synthetic import write_scaled_network

FACTOR = 100 if os.environ.get("SHUDAO_BENCH_SCALE_100") == "1" else 10
PLANNERS = 4
PROBE_EVERY_S = 0.1
#: A first plan on a large network compiles its timetable: up to half a minute at 100x.
FIRST_PLAN_TIMEOUT_S = 300


def _bodies(count: int) -> list[bytes]:
    rows = random_shipments(load_network(), count).to_dict("records")
    keys = ("origin", "destination", "weight_kg", "volume_m3", "ready_at")
    return [json.dumps({key: row[key] for key in keys}, default=str).encode() for row in rows]


def _post(url: str, key: str, body: bytes, timeout_s: float) -> float:
    """Milliseconds until the plan's answer (which must be 201)."""
    request = urllib.request.Request(
        f"{url}/v1/route-plans", body, method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )  # fmt: skip
    begun = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        response.read()
        if response.status != 201:
            raise RuntimeError(f"route plan answered {response.status}")
    return (time.perf_counter() - begun) * 1000


def main() -> None:
    """Print the table of plans and probes on the scaled network."""
    bodies = _bodies(400)
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_scaled_network(FACTOR, Path(tmp) / "network")
        settings = {"SHUDAO_DATA_DIR": str(directory)}
        with serving(1, f"sqlite:///{Path(tmp) / 'bench.db'}", settings=settings) as server:
            key = server.keys["forwarder"]
            _post(server.url, key, bodies[0], FIRST_PLAN_TIMEOUT_S)
            stop_at = time.monotonic() + DURATION_S
            plans_ms: list[float] = []
            probes_ms: list[float] = []
            failed: list[str] = []
            taken = itertools.cycle(bodies[1:])
            lock = threading.Lock()

            def plan_until_stop() -> None:
                while time.monotonic() < stop_at:
                    with lock:
                        body = next(taken)
                    try:
                        plans_ms.append(_post(server.url, key, body, FIRST_PLAN_TIMEOUT_S))
                    except (OSError, RuntimeError) as exc:  # counted, and the client goes on
                        failed.append(str(exc))

            def probe_until_stop() -> None:
                while time.monotonic() < stop_at:
                    begun = time.perf_counter()
                    with urllib.request.urlopen(f"{server.url}/healthz", timeout=60) as answer:
                        answer.read()
                    probes_ms.append((time.perf_counter() - begun) * 1000)
                    time.sleep(PROBE_EVERY_S)

            threads = [threading.Thread(target=plan_until_stop) for _ in range(PLANNERS)]
            threads.append(threading.Thread(target=probe_until_stop))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    print(f"Service on a network {FACTOR}x the bundled one: 1 worker, {PLANNERS} clients "
          f"planning back to back for {DURATION_S} s, /healthz probed every "
          f"{PROBE_EVERY_S * 1000:.0f} ms")  # fmt: skip
    print(f"{'plans':>6} {'failed':>7} {'plans/s':>8} {'plan p50 ms':>12} "
          f"{'plan p99 ms':>12} {'probes':>7} {'probe p50 ms':>13} {'probe p99 ms':>13} "
          f"{'probe max ms':>13}")  # fmt: skip
    (plan_p50, plan_p99), (probe_p50, probe_p99) = percentiles(plans_ms), percentiles(probes_ms)
    print(f"{len(plans_ms):>6} {len(failed):>7} {len(plans_ms) / DURATION_S:>8.1f} "
          f"{plan_p50:>12.0f} {plan_p99:>12.0f} {len(probes_ms):>7} {probe_p50:>13.1f} "
          f"{probe_p99:>13.1f} {max(probes_ms):>13.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
