"""Loopback load test of ``POST /v1/route-plans`` with wrk: 1 and 2 server workers on SQLite,
and 2 on PostgreSQL when the server of ``SHUDAO_TEST_POSTGRES_URL`` answers (a database of
its own, dropped afterwards).

Two load shapes, each bounded to DURATION_S seconds against 127.0.0.1 only:

- **saturation**: 16 connections sending back to back, the most the service answers;
- **steady**: 36 clients that each wait a random think time (exponential, mean THINK_MS)
  after every answer, so about 330 requests/s are offered and the latency is what a client
  sees at that rate, not the queue that back-to-back senders build up themselves.

Target (issue 4, 2 cores, wrk sharing them): >= 300 requests/s with p99 <= 50 ms, read on the
steady row of 2 server workers, one per core; the 1-worker rows show what one core gives. Every
request plans Linshui -> Duisburg and stores the plan.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

import psycopg

from api.serve import serving_line

DURATION_S = int(os.environ.get("SHUDAO_BENCH_API_SECONDS", "15"))
SATURATION_CONNECTIONS = 16
STEADY_CONNECTIONS, THINK_MS = 36, 100
TARGET_RPS, TARGET_P99_MS = 300.0, 50.0
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BODY = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2,
        "ready_at": "2026-11-23T08:00:00+08:00"}  # fmt: skip


class Load(NamedTuple):
    """What wrk measured for one load shape."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


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


def written(output: IO[bytes]) -> bytes:
    """What a server process has written to ``output`` so far, read where it does not write:
    the file's offset is shared with it."""
    return os.pread(output.fileno(), os.fstat(output.fileno()).st_size, 0)


def _wait_said(output: IO[bytes], line: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if line.encode() in written(output):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the service did not say {line!r}")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(script: Path, url: str, connections: int) -> Load:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{DURATION_S}s", "--latency", "-s", str(script),
         f"{url}/v1/route-plans"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(rps, p50, p99, int(errors.group(1)) if errors else 0)


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """URL of a new PostgreSQL database, dropped on exit; None if the server does not answer."""
    server = os.environ.get("SHUDAO_TEST_POSTGRES_URL", POSTGRES_URL)
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"shudao_bench_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:  # no server, or one that will not create a database
        yield None
        return
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server(NamedTuple):
    """A ``shudao serve`` process under test: its URL, its process and an API key per role."""

    url: str
    process: subprocess.Popen[bytes]
    keys: dict[str, str]


@contextmanager
def serving(
    workers: int,
    database_url: str,
    roles: tuple[str, ...] = ("forwarder",),
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``shudao serve --workers N`` on ``database_url`` with rate limits out of the way, and a key
    of organisation ``bench`` for each of ``roles``; stopped on exit. ``settings`` are more
    ``SHUDAO_*`` variables (a dataset directory, say)."""
    env = {
        **os.environ,
        "SHUDAO_DATABASE_URL": database_url,
        "SHUDAO_RATE_LIMIT_PER_MINUTE": "10000000",
        "SHUDAO_RATE_LIMIT_BURST": "100000",
        **(settings or {}),
    }
    shudao = [sys.executable, "-m", "api.cli"]
    # Migrates the database; "bench" may exist from an earlier run on the same database.
    subprocess.run([*shudao, "admin", "create-org", "bench"], env=env, capture_output=True)
    keys = {}
    for role in roles:
        create_key = [*shudao, "admin", "create-key", "--org", "bench", "--role", role]
        issued = subprocess.run(create_key, env=env, check=True, capture_output=True, text=True)
        keys[role] = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [*shudao, "serve", "--port", str(port), "--workers", str(workers)]
    with tempfile.TemporaryFile() as said:
        server = subprocess.Popen(serve, env=env, stdout=said, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(url)
            if workers > 1:  # the load starts on every worker, not on the first ready
                _wait_said(said, serving_line(workers, workers))
            yield Server(url, server, keys)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run(workers: int, database_url: str, directory: Path) -> tuple[Load, Load]:
    """(saturation, steady) loads for one server configuration."""
    with serving(workers, database_url) as server:
        request = (
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(BODY))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {server.keys["forwarder"]}"\n'
        )
        back_to_back = directory / "post.lua"
        back_to_back.write_text(request)
        thinking = directory / "think.lua"
        # wrk's delay() runs before each request on that connection: an exponential think time.
        thinking.write_text(
            request + f"function delay() return -math.log(1 - math.random()) * {THINK_MS} end\n"
        )
        warm_up = [
            "wrk",
            "-t1",
            "-c2",
            "-d2s",
            "-s",
            str(back_to_back),
            f"{server.url}/v1/route-plans",
        ]
        subprocess.run(warm_up, check=True, capture_output=True)
        saturation = _wrk(back_to_back, server.url, SATURATION_CONNECTIONS)
        steady = _wrk(thinking, server.url, STEADY_CONNECTIONS)
    return saturation, steady


def main() -> None:
    """Print the API load table."""
    if shutil.which("wrk") is None:
        print("API load test skipped: wrk is not installed (Debian package 'wrk')")
        return
    print(f"API: POST /v1/route-plans on loopback, {DURATION_S} s per row; saturation: "
          f"{SATURATION_CONNECTIONS} connections back to back; steady: {STEADY_CONNECTIONS} "
          f"clients with a {THINK_MS} ms mean think time")  # fmt: skip
    print(f"{'database':<11} {'server workers':<15} {'load':<11} {'requests/s':>11} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'target':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, _postgres_database() as postgres:
        directory = Path(tmp)
        configurations = [("SQLite", workers, f"sqlite:///{directory / f'bench{workers}.db'}")
                          for workers in (1, 2)]  # fmt: skip
        if postgres is None:
            print("PostgreSQL rows skipped: no server at SHUDAO_TEST_POSTGRES_URL")
        else:
            configurations.append(("PostgreSQL", 2, postgres))
        for database, workers, url in configurations:
            saturation, steady = run(workers, url, directory)
            for name, load in (("saturation", saturation), ("steady", steady)):
                met = load.rps >= TARGET_RPS and load.p99_ms <= TARGET_P99_MS
                verdict = ""
                if name == "steady":
                    verdict = ("met" if met else "not met") if workers == 2 else "1 core"
                print(
                    f"{database:<11} {workers:<15} {name:<11} {load.rps:>11.1f} "
                    f"{load.p50_ms:>8.1f} {load.p99_ms:>8.1f} {load.errors:>8} {verdict:>8}"
                )


if __name__ == "__main__":
    main()
