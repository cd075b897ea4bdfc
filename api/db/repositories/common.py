"""What every aggregate's queries share: who is asking, ids, ownership, not-found and
conflict errors, and newest-first pages with opaque cursors."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from api.db.models import (
    ApiKey,
    BookingRow,
    JobRecord,
    LedgerAuditEntry,
    RoutePlanRecord,
    WarehouseRow,
)
from optimizer.errors import InvalidInputError, ShudaoError


@dataclass(frozen=True)
class Caller:
    """The API key a request authenticated with: its id, organisation and role."""

    id: str
    organisation_id: str
    role: str


@dataclass(frozen=True)
class Actor:
    """Who changes the ledger: an API key (id, organisation, role) or a job."""

    api_key_id: str | None
    organisation_id: str | None
    role: str | None = None
    job_id: str | None = None

    @classmethod
    def of_key(cls, key: Caller) -> Actor:
        return cls(key.id, key.organisation_id, key.role)

    def manages(self, warehouse: WarehouseRow) -> bool:
        """Whether this actor is a coordinator or admin of the warehouse's organisation."""
        return self.role in MANAGER_ROLES and warehouse.organisation_id == self.organisation_id


def new_id() -> str:
    """A random 32-character hex id."""
    return secrets.token_hex(16)


class NotFoundError(ShudaoError, LookupError):
    """A record does not exist (or belongs to another organisation)."""


class ConflictError(ShudaoError, ValueError):
    """A record with that name exists already."""


Owned = TypeVar("Owned", RoutePlanRecord, JobRecord, ApiKey)


def get_owned(
    session: Session, model: type[Owned], organisation_id: str, record_id: str, what: str
) -> Owned:
    """One record of this organisation; another organisation's record is simply not found."""
    if "\x00" in record_id:  # PostgreSQL rejects NUL in text; no id holds one
        raise NotFoundError(f"no {what} {record_id!r} in your organisation")
    record = session.get(model, record_id)
    if record is None or record.organisation_id != organisation_id:
        raise NotFoundError(f"no {what} {record_id!r} in your organisation")
    return record


def encode_cursor(created_at: datetime, record_id: str) -> str:
    """Opaque cursor pointing just after a record in newest-first order."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{record_id}".encode()).decode()


class CursorError(InvalidInputError):
    """A ``cursor`` query parameter that this API did not make."""


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of :func:`encode_cursor`: the record's creation time in UTC and its id.

    Every list reads its cursor here. Anything this API did not write is a CursorError: text
    that is not base64 or UTF-8, a time without an offset or one that leaves the calendar when
    moved to UTC, an id with a NUL (PostgreSQL refuses NUL in text).

    Examples
    --------
    >>> at = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    >>> decode_cursor(encode_cursor(at, "ab12")) == (at, "ab12")
    True
    >>> try:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
    ...     decode_cursor("MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMHxhYmM=")
    ... except CursorError as error:
    ...     print(error.field, "|", str(error).split("; ")[1])
    cursor | expected a next_cursor returned by this API
    """
    try:
        created, record_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(created)
        if at.tzinfo is None or "\x00" in record_id:
            raise ValueError("not written by encode_cursor")
        return at.astimezone(UTC), record_id
    except (ValueError, OverflowError) as exc:  # UnicodeDecodeError and binascii.Error too
        raise CursorError("cursor", cursor, "a next_cursor returned by this API") from exc


Paged = TypeVar("Paged", RoutePlanRecord, BookingRow, LedgerAuditEntry)


def page_after(query: Select[Paged], created: Any, ident: Any, cursor: str | None) -> Select[Paged]:
    """``query`` restricted to the records after ``cursor`` in newest-first order."""
    if not cursor:
        return query
    at, record_id = decode_cursor(cursor)
    return query.where(or_(created < at, and_(created == at, ident < record_id)))


def page(session: Session, query: Select[Paged], limit: int) -> tuple[list[Paged], str | None]:
    records = list(session.scalars(query.limit(limit + 1)).unique())
    more = len(records) > limit
    records = records[:limit]
    last = records[-1] if more and records else None
    return records, (encode_cursor(last.created_at, last.id) if last is not None else None)


#: Roles that manage their organisation's warehouses (capacity, confirmations, audit).
MANAGER_ROLES = ("coordinator", "admin")


class ForbiddenError(ShudaoError, PermissionError):
    """The caller may see the record but not do this to it."""
