"""The job table as a queue. Every state change is one conditional UPDATE, so two workers can
never both claim a job, and a worker that lost its lease can no longer complete it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db.models import JobRecord, utc_now
from api.db.repositories import get_owned, new_id

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINAL = ("succeeded", "failed", "cancelled")
#: A running job whose worker stopped heartbeating is retried this many times in all.
MAX_ATTEMPTS = 2


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed."""
    return int(result.rowcount)


def submit(
    session: Session, organisation_id: str, kind: str, job_input: dict[str, Any]
) -> JobRecord:
    """Queue a job."""
    job = JobRecord(
        id=new_id(),
        organisation_id=organisation_id,
        kind=kind,
        status="queued",
        progress=0.0,
        input=job_input,
        attempts=0,
        created_at=utc_now(),
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, organisation_id: str, job_id: str) -> JobRecord:
    """One job of this organisation."""
    return get_owned(session, JobRecord, organisation_id, job_id, "job")


def cancel(session: Session, organisation_id: str, job_id: str) -> JobRecord:
    """Cancel a queued job at once, or ask a running job's worker to stop."""
    job = get(session, organisation_id, job_id)
    if job.status == "queued":
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.status == "queued")
            .values(status="cancelled", finished_at=utc_now())
        )
    elif job.status == "running":
        job.cancel_requested = True
    session.flush()
    session.refresh(job)
    return job


def claim(sessions: sessionmaker[Session], worker: str) -> tuple[str, int] | None:
    """Take the oldest queued job; return its id and attempt number, or None."""
    with sessions() as session:
        candidates = session.scalars(
            select(JobRecord.id)
            .where(JobRecord.status == "queued")
            .order_by(JobRecord.created_at)
            .limit(5)
        ).all()
        for job_id in candidates:
            now = utc_now()
            claimed = _rowcount(
                session.execute(
                    update(JobRecord)
                    .where(JobRecord.id == job_id, JobRecord.status == "queued")
                    .values(
                        status="running",
                        worker=worker,
                        started_at=now,
                        heartbeat_at=now,
                        attempts=JobRecord.attempts + 1,
                    )
                )
            )
            session.commit()
            if claimed == 1:
                attempts = session.scalar(select(JobRecord.attempts).where(JobRecord.id == job_id))
                return job_id, int(attempts or 0)
    return None


def heartbeat(sessions: sessionmaker[Session], job_id: str, worker: str, progress: float) -> bool:
    """Renew the lease and record progress; False if the job is no longer this worker's."""
    with sessions() as session:
        renewed = _rowcount(
            session.execute(
                update(JobRecord)
                .where(
                    JobRecord.id == job_id,
                    JobRecord.worker == worker,
                    JobRecord.status == "running",
                )
                .values(heartbeat_at=utc_now(), progress=progress)
            )
        )
        session.commit()
        return renewed == 1


def cancel_requested(sessions: sessionmaker[Session], job_id: str) -> bool:
    """Whether someone asked to cancel the job."""
    with sessions() as session:
        return bool(
            session.scalar(select(JobRecord.cancel_requested).where(JobRecord.id == job_id))
        )


def finish(
    sessions: sessionmaker[Session],
    job_id: str,
    worker: str,
    attempt: int,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Record the outcome, only if this worker still holds this attempt of the job."""
    with sessions() as session:
        done = _rowcount(
            session.execute(
                update(JobRecord)
                .where(
                    JobRecord.id == job_id,
                    JobRecord.worker == worker,
                    JobRecord.attempts == attempt,
                    JobRecord.status == "running",
                )
                .values(
                    status=status,
                    result=result,
                    error=error,
                    finished_at=utc_now(),
                    progress=1.0 if status == "succeeded" else JobRecord.progress,
                )
            )
        )
        session.commit()
        return done == 1


def recover(sessions: sessionmaker[Session], lease_seconds: float) -> list[str]:
    """Requeue running jobs whose worker went silent; fail them after :data:`MAX_ATTEMPTS`."""
    stale = utc_now() - timedelta(seconds=lease_seconds)
    recovered = []
    with sessions() as session:
        for job in session.scalars(
            select(JobRecord).where(JobRecord.status == "running", JobRecord.heartbeat_at < stale)
        ).all():
            values: dict[str, Any]
            if job.attempts >= MAX_ATTEMPTS:
                values = {
                    "status": "failed",
                    "finished_at": utc_now(),
                    "worker": None,
                    "error": f"the worker running this job stopped {job.attempts} times "
                    "(crash or restart); not retried again",
                }
            else:
                values = {"status": "queued", "worker": None, "heartbeat_at": None}
            changed = _rowcount(
                session.execute(
                    update(JobRecord)
                    .where(
                        JobRecord.id == job.id,
                        JobRecord.status == "running",
                        JobRecord.heartbeat_at < stale,
                    )
                    .values(**values)
                )
            )
            if changed == 1:
                recovered.append(job.id)
        session.commit()
    return recovered
