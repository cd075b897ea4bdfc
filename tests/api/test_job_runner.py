"""The job runner under faults and load (issue 19, items 2 and 5), on SQLite and PostgreSQL.

A poisoned job fails with the reason and the runner goes on; a database that stops and starts
again does not end it; ``/readyz`` tells when it is not running; a cancel stops a solve within
a second; one organisation's long jobs do not hold back another's short one; an
organisation's job limits answer 429.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.db import repositories
from api.db.models import JobRecord, utc_now
from api.db.session import make_engine, make_sessionmaker, migrate
from api.jobs import allocation, queue
from api.jobs.allocation import AllocationInput
from api.jobs.consolidation import ConsolidationInput
from api.jobs.worker import Worker
from network_data import Network
from optimizer import jobs as job_contract
from optimizer.first_mile import solve as first_mile_solve
from scenarios import jobs as scenario_jobs
from tests.api.conftest import ClientFactory, new_key
from tests.api.test_jobs import SHIPMENT, auth, wait_for
from tests.live import free_port

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
#: How long the test's own PostgreSQL is stopped: the outage of the issue.
OUTAGE_S = 30.0


def long_pickups(time_limit_s: float = 60) -> dict[str, object]:
    """A pickups job whose PyVRP solve runs for its whole time limit (PyVRP stops on time)."""
    return {
        "kind": "pickups",
        "input": {
            "pickups_csv": (EXAMPLES / "pickups.csv").read_text(),
            "fleet_csv": (EXAMPLES / "fleet.csv").read_text(),
            "hub": "Chengdu rail port", "cutoff": "2026-12-03T18:00+08:00",
            "time_limit_s": time_limit_s, "seed": 1,
        },
    }  # fmt: skip


ONE_ROW_BATCH = {"kind": "route-batch", "input": {"shipments": [SHIPMENT]}}


def organisation_id(client: TestClient, name: str) -> str:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        return repositories.organisation_by_name(session, name).id


def submit_unchecked(client: TestClient, organisation: str, kind: str, job_input: dict) -> str:
    """Queue a job as an older server's validation let it through: straight into the table."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        job = queue.submit(session, organisation_id(client, organisation), kind, job_input)
        session.commit()
        return job.id


