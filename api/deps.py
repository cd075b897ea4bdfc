"""Typed dependencies: settings, database session, the caller's key, the network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.repositories import Caller
from api.keycache import KeyCache
from api.problems import Problem
from network_data import Network


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session committed when the request succeeds, rolled back otherwise.

    Opening a session touches no database, and an endpoint that committed leaves nothing to
    finish, so only leftover work goes to a worker thread: each hop between the event loop
    and a thread costs every request time on a busy server.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except Exception:
        await run_in_threadpool(session.rollback)
        raise
    finally:
        session.close()  # no transaction is left open by now: nothing to send


SessionDep = Annotated[Session, Depends(get_session)]


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
        raise Problem(
            401, "Unauthorized", "send 'Authorization: Bearer <API key>'", headers=challenge
        )
    secret = secret.strip()
    cache: KeyCache = request.app.state.key_cache
    key = cache.get(secret)
    if key is None:
        generation = cache.generation
        key = repositories.authenticate(session, secret)
        # End the read so the pooled connection goes back while a sync endpoint waits for a
        # worker thread; holding it there starves the pool under bursts.
        session.commit()
        if key is None:
            raise Problem(
                401, "Unauthorized", "the API key is unknown or revoked", headers=challenge
            )
        cache.put(secret, key, generation)
    wait_s = request.app.state.rate_limiter.acquire(key.id)
    if wait_s > 0:
        raise Problem(
            429, "Too many requests", f"rate limit reached for this key; retry in {wait_s:.0f} s",
            headers={"Retry-After": str(int(wait_s))},
        )  # fmt: skip
    return key


KeyDep = Annotated[Caller, Depends(current_key)]


def require_role(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only keys with one of ``roles`` (403 for the others)."""

    async def check(key: KeyDep) -> Caller:
        if key.role not in roles:
            raise Problem(
                403,
                "Forbidden",
                f"this needs a key with role {' or '.join(roles)}; yours is {key.role}",
            )
        return key

    return check
