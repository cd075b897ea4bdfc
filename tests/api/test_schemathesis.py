"""Property-based checks of the service against its own OpenAPI schema (in-process, no network).

Every generated request must get a response that is not a 5xx and conforms to the schema; every
error must be problem+json. Schema-valid requests may still be refused with a 422 by rules the
schema cannot state (a place name must exist, ready_at must fall in the timetables' window), so
the "positive data acceptance" check is left out; invalid requests must still be rejected.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api.main import create_app
from api.settings import Settings
from network_data import load_network
from tests.api.conftest import new_key

_DB = Path(tempfile.mkdtemp(prefix="shudao-schemathesis-")) / "shudao.db"
APP = create_app(
    Settings(
        database_url=f"sqlite:///{_DB}",
        inprocess_worker=False,
        rate_limit_per_minute=100_000,
        rate_limit_burst=100_000,
    ),
    network=load_network(),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _headers() -> dict[str, str]:
    if not hasattr(_headers, "value"):
        client = TestClient(APP)
        client.__enter__()  # runs the lifespan: database migrated, network warm
        _headers.value = {"Authorization": new_key(client, "schemathesis")["Authorization"]}  # type: ignore[attr-defined]
    return _headers.value  # type: ignore[attr-defined,no-any-return]


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    response = case.call(headers=_headers())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