def wait_until(
    client: TestClient, key: dict[str, str], job_id: str, condition: str, timeout_s: float = 60
) -> dict:
    """The job once ``condition`` (``running``, or ``solving``: running past its set-up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=key).json()
        if job["status"] == "running" and (condition == "running" or job["progress"] >= 0.05):
            return job
        assert job["status"] in queue.ACTIVE, job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach {condition}: {job}")


# -- item 2: workers that survive ------------------------------------------------------------


def test_case2_poisoned_prepare_fails_the_job_and_the_runner_goes_on(client: TestClient) -> None:
    coordinator = auth(new_key(client, "cq-logistics", "coordinator"))
    poisoned = {
        "sellers": [{"seller": "a", "hub": "Linshui", "market": "MKT-DE",
                     "orders_per_week": 150, "m3_per_order": 0.036}],
        "warehouses": [{"warehouse": "Duisburg logport", "market": "MKT-DE",
                        "last_mile_cny_per_order": 38, "delivery_days": 2,
                        "rent_cny_per_pallet_week": 16, "handling_cny_per_inbound_pallet": 16,
                        "handling_cny_per_order": 13}],
        "first_week": "2199-W52", "weeks": 26,
    }  # fmt: skip
    # 2199-W52 plus 25 weeks is 2200-W25: a WeekError (an InvalidInputError) in prepare.
    week_error = submit_unchecked(client, "cq-logistics", "allocation", poisoned)
    # A kind this server does not run (a newer server's, sharing the database).
    unknown_kind = submit_unchecked(client, "cq-logistics", "teleport", {})
    failed = wait_for(client, coordinator, week_error)
    assert failed["status"] == "failed"
    # The ledger's own words for the week (first_week or the last week it reaches), prefixed.
    assert re.fullmatch(
        r"could not prepare the job: (first_week: got '2199-W52'|last_week: got '2200-W25'); "
        r"[^\n]*2199",
        failed["error"],
    ), failed["error"]
    unknown = wait_for(client, coordinator, unknown_kind)
    assert unknown["status"] == "failed"
    assert unknown["error"] == (
        "could not prepare the job: kind: got 'teleport'; this server runs route-batch, "
        "consolidation, allocation, pickups, scenario, parcel-batch"
    )
    for error in (failed["error"], unknown["error"]):
        assert "Error" not in error and "Traceback" not in error
    # The runner goes on: the next job runs, and the service is ready.
    after = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=coordinator).json()
    assert wait_for(client, coordinator, after["id"])["status"] == "succeeded"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["runner"] is True


def test_case2_readyz_reports_a_runner_that_is_not_running(client: TestClient) -> None:
    ready = client.get("/readyz").json()
    assert ready["checks"] == {"database": True, "network": True, "runner": True}
    assert ready["runner"]["running"] is True and ready["runner"]["last_error"] is None
    client.app.state.runner.close()  # type: ignore[attr-defined]
    stopped = client.get("/readyz")
    assert stopped.status_code == 503
    assert stopped.json()["checks"]["runner"] is False
    assert stopped.json()["runner"]["running"] is False


def test_a_service_without_its_own_runner_is_ready_without_one(
    make_client: ClientFactory,
) -> None:
    ready = make_client(inprocess_worker=False).get("/readyz")
    assert ready.status_code == 200 and "runner" not in ready.json()["checks"]


def _as_postgres(*command: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=True, capture_output=True, cwd="/", timeout=120,
    )  # fmt: skip


@pytest.fixture
def own_postgresql() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL 15 cluster of the test's own on a spare port: (URL, data directory)."""
    if not (POSTGRES_BIN / "initdb").is_file() or shutil.which("runuser") is None:
        pytest.skip(f"needs PostgreSQL 15 binaries in {POSTGRES_BIN} and runuser")
    home = Path(tempfile.mkdtemp(prefix="shudao-pg-"))
    shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()
    _as_postgres(str(POSTGRES_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\n")
        conf.write(f"unix_socket_directories = '{home}'\n")
    _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-l", str(home / "log"),
                 "-w", "-t", "60", "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(POSTGRES_BIN / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "-w", "stop"], capture_output=True,
                       cwd="/", timeout=120)  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


def test_case2_runner_survives_postgresql_stopped_and_started(
    own_postgresql: tuple[str, Path], network: Network
) -> None:
    url, data = own_postgresql
    pg_ctl = str(POSTGRES_BIN / "pg_ctl")
    from api.main import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(database_url=url), network=network)) as client:
        key = auth(new_key(client, "acme"))
        runner = client.app.state.runner  # type: ignore[attr-defined]
        # A job in hand when the database stops: 2,000 rows plan for several seconds.
        rows = [{**SHIPMENT, "weight_kg": 100 + i} for i in range(2_000)]
        in_hand = client.post(
            "/v1/jobs", json={"kind": "route-batch", "input": {"shipments": rows}}, headers=key
        ).json()["id"]
        wait_until(client, key, in_hand, "running")
        _as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        stopped_at = time.monotonic()
        deadline = stopped_at + 20
        while runner.health.failures_in_a_row < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        # Three failed passes in a row, backing off 0.5, 1 and 2 s: the loop still runs.
        assert runner.health.failures_in_a_row >= 3 and runner.health.running
        assert runner.health.last_error.endswith(": the database did not answer")
        assert client.get("/readyz").status_code == 503
        time.sleep(max(OUTAGE_S - (time.monotonic() - stopped_at), 0))
        assert runner.health.running
        _as_postgres(pg_ctl, "-D", str(data), "-l", str(data.parent / "log"), "-w", "start")
        # The job in hand is recorded once the database is back (the backoff is at most 30 s).
        done = wait_for(client, key, in_hand, timeout_s=90)
        assert done["status"] == "succeeded" and done["attempts"] == 1
        assert done["result"]["shipments"] == 2_000
        after = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).json()
        assert wait_for(client, key, after["id"], timeout_s=60)["status"] == "succeeded"
        ready = client.get("/readyz").json()
        assert ready["checks"]["runner"] is True and ready["runner"]["failures_in_a_row"] == 0


def test_a_stopping_runner_queues_its_jobs_again(make_client: ClientFactory) -> None:
    client = make_client()
    key = auth(new_key(client, "acme"))
    job_id = client.post("/v1/jobs", json=long_pickups(), headers=key).json()["id"]
    wait_until(client, key, job_id, "solving")
    started = time.monotonic()
    client.app.state.runner.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5
    job = client.get(f"/v1/jobs/{job_id}", headers=key).json()
    assert (job["status"], job["attempts"]) == ("queued", 0)


