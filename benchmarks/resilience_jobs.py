"""The job runner beside long work (issue 19, item 5), through a real server on SQLite.

:func:`measure_fairness`: ``shudao serve`` (one server process, whose in-process runner works
on ``SHUDAO_JOB_SLOTS`` = 2 jobs at once) on a SQLite file. Organisation ``bench`` submits
LONG_JOBS pickups jobs of LONG_S seconds each (PyVRP solves until its time limit); once the
first is solving, organisation ``quick`` submits SHORT_JOBS one-row route batches one after
the other, each waited for. Reported, in seconds: the short jobs' wait (submitted to started)
and turnaround (submitted to finished), p50 and max, beside the same short jobs with nothing
else running. Before the fair runner, a short job waited for every long job queued before it
(the issue: two 90 s pickups jobs, a 90 s wait).

:func:`measure_batch_interference`: route plans of one client (sequential, one connection,
THINK_S between requests) for PLAN_S seconds with the runner idle, then while organisation
``bench`` has two 10,000-row route batches to run: p50 and p99 of the plans in ms. ``source``
runs another checkout of Shudao (e.g. ``git archive`` of an older commit) with this
interpreter, to compare runners.

Run alone with ``python -m benchmarks.resilience_jobs``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"
#: Long jobs of the busy organisation, and each one's solver time limit.
LONG_JOBS, LONG_S = 2, 40
#: Short jobs of the other organisation, measured alone and beside the long ones.
SHORT_JOBS = 10
#: Route plans measured per phase, and the client's pause between two of them.
PLAN_S, THINK_S = 15.0, 0.02
BATCH_ROWS = 10_000
REQUEST_TIMEOUT_S = 60.0
ONE_ROW = {"kind": "route-batch", "input": {"shipments": [
    {"origin": "Wuhu", "destination": "Rotterdam", "weight_kg": 500, "volume_m3": 2}]}}  # fmt: skip
PLAN = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2,
        "ready_at": "2026-11-23T08:00:00+08:00"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(url: str, method: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def _shudao(source: Path, env: dict[str, str], *arguments: str) -> str:
    """What ``shudao ARGUMENTS`` run from ``source`` prints."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *arguments], env=env, cwd=source, check=True,
        capture_output=True, text=True, timeout=REQUEST_TIMEOUT_S,
    ).stdout  # fmt: skip


