"""``/v1/keys``: an organisation's admins issue, list and revoke its API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api.db import repositories
from api.db.models import ApiKey, Organisation
from api.db.repositories import Caller
from api.deps import SessionDep, SessionRoute, require_role
from api.problems import HttpProblem
from api.schemas.keys import IssuedKeyOut, KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=SessionRoute)
AdminDep = Annotated[Caller, Depends(require_role("admin"))]


@router.post("", status_code=201, response_model=IssuedKeyOut)
def issue_key(body: KeyIn, admin: AdminDep, session: SessionDep) -> IssuedKeyOut:
    """Issue a key for your organisation (admins only); the secret is shown once."""
    organisation = session.get(Organisation, admin.organisation_id)
    if organisation is None:  # a live key always has one; this keeps the type checker honest
        raise HttpProblem(404, "Not found", "the key's organisation no longer exists")
    issued = repositories.create_key(session, organisation.name, body.role)
    session.commit()  # usable before the 201 is sent, not after
    key = session.get(ApiKey, issued.id)
    return IssuedKeyOut.model_validate(
        {**KeyOut.model_validate(key, from_attributes=True).model_dump(), "secret": issued.secret}
    )


@router.get("", response_model=list[KeyOut])
def list_keys(admin: AdminDep, session: SessionDep) -> list[KeyOut]:
    """Your organisation's keys (admins only), newest first, without secrets."""
    keys = session.scalars(
        select(ApiKey)
        .where(ApiKey.organisation_id == admin.organisation_id)
        .order_by(ApiKey.created_at.desc())
    )
    return [KeyOut.model_validate(k, from_attributes=True) for k in keys]


@router.delete("/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, request: Request, admin: AdminDep, session: SessionDep) -> KeyOut:
    """Revoke one of your organisation's keys (admins only).

    This server process refuses the key at once; other processes within
    ``SHUDAO_KEY_CACHE_SECONDS``.
    """
    repositories.get_owned(session, ApiKey, admin.organisation_id, key_id, "API key")
    revoked = repositories.revoke_key(session, key_id)
    session.commit()
    request.app.state.key_cache.forget(key_id)
    return KeyOut.model_validate(revoked, from_attributes=True)
