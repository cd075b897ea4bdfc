"""Queries, kept out of the route functions. Every read is scoped to one organisation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.db.models import ApiKey, JobRecord, Organisation, RoutePlanRecord, utc_now

ROLES = ("forwarder", "planner", "coordinator", "admin")
KEY_PREFIX_CHARS = 12


def new_id() -> str:
    """A random 32-character hex id."""
    return secrets.token_hex(16)


def digest(key: str) -> str:
    """SHA-256 hex digest of an API key (keys are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


class NotFoundError(LookupError):
    """A record does not exist (or belongs to another organisation)."""


class ConflictError(ValueError):
    """A record with that name exists already."""


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


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The live key matching ``secret``, compared in constant time; None if none."""
    wanted = digest(secret)
    candidates = session.scalars(
        select(ApiKey).where(
            ApiKey.prefix == secret[:KEY_PREFIX_CHARS], ApiKey.revoked_at.is_(None)
        )
    )
    for key in candidates:
        if hmac.compare_digest(key.key_sha256, wanted):
            return key
    return None


def save_plan(
    session: Session, organisation_id: str, request: dict[str, Any], plan: dict[str, Any]
) -> RoutePlanRecord:
    """Store a plan document for an organisation."""
    record = RoutePlanRecord(
        id=new_id(), organisation_id=organisation_id, created_at=utc_now(),
        dataset_version=str(plan["dataset_version"]), request=request, plan=plan,
    )  # fmt: skip
    session.add(record)
    session.flush()
    return record


Owned = TypeVar("Owned", RoutePlanRecord, JobRecord, ApiKey)


def get_owned(
    session: Session, model: type[Owned], organisation_id: str, record_id: str, what: str
) -> Owned:
    """One record of this organisation; another organisation's record is simply not found."""
    record = session.get(model, record_id)
    if record is None or record.organisation_id != organisation_id:
        raise NotFoundError(f"no {what} {record_id!r}")
    return record


def get_plan(session: Session, organisation_id: str, plan_id: str) -> RoutePlanRecord:
    """One plan of this organisation."""
    return get_owned(session, RoutePlanRecord, organisation_id, plan_id, "route plan")


def encode_cursor(created_at: datetime, record_id: str) -> str:
    """Opaque cursor pointing just after a record in newest-first order."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{record_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of :func:`encode_cursor`; ValueError for anything else."""
    try:
        created, record_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), record_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor: not a cursor returned by this API") from exc


def list_plans(
    session: Session, organisation_id: str, limit: int, cursor: str | None
) -> tuple[list[RoutePlanRecord], str | None]:
    """A page of plans, newest first, and the cursor of the next page (None at the end)."""
    query = select(RoutePlanRecord).where(RoutePlanRecord.organisation_id == organisation_id)
    if cursor:
        created, record_id = decode_cursor(cursor)
        query = query.where(
            or_(
                RoutePlanRecord.created_at < created,
                and_(RoutePlanRecord.created_at == created, RoutePlanRecord.id < record_id),
            )
        )
    query = query.order_by(RoutePlanRecord.created_at.desc(), RoutePlanRecord.id.desc())
    records = list(session.scalars(query.limit(limit + 1)))
    more = len(records) > limit
    records = records[:limit]
    next_cursor = (
        encode_cursor(records[-1].created_at, records[-1].id) if more and records else None
    )
    return records, next_cursor
