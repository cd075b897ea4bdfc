"""The warehouse ledger under load (issue 19, item 7): what one booking costs with and without
history in its weeks, and 100 bookings racing for a warehouse's last capacity through a real
server.

``booking_latency(url)`` books on the repository level, one session and commit per booking as a
request does (HTTP, authentication and JSON left out, so the ratio shows the ledger alone):
first on an empty warehouse, then with 3,000 held bookings in the same weeks. Target: the
median with history within 1.5x of the median without.

``last_capacity_race(url)`` starts ``shudao serve --workers 2`` on the database (or uses the
server at ``base_url``), leaves 10 pallets free in one week and fires 100 one-pallet bookings
at once: 10 must be created, the others refused with 409, none answered 5xx, and the bookings
stored (summed from the bookings themselves, not the ledger's totals) must fit the capacity.

Run alone with ``python -m benchmarks.resilience_ledger`` (SQLite in a temporary directory, and
PostgreSQL at ``SHUDAO_TEST_POSTGRES_URL`` when that server answers).
"""

from __future__ import annotations

import random
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import repositories
from api.db.models import BookingRow
from api.db.session import make_engine, make_sessionmaker, migrate
from benchmarks.bench_api import _postgres_database, serving

#: Bookings timed on each warehouse, and bookings already in its weeks for the second figure.
TIMED_BOOKINGS, EXISTING_BOOKINGS = 100, 3_000
#: The weeks every timed booking asks for, and the weeks the existing bookings lie in.
TIMED_WEEKS = ("2026-W49", "2026-W52")
HISTORY_WEEKS = repositories.week_range("2026-W45", "2027-W04")
TARGET_RATIO = 1.5
#: The race: bookings fired at once, pallets free when they start (capacity 20, 10 booked).
RACERS, RACE_CAPACITY_PALLETS, RACE_BOOKED_PALLETS = 100, 20, 10
RACE_WEEK = "2026-W49"
REQUEST_TIMEOUT_S = 60.0


def _percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank).

    >>> _percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.9)
    5.0
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _setup(sessions: sessionmaker[Session], name: str) -> tuple[str, repositories.Actor]:
    """A large warehouse of a new organisation, and a seller booking into it."""
    with sessions() as session:
        owner = repositories.create_organisation(session, f"{name}-owner").id
        seller = repositories.create_organisation(session, f"{name}-seller").id
        coordinator = repositories.Actor(None, owner, "coordinator")
        warehouse = repositories.create_warehouse(
            session, coordinator, name, "WH-DEDUI", 10_000_000, 10_000_000.0
        )
        session.commit()
    return warehouse.id, repositories.Actor(None, seller, "forwarder")


def _book(
    session: Session, actor: repositories.Actor, warehouse_id: str, first: str, last: str
) -> None:
    assert actor.organisation_id is not None
    repositories.create_booking(
        session, actor, warehouse_id=warehouse_id, organisation_id=actor.organisation_id,
        first_week=first, last_week=last, pallets=1, volume_m3=0.5,
    )  # fmt: skip


def _timed_bookings(
    sessions: sessionmaker[Session], actor: repositories.Actor, warehouse_id: str
) -> list[float]:
    """Milliseconds of each of :data:`TIMED_BOOKINGS` bookings, a session and commit each."""
    times_ms = []
    for _ in range(TIMED_BOOKINGS):
        start = time.perf_counter()
        with sessions() as session:
            _book(session, actor, warehouse_id, *TIMED_WEEKS)
            session.commit()
        times_ms.append((time.perf_counter() - start) * 1000)
    return times_ms


