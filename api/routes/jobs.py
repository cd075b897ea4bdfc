"""``/v1/jobs``: submit long work, follow it, cancel it."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from api.db.models import JobRecord
from api.deps import KeyDep, SessionDep, SessionRoute
from api.jobs import queue
from api.jobs.kinds import KINDS
from api.problems import HttpProblem
from api.schemas.jobs import JobIn, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=SessionRoute)


def to_out(job: JobRecord) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def _limits(request: Request) -> queue.JobLimits:
    settings = request.app.state.settings
    return queue.JobLimits(settings.job_max_active_per_organisation, settings.job_seconds_per_hour)


@router.post("", status_code=202, response_model=JobOut)
def submit_job(
    body: JobIn, key: KeyDep, session: SessionDep, request: Request, tasks: BackgroundTasks
) -> JobOut:
    """Queue a job; follow it at ``GET /v1/jobs/{id}``.

    429 when your organisation already has ``SHUDAO_JOB_MAX_ACTIVE_PER_ORGANISATION`` jobs
    queued or running, or its jobs ran ``SHUDAO_JOB_SECONDS_PER_HOUR`` seconds in the last
    hour (then with ``Retry-After``).
    """
    submitted = body.root  # its input validated by its kind's model
    roles = KINDS[submitted.kind].roles
    if roles is not None and key.role not in roles:
        raise HttpProblem(
            403, "Forbidden", f"{submitted.kind} jobs need a key with the role {' or '.join(roles)}"
        )
    job = queue.submit(
        session, key.organisation_id, submitted.kind, submitted.input.stored(),
        limits=_limits(request),
    )  # fmt: skip
    runner = request.app.state.runner
    if runner is not None:  # once the job is committed and answered, not a poll later
        tasks.add_task(runner.wake)
    return to_out(job)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, key: KeyDep, session: SessionDep) -> JobOut:
    """Status, progress, and the result or error of one of your jobs."""
    return to_out(queue.get(session, key.organisation_id, job_id))


@router.delete(
    "/{job_id}", response_model=JobOut, responses={409: {"description": "The job has ended."}}
)
def cancel_job(job_id: str, key: KeyDep, session: SessionDep) -> JobOut:
    """Cancel a queued job, or stop a running one: it ends ``cancelled`` within a second. A
    job that has ended (done, failed or cancelled) cannot be cancelled: 409."""
    job = queue.get(session, key.organisation_id, job_id)
    if job.status not in ("queued", "running"):
        raise HttpProblem(
            409, "Job has ended",
            f"job {job_id!r} is {job.status}; only a queued or running job can be cancelled",
        )  # fmt: skip
    return to_out(queue.cancel(session, key.organisation_id, job_id))
