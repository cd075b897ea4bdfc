"""Stored route plans: save one, read one, page through an organisation's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.db.models import (
    RoutePlanRecord,
    utc_now,
)
from api.db.repositories.common import get_owned, new_id, page, page_after

_PLANS = RoutePlanRecord.metadata.tables[RoutePlanRecord.__tablename__]
_INSERT_PLAN = insert(_PLANS)
#: The write once more after a lost connection: the first may have committed before the
#: connection was lost, and its id (new to this request) then exists already.
_INSERT_PLAN_AGAIN: dict[str, Insert] = {
    "postgresql": postgresql.insert(_PLANS).on_conflict_do_nothing(index_elements=["id"]),
    "sqlite": sqlite.insert(_PLANS).on_conflict_do_nothing(index_elements=["id"]),
}


def save_plan(
    session: Session, organisation_id: str, request: dict[str, Any], plan: dict[str, Any]
) -> tuple[str, datetime]:
    """Store a plan document for an organisation, durably: its id and creation time.

    One Core insert (the ORM's unit of work would build, flush and track a record that the
    request never reads back), on a connection of its own in autocommit mode: the statement is
    its own transaction, committed when it returns, so storing a plan is one round trip to
    PostgreSQL instead of three (BEGIN, INSERT, COMMIT) and the session's own transaction, if
    any, is left as it was.
    """
    plan_id, created_at = new_id(), utc_now()
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    row = {
        "id": plan_id, "organisation_id": organisation_id, "created_at": created_at,
        "dataset_version": str(plan["dataset_version"]), "request": request, "plan": plan,
    }  # fmt: skip
    try:
        _insert_plan(engine, row)
    except DBAPIError as exc:
        # Pooled connections are not pinged before use (see api.db.session.make_engine): one
        # that died with a restarted server fails here, and the pool discards it and every
        # connection as old, so the plan is written once more on a new connection.
        if not exc.connection_invalidated:
            raise
        _insert_plan(engine, row, _INSERT_PLAN_AGAIN[engine.dialect.name])
    return plan_id, created_at


def _insert_plan(engine: Engine, row: dict[str, Any], statement: Insert = _INSERT_PLAN) -> None:
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(statement, row)


def get_plan(session: Session, organisation_id: str, plan_id: str) -> RoutePlanRecord:
    """One plan of this organisation."""
    return get_owned(session, RoutePlanRecord, organisation_id, plan_id, "route plan")


def list_plans(
    session: Session, organisation_id: str, limit: int, cursor: str | None
) -> tuple[list[RoutePlanRecord], str | None]:
    """A page of plans, newest first, and the cursor of the next page (None at the end).

    Raises CursorError for a cursor this API did not make.
    """
    query = select(RoutePlanRecord).where(RoutePlanRecord.organisation_id == organisation_id)
    query = page_after(query, RoutePlanRecord.created_at, RoutePlanRecord.id, cursor)
    query = query.order_by(RoutePlanRecord.created_at.desc(), RoutePlanRecord.id.desc())
    return page(session, query, limit)
