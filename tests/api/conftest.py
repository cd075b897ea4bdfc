"""The service on a real database: a SQLite file and a PostgreSQL database of its own."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.db import repositories
from api.main import create_app
from api.settings import Settings
from network_data import Network

POSTGRES_URL = os.environ.get(
    "SHUDAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shudao.db'}"
        return
    name = f"shudao_test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str, network: Network) -> Iterator[ClientFactory]:
    clients: list[TestClient] = []

    def factory(**overrides: object) -> TestClient:
        settings = Settings(database_url=database_url, **overrides)  # type: ignore[arg-type]
        client = TestClient(create_app(settings, network=network))
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


def new_key(client: TestClient, organisation: str, role: str = "forwarder") -> dict[str, str]:
    """Authorization header of a new key for ``organisation`` (created if needed)."""
    return issue_key(client.app.state.sessions, organisation, role)  # type: ignore[attr-defined]


def issue_key(sessions: sessionmaker[Session], organisation: str, role: str) -> dict[str, str]:
    """:func:`new_key` straight on a session factory, for tests that run a real server."""
    with sessions() as session:
        try:
            repositories.organisation_by_name(session, organisation)
        except repositories.NotFoundError:
            repositories.create_organisation(session, organisation)
        issued = repositories.create_key(session, organisation, role)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}", "X-Key-Id": issued.id}