def booking_latency(database_url: str) -> dict[str, Any]:
    """Median and p90 milliseconds of one booking on an empty warehouse and on one holding
    3,000 bookings in the same weeks.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of a database to write to (migrated here); its other data are kept.

    Returns
    -------
    dict
        ``empty_p50_ms``, ``empty_p90_ms``, ``full_p50_ms``, ``full_p90_ms``,
        ``existing_bookings``, ``ratio_p50`` (full over empty), ``target_ratio`` and ``met``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     figures = booking_latency(f"sqlite:///{pathlib.Path(tmp) / 'bench.db'}")
    >>> figures["existing_bookings"], figures["full_p50_ms"] > 0
    (3000, True)
    """
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        tag = secrets.token_hex(4)
        warm_id, warm_actor = _setup(sessions, f"warm-up {tag}")
        _timed_bookings(sessions, warm_actor, warm_id)  # connections, statement caches
        empty_id, actor = _setup(sessions, f"empty {tag}")
        empty = _timed_bookings(sessions, actor, empty_id)
        full_id, actor = _setup(sessions, f"full {tag}")
        draw = random.Random(19)
        with sessions() as session:
            for n in range(EXISTING_BOOKINGS):
                start = draw.randrange(len(HISTORY_WEEKS))
                end = min(len(HISTORY_WEEKS) - 1, start + draw.randrange(8))
                _book(session, actor, full_id, HISTORY_WEEKS[start], HISTORY_WEEKS[end])
                if n % 250 == 249:
                    session.commit()
            # Every timed week lies in the history's range: the history is "in the same weeks".
            _book(session, actor, full_id, *TIMED_WEEKS)
            session.commit()
        full = _timed_bookings(sessions, actor, full_id)
    finally:
        engine.dispose()
    ratio = statistics.median(full) / statistics.median(empty)
    return {
        "empty_p50_ms": statistics.median(empty),
        "empty_p90_ms": _percentile(empty, 0.9),
        "full_p50_ms": statistics.median(full),
        "full_p90_ms": _percentile(full, 0.9),
        "existing_bookings": EXISTING_BOOKINGS,
        "ratio_p50": ratio,
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }


def _key(sessions: sessionmaker[Session], organisation: str, role: str) -> dict[str, str]:
    with sessions() as session:
        repositories.create_organisation(session, organisation)
        issued = repositories.create_key(session, organisation, role)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def _race(base_url: str, sessions: sessionmaker[Session]) -> dict[str, Any]:
    import httpx2  # a test dependency: the benchmarks run in the dev environment

    tag = secrets.token_hex(4)
    coordinator = _key(sessions, f"race-owner-{tag}", "coordinator")
    sellers = [_key(sessions, f"race-seller-{tag}-{i}", "forwarder") for i in range(10)]
    limits = httpx2.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    with httpx2.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:
        warehouse = {
            "name": f"race {tag}", "node_id": "WH-DEDUI",
            "pallets_per_week": RACE_CAPACITY_PALLETS, "volume_m3_per_week": 100.0,
        }  # fmt: skip
        created = http.post("/v1/warehouses", json=warehouse, headers=coordinator)
        created.raise_for_status()
        warehouse_id = created.json()["id"]
        body = {"warehouse_id": warehouse_id, "first_week": RACE_WEEK, "last_week": RACE_WEEK,
                "pallets": RACE_BOOKED_PALLETS, "volume_m3": 1.0}  # fmt: skip
        http.post("/v1/bookings", json=body, headers=sellers[0]).raise_for_status()
        one = {**body, "pallets": 1, "volume_m3": 0.1}
        barrier = threading.Barrier(RACERS)

        def post(n: int) -> tuple[int | str, float]:
            barrier.wait(timeout=60)
            start = time.perf_counter()
            try:
                answer = http.post("/v1/bookings", json=one, headers=sellers[n % len(sellers)])
            except httpx2.HTTPError as exc:
                return type(exc).__name__, (time.perf_counter() - start) * 1000
            return answer.status_code, (time.perf_counter() - start) * 1000

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            outcomes = list(pool.map(post, range(RACERS)))
        wall_s = time.perf_counter() - started
    with sessions() as session:
        stored = session.execute(
            select(BookingRow.pallets, BookingRow.volume_m3).where(
                BookingRow.warehouse_id == warehouse_id,
                BookingRow.status.in_(("held", "confirmed")),
            )
        ).all()
    booked_pallets = sum(pallets for pallets, _ in stored)
    statuses = Counter(str(status) for status, _ in outcomes)
    latencies_ms = [ms for _, ms in outcomes]
    return {
        "requests": RACERS,
        "free_pallets": RACE_CAPACITY_PALLETS - RACE_BOOKED_PALLETS,
        "created": statuses.get("201", 0),
        "refused": statuses.get("409", 0),
        "server_errors": sum(n for s, n in statuses.items() if s.startswith("5")),
        "unanswered": sum(n for s, n in statuses.items() if not s.isdigit()),
        "statuses": dict(sorted(statuses.items())),
        "overbooked_pallets": max(0, booked_pallets - RACE_CAPACITY_PALLETS),
        "p50_ms": statistics.median(latencies_ms),
        "p99_ms": _percentile(latencies_ms, 0.99),
        "wall_s": wall_s,
    }


