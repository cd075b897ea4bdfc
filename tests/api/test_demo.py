"""``shudao admin demo`` makes what README's examples need, so they run from a fresh service."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.api.conftest import ClientFactory
from tests.api.test_jobs import wait_for

README = Path(__file__).parents[2] / "README.md"


def _readme_allocation_body() -> dict:
    """The body of README's allocation curl example."""
    text = README.read_text(encoding="utf-8")
    start = text.index('-d \'{"kind": "allocation"')
    body = text[start + 4 : text.index("}}'", start) + 2]
    return json.loads(body.replace("\n", " "))


def test_readme_allocation_runs_with_the_demo_key(
    make_client: ClientFactory, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHUDAO_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # .shudao-demo-key is written here
    runner = CliRunner()
    for _ in range(2):  # a second run keeps the key and the warehouse
        result = runner.invoke(app, ["admin", "demo"])
        assert result.exit_code == 0, result.output
    secret = re.search(r"demo API key: (\S+)", result.output).group(1)
    assert (tmp_path / ".shudao-demo-key").read_text().strip() == secret
    client = make_client()
    key = {"Authorization": f"Bearer {secret}"}
    warehouses = client.get("/v1/warehouses", headers=key).json()
    assert [w["name"] for w in warehouses] == ["Duisburg logport"]
    accepted = client.post("/v1/jobs", json=_readme_allocation_body(), headers=key)
    assert accepted.status_code == 202, accepted.text
    job = wait_for(client, key, accepted.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    proposed = client.get("/v1/bookings?status=proposed", headers=key).json()
    assert proposed["items"], proposed
