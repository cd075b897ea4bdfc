"""Property-based checks of the service against its own OpenAPI schema (in-process, no network).

Every check schemathesis has runs on every operation (none is left out or skipped): no 5xx, the
answers conform to the schema, every error is problem+json, invalid requests are rejected and
schema-valid ones accepted. Where the schema states a rule (ISO week patterns, modes and node
kinds as enums, volumes to the litre, numbers that are JSON numbers) generated data follows it.
A few operations have rules no JSON schema can state; for those alone a schema-valid request may
also be answered 422, and :data:`SEMANTIC_422` says why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from api.main import create_app
from api.settings import Settings
from network_data import load_network
from tests.api.conftest import new_key

#: Operations that may refuse schema-valid data with 422, and the rule the schema cannot state.
SEMANTIC_422 = {
    "POST /v1/route-plans": "origin and destination must be places of the network, the deadline "
    "after ready_at, ready_at within the timetables, use_passages passages of the network that "
    "avoid does not name",
    "GET /v1/route-plans": "a cursor must be a next_cursor this API returned",
    "GET /v1/network/nodes": "a bbox must be west < east and south < north within WGS-84",
    "GET /v1/network/corridors": "a bbox must be west < east and south < north within WGS-84",
    "POST /v1/jobs": "each job kind has its own input (a free-form object in the schema)",
    "POST /v1/warehouses": "node_id must be a node of the network",
    "PUT /v1/warehouses/{warehouse_id}/capacity": "first_week and last_week come together, in "
    "order, at most 104 weeks apart, and W53 exists in some years only",
    "GET /v1/warehouses/{warehouse_id}/capacity": "first_week before last_week, at most 104 "
    "weeks, and W53 exists in some years only",
    "GET /v1/warehouses/{warehouse_id}/audit": "a cursor must be a next_cursor this API returned",
    "POST /v1/bookings": "warehouse_id must be a warehouse of the ledger, first_week before "
    "last_week, at most 104 weeks, W53 in some years only, pallets or volume above 0",
    "GET /v1/bookings": "a cursor must be a next_cursor this API returned; W53 in some years only",
    "GET /v1/bookings/{booking_id}/audit": "a cursor must be a next_cursor this API returned",
}
#: A body over SHUDAO_MAX_BODY_BYTES is refused with 413 (documented on every operation) before
#: it is read, whatever it holds: schemathesis makes such bodies from the job inputs' row lists.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428",
                     "429", "5xx"]  # fmt: skip
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
            "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
        },
        "operations": [
            {
                "include-name": name,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "422"]}
                },
            }
            for name in SEMANTIC_422
        ],
    }
)

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
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)
load_all_checks()
#: Every check schemathesis registers, passed explicitly (the ``--checks all`` of its CLI).
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]


def _headers() -> dict[str, str]:
    if not hasattr(_headers, "value"):
        client = TestClient(APP)
        client.__enter__()  # runs the lifespan: database migrated, network warm
        _headers.value = {"Authorization": new_key(client, "schemathesis")["Authorization"]}  # type: ignore[attr-defined]
    return _headers.value  # type: ignore[attr-defined,no-any-return]


def test_every_check_runs_on_every_operation() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"not_a_server_error", "status_code_conformance", "content_type_conformance",
            "response_headers_conformance", "response_schema_conformance",
            "negative_data_rejection", "positive_data_acceptance", "missing_required_header",
            "unsupported_method", "use_after_free", "ensure_resource_availability",
            "ignored_auth"} <= names  # fmt: skip
    operations = [result.ok() for result in schema.get_all_operations()]  # raises on any error
    paths = APP.openapi()["paths"]
    assert len(operations) == sum(len(methods) for methods in paths.values()) == 28
    assert set(SEMANTIC_422) <= {op.label for op in operations}
    for operation in operations:
        config = schema.config.checks_config_for(operation=operation)
        assert all(config.get_by_name(name=name).enabled for name in names), operation.label


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    response = case.call(headers=_headers())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
    case.validate_response(response, checks=ALL_CHECKS)