def test_a_job_whose_process_is_killed_fails_with_the_reason_and_the_runner_goes_on(
    client: TestClient,
) -> None:
    """The kernel's OOM killer (SIGKILL) ends a job's process, during a job or between two."""
    key = auth(new_key(client, "acme"))
    runner = client.app.state.runner  # type: ignore[attr-defined]
    job_id = client.post("/v1/jobs", json=long_pickups(), headers=key).json()["id"]
    wait_until(client, key, job_id, "solving")
    os.kill(runner._jobs[job_id].run.child.process.pid, signal.SIGKILL)
    killed = wait_for(client, key, job_id, timeout_s=10)
    assert killed["status"] == "failed"
    assert killed["error"] == (
        "the job's process ended before the job did (exit code -9, e.g. out of memory); not retried"
    )
    first = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).json()["id"]
    assert wait_for(client, key, first)["status"] == "succeeded"
    [idle] = runner._idle
    os.kill(idle.process.pid, signal.SIGKILL)
    idle.process.join(5)
    second = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).json()["id"]
    assert wait_for(client, key, second)["status"] == "succeeded"
    assert runner.health.failures_in_a_row == 0


# -- item 5: bounded, fair, cancellable work -------------------------------------------------


def test_case5_cancel_stops_a_running_solve_within_a_second(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    job_id = client.post("/v1/jobs", json=long_pickups(60), headers=key).json()["id"]
    wait_until(client, key, job_id, "solving")
    asked = time.monotonic()
    answer = client.delete(f"/v1/jobs/{job_id}", headers=key).json()
    assert answer["status"] in ("running", "cancelled") and answer["cancel_requested"]
    while (job := client.get(f"/v1/jobs/{job_id}", headers=key).json())["status"] == "running":
        assert time.monotonic() - asked < 1.0, "the solve was still running after 1 s"
        time.sleep(0.02)
    assert time.monotonic() - asked < 1.0
    assert job["status"] == "cancelled" and job["error"] == "cancelled on request"
    assert job["result"] is None
    # The runner takes the next job in a new process.
    after = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).json()
    assert wait_for(client, key, after["id"])["status"] == "succeeded"


def test_case5_short_job_of_one_org_does_not_wait_for_anothers_long_job(
    client: TestClient,
) -> None:
    busy, quick = auth(new_key(client, "busy-forwarder")), auth(new_key(client, "quick-forwarder"))
    long_jobs = [
        client.post("/v1/jobs", json=long_pickups(60), headers=busy).json()["id"] for _ in range(2)
    ]
    wait_until(client, busy, long_jobs[0], "solving")
    short = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=quick).json()["id"]
    done = wait_for(client, quick, short, timeout_s=30)
    assert done["status"] == "succeeded"
    # The short job started at once, in the slot kept for an organisation with nothing running;
    # the busy organisation's second job still waits for its first.
    waited_s = _moment(done["started_at"]) - _moment(done["created_at"])
    assert waited_s < 2.0, waited_s
    states = [client.get(f"/v1/jobs/{j}", headers=busy).json()["status"] for j in long_jobs]
    assert states == ["running", "queued"]
    for job_id in long_jobs:
        client.delete(f"/v1/jobs/{job_id}", headers=busy)
    for job_id in long_jobs:
        assert wait_for(client, busy, job_id, timeout_s=30)["status"] == "cancelled"


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_claim_takes_the_oldest_job_of_the_organisation_running_fewest(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            a = repositories.create_organisation(session, "a").id
            b = repositories.create_organisation(session, "b").id
            jobs = [queue.submit(session, org, "route-batch", {}).id for org in (a, a, a, b)]
            session.commit()
        a1, a2, a3, b1 = jobs
        assert queue.claim(sessions, "w") == (a1, 1)  # nobody runs anything: the oldest job
        assert queue.claim(sessions, "w") == (b1, 1)  # a runs one, b none: b's, though younger
        assert queue.claim(sessions, "w", max_running_per_organisation=1) is None  # both run one
        assert queue.claim(sessions, "w") == (a2, 1)
        assert queue.claim(sessions, "w") == (a3, 1)
        assert queue.claim(sessions, "w") is None
    finally:
        engine.dispose()


def test_case5_active_jobs_beyond_the_limit_answer_429(make_client: ClientFactory) -> None:
    client = make_client(inprocess_worker=False, job_max_active_per_organisation=2)
    key, other = auth(new_key(client, "acme")), auth(new_key(client, "globex"))
    first, second = (
        client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).json()["id"] for _ in range(2)
    )
    refused = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Retry-After" not in refused.headers  # no one knows when a job will end
    assert refused.json()["detail"].startswith(
        "your organisation has 2 jobs queued or running, the most it may have "
        "(SHUDAO_JOB_MAX_ACTIVE_PER_ORGANISATION = 2)"
    )
    assert client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=other).status_code == 202
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        assert session.query(JobRecord).count() == 3  # the refused job was not stored
    assert client.delete(f"/v1/jobs/{first}", headers=key).json()["status"] == "cancelled"
    assert client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key).status_code == 202
    assert client.get(f"/v1/jobs/{second}", headers=key).json()["status"] == "queued"


