"""The job table as a queue. Every state change is one conditional UPDATE, so two workers can
never both claim a job, and a worker that lost its lease can no longer complete it.

Organisations share the runners fairly: :func:`claim` takes the oldest queued job of the
organisation running the fewest jobs, and :func:`submit` refuses work beyond an organisation's
limits (:class:`JobLimits`) with a :class:`JobLimitError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db.models import JobRecord, Organisation, utc_now
from api.db.repositories import get_owned, new_id
from optimizer.errors import ShudaoError

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINAL = ("succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
#: A running job whose worker stopped heartbeating is retried this many times in all.
MAX_ATTEMPTS = 2
#: The window of :attr:`JobLimits.seconds_per_hour`.
HOUR_S = 3600.0


@dataclass(frozen=True)
class JobLimits:
    """What one organisation may ask of the runners.

    ``max_active``: jobs queued or running at once. ``seconds_per_hour``: seconds its jobs ran
    in the last hour (any kind, measured from start to finish, cancelled and failed runs
    included), checked when a job is submitted.
    """

    max_active: int
    seconds_per_hour: float


class JobLimitError(ShudaoError):
    """A submission beyond an organisation's :class:`JobLimits`; the message names the limit.

    ``retry_after_s`` says when a submission can succeed, when that is known.
    """

    def __init__(self, detail: str, *, retry_after_s: int | None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed."""
    return int(result.rowcount)


def _lock_organisation(session: Session, organisation_id: str) -> None:
    """Serialise submissions of one organisation until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the organisation's row. SQLite has one database
    write lock: :func:`submit` inserts the job before it counts, so the count runs under that
    lock and sees every other submission committed before it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
        )


def _seconds_run(
    session: Session, organisation_id: str, now: datetime, window_s: float = HOUR_S
) -> list[tuple[float, float]]:
    """The organisation's job runs overlapping the last ``window_s`` seconds before ``now``.

    Each run is ``(start, end)`` in seconds before ``now`` (a running job ends at 0), clipped
    to the window. A job queued again after its worker died is not counted until it runs
    again.
    """
    since = now - timedelta(seconds=window_s)
    rows = session.execute(
        select(JobRecord.started_at, JobRecord.finished_at).where(
            JobRecord.organisation_id == organisation_id,
            JobRecord.status != "queued",
            JobRecord.started_at.is_not(None),
            (JobRecord.finished_at.is_(None)) | (JobRecord.finished_at > since),
        )
    ).all()
    runs = []
    for started, finished in rows:
        assert started is not None  # selected so
        start_s = min((now - started).total_seconds(), window_s)
        end_s = max((now - finished).total_seconds(), 0.0) if finished is not None else 0.0
        if start_s > end_s:
            runs.append((start_s, end_s))
    return runs


def seconds_until_within(runs: Iterable[tuple[float, float]], budget_s: float) -> float:
    """How long until the runs' seconds inside the sliding window fall below ``budget_s``.

    ``runs`` as :func:`_seconds_run` gives them (seconds before now, inside the window); the
    window slides forward and no new run starts meanwhile, so the oldest seconds leave first.

    Examples
    --------
    Two runs of 1,800 s and 1,200 s in the last hour, a budget of 2,400 s: the window must drop
    600 s of the older run, which began 3,000 s ago, so it slides 3,600 - 3,000 + 600 = 1,200 s.

    >>> round(seconds_until_within([(3000.0, 1200.0), (1200.0, 0.0)], 2400.0), 3)
    1200.0
    >>> seconds_until_within([(100.0, 0.0)], 2400.0)
    0.0
    """
    runs = sorted(runs, reverse=True)  # oldest start first
    total = sum(start - end for start, end in runs)
    if total < budget_s:
        return 0.0
    # The window's lower edge sits at HOUR_S before now; after sliding t seconds every run
    # keeps what lies after HOUR_S - t before now. Find the least t with total kept < budget.
    low, high = 0.0, HOUR_S
    for _ in range(40):
        middle = (low + high) / 2
        edge = HOUR_S - middle
        kept = sum(max(min(start, edge) - end, 0.0) for start, end in runs)
        low, high = (low, middle) if kept < budget_s else (middle, high)
    return high


def submit(
    session: Session,
    organisation_id: str,
    kind: str,
    job_input: dict[str, Any],
    *,
    limits: JobLimits | None = None,
) -> JobRecord:
    """Queue a job; with ``limits``, raise :class:`JobLimitError` when it would exceed them.

    The caller rolls the transaction back on the error, so a refused job is not stored.
    """
    if limits is not None:
        _lock_organisation(session, organisation_id)
    now = utc_now()
    job = JobRecord(
        id=new_id(),
        organisation_id=organisation_id,
        kind=kind,
        status="queued",
        progress=0.0,
        input=job_input,
        attempts=0,
        created_at=now,
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    if limits is not None:
        _check_limits(session, organisation_id, limits, now)
    return job


def _check_limits(session: Session, organisation_id: str, limits: JobLimits, now: datetime) -> None:
    active = session.scalar(
        select(func.count()).where(
            JobRecord.organisation_id == organisation_id, JobRecord.status.in_(ACTIVE)
        )
    )
    if (active or 0) > limits.max_active:
        raise JobLimitError(
            f"your organisation has {limits.max_active} jobs queued or running, the most it "
            f"may have (SHUDAO_JOB_MAX_ACTIVE_PER_ORGANISATION = {limits.max_active}); submit "
            "this one when one of them has finished or been cancelled",
            retry_after_s=None,
        )  # fmt: skip
    runs = _seconds_run(session, organisation_id, now)
    used_s = sum(start - end for start, end in runs)
    if used_s >= limits.seconds_per_hour:
        wait_s = max(math.ceil(seconds_until_within(runs, limits.seconds_per_hour)), 1)
        raise JobLimitError(
            f"your organisation's jobs ran {used_s:,.0f} s in the last hour; the limit is "
            f"{limits.seconds_per_hour:,.0f} s per hour (SHUDAO_JOB_SECONDS_PER_HOUR); "
            f"retry in {wait_s} s",
            retry_after_s=wait_s,
        )  # fmt: skip


def get(session: Session, organisation_id: str, job_id: str) -> JobRecord:
    """One job of this organisation."""
    return get_owned(session, JobRecord, organisation_id, job_id, "job")


def cancel(session: Session, organisation_id: str, job_id: str) -> JobRecord:
    """Cancel a queued job at once, or ask a running job's worker to stop it."""
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


