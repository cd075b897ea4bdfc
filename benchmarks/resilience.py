"""The service under sustained mixed load, races and long jobs (issue 19): ``make bench`` runs
:func:`main`; alone: ``python -m benchmarks.resilience``.

Mixed load: ``shudao serve --workers 2`` (SQLite, and PostgreSQL when the server of
``SHUDAO_TEST_POSTGRES_URL`` answers), 32 wrk connections back to back for MIXED_S seconds (3
minutes unless ``SHUDAO_BENCH_RESILIENCE_SECONDS`` says otherwise) in windows of WINDOW_S
seconds, each connection cycling through what a busy Monday sends: route plans (stored), plan
lists, bookings (new ones, so the ledger grows all along), booking lists, a warehouse's ledger,
place search and one-row route-batch jobs. Printed: requests/s per window (a service that slows
as history piles up shows it here), p99, 5xx (target 0), and the server processes' memory at the
start and the end; beside it, in the same run, route plans alone on the same connections.

Then the ledger's rows (:mod:`benchmarks.resilience_ledger`: booking latency with 0 and 3,000
bookings in the same weeks, target within 1.5x; 100 bookings racing for the last capacity,
targets 0 overbookings and 0 5xx) and the fairness row (:mod:`benchmarks.resilience_jobs`: short
jobs of one organisation beside a long job of another).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx2

from benchmarks import resilience_jobs, resilience_ledger
from benchmarks.bench_api import BODY, Server, _ms, _postgres_database, serving

MIXED_S = int(os.environ.get("SHUDAO_BENCH_RESILIENCE_SECONDS", "180"))
WINDOW_S = 30
CONNECTIONS = 32
#: A booking of one pallet from a random week of twelve to the last, so history piles up (Lua).
NEW_BOOKING = (
    'string.format(\'{"warehouse_id": "%s", "first_week": "2027-W%02d", "last_week": "2027-W12", '
    '"pallets": 1, "volume_m3": 1.0}\', warehouse, math.random(1, 12))'
)
#: The mix, as (requests per cycle of 20, role, method, path, body: JSON data or a Lua expression).
MIX = (
    (8, "forwarder", "POST", "/v1/route-plans", BODY),
    (2, "forwarder", "GET", "/v1/route-plans?limit=20", None),
    (3, "forwarder", "POST", "/v1/bookings", NEW_BOOKING),
    (2, "forwarder", "GET", "/v1/bookings?limit=20", None),
    (2, "coordinator", "GET", "/v1/warehouses/{warehouse}/capacity?first_week=2027-W01", None),
    (2, "forwarder", "GET", "/v1/network/search?q=chongq", None),
    (1, "forwarder", "POST", "/v1/jobs", {"kind": "route-batch", "input": {"shipments": [
        {"origin": "Wuhu", "destination": "Rotterdam", "weight_kg": 500, "volume_m3": 2}]}}),
)  # fmt: skip


class Window(NamedTuple):
    """What wrk measured in one window of the load."""

    rps: float
    p99_ms: float
    server_errors: int


def _lua(server: Server, warehouse_id: str, mix: tuple[Any, ...] = MIX) -> str:
    """A wrk script cycling through ``mix`` and counting 5xx answers over its threads."""
    lines = [f"local warehouse = {json.dumps(warehouse_id)}", "local headers = {}"]
    for role, key in server.keys.items():
        lines.append(f'headers["{role}"] = {{["Authorization"] = "Bearer {key}", '
                     '["Content-Type"] = "application/json"}')  # fmt: skip
    lines.append("local requests = {}")
    for weight, role, method, path, body in mix:
        lua_body = "nil" if body is None else body if isinstance(body, str) else json.dumps(
            json.dumps(body)
        )  # fmt: skip
        path = path.replace("{warehouse}", '" .. warehouse .. "')
        request = (f'function() return wrk.format("{method}", "{path}", headers["{role}"], '
                   f"{lua_body}) end")  # fmt: skip
        lines += [f"table.insert(requests, {request})"] * weight
    return "\n".join(
        [
            *lines,
            """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) server_errors = 0; turn = math.random(1, #requests) end
function request() turn = turn % #requests + 1; return requests[turn]() end
function response(status) if status >= 500 then server_errors = server_errors + 1 end end
function done()
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("server_errors") end
  io.write("server errors: " .. total .. "\\n")
end
""",
        ]
    )


def _wrk_window(script: Path, url: str, seconds: int) -> Window:
    import re

    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"server errors: (\d+)", output)
    return Window(rps, p99, int(errors.group(1)) if errors else -1)


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) == pid or int(fields.get("PPid", "0").strip()) == pid:
            total_kb += int(fields.get("VmRSS", "0 kB").split()[0])
    return total_kb / 1024


@contextmanager
def _warehouse(server: Server) -> Iterator[str]:
    """A warehouse of the coordinator's with room for every booking the load makes."""
    answer = httpx2.post(
        f"{server.url}/v1/warehouses", timeout=30,
        headers={"Authorization": f"Bearer {server.keys['coordinator']}"},
        json={"name": "Duisburg hall 3", "node_id": "WH-DEDUI", "pallets_per_week": 10_000_000,
              "volume_m3_per_week": 10_000_000.0},
    )  # fmt: skip
    answer.raise_for_status()
    yield str(answer.json()["id"])


def mixed_load(database: str, database_url: str, directory: Path) -> None:
    """Print the route-plan-only row and the mixed windows for one database."""
    with (
        serving(2, database_url, ("forwarder", "coordinator")) as server,
        _warehouse(server) as warehouse_id,
    ):
        plans = directory / "plans.lua"
        plans.write_text(_lua(server, warehouse_id, (MIX[0],)))
        mixed = directory / "mixed.lua"
        mixed.write_text(_lua(server, warehouse_id))
        _wrk_window(plans, server.url, 3)  # warm-up
        alone = _wrk_window(plans, server.url, WINDOW_S)
        rss_start_mb = _rss_mb(server.process.pid)
        windows = [_wrk_window(mixed, server.url, WINDOW_S) for _ in range(MIXED_S // WINDOW_S)]
        rss_end_mb = _rss_mb(server.process.pid)
        booked = httpx2.get(
            f"{server.url}/v1/warehouses/{warehouse_id}/capacity", timeout=30,
            params={"first_week": "2027-W12", "last_week": "2027-W12"},
            headers={"Authorization": f"Bearer {server.keys['coordinator']}"},
        ).json()  # fmt: skip
    print(f"{database:<11} route plans alone, {WINDOW_S} s: {alone.rps:.0f} req/s, "
          f"p99 {alone.p99_ms:.0f} ms, 5xx {alone.server_errors}")  # fmt: skip
    for i, window in enumerate(windows):
        print(f"{database:<11} mixed, {i * WINDOW_S:>3}-{(i + 1) * WINDOW_S:<3} s: "
              f"{window.rps:.0f} req/s ({window.rps / alone.rps:.2f} of plans alone), "
              f"p99 {window.p99_ms:.0f} ms, 5xx {window.server_errors}")  # fmt: skip
    weeks = booked.get("weeks", [{}])
    print(
        f"{database:<11} mixed: 5xx {sum(w.server_errors for w in windows)} (target 0); "
        f"requests/s last window / first {windows[-1].rps / windows[0].rps:.2f}; "
        f"server RSS {rss_start_mb:.0f} MB at the start, {rss_end_mb:.0f} MB at the end; "
        f"bookings in the last week at the end: {weeks[0].get('booked_pallets', '?')} pallets"
    )


def main() -> None:
    """Print the resilience tables."""
    if shutil.which("wrk") is None:
        print("resilience mixed load skipped: wrk is not installed (Debian package 'wrk')")
    else:
        print(f"Resilience: 2 server workers, {CONNECTIONS} connections, mixed load for "
              f"{MIXED_S} s in {WINDOW_S} s windows (route plans, lists, new bookings, ledger, "
              "search, jobs)")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp, _postgres_database() as postgres:
            directory = Path(tmp)
            mixed_load("SQLite", f"sqlite:///{directory / 'mixed.db'}", directory)
            if postgres is None:
                print("PostgreSQL rows skipped: no server at SHUDAO_TEST_POSTGRES_URL")
            else:
                mixed_load("PostgreSQL", postgres, directory)
    print()
    resilience_ledger.main()
    print()
    resilience_jobs.main()


if __name__ == "__main__":
    main()
