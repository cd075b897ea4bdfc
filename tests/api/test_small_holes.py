"""The smaller holes of issue 19 (item 8), each with its regression test, on SQLite and
PostgreSQL: sub-litre volumes, booleans as numbers, dangling OpenAPI references, chunked bodies
over the limit, organisation names probed through allocation jobs, key ids in a booking's audit
trail, and crafted cursors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx2
import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_31
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import repositories
from api.db.models import BookingRow
from api.main import create_app
from api.settings import Settings
from network_data import Network
from optimizer.errors import InvalidInputError
from tests.api.conftest import issue_key, new_key
from tests.api.test_jobs import auth, wait_for
from tests.live import serving

PROBLEM = "application/problem+json"
DUISBURG = {"name": "Duisburg logport", "node_id": "WH-DEDUI", "pallets_per_week": 20,
            "volume_m3_per_week": 40.0}  # fmt: skip
#: ``0001-01-01T00:00:00+14:00|abc``: before year 1 once moved to UTC (it answered 500).
OVERFLOWING_CURSOR = "MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMHxhYmM="


def booking(warehouse_id: str, pallets: Any, volume_m3: Any) -> dict[str, Any]:
    return {"warehouse_id": warehouse_id, "first_week": "2026-W49", "last_week": "2026-W49",
            "pallets": pallets, "volume_m3": volume_m3}  # fmt: skip


def refused(answer: Any, field: str) -> str:
    """The detail of a 422 problem whose first error names ``field``."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["errors"][0]["field"] == field, body
    return str(body["detail"])


def test_booking_of_a_fraction_of_a_litre_is_refused(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    # 0.0004 m3 is 0.4 litres: it was rounded to 0 and stored as a booking of nothing.
    detail = refused(
        client.post("/v1/bookings", json=booking(warehouse_id, 0, 0.0004), headers=seller),
        "volume_m3",
    )
    assert detail == "volume_m3: Input should be a multiple of 0.001"
    refused(
        client.post("/v1/bookings", json=booking(warehouse_id, 2, 1.0005), headers=seller),
        "volume_m3",
    )
    refused(
        client.post("/v1/warehouses", json={**DUISBURG, "name": "B", "volume_m3_per_week": 0.5004},
                    headers=coordinator),
        "volume_m3_per_week",
    )  # fmt: skip
    one_litre = client.post("/v1/bookings", json=booking(warehouse_id, 0, 0.001), headers=seller)
    assert one_litre.status_code == 201, one_litre.text
    assert (one_litre.json()["pallets"], one_litre.json()["volume_m3"]) == (0, 0.001)
    # Float noise of a client's arithmetic (0.1 + 0.2 = 0.30000000000000004) is a whole litre.
    noisy = client.post("/v1/bookings", json=booking(warehouse_id, 0, 0.1 + 0.2), headers=seller)
    assert noisy.status_code == 201 and noisy.json()["volume_m3"] == 0.3, noisy.text
    sessions: sessionmaker[Session] = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        stored = session.execute(select(BookingRow.pallets, BookingRow.volume_m3)).all()
        assert sorted(tuple(row) for row in stored) == [(0, 0.001), (0, 0.3)]
        # The repository rounds to the litre before it checks that something is booked.
        organisation = repositories.organisation_by_name(session, "sichuan-sellers").id
        with pytest.raises(InvalidInputError) as error:
            repositories.create_booking(
                session, repositories.Actor(None, organisation, "forwarder"),
                warehouse_id=warehouse_id, organisation_id=organisation,
                first_week="2026-W49", last_week="2026-W49", pallets=0, volume_m3=0.0004,
            )  # fmt: skip
        assert error.value.field == "pallets" and "volume_m3 >= 0.001" in str(error.value)


def test_booleans_are_not_numbers(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    for body, field in (
        (booking(warehouse_id, 1, False), "volume_m3"),
        (booking(warehouse_id, True, 1.0), "pallets"),
        (booking(warehouse_id, "3", 1.0), "pallets"),
    ):
        detail = refused(client.post("/v1/bookings", json=body, headers=seller), field)
        assert detail.startswith(f"{field}: expected a JSON number; got "), detail
    refused(
        client.post("/v1/warehouses", json={**DUISBURG, "pallets_per_week": True},
                    headers=coordinator),
        "pallets_per_week",
    )  # fmt: skip
    refused(
        client.put(f"/v1/warehouses/{warehouse_id}/capacity",
                   json={"pallets_per_week": 20, "volume_m3_per_week": True}, headers=coordinator),
        "volume_m3_per_week",
    )  # fmt: skip
    shipment = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800,
                "volume_m3": 4.2, "ready_at": "2026-11-23T08:00:00+08:00"}  # fmt: skip
    for field in ("weight_kg", "volume_m3", "pieces", "max_options"):
        answer = client.post("/v1/route-plans", json={**shipment, field: True}, headers=seller)
        assert refused(answer, field) == f"{field}: expected a JSON number; got true"
    # Integers where floats are expected, and whole floats where integers are, still pass.
    planned = client.post("/v1/route-plans", json={**shipment, "pieces": 2.0}, headers=seller)
    assert planned.status_code == 201, planned.text
    assert planned.json()["request"]["weight_kg"] == 800.0
    whole = client.post("/v1/bookings", json=booking(warehouse_id, 12.0, 40), headers=seller)
    assert whole.status_code == 201 and whole.json()["pallets"] == 12, whole.text


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: Any, pointer: str) -> Any:
    """The node a local JSON pointer (``#/components/schemas/X``) names; KeyError if none."""
    assert pointer.startswith("#/"), pointer
    node = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_has_no_dangling_references(client: TestClient) -> None:
    """Every ``$ref`` of /openapi.json resolves (196 pointed at a missing ``#/$defs/FieldError``)
    and the document is valid OpenAPI 3.1. openapi-spec-validator is not installed (schemathesis
    4 no longer depends on it), so the document is checked against the OpenAPI 3.1 schema that
    schemathesis ships and validates with."""
    document = client.get("/openapi.json").json()
    refs = list(_refs(document))
    assert refs and all(ref.startswith("#/components/schemas/") for ref in refs), set(refs)
    for ref in set(refs):
        _resolve(document, ref)
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(document)
    errors = document["paths"]["/v1/bookings"]["post"]["responses"]["422"]["content"][PROBLEM]
    field_error = errors["schema"]["properties"]["errors"]["anyOf"][0]["items"]
    assert field_error["required"] == ["field", "message"]


