"""Typed dependencies: settings, database session, the caller's key, the network."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.db import repositories
from api.db.models import ApiKey
from api.problems import Problem
from network_data import Network


def get_session(request: Request) -> Iterator[Session]:
    """A session committed when the request succeeds, rolled back otherwise."""
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]


def get_network(request: Request) -> Network:
    network: Network = request.app.state.network
    return network


NetworkDep = Annotated[Network, Depends(get_network)]


def current_key(request: Request, session: SessionDep) -> ApiKey:
    """The caller's API key (401 without a valid one), after the rate limit (429)."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="shudao"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise Problem(
            401, "Unauthorized", "send 'Authorization: Bearer <API key>'", headers=challenge
        )
    key = repositories.authenticate(session, secret.strip())
    # End the read so the pooled connection goes back while this request waits for a worker
    # thread; holding it there starves the pool under bursts (threads wait on connections that
    # requests queued for threads hold).
    session.commit()
    if key is None:
        raise Problem(401, "Unauthorized", "the API key is unknown or revoked", headers=challenge)
    wait_s = request.app.state.rate_limiter.acquire(key.id)
    if wait_s > 0:
        raise Problem(
            429, "Too many requests", f"rate limit reached for this key; retry in {wait_s:.0f} s",
            headers={"Retry-After": str(int(wait_s))},
        )  # fmt: skip
    return key


KeyDep = Annotated[ApiKey, Depends(current_key)]


def require_role(*roles: str) -> Callable[[ApiKey], ApiKey]:
    """A dependency admitting only keys with one of ``roles`` (403 for the others)."""

    def check(key: KeyDep) -> ApiKey:
        if key.role not in roles:
            raise Problem(
                403,
                "Forbidden",
                f"this needs a key with role {' or '.join(roles)}; yours is {key.role}",
            )
        return key

    return check