@contextmanager
def _server(source: Path, organisations: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """``shudao serve`` from ``source`` on a new SQLite file: its URL and a key per organisation."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SHUDAO_DATABASE_URL": f"sqlite:///{Path(tmp) / 'jobs.db'}",
            "SHUDAO_RATE_LIMIT_PER_MINUTE": "10000000",
            "SHUDAO_RATE_LIMIT_BURST": "100000",
        }
        shudao = [sys.executable, "-m", "api.cli"]
        keys = {}
        for name in organisations:
            _shudao(source, env, "admin", "create-org", name)
            issued = _shudao(
                source, env, "admin", "create-key", "--org", name, "--role", "forwarder"
            )
            keys[name] = issued.strip().splitlines()[-1]
        url = f"http://127.0.0.1:{_free_port()}"
        server = subprocess.Popen(
            [*shudao, "serve", "--port", url.rsplit(":", 1)[1]], env=env, cwd=source,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"no server at {url} after 120 s") from None
                    time.sleep(0.3)
            yield url, keys
        finally:
            server.terminate()
            server.wait(timeout=60)


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _finished(url: str, key: str, job_id: str, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _call(f"{url}/v1/jobs/{job_id}", "GET", key)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not finish in {timeout_s} s")


def _short_jobs(url: str, key: str) -> dict[str, float]:
    """SHORT_JOBS one-row batches one after the other: wait and turnaround, p50 and max (s)."""
    waits, turnarounds = [], []
    for _ in range(SHORT_JOBS):
        job = _finished(url, key, _call(f"{url}/v1/jobs", "POST", key, ONE_ROW)["id"])
        if job["status"] != "succeeded":
            raise RuntimeError(f"a short job ended {job['status']}: {job['error']}")
        created = _moment(job["created_at"])
        waits.append(_moment(job["started_at"]) - created)
        turnarounds.append(_moment(job["finished_at"]) - created)
    return {
        "wait_p50_s": round(statistics.median(waits), 2),
        "wait_max_s": round(max(waits), 2),
        "turnaround_p50_s": round(statistics.median(turnarounds), 2),
        "turnaround_max_s": round(max(turnarounds), 2),
    }


def measure_fairness(source: Path | None = None) -> dict[str, Any]:
    """Short jobs of one organisation beside LONG_JOBS long jobs of another (seconds).

    Examples
    --------
    >>> figures = measure_fairness()  # doctest: +SKIP
    >>> figures["beside_long_jobs"]["wait_max_s"] < 2  # doctest: +SKIP
    True
    """
    long_job = {"kind": "pickups", "input": {
        "pickups_csv": (EXAMPLES / "pickups.csv").read_text(),
        "fleet_csv": (EXAMPLES / "fleet.csv").read_text(),
        "hub": "Chengdu rail port", "cutoff": "2026-12-03T18:00+08:00",
        "time_limit_s": LONG_S, "seed": 1}}  # fmt: skip
    with _server(source or Path.cwd(), ("bench", "quick")) as (url, keys):
        alone = _short_jobs(url, keys["quick"])
        long_ids = [
            _call(f"{url}/v1/jobs", "POST", keys["bench"], long_job)["id"] for _ in range(LONG_JOBS)
        ]
        deadline = time.monotonic() + 120
        while _call(f"{url}/v1/jobs/{long_ids[0]}", "GET", keys["bench"])["progress"] < 0.05:
            if time.monotonic() > deadline:
                raise RuntimeError("the long job did not start solving within 120 s")
            time.sleep(0.1)
        beside = _short_jobs(url, keys["quick"])
        states = [_call(f"{url}/v1/jobs/{j}", "GET", keys["bench"])["status"] for j in long_ids]
        for job_id in long_ids:
            _call(f"{url}/v1/jobs/{job_id}", "DELETE", keys["bench"])
    return {
        "long_jobs": LONG_JOBS, "long_time_limit_s": LONG_S, "short_jobs": SHORT_JOBS,
        "alone": alone, "beside_long_jobs": beside, "long_jobs_then": states,
    }  # fmt: skip


def _plan_latencies_ms(url: str, key: str, duration_s: float) -> list[float]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT_S)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps(PLAN)
    latencies = []
    deadline = time.monotonic() + duration_s
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("POST", "/v1/route-plans", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"route plan answered {response.status}")
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(THINK_S)
    finally:
        connection.close()
    return latencies


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ranked = sorted(latencies)
    return {
        "plans": len(ranked),
        "p50_ms": round(ranked[len(ranked) // 2], 1),
        "p99_ms": round(ranked[min(int(len(ranked) * 0.99), len(ranked) - 1)], 1),
    }


def measure_batch_interference(source: Path | None = None) -> dict[str, Any]:
    """Route-plan latency idle and beside two BATCH_ROWS-row route batches (ms).

    Examples
    --------
    >>> figures = measure_batch_interference()  # doctest: +SKIP
    >>> figures["beside_batches"]["p99_ms"] < 2 * figures["idle"]["p99_ms"]  # doctest: +SKIP
    True
    """
    places = [(o, d) for o in ("Chengdu", "Chongqing", "Wuhu", "Linshui", "Mianyang")
              for d in ("Duisburg", "Rotterdam", "Singapore", "Hamburg", "Budapest")]  # fmt: skip
    lines = ["origin,destination,weight_kg,volume_m3\n"]
    for i in range(BATCH_ROWS):
        origin, destination = places[i % len(places)]
        lines.append(f"{origin},{destination},{100 + i % 2000},{1 + i % 20}\n")
    csv = "".join(lines)
    batch = {"kind": "route-batch", "input": {"csv": csv}}
    with _server(source or Path.cwd(), ("bench", "planner")) as (url, keys):
        _plan_latencies_ms(url, keys["planner"], 2.0)  # warm the connection and the caches
        idle = _percentiles(_plan_latencies_ms(url, keys["planner"], PLAN_S))
        batch_ids = [_call(f"{url}/v1/jobs", "POST", keys["bench"], batch)["id"] for _ in range(2)]
        deadline = time.monotonic() + 120
        while _call(f"{url}/v1/jobs/{batch_ids[0]}", "GET", keys["bench"])["progress"] <= 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the first batch did not start within 120 s")
            time.sleep(0.1)
        beside = _percentiles(_plan_latencies_ms(url, keys["planner"], PLAN_S))
        progress = [
            _call(f"{url}/v1/jobs/{j}", "GET", keys["bench"])["progress"] for j in batch_ids
        ]
        for job_id in batch_ids:
            _call(f"{url}/v1/jobs/{job_id}", "DELETE", keys["bench"])
    return {"idle": idle, "beside_batches": beside, "batch_progress_after": progress}


def main() -> None:
    """Print the fairness and interference rows."""
    fairness = measure_fairness()
    print(
        f"Jobs: {SHORT_JOBS} one-row route batches of one organisation, alone and beside "
        f"{LONG_JOBS} pickups jobs of {LONG_S} s of another (1 server process, 2 slots)"
    )
    print(f"{'':>20} {'wait p50':>9} {'wait max':>9} {'done p50':>9} {'done max':>9}")
    for name in ("alone", "beside_long_jobs"):
        row = fairness[name]
        print(f"{name:>20} {row['wait_p50_s']:>8.2f}s {row['wait_max_s']:>8.2f}s "
              f"{row['turnaround_p50_s']:>8.2f}s {row['turnaround_max_s']:>8.2f}s")  # fmt: skip
    print(f"long jobs while the short ones ran: {', '.join(fairness['long_jobs_then'])}")
    interference = measure_batch_interference()
    print(f"\nRoute plans (one client, {PLAN_S:.0f} s) idle and beside two {BATCH_ROWS:,}-row "
          "route batches of another organisation")  # fmt: skip
    for name in ("idle", "beside_batches"):
        row = interference[name]
        print(f"{name:>20} {row['plans']:>6} plans  p50 {row['p50_ms']:>6.1f} ms  "
              f"p99 {row['p99_ms']:>6.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
