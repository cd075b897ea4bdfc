"""Workers: claim queued jobs, run them with a heartbeat, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid

from sqlalchemy.orm import Session, sessionmaker

from api.db.models import JobRecord
from api.jobs import queue
from api.jobs.kinds import KINDS, JobInputError
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
    ) -> None:
        self.sessions, self.network = sessions, network
        self.lease_seconds, self.poll_seconds = lease_seconds, poll_seconds
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

    def _run(self, job_id: str, attempt: int) -> None:
        with self.sessions() as session:
            job = session.get(JobRecord, job_id)
            if job is None:
                return
            kind, job_input = job.kind, job.input
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
            queue.finish(self.sessions, job_id, self.name, attempt, "succeeded", result=result)
        finally:
            beating.set()
            thread.join()
