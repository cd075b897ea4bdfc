"""Errors as ``application/problem+json`` (RFC 9457): every 4xx says what to do about it.

Routes raise the domain's own exceptions (:class:`~optimizer.errors.InvalidInputError`, the
repositories' not-found, forbidden and conflict errors, the job queue's limits) and the
handlers :func:`install` registers answer each with its status, once for the whole service;
a route maps an error itself only when it means something else there (a booking naming an
unknown warehouse is a 422 on ``warehouse_id``, not a 404).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import repositories
from api.db.session import database_unavailable
from api.jobs.queue import JobLimitError
from optimizer.errors import InvalidInputError, ShudaoError
from optimizer.jobs import INPUT_ERROR

PROBLEM = "application/problem+json"
log = logging.getLogger("shudao.api")
#: Seconds a client is asked to wait before retrying when the database is out of reach.
DATABASE_RETRY_AFTER_S = 5


class HttpProblem(ShudaoError):  # noqa: N818 - it is the RFC's name for the thing
    """An error answered as a problem document with this status, title and detail."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.errors = errors


class ServerBusy(ShudaoError):  # noqa: N818 - it is a condition, answered 503
    """The server is saturated; ``retry_after_s`` says when to come back."""

    def __init__(self, detail: str, retry_after_s: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


#: Pydantic's errors for a tagged union whose tag is missing or unknown: the tag's field is named
#: in the error's context, not in its location.
_TAG_ERRORS = ("union_tag_invalid", "union_tag_not_found")


def _field_path(error: Mapping[str, Any], body: Any) -> str:
    """Where a validation error is, as the client wrote it: ``input.shipments.3.weight_kg``.

    Pydantic puts the tag of a tagged union (a job's ``kind``) in the location, which the
    client never wrote as a key: walking the body along the location drops it.

    Examples
    --------
    >>> body = {"kind": "route-batch", "input": {"shipments": [{"origin": "X"}]}}
    >>> _field_path({"loc": ("body", "route-batch", "input", "shipments", 0), "type": "x"}, body)
    'input.shipments.0'
    >>> _field_path({"loc": ("body",), "type": "union_tag_invalid",
    ...              "ctx": {"discriminator": "'kind'"}}, {"kind": "teleport"})
    'kind'
    """
    location = tuple(error.get("loc", ()))
    if error.get("type") in _TAG_ERRORS:
        location += (str(error.get("ctx", {}).get("discriminator", "")).strip("'"),)
    node = body if location[:1] == ("body",) else None
    parts = []
    for part in location:
        if part in ("body", "query", "path"):
            continue
        if isinstance(node, dict):
            if part not in node and part in node.values():
                continue  # a union's tag
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        parts.append(str(part))
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(HttpProblem)
    async def _problem(_: Request, exc: HttpProblem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, headers=exc.headers, errors=exc.errors
        )

    @app.exception_handler(InvalidInputError)
    async def _invalid(_: Request, exc: InvalidInputError) -> JSONResponse:
        title = "Invalid cursor" if isinstance(exc, repositories.CursorError) else "Invalid request"
        errors = [{"field": exc.field, "message": str(exc)}]
        return problem_response(422, title, str(exc), errors=errors)

    @app.exception_handler(repositories.NotFoundError)
    async def _not_found(_: Request, exc: repositories.NotFoundError) -> JSONResponse:
        return problem_response(404, "Not found", str(exc))

    @app.exception_handler(repositories.ForbiddenError)
    async def _forbidden(_: Request, exc: repositories.ForbiddenError) -> JSONResponse:
        return problem_response(403, "Forbidden", str(exc))

    @app.exception_handler(repositories.IdempotencyError)
    async def _idempotency(_: Request, exc: repositories.IdempotencyError) -> JSONResponse:
        errors = [{"field": "Idempotency-Key", "message": str(exc)}]
        return problem_response(422, "Idempotency-Key reused", str(exc), errors=errors)

    @app.exception_handler(repositories.ConflictError)
    async def _conflict(_: Request, exc: repositories.ConflictError) -> JSONResponse:
        return conflict_response(exc)

    @app.exception_handler(JobLimitError)
    async def _job_limit(_: Request, exc: JobLimitError) -> JSONResponse:
        headers = {} if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
        return problem_response(429, "Too many jobs", str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors, details = [], []
        for error in exc.errors():
            field, words = _field_path(error, exc.body), str(error.get("msg", ""))
            # Shudao's own words name the field as its other errors do (InvalidInputError)
            message = f"{field}: {words}" if error.get("type") == INPUT_ERROR else words
            errors.append({"field": field, "message": message})
            details.append(message if error.get("type") == INPUT_ERROR else f"{field}: {words}")
        return problem_response(422, "Invalid request", "; ".join(details), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; list every method.
            headers["Allow"] = ", ".join(sorted(_methods_for(request)))
        return problem_response(
            exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), headers=headers
        )

    @app.exception_handler(ServerBusy)
    async def _busy(_: Request, exc: ServerBusy) -> JSONResponse:
        return problem_response(
            503, "Server busy", f"{exc}; retry in {exc.retry_after_s} s",
            headers={"Retry-After": str(exc.retry_after_s)},
        )  # fmt: skip

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            503, "Database unavailable",
            f"the database did not answer in time; retry in {DATABASE_RETRY_AFTER_S} s",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )  # fmt: skip

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = secrets.token_hex(6)
        log.error("incident %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, "Internal error",
            f"the server failed on this request; quote incident {incident} when reporting it",
        )  # fmt: skip


def conflict_response(exc: repositories.ConflictError) -> JSONResponse:
    """409 for a ledger conflict, with what the client needs to try again: the capacity that
    remains (a booking that does not fit), the weeks a cut would overbook, the booking's state,
    or the name in use."""
    extensions: dict[str, Any] = {}
    if isinstance(exc, repositories.CapacityError):
        title = "Not enough capacity"
        extensions["errors"] = [
            {"field": field, "message": f"{field}: more than is free in {', '.join(weeks)}"}
            for field, weeks in (
                ("pallets", exc.short_of_pallets), ("volume_m3", exc.short_of_volume)
            )
            if weeks
        ]  # fmt: skip
        extensions["remaining_pallets"] = exc.remaining_pallets
        extensions["remaining_volume_m3"] = exc.remaining_volume_m3
        extensions["remaining"] = [
            {"week": w.week, "pallets": max(w.free_pallets, 0),
             "volume_m3": max(w.free_volume_m3, 0)}
            for w in exc.weeks
        ]  # fmt: skip
    elif isinstance(exc, repositories.OverbookError):
        title = "Capacity below bookings"
        extensions["overbooked_weeks"] = [
            {"week": w.week, "pallets": w.pallets, "volume_m3": w.volume_m3,
             "booked_pallets": w.booked_pallets, "booked_volume_m3": w.booked_volume_m3}
            for w in exc.weeks
        ]  # fmt: skip
    elif isinstance(exc, repositories.StateError):
        title = "Booking state"
        extensions["current_status"] = exc.status
    else:
        title = "Name in use"
    body = {"type": "about:blank", "title": title, "status": 409, "detail": str(exc), **extensions}
    return JSONResponse(body, status_code=409, media_type=PROBLEM)


def _methods_for(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(request.url.path):
            methods.update(getattr(route, "methods", None) or ())
    return methods


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    422: "Invalid request",
    429: "Too many requests",
}