def test_chunked_body_over_the_limit_is_413(database_url: str, network: Network) -> None:
    """A body sent without Content-Length (chunked) past SHUDAO_MAX_BODY_BYTES is a 413 naming
    the limit, as a declared one is; it was a 400 (FastAPI turned the error raised while it read
    the body into one)."""
    settings = Settings(database_url=database_url, inprocess_worker=False, max_body_bytes=2000)
    app = create_app(settings, network=network)
    with serving(app) as base_url, httpx2.Client(base_url=base_url, timeout=30) as http:
        key = issue_key(app.state.sessions, "sichuan-sellers", "forwarder")
        headers = {"Authorization": key["Authorization"], "Content-Type": "application/json"}
        body = b'{"reference": "' + b"x" * 3000 + b'"}'

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body), 256):
                yield body[start : start + 256]

        for content in (chunks(), body):
            answer = http.post("/v1/bookings", content=content, headers=headers)
            assert answer.status_code == 413, answer.text
            assert answer.headers["content-type"] == PROBLEM
            assert "limit of 2000 bytes" in answer.json()["detail"]
        # A chunked body within the limit is read as before.
        small = b'{"warehouse_id": "nope"}'
        answer = http.post("/v1/bookings", content=iter([small[:10], small[10:]]), headers=headers)
        assert answer.status_code == 422 and "first_week" in answer.text, answer.text


def test_allocation_seller_organisation_does_not_reveal_names(client: TestClient) -> None:
    """A coordinator's allocation job gets the same answer for an organisation that does not
    exist and for one that exists but has never booked in its warehouses."""
    coordinator = auth(new_key(client, "cq-logistics", "coordinator"))
    new_key(client, "rival-exports")  # exists, never booked with cq-logistics
    neighbour = auth(new_key(client, "chengdu-a"))
    warehouse = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()
    held = client.post("/v1/bookings", json=booking(warehouse["id"], 1, 1), headers=neighbour)
    assert held.status_code == 201, held.text
    seller = {"seller": "s", "hub": "Chengdu", "market": "MKT-DE", "orders_per_week": 10,
              "m3_per_order": 0.036}  # fmt: skip
    terms = {"warehouse": "Duisburg logport", "market": "MKT-DE", "last_mile_cny_per_order": 38,
             "delivery_days": 2, "rent_cny_per_pallet_week": 16,
             "handling_cny_per_inbound_pallet": 16, "handling_cny_per_order": 13}  # fmt: skip

    def error_for(organisation: str) -> str:
        job_input = {"sellers": [{**seller, "organisation": organisation}], "warehouses": [terms],
                     "first_week": "2026-W50", "weeks": 1, "time_limit_s": 5}  # fmt: skip
        submitted = client.post(
            "/v1/jobs", json={"kind": "allocation", "input": job_input}, headers=coordinator
        )
        assert submitted.status_code == 202, submitted.text
        job = wait_for(client, coordinator, submitted.json()["id"], timeout_s=120)
        assert job["status"] == "failed", job
        return str(job["error"]).replace(organisation, "NAME")

    unknown, unrelated = error_for("no-such-exports"), error_for("rival-exports")
    assert (
        unknown
        == unrelated
        == (
            "input.sellers.0.organisation: got 'NAME'; expected your organisation or one that has "
            "booked in your warehouses: chengdu-a, cq-logistics"
        )
    )


