"""``/v1/jobs``: submit long work, follow it, cancel it."""

from __future__ import annotations

from fastapi import APIRouter

from api.db.models import JobRecord
from api.db.repositories import NotFoundError
from api.deps import KeyDep, SessionDep, SessionRoute
from api.jobs import queue
from api.jobs.kinds import KINDS
from api.jobs.records import JobInputError
from api.problems import Problem
from api.schemas.jobs import JobIn, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=SessionRoute)


def to_out(job: JobRecord) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def _job(session: SessionDep, organisation_id: str, job_id: str) -> JobRecord:
    try:
        return queue.get(session, organisation_id, job_id)
    except NotFoundError as exc:
        raise Problem(404, "Not found", f"no job {job_id!r} in your organisation") from exc


@router.post("", status_code=202, response_model=JobOut)
def submit_job(body: JobIn, key: KeyDep, session: SessionDep) -> JobOut:
    """Queue a job; follow it at ``GET /v1/jobs/{id}``."""
    roles = KINDS[body.kind].roles
    if roles is not None and key.role not in roles:
        raise Problem(
            403, "Forbidden", f"{body.kind} jobs need a key with the role {' or '.join(roles)}"
        )
    try:
        KINDS[body.kind].validate(body.input)
    except JobInputError as exc:
        raise Problem(
            422, "Invalid job input", str(exc), errors=[{"field": exc.field, "message": str(exc)}]
        ) from exc
    return to_out(queue.submit(session, key.organisation_id, body.kind, body.input))


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, key: KeyDep, session: SessionDep) -> JobOut:
    """Status, progress, and the result or error of one of your jobs."""
    return to_out(_job(session, key.organisation_id, job_id))


@router.delete("/{job_id}", response_model=JobOut)
def cancel_job(job_id: str, key: KeyDep, session: SessionDep) -> JobOut:
    """Cancel a queued job, or ask a running one to stop at its next checkpoint."""
    _job(session, key.organisation_id, job_id)
    return to_out(queue.cancel(session, key.organisation_id, job_id))
