"""Workers: claim queued jobs, run them with a heartbeat, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.db.models import JobRecord
from api.jobs import queue
from api.jobs.kinds import KINDS
from api.jobs.records import JobInputError
from network_data import Network

log = logging.getLogger("shudao.worker")


def worker_name() -> str:
    """host:pid:random, unique per worker."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs jobs one at a time until ``stop`` is set.

    The lease is renewed every ``lease_seconds / 3``; a worker that dies stops renewing it, and
    any worker's recovery pass requeues (or, after two attempts, fails) the job.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        network: Network,
        *,
        lease_seconds: float = 15.0,
        poll_seconds: float = 0.5,
        dask_scheduler: str | None = None,
    ) -> None:
        self.sessions, self.network = sessions, network
        self.lease_seconds, self.poll_seconds = lease_seconds, poll_seconds
        self.dask_scheduler = dask_scheduler
        self._dask: Any = None
        self.name = worker_name()
        self.stop = threading.Event()

    def run_forever(self) -> None:
        """Recover, claim, run; sleep ``poll_seconds`` when there is nothing to do."""
        while not self.stop.is_set():
            if not self.run_once():
                self.stop.wait(self.poll_seconds)

    def run_once(self) -> bool:
        """Run at most one job; return whether one was run."""
        queue.recover(self.sessions, self.lease_seconds)
        claimed = queue.claim(self.sessions, self.name)
        if claimed is None:
            return False
        job_id, attempt = claimed
        self._run(job_id, attempt)
        return True

    def _run_on_dask(self, kind: str, job_input: dict[str, Any], job_id: str) -> dict[str, Any]:
        """Run the job on the Dask cluster; this worker keeps the lease and watches for cancel."""
        from distributed import Client

        if self._dask is None:
            client = Client(self.dask_scheduler, timeout=30)  # type: ignore[no-untyped-call]
            shared = client.scatter(self.network, broadcast=True)  # type: ignore[no-untyped-call]
            self._dask = (client, shared)
        client, network = self._dask
        future = client.submit(_run_detached, kind, job_input, network, pure=False)
        while not future.done():
            if queue.cancel_requested(self.sessions, job_id):
                future.cancel()
                raise InterruptedError("cancelled")
            time.sleep(0.2)
        result: dict[str, Any] = future.result()
        return result

    def close(self) -> None:
        """Release the Dask client, if any."""
        if self._dask is not None:
            self._dask[0].close()
            self._dask = None

    def _run(self, job_id: str, attempt: int) -> None:
        with self.sessions() as session:
            job = session.get(JobRecord, job_id)
            if job is None:
                return
            kind, job_input = job.kind, job.input
            try:
                if KINDS[kind].prepare is not None:
                    job_input = KINDS[kind].prepare(session, job)  # type: ignore[misc]
            except JobInputError as exc:
                queue.finish(self.sessions, job_id, self.name, attempt, "failed", error=str(exc))
                return
        progress = {"value": 0.0}
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(self.lease_seconds / 3):
                queue.heartbeat(self.sessions, job_id, self.name, progress["value"])

        def report(value: float) -> bool:
            progress["value"] = value
            queue.heartbeat(self.sessions, job_id, self.name, value)
            return not queue.cancel_requested(self.sessions, job_id)

        thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{job_id[:8]}")
        thread.start()
        try:
            if self.dask_scheduler:
                result = self._run_on_dask(kind, job_input, job_id)
            else:
                result = KINDS[kind].run(job_input, self.network, report)
        except InterruptedError:
            queue.finish(
                self.sessions, job_id, self.name, attempt, "cancelled", error="cancelled on request"
            )
        except JobInputError as exc:
            queue.finish(self.sessions, job_id, self.name, attempt, "failed", error=str(exc))
        except Exception as exc:  # a job's failure is recorded, never raised into the worker
            log.error("job %s failed: %s", job_id, traceback.format_exc())
            queue.finish(
                self.sessions,
                job_id,
                self.name,
                attempt,
                "failed",
                error=f"{type(exc).__name__}: {exc}",
            )
        else:
            record = KINDS[kind].record
            if record is not None:
                with self.sessions() as session:
                    job = session.get(JobRecord, job_id)
                    assert job is not None  # jobs are never deleted
                    result = record(session, job, result)
            queue.finish(self.sessions, job_id, self.name, attempt, "succeeded", result=result)
        finally:
            beating.set()
            thread.join()


def _run_detached(kind: str, job_input: dict[str, Any], network: Network) -> dict[str, Any]:
    """A job body run on a Dask worker: no progress reports (the lease holder heartbeats)."""
    return KINDS[kind].run(job_input, network, lambda _: True)