def test_booking_audit_trail_hides_key_ids_from_the_owner(client: TestClient) -> None:
    coordinator = new_key(client, "logport", "coordinator")
    seller = new_key(client, "sichuan-sellers")
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=auth(coordinator)).json()[
        "id"
    ]
    booked = client.post(
        "/v1/bookings", json=booking(warehouse_id, 2, 2), headers=auth(seller)
    ).json()
    confirmed = client.post(f"/v1/bookings/{booked['id']}/confirm", headers=auth(coordinator))
    assert confirmed.status_code == 200, confirmed.text
    url = f"/v1/bookings/{booked['id']}/audit"

    def actors(key: dict[str, str]) -> list[tuple[Any, ...]]:
        entries = client.get(url, headers=auth(key)).json()["items"]
        return [(e["action"], e["actor_role"], e["actor_organisation"], e["api_key_id"])
                for e in entries]  # fmt: skip

    # The owner sees who acted by role and organisation, no key ids.
    assert actors(seller) == [
        ("booking.confirmed", "coordinator", "logport", None),
        ("booking.created", "forwarder", "sichuan-sellers", None),
    ]
    # The warehouse's coordinators see the key ids too.
    assert actors(coordinator) == [
        ("booking.confirmed", "coordinator", "logport", coordinator["X-Key-Id"]),
        ("booking.created", "forwarder", "sichuan-sellers", seller["X-Key-Id"]),
    ]
    trail = client.get(f"/v1/warehouses/{warehouse_id}/audit", headers=auth(coordinator)).json()
    assert trail["items"][0]["api_key_id"] == coordinator["X-Key-Id"]


def test_crafted_cursor_answers_422(client: TestClient) -> None:
    """``GET /v1/route-plans?cursor=...`` with a time that leaves the calendar in UTC answered
    500 (OverflowError); every list now reads cursors with one decoder and answers 422."""
    coordinator = auth(new_key(client, "logport", "coordinator"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    booking_id = client.post(
        "/v1/bookings", json=booking(warehouse_id, 1, 1), headers=coordinator
    ).json()["id"]
    naive = base64.urlsafe_b64encode(b"2026-12-06T10:00:00|abc").decode()
    nul = base64.urlsafe_b64encode(b"2026-12-06T10:00:00+00:00|a\x00b").decode()
    for cursor in (OVERFLOWING_CURSOR, naive, nul, "bm9wZQ", "%%%"):
        for path in ("/v1/route-plans", "/v1/bookings", f"/v1/warehouses/{warehouse_id}/audit",
                     f"/v1/bookings/{booking_id}/audit"):  # fmt: skip
            answer = client.get(path, params={"cursor": cursor}, headers=coordinator)
            detail = refused(answer, "cursor")
            assert detail.endswith("expected a next_cursor returned by this API"), detail


def test_nul_in_stored_text_is_refused_in_words_and_the_schema_says_so(client: TestClient) -> None:
    """PostgreSQL refuses NUL characters: the API answers 422 in words, and its schema's
    pattern tells a client that generates text from it (schemathesis found a query that did)."""
    key = new_key(client, "acme", role="coordinator")
    refused = client.get("/v1/warehouses", params={"node_id": "DE\x00DUI"}, headers=key)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "node_id", "message": "must not contain NUL characters"}
    ]
    schema = client.get("/openapi.json").json()
    node_id = next(
        p for p in schema["paths"]["/v1/warehouses"]["get"]["parameters"] if p["name"] == "node_id"
    )
    assert any(s.get("pattern") == "^[^\\x00]*$" for s in node_id["schema"]["anyOf"])