def last_capacity_race(database_url: str, base_url: str | None = None) -> dict[str, Any]:
    """100 simultaneous one-pallet bookings for the last 10 free pallets of a warehouse week.

    Parameters
    ----------
    database_url
        The database the server uses (keys are issued and bookings counted there directly).
    base_url
        A server already running on ``database_url``; None starts ``shudao serve --workers 2``
        for the run.

    Returns
    -------
    dict
        ``created`` (10 expected), ``refused`` (409s), ``server_errors`` (5xx), ``unanswered``
        (no answer within 60 s), ``statuses`` (count per status), ``overbooked_pallets``
        (stored held and confirmed pallets beyond the capacity), ``p50_ms``, ``p99_ms``,
        ``wall_s``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     race = last_capacity_race(f"sqlite:///{pathlib.Path(tmp) / 'race.db'}")
    >>> race["created"], race["overbooked_pallets"], race["server_errors"]
    (10, 0, 0)
    """
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        if base_url is not None:
            return _race(base_url, sessions)
        with serving(2, database_url, roles=()) as server:
            return _race(server.url, sessions)
    finally:
        engine.dispose()


def main() -> None:
    """Print both tables, on SQLite and (when it answers) PostgreSQL."""
    with tempfile.TemporaryDirectory() as tmp, _postgres_database() as postgres:
        databases = [("SQLite", f"sqlite:///{Path(tmp) / 'ledger.db'}")]
        if postgres is None:
            print("PostgreSQL rows skipped: no server at SHUDAO_TEST_POSTGRES_URL")
        else:
            databases.append(("PostgreSQL", postgres))
        print(f"Booking latency, ms: one booking of {TIMED_WEEKS[0]}..{TIMED_WEEKS[1]} on an "
              f"empty warehouse and with {EXISTING_BOOKINGS:,} bookings in the same weeks "
              f"({TIMED_BOOKINGS} timed each; target: p50 within {TARGET_RATIO}x)")  # fmt: skip
        print(f"{'database':<11} {'empty p50':>10} {'empty p90':>10} {'3,000 p50':>10} "
              f"{'3,000 p90':>10} {'ratio':>6} {'target':>8}")  # fmt: skip
        for name, url in databases:
            f = booking_latency(url)
            print(f"{name:<11} {f['empty_p50_ms']:>10.2f} {f['empty_p90_ms']:>10.2f} "
                  f"{f['full_p50_ms']:>10.2f} {f['full_p90_ms']:>10.2f} {f['ratio_p50']:>6.2f} "
                  f"{'met' if f['met'] else 'not met':>8}")  # fmt: skip
        print()
        print(f"Last capacity: {RACERS} one-pallet bookings at once for "
              f"{RACE_CAPACITY_PALLETS - RACE_BOOKED_PALLETS} free pallets, shudao serve "
              "--workers 2")  # fmt: skip
        print(f"{'database':<11} {'201':>5} {'409':>5} {'5xx':>5} {'no answer':>10} "
              f"{'overbooked':>11} {'p50 ms':>8} {'p99 ms':>8} {'wall s':>7}")  # fmt: skip
        for name, url in databases:
            r = last_capacity_race(url)
            print(f"{name:<11} {r['created']:>5} {r['refused']:>5} {r['server_errors']:>5} "
                  f"{r['unanswered']:>10} {r['overbooked_pallets']:>11} {r['p50_ms']:>8.1f} "
                  f"{r['p99_ms']:>8.1f} {r['wall_s']:>7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
