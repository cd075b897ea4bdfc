"""``shudao admin``: organisations and keys from the command line, on both databases."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.db import repositories
from api.db.models import ApiKey
from api.db.session import make_engine, make_sessionmaker

runner = CliRunner()


def test_create_org_key_and_revoke(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUDAO_DATABASE_URL", database_url)
    assert runner.invoke(app, ["admin", "create-org", "Guang'an Export Co"]).exit_code == 0
    duplicate = runner.invoke(app, ["admin", "create-org", "Guang'an Export Co"])
    assert duplicate.exit_code == 2 and "exists already" in duplicate.output
    bad_role = runner.invoke(
        app, ["admin", "create-key", "--org", "Guang'an Export Co", "--role", "boss"]
    )
    assert bad_role.exit_code == 2 and "forwarder, planner, coordinator, admin" in bad_role.output
    no_org = runner.invoke(app, ["admin", "create-key", "--org", "Nobody", "--role", "planner"])
    assert no_org.exit_code == 2 and "no organisation called 'Nobody'" in no_org.output
    issued = runner.invoke(
        app, ["admin", "create-key", "--org", "Guang'an Export Co", "--role", "planner"]
    )
    assert issued.exit_code == 0
    secret = issued.output.strip().splitlines()[-1]
    key_id = issued.output.split()[1]
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            key = repositories.authenticate(session, secret)
            assert key is not None and key.id == key_id and key.role == "planner"
            stored = session.get(ApiKey, key_id)
            assert stored is not None and stored.key_sha256 != secret
            assert secret not in str(stored.__dict__)
        assert runner.invoke(app, ["admin", "revoke-key", key_id]).exit_code == 0
        with sessions() as session:
            assert repositories.authenticate(session, secret) is None
    finally:
        engine.dispose()
    assert runner.invoke(app, ["admin", "revoke-key", "nope"]).exit_code == 2