def claim(
    sessions: sessionmaker[Session], worker: str, *, max_running_per_organisation: int | None = None
) -> tuple[str, int] | None:
    """Take a queued job fairly; return its id and attempt number, or None.

    The job is the oldest queued one of the organisation with the fewest running jobs (ties:
    the organisation whose oldest job waited longest). With ``max_running_per_organisation``,
    organisations running that many jobs or more are passed over. The counts are read before
    the claim, so workers claiming at the same moment may both count the same job as not yet
    running; the claim itself stays exclusive.

    Examples
    --------
    Organisation a queues two jobs, then b one: a's first, then b's (a runs one, b none); with
    ``max_running_per_organisation=1`` the next claim passes a's second job over.

    >>> import tempfile, pathlib
    >>> from api.db.repositories import create_organisation
    >>> from api.db.session import make_engine, make_sessionmaker, migrate
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     engine = make_engine(f"sqlite:///{pathlib.Path(tmp) / 'jobs.db'}")
    ...     migrate(engine)
    ...     sessions = make_sessionmaker(engine)
    ...     with sessions() as session:
    ...         a, b = (create_organisation(session, name).id for name in ("a", "b"))
    ...         names = {submit(session, org, "route-batch", {}).id: name
    ...                  for org, name in ((a, "a1"), (a, "a2"), (b, "b1"))}
    ...         session.commit()
    ...     order = [names[claim(sessions, "w")[0]] for _ in range(2)]
    ...     last = claim(sessions, "w", max_running_per_organisation=1)
    ...     engine.dispose()
    >>> order, last
    (['a1', 'b1'], None)
    """
    with sessions() as session:
        running = dict(
            session.execute(
                select(JobRecord.organisation_id, func.count())
                .where(JobRecord.status == "running")
                .group_by(JobRecord.organisation_id)
            ).all()
        )
        waiting = session.execute(
            select(JobRecord.organisation_id, func.min(JobRecord.created_at))
            .where(JobRecord.status == "queued")
            .group_by(JobRecord.organisation_id)
        ).all()
        order = sorted(waiting, key=lambda row: (running.get(row[0], 0), row[1], row[0]))
        for organisation_id, _ in order:
            if (
                max_running_per_organisation is not None
                and running.get(organisation_id, 0) >= max_running_per_organisation
            ):
                continue
            candidates = session.scalars(
                select(JobRecord.id)
                .where(JobRecord.status == "queued", JobRecord.organisation_id == organisation_id)
                .order_by(JobRecord.created_at, JobRecord.id)
                .limit(3)
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
                    attempts = session.scalar(
                        select(JobRecord.attempts).where(JobRecord.id == job_id)
                    )
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


def cancels_requested(sessions: sessionmaker[Session], job_ids: Iterable[str]) -> set[str]:
    """Those of ``job_ids`` someone asked to cancel."""
    ids = list(job_ids)
    if not ids:
        return set()
    with sessions() as session:
        return set(
            session.scalars(
                select(JobRecord.id).where(JobRecord.id.in_(ids), JobRecord.cancel_requested)
            ).all()
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


def release(sessions: sessionmaker[Session], job_id: str, worker: str, attempt: int) -> bool:
    """Queue a job this worker holds again, its attempt not counted (the worker is stopping).

    A job already asked to cancel is cancelled instead.
    """
    with sessions() as session:
        held = (
            JobRecord.id == job_id,
            JobRecord.worker == worker,
            JobRecord.attempts == attempt,
            JobRecord.status == "running",
        )
        cancelled = _rowcount(
            session.execute(
                update(JobRecord)
                .where(*held, JobRecord.cancel_requested)
                .values(status="cancelled", error="cancelled on request", finished_at=utc_now())
            )
        )
        released = _rowcount(
            session.execute(
                update(JobRecord)
                .where(*held)
                .values(
                    status="queued", worker=None, heartbeat_at=None,
                    attempts=JobRecord.attempts - 1,
                )
            )
        )  # fmt: skip
        session.commit()
        return cancelled + released == 1


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
