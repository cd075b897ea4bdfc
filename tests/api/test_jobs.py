"""Durable jobs: submit, follow, cancel, isolation, and recovery after a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from api.db.models import JobRecord, utc_now
from api.db.session import make_engine, make_sessionmaker, migrate
from api.jobs import queue
from api.jobs.worker import Worker
from network_data import Network
from tests.api.conftest import ClientFactory, new_key

SHIPMENT = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2,
            "ready_at": "2026-11-23T08:00:00+08:00"}  # fmt: skip


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def wait_for(client: TestClient, key: dict[str, str], job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=key).json()
        if job["status"] in queue.FINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def assert_rejected(
    client: TestClient, key: dict[str, str], kind: str, job_input: dict, field: str
) -> dict:
    """Submitting ``job_input`` answers 422 problem+json whose first error names ``field``, in
    under 2 KB (a bad value is quoted by a short prefix); returns the answer's document."""
    answer = client.post("/v1/jobs", json={"kind": kind, "input": job_input}, headers=key)
    assert answer.status_code == 422, answer.text[:2000]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
    assert len(answer.content) < 2048, answer.text[:2000]
    return answer.json()


def test_route_batch_job_runs_in_process(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    shipments = [SHIPMENT, {**SHIPMENT, "destination": "Atlantis"}]
    submitted = client.post(
        "/v1/jobs", json={"kind": "route-batch", "input": {"shipments": shipments}}, headers=key
    )
    assert submitted.status_code == 202 and submitted.json()["status"] == "queued"
    job = wait_for(client, key, submitted.json()["id"])
    assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["attempts"] == 1
    assert job["result"]["by_status"] == {"planned": 1, "invalid": 1}
    assert "Atlantis" in job["result"]["rows"][1]["error"]


def test_route_batch_from_csv(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    csv = (
        "origin,destination,weight_kg,volume_m3\nChongqing,Singapore,2000,9\nWuhu,Rotterdam,500,2\n"
    )
    job_id = client.post(
        "/v1/jobs", json={"kind": "route-batch", "input": {"csv": csv}}, headers=key
    ).json()["id"]
    assert wait_for(client, key, job_id)["result"]["by_status"] == {"planned": 2}


def test_invalid_job_input_and_kind(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    bad = client.post(
        "/v1/jobs",
        json={"kind": "route-batch", "input": {"shipments": [{"origin": "X"}]}},
        headers=key,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "input.shipments.0"
    assert "destination, volume_m3, weight_kg" in bad.json()["detail"]
    kind = client.post("/v1/jobs", json={"kind": "teleport", "input": {}}, headers=key)
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "kind"


def test_jobs_are_isolated_and_cancellable(make_client: ClientFactory) -> None:
    client = make_client(inprocess_worker=False)
    alice, bob = auth(new_key(client, "alice")), auth(new_key(client, "bob"))
    job_id = client.post(
        "/v1/jobs", json={"kind": "route-batch", "input": {"shipments": [SHIPMENT]}}, headers=alice
    ).json()["id"]
    assert client.get(f"/v1/jobs/{job_id}", headers=bob).status_code == 404
    assert client.delete(f"/v1/jobs/{job_id}", headers=bob).status_code == 404
    cancelled = client.delete(f"/v1/jobs/{job_id}", headers=alice).json()
    assert cancelled["status"] == "cancelled"
    # an ended job cannot be cancelled again: a problem, not the job
    again = client.delete(f"/v1/jobs/{job_id}", headers=alice)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "is cancelled; only a queued or running job" in again.json()["detail"]


def test_silent_worker_is_retried_once_then_failed(database_url: str, network: Network) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            from api.db import repositories

            organisation = repositories.create_organisation(session, "acme")
            job = queue.submit(session, organisation.id, "route-batch", {"shipments": [SHIPMENT]})
            session.commit()
            job_id = job.id

        def lose_worker() -> None:
            assert queue.claim(sessions, "doomed-worker") == (job_id, attempt)
            with sessions() as session:  # the worker dies: its heartbeat ages past the lease
                session.execute(
                    update(JobRecord).where(JobRecord.id == job_id)
                    .values(heartbeat_at=utc_now() - timedelta(seconds=60))
                )  # fmt: skip
                session.commit()
            assert queue.recover(sessions, lease_seconds=15) == [job_id]

        attempt = 1
        lose_worker()
        with sessions() as session:
            assert session.get(JobRecord, job_id).status == "queued"
        attempt = 2
        lose_worker()
        with sessions() as session:
            failed = session.get(JobRecord, job_id)
            assert failed.status == "failed" and "stopped 2 times" in failed.error
        # a late worker of a lost attempt cannot complete the job any more
        assert not queue.finish(sessions, job_id, "doomed-worker", 2, "succeeded", result={})
        Worker(sessions, network).run_once()
        with sessions() as session:
            assert session.get(JobRecord, job_id).status == "failed"
    finally:
        engine.dispose()


def test_killed_worker_process_loses_no_job(database_url: str, make_client: ClientFactory) -> None:
    """kill -9 a `shudao worker` mid-job: another worker finishes it, exactly once."""
    client = make_client(inprocess_worker=False)
    key = auth(new_key(client, "acme"))
    shipments = [{**SHIPMENT, "weight_kg": 100 + i} for i in range(600)]
    env = {**os.environ, "SHUDAO_DATABASE_URL": database_url, "SHUDAO_JOB_LEASE_SECONDS": "2"}

    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "--poll", "0.1"], env=env
        )

    submitted = client.post(
        "/v1/jobs", json={"kind": "route-batch", "input": {"shipments": shipments}}, headers=key
    )
    job_id = submitted.json()["id"]
    first = start_worker()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job = client.get(f"/v1/jobs/{job_id}", headers=key).json()
            if job["status"] == "running" and job["progress"] > 0:
                break
            time.sleep(0.1)
        assert job["status"] == "running", job
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    second = start_worker()
    try:
        done = wait_for(client, key, job_id, timeout_s=180)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert done["result"]["shipments"] == 600


def test_jobs_run_on_a_dask_cluster(database_url: str, network: Network) -> None:
    from distributed import LocalCluster

    engine = make_engine(database_url)
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    worker = Worker(make_sessionmaker(engine), network, dask_scheduler=cluster.scheduler_address)
    try:
        migrate(engine)
        with worker.sessions() as session:
            from api.db import repositories

            organisation = repositories.create_organisation(session, "acme")
            job_id = queue.submit(
                session, organisation.id, "route-batch", {"shipments": [SHIPMENT] * 3}
            ).id
            session.commit()
        assert worker.run_once()
        with worker.sessions() as session:
            job = session.get(JobRecord, job_id)
            assert job.status == "succeeded" and job.result["by_status"] == {"planned": 3}
    finally:
        worker.close()
        cluster.close()
        engine.dispose()


LOTS_CSV = (
    "id,seller,origin,destination,ready_date,deadline,weight_kg,volume_m3\n"
    + "".join(f"L{i},acme,Chengdu,Duisburg,2026-11-29,2026-12-31,2000,10\n" for i in range(6))
    + "BAD,acme,Chengdu,Duisburg,2026-11-29,2026-12-31,2000,-1\n"
)


def test_consolidation_job_returns_the_loading_plan(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    body = {
        "kind": "consolidation",
        "input": {"csv": LOTS_CSV, "hubs": ["CNCTU-RLY"], "from": "2026-12-02",
                  "to": "2026-12-02", "time_limit_s": 30, "seed": 1},
    }  # fmt: skip
    submitted = client.post("/v1/jobs", json=body, headers=key)
    assert submitted.status_code == 202
    job = wait_for(client, key, submitted.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    plan = job["result"]
    assert plan["status"] == "optimal"
    [departure] = plan["departures"]
    [unit] = departure["units"]
    assert unit["container_type"] == "40HQ" and len(unit["shipments"]) == 6
    assert plan["unplaced"] == [
        {"shipment_id": "BAD", "field": "volume_m3",
         "reason": "volume_m3: got -1.0; expected a number > 0 and <= 50,000"}
    ]  # fmt: skip


def test_consolidation_job_input_errors_name_the_field(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    for job_input, field in (
        ({"csv": LOTS_CSV, "from": "2026-12-02", "to": "2026-12-02"}, "input.hubs"),
        ({"csv": LOTS_CSV, "hubs": "Chengdu", "from": "soon", "to": "2026-12-02"}, "input.from"),
        ({"csv": LOTS_CSV, "hubs": "Chengdu", "from": "2026-12-02", "to": "2026-12-02",
          "time_limit_s": 3600}, "input.time_limit_s"),
        ({"shipments": [{"id": "A", "origin": "Chengdu"}], "hubs": "Chengdu",
          "from": "2026-12-02", "to": "2026-12-02"}, "input.shipments.0"),
    ):  # fmt: skip
        answer = client.post(
            "/v1/jobs", json={"kind": "consolidation", "input": job_input}, headers=key
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in answer.text
