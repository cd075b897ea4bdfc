"""Organisations and their API keys: create, issue, revoke, authenticate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import (
    ApiKey,
    Organisation,
    utc_now,
)
from api.db.repositories.common import Caller, ConflictError, NotFoundError, new_id

ROLES = ("forwarder", "planner", "coordinator", "admin")
KEY_PREFIX_CHARS = 12


def digest(key: str) -> str:
    """SHA-256 hex digest of an API key (keys are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_organisation(session: Session, name: str) -> Organisation:
    """Create an organisation; names are unique."""
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise ConflictError(f"organisation {name!r} exists already")
    organisation = Organisation(id=new_id(), name=name, created_at=utc_now())
    session.add(organisation)
    session.flush()
    return organisation


def organisation_by_name(session: Session, name: str) -> Organisation:
    """The organisation called ``name``."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise NotFoundError(f"no organisation called {name!r}")
    return organisation


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is shown once and never stored."""

    id: str
    secret: str
    role: str
    organisation: str


def create_key(session: Session, organisation_name: str, role: str) -> IssuedKey:
    """Issue a key for an organisation with one of :data:`ROLES`."""
    if role not in ROLES:
        raise ValueError(f"role: got {role!r}; expected one of {', '.join(ROLES)}")
    organisation = organisation_by_name(session, organisation_name)
    secret = "sd_" + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id(), organisation_id=organisation.id, role=role,
        prefix=secret[:KEY_PREFIX_CHARS], key_sha256=digest(secret), created_at=utc_now(),
    )  # fmt: skip
    session.add(key)
    session.flush()
    return IssuedKey(key.id, secret, role, organisation.name)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    """Revoke a key by id; a revoked key authenticates nothing."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id!r}")
    key.revoked_at = key.revoked_at or utc_now()
    return key


def authenticate(session: Session, secret: str) -> Caller | None:
    """The live key matching ``secret``, compared in constant time; None if none."""
    wanted = digest(secret)
    candidates = session.execute(
        select(ApiKey.id, ApiKey.organisation_id, ApiKey.role, ApiKey.key_sha256).where(
            ApiKey.prefix == secret[:KEY_PREFIX_CHARS], ApiKey.revoked_at.is_(None)
        )
    )
    for key_id, organisation_id, role, key_sha256 in candidates:
        if hmac.compare_digest(key_sha256, wanted):
            return Caller(key_id, organisation_id, role)
    return None
