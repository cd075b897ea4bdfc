"""The ledger's audit trail: every change to a warehouse's capacity or bookings, who made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import (
    ApiKey,
    LedgerAuditEntry,
    Organisation,
    utc_now,
)
from api.db.repositories.common import Actor, new_id, page, page_after


def write_audit(
    session: Session,
    actor: Actor,
    action: str,
    warehouse_id: str,
    *,
    booking_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the audit trail of ``warehouse_id`` (and ``booking_id``): what changed
    from ``before`` to ``after``, and who did it. The caller's transaction commits it."""
    session.add(
        LedgerAuditEntry(
            id=new_id(), created_at=utc_now(), warehouse_id=warehouse_id, booking_id=booking_id,
            action=action, api_key_id=actor.api_key_id, organisation_id=actor.organisation_id,
            job_id=actor.job_id, before=before, after=after,
        )
    )  # fmt: skip


def list_audit(
    session: Session,
    limit: int,
    cursor: str | None = None,
    *,
    warehouse_id: str | None = None,
    booking_id: str | None = None,
) -> tuple[list[LedgerAuditEntry], str | None]:
    """A page of audit entries of a warehouse or of a booking, newest first."""
    query = select(LedgerAuditEntry)
    if warehouse_id is not None:
        query = query.where(LedgerAuditEntry.warehouse_id == warehouse_id)
    if booking_id is not None:
        query = query.where(LedgerAuditEntry.booking_id == booking_id)
    query = page_after(query, LedgerAuditEntry.created_at, LedgerAuditEntry.id, cursor)
    query = query.order_by(LedgerAuditEntry.created_at.desc(), LedgerAuditEntry.id.desc())
    return page(session, query, limit)


@dataclass(frozen=True)
class AuditActors:
    """Who the actors of some audit entries are: each key's role, each organisation's name."""

    roles: dict[str, str]
    organisations: dict[str, str]


def audit_actors(session: Session, entries: list[LedgerAuditEntry]) -> AuditActors:
    """The roles of the keys and the names of the organisations that made ``entries``."""
    key_ids = {e.api_key_id for e in entries if e.api_key_id is not None}
    organisation_ids = {e.organisation_id for e in entries if e.organisation_id is not None}
    roles = session.execute(select(ApiKey.id, ApiKey.role).where(ApiKey.id.in_(key_ids)))
    names = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(organisation_ids))
    )
    return AuditActors(
        {key_id: role for key_id, role in roles}, {ident: name for ident, name in names}
    )
