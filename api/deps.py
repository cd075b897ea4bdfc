"""Typed dependencies: settings, database session, the caller's key, the network.

A request's database work never waits for another request. The session of a request is
opened on the event loop without touching the database; a synchronous endpoint then uses it,
commits or rolls it back, and closes it on its own worker thread, in one go
(:class:`SessionRoute`), and work done on the event loop (authentication, storing a route plan)
commits before it awaits anything. So a process holds at most one pooled connection per thread
that is running, and neither the loop nor a worker thread can wait for a connection held by a
request that is itself waiting for a thread: the deadlock that hung a server for minutes under
32 simultaneous reads (issue 19, case 1).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.repositories import Caller
from api.keycache import KeyCache
from api.middleware import check_queue_deadline
from api.problems import HttpProblem
from network_data import Network


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request; whatever the request left open is rolled back at the end.

    Synchronous endpoints commit and close it themselves on their thread
    (:class:`SessionRoute`); endpoints on the event loop commit what they mean to keep.
    Closing here needs no thread: by now nothing but a failed request's rollback is left.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def finishing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` that commits (or, on an error, rolls back) and closes its sessions itself.

    Runs in the same worker thread as the endpoint, so a connection is returned to the pool
    before the thread is free for another request. A request that waited longer for a thread
    than the server allows is answered 503 before it touches the database
    (:func:`api.middleware.check_queue_deadline`).

    Examples
    --------
    >>> from sqlalchemy import create_engine, text
    >>> engine = create_engine("sqlite://")
    >>> def endpoint(session: Session) -> int:
    ...     return session.execute(text("SELECT 1")).scalar_one()
    >>> session = Session(engine)
    >>> finishing_sessions(endpoint)(session=session), session.in_transaction()
    (1, False)
    """

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            check_queue_deadline()
            result = endpoint(*args, **kwargs)
            for session in sessions:
                if session.in_transaction():
                    session.commit()
            return result
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        finally:
            for session in sessions:
                session.close()

    return run


class SessionRoute(APIRoute):
    """An API route whose synchronous endpoint finishes its session on its own thread.

    Every router of the service uses it (``APIRouter(route_class=SessionRoute)``).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = finishing_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)


async def get_network(request: Request) -> Network:
    network: Network = request.app.state.network
    return network


NetworkDep = Annotated[Network, Depends(get_network)]


async def current_key(request: Request, session: SessionDep) -> Caller:
    """The caller's API key (401 without a valid one), after the rate limit (429).

    A key seen in the last few seconds comes from :class:`api.keycache.KeyCache`; otherwise
    the lookup is one indexed read, done on the event loop: a trip to a worker thread and
    back cost more than the read (see :func:`api.main._serve_lean`).
    """
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="shudao"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise HttpProblem(
            401, "Unauthorized", "send 'Authorization: Bearer <API key>'", headers=challenge
        )
    secret = secret.strip()
    cache: KeyCache = request.app.state.key_cache
    key = cache.get(secret)
    if key is None:
        generation = cache.generation
        key = repositories.authenticate(session, secret)
        session.commit()  # the connection goes back before the request awaits anything
        if key is None:
            raise HttpProblem(
                401, "Unauthorized", "the API key is unknown or revoked", headers=challenge
            )
        cache.put(secret, key, generation)
    wait_s = request.app.state.rate_limiter.acquire(key.id)
    if wait_s > 0:
        raise HttpProblem(
            429, "Too many requests", f"rate limit reached for this key; retry in {wait_s:.0f} s",
            headers={"Retry-After": str(int(wait_s))},
        )  # fmt: skip
    return key


KeyDep = Annotated[Caller, Depends(current_key)]


def require_role(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only keys with one of ``roles`` (403 for the others)."""

    async def check(key: KeyDep) -> Caller:
        if key.role not in roles:
            raise HttpProblem(
                403,
                "Forbidden",
                f"this needs a key with role {' or '.join(roles)}; yours is {key.role}",
            )
        return key

    return check