def test_case5_job_seconds_beyond_the_hour_answer_429_with_retry_after(
    make_client: ClientFactory,
) -> None:
    client = make_client(inprocess_worker=False, job_seconds_per_hour=100)
    key = auth(new_key(client, "acme"))
    now = utc_now()
    # Two runs in the last hour: 60 s from 11 to 10 minutes ago, 50 s ending 5 minutes ago.
    for started_s, ran_s in ((660, 60), (350, 50)):
        job_id = submit_unchecked(client, "acme", "pickups", {})
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            session.execute(
                update(JobRecord).where(JobRecord.id == job_id).values(
                    status="succeeded", started_at=now - timedelta(seconds=started_s),
                    finished_at=now - timedelta(seconds=started_s - ran_s),
                )
            )  # fmt: skip
            session.commit()
    refused = client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=key)
    assert refused.status_code == 429
    assert "ran 110 s in the last hour; the limit is 100 s per hour" in refused.json()["detail"]
    # 110 s is 10 s over: the first 10 s of the older run must leave the window, which starts
    # 660 s ago, so it slides 3,600 - 660 + 10 = 2,950 s (give or take the test's own second).
    assert abs(int(refused.headers["Retry-After"]) - 2950) <= 1
    assert client.post("/v1/jobs", json=ONE_ROW_BATCH, headers=auth(new_key(client, "globex"))
                       ).status_code == 202  # fmt: skip


def test_job_limits_in_the_openapi_are_the_validators_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["JobIn"]
    limits = schema["x-limits"]
    assert limits["route-batch"] == {"rows": {"shipments": 10_000}}
    lots = {"shipments": [{"id": "A", "origin": "Chengdu", "destination": "Duisburg",
                           "deadline": "2026-12-31", "weight_kg": 1, "volume_m3": 1}],
            "hubs": "Chengdu", "from": "2026-12-02", "to": "2026-12-02"}  # fmt: skip
    sellers = [
        {
            "seller": "a",
            "hub": "Linshui",
            "market": "MKT-DE",
            "orders_per_week": 1,
            "m3_per_order": 0.036,
        }
    ]
    terms = {
        "warehouse": "W",
        "market": "MKT-DE",
        "last_mile_cny_per_order": 38,
        "delivery_days": 2,
        "rent_cny_per_pallet_week": 16,
        "handling_cny_per_inbound_pallet": 16,
        "handling_cny_per_order": 13,
    }
    options = AllocationInput.model_validate(
        {"sellers": sellers, "warehouses": [terms], "first_week": "2026-W49"}
    ).model_dump()  # fmt: skip
    defaults = {
        "consolidation": ConsolidationInput.model_validate(lots).time_limit_s,
        "allocation": options["time_limit_s"],
        "pickups": first_mile_solve.TIME_LIMIT_S,
    }
    for kind, default_s in defaults.items():
        assert limits[kind]["time_limit_s"] == {"minimum": 0.1, "maximum": 600.0,
                                                "default": default_s}  # fmt: skip
    assert job_contract.MAX_SECONDS == 600.0 and allocation.MAX_WEEKS == 26
    assert limits["allocation"]["weeks"] == {
        "minimum": 1,
        "maximum": 26,
        "default": options["weeks"],
    }
    assert limits["scenario"]["sample"] == {
        "minimum": 1,
        "maximum": scenario_jobs.MAX_SAMPLE,
        "default": 200,
    }


def test_worker_refuses_no_slots(network: Network) -> None:
    with pytest.raises(ValueError, match=r"slots: got 0; expected an integer >= 1"):
        Worker(make_sessionmaker(make_engine("sqlite://")), network, slots=0)


def _line(process: subprocess.Popen[str], starting: str, timeout_s: float) -> str:
    """The first line the process prints that starts with ``starting`` (within ``timeout_s``)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while selector.select(max(deadline - time.monotonic(), 0)):
        line = process.stdout.readline()
        if line.startswith(starting) or not line:
            return line
    return ""


def test_case2_worker_process_waits_for_a_database_missing_at_start(tmp_path: Path) -> None:
    """``shudao worker`` on a database that cannot be opened yet waits for it, then runs."""
    missing = tmp_path / "later"
    env = {**os.environ, "SHUDAO_DATABASE_URL": f"sqlite:///{missing / 'jobs.db'}",
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    command = [sys.executable, "-m", "api.cli", "worker"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as worker:
        try:
            first = _line(worker, "database not ready", timeout_s=60)
            assert first == "database not ready (OperationalError); again in 0.5 s\n"
            missing.mkdir()
            assert "waiting for jobs" in _line(worker, "worker ", timeout_s=30)
            assert worker.poll() is None
        finally:
            worker.terminate()
            assert worker.wait(timeout=30) == 0
