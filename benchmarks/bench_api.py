"""Loopback load test of ``POST /v1/route-plans`` with wrk, 1 and 2 server workers.

Bounded: wrk runs for DURATION_S seconds with CONNECTIONS connections against 127.0.0.1 only.
Target (issue 4, 2 cores): >= 300 requests/s with p99 <= 50 ms.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

DURATION_S = int(os.environ.get("SHUDAO_BENCH_API_SECONDS", "10"))
CONNECTIONS = 16
TARGET_RPS, TARGET_P99_MS = 300.0, 50.0
BODY = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2,
        "ready_at": "2026-11-23T08:00:00+08:00"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"service at {url} did not become ready")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run(workers: int, directory: Path) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx responses) for one server configuration."""
    database = directory / f"bench{workers}.db"
    env = {
        **os.environ,
        "SHUDAO_DATABASE_URL": f"sqlite:///{database}",
        "SHUDAO_RATE_LIMIT_PER_MINUTE": "10000000",
        "SHUDAO_RATE_LIMIT_BURST": "100000",
    }
    shudao = [sys.executable, "-m", "api.cli"]
    subprocess.run(
        [*shudao, "admin", "create-org", "bench"], env=env, check=True, capture_output=True
    )
    create_key = [*shudao, "admin", "create-key", "--org", "bench", "--role", "forwarder"]
    issued = subprocess.run(create_key, env=env, check=True, capture_output=True, text=True)
    key = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [*shudao, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(BODY))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    try:
        _wait_ready(url)
        subprocess.run(["wrk", "-t1", "-c2", "-d2s", "-s", str(script), f"{url}/v1/route-plans"],
                       check=True, capture_output=True)  # warm-up  # fmt: skip
        output = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", "-s", str(script),
             f"{url}/v1/route-plans"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rps, p50, p99, int(errors.group(1)) if errors else 0


def main() -> None:
    """Print the API load table."""
    if shutil.which("wrk") is None:
        print("API load test skipped: wrk is not installed (Debian package 'wrk')")
        return
    print(f"API: POST /v1/route-plans, wrk {CONNECTIONS} connections for {DURATION_S} s, loopback")
    print(f"{'server workers':<16} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
          f"{'rps/target':>11} {'p99 ok':>7}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            rps, p50, p99, errors = run(workers, Path(tmp))
            p99_ok = "yes" if p99 <= TARGET_P99_MS else "no"
            print(
                f"{workers:<16} {rps:>11.1f} {p50:>8.1f} {p99:>8.1f} {errors:>8} "
                f"{rps / TARGET_RPS:>11.2f} {p99_ok:>7}"
            )


if __name__ == "__main__":
    main()
