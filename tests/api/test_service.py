"""Endpoints, isolation, errors and limits, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.db import repositories
from api.db.models import RoutePlanRecord
from tests.api.conftest import ClientFactory, new_key

PROBLEM = "application/problem+json"
LINSHUI = {
    "origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2,
    "ready_at": "2026-11-23T08:00:00+08:00",
}  # fmt: skip


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": True,
        "network": True,
        "runner": True,
    }
    client.get("/healthz")
    metrics = client.get("/metrics").text
    assert 'shudao_http_requests_total{route="/healthz",status="200"} 2.0' in metrics
    assert "shudao_http_request_seconds_bucket" in metrics


def test_create_read_and_list_route_plans(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    created = client.post("/v1/route-plans", json=LINSHUI, headers=key)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["request"]["origin"] == "Linshui" and plan["currency"] == "CNY"
    assert plan["dataset_version"] == client.app.state.network.version  # type: ignore[attr-defined]
    assert plan["options"] and plan["infeasible_reason"] is None
    for option in plan["options"]:
        assert abs(option["total_cost"] - sum(leg["cost"] for leg in option["legs"])) < 0.05
    again = client.get(f"/v1/route-plans/{plan['id']}", headers=key)
    assert again.status_code == 200 and again.json() == plan
    assert (plan["status"], plan["time_limit_s"], plan["unexplored"]) == ("optimal", 10.0, None)
    for _ in range(2):
        client.post("/v1/route-plans", json={**LINSHUI, "currency": "USD"}, headers=key)
    first = client.get("/v1/route-plans?limit=2", headers=key).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/v1/route-plans?limit=2&cursor={first['next_cursor']}", headers=key
    ).json()
    assert [p["id"] for p in second["items"]] == [plan["id"]] and second["next_cursor"] is None
    times = [p["created_at"] for p in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)


def test_plan_without_options_is_still_a_plan(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    body = {"origin": "CNCTU-TFU", "destination": "SGSIN-SIN", "weight_kg": 300, "volume_m3": 1,
            "cargo_class": "battery", "allowed_modes": ["air"]}  # fmt: skip
    response = client.post("/v1/route-plans", json=body, headers=key)
    assert response.status_code == 201
    assert "lithium batteries" in response.json()["infeasible_reason"]


def test_organisations_are_isolated(client: TestClient) -> None:
    alice, bob = auth(new_key(client, "alice-forwarding")), auth(new_key(client, "bob-logistics"))
    plan_id = client.post("/v1/route-plans", json=LINSHUI, headers=alice).json()["id"]
    response = client.get(f"/v1/route-plans/{plan_id}", headers=bob)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert "Linshui" not in response.text
    assert client.get("/v1/route-plans", headers=bob).json()["items"] == []
    assert len(client.get("/v1/route-plans", headers=alice).json()["items"]) == 1


def test_missing_bad_and_revoked_keys_get_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/v1/network", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")
    key = new_key(client, "acme")
    cache = client.app.state.key_cache  # type: ignore[attr-defined]
    now_s = [0.0]
    cache.clock = lambda: now_s[0]
    assert client.get("/v1/network", headers=auth(key)).status_code == 200
    # Revoked by another process (the admin CLI): refused once the server's cache expires.
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        repositories.revoke_key(session, key["X-Key-Id"])
        session.commit()
    now_s[0] = cache.ttl_s - 0.1
    assert client.get("/v1/network", headers=auth(key)).status_code == 200
    now_s[0] = cache.ttl_s
    assert client.get("/v1/network", headers=auth(key)).status_code == 401


def test_validation_errors_name_the_fields(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    response = client.post(
        "/v1/route-plans", json={**LINSHUI, "weight_kg": -5, "cargo_class": "gold"}, headers=key
    )
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"weight_kg", "cargo_class"}
    unknown = client.post("/v1/route-plans", json={**LINSHUI, "origin": "Chengdoo"}, headers=key)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "origin"
    assert "CNCTU (Chengdu)" in unknown.json()["detail"]
    passage = client.post("/v1/route-plans", json={**LINSHUI, "avoid": ["kiel"]}, headers=key)
    assert passage.status_code == 422 and "suez" in passage.json()["detail"]
    naive = client.post(
        "/v1/route-plans", json={**LINSHUI, "ready_at": "2026-11-23T08:00:00"}, headers=key
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "ready_at"
    broken = client.post(
        "/v1/route-plans", content=b"{not json", headers={**key, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and broken.headers["content-type"] == PROBLEM
    for seconds in (0, 61):
        limit = client.post("/v1/route-plans", json={**LINSHUI, "time_limit_s": seconds},
                            headers=key)  # fmt: skip
        assert limit.status_code == 422
        assert limit.json()["errors"][0]["field"] == "time_limit_s"


def test_unknown_route_and_cursor(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    assert client.get("/v1/nowhere", headers=key).status_code == 404
    bad = client.get("/v1/route-plans?cursor=bm9wZQ", headers=key)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_body_size_limit_413(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    key = auth(new_key(client, "acme"))
    big = {**LINSHUI, "avoid": ["x" * 100] * 40}
    response = client.post("/v1/route-plans", json=big, headers=key)
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM


def test_rate_limit_429_with_retry_after(make_client: ClientFactory) -> None:
    client = make_client(rate_limit_per_minute=6, rate_limit_burst=3)
    key = auth(new_key(client, "acme"))
    codes = [client.get("/v1/network", headers=key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/v1/network", headers=key)
    assert limited.headers["content-type"] == PROBLEM
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    other = auth(new_key(client, "other"))
    assert client.get("/v1/network", headers=other).status_code == 200


def test_network_endpoints(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    summary = client.get("/v1/network", headers=key).json()
    assert summary["nodes"] >= 80 and set(summary["corridors_by_mode"]) >= {"rail", "sea"}
    ports = client.get("/v1/network/nodes?kind=seaport", headers=key).json()
    assert ports["type"] == "FeatureCollection"
    assert {f["properties"]["kind"] for f in ports["features"]} == {"seaport"}
    sichuan = client.get("/v1/network/nodes?bbox=102,28,108,33&mode=rail", headers=key).json()
    ids = {f["id"] for f in sichuan["features"]}
    assert {"CNCTU-RLY", "CNCKG-RLY"} <= ids and "DEDUI" not in ids
    rail = client.get("/v1/network/corridors?mode=rail", headers=key).json()["features"]
    assert rail and all(f["geometry"]["type"] == "LineString" for f in rail)
    bad = client.get("/v1/network/nodes?bbox=1,2,3", headers=key)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "bbox"
    assert client.get("/v1/network/corridors?mode=ship", headers=key).status_code == 422
    found = client.get("/v1/network/search?q=成都", headers=key).json()
    assert found[0]["id"] == "CNCTU"
    assert (found[0]["lat"], found[0]["lon"]) == (30.66667, 104.06667)  # nodes.csv
    assert client.get("/v1/network/search?q=duis", headers=key).json()[0]["id"] == "DEDUI"
    # what a plan would take the query for comes first: a city of several terminals, a code
    shanghai = client.get("/v1/network/search", params={"q": "上海"}, headers=key).json()
    assert shanghai[0]["id"] == "CITY-SHANGHAI" and shanghai[0]["kind"] == "city"
    assert {"air", "sea", "road"} <= set(shanghai[0]["modes"])
    assert (shanghai[0]["lat"], shanghai[0]["lon"]) == (31.22222, 121.45806)  # cities.csv centre
    assert {m["id"] for m in shanghai[1:4]} == {"CNSHA-WGQ", "CNSHA-YSN", "CNSHA-PVG"}
    assert client.get("/v1/network/search?q=PVG", headers=key).json()[0]["id"] == "CNSHA-PVG"


def test_roles_gate_key_management(client: TestClient) -> None:
    admin = auth(new_key(client, "acme", role="admin"))
    forwarder = auth(new_key(client, "acme", role="forwarder"))
    refused = client.post("/v1/keys", json={"role": "planner"}, headers=forwarder)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "role admin" in refused.json()["detail"]
    issued = client.post("/v1/keys", json={"role": "planner"}, headers=admin)
    assert issued.status_code == 201 and issued.json()["role"] == "planner"
    planner = {"Authorization": f"Bearer {issued.json()['secret']}"}
    assert client.get("/v1/network", headers=planner).status_code == 200
    listed = client.get("/v1/keys", headers=admin).json()
    assert len(listed) == 3 and all("secret" not in k for k in listed)
    other_admin = auth(new_key(client, "other", role="admin"))
    assert client.delete(f"/v1/keys/{issued.json()['id']}", headers=other_admin).status_code == 404
    revoked = client.delete(f"/v1/keys/{issued.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/v1/network", headers=planner).status_code == 401
    assert client.post("/v1/keys", json={"role": "boss"}, headers=admin).status_code == 422


def test_nul_in_an_id_is_not_found_rather_than_a_server_error(client: TestClient) -> None:
    key = new_key(client, "acme")
    answer = client.get("/v1/route-plans/a%00b", headers=key)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_need_no_cdn(client: TestClient, path: str) -> None:
    """/docs (Swagger UI) and /redoc load from the service itself, for offline use; ReDoc's
    page may load nothing from elsewhere (its bundle would fetch its logo from a CDN)."""
    html = client.get(path)
    assert html.status_code == 200
    assert "cdn.jsdelivr" not in html.text and "fonts.googleapis" not in html.text
    assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', html.text)
    assert len(assets) >= (2 if path == "/docs" else 1)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    if path == "/redoc":
        assert "default-src 'self'" in html.headers["content-security-policy"]


def test_a_date_alone_is_a_local_day(client: TestClient) -> None:
    """ready_at 2026-12-10 is midnight at the origin (Linshui, +08:00); a deadline date is the
    end of that day at the destination (Duisburg, +01:00 in winter)."""
    key = auth(new_key(client, "acme"))
    body = {**LINSHUI, "ready_at": "2026-12-10", "deadline": "2027-01-31"}
    created = client.post("/v1/route-plans", json=body, headers=key)
    assert created.status_code == 201, created.text
    assert created.json()["request"]["ready_at"] == "2026-12-10T00:00:00+08:00"
    explicit = client.post(
        "/v1/route-plans",
        json={**LINSHUI, "ready_at": "2026-12-10T00:00:00+08:00",
              "deadline": "2027-01-31T23:59:59+01:00"},
        headers=key,
    )  # fmt: skip
    assert created.json()["options"] == explicit.json()["options"]
    bad = client.post("/v1/route-plans", json={**LINSHUI, "ready_at": "2026-02-30"}, headers=key)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ready_at"


def test_a_plan_stored_before_the_time_limit_reads_its_keys_as_null(client: TestClient) -> None:
    key = auth(new_key(client, "acme"))
    plan_id = client.post("/v1/route-plans", json=LINSHUI, headers=key).json()["id"]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        record = session.get(RoutePlanRecord, plan_id)
        later = ("status", "time_limit_s", "unexplored")
        record.plan = {k: v for k, v in record.plan.items() if k not in later}
        session.commit()
    stored = client.get(f"/v1/route-plans/{plan_id}", headers=key).json()
    assert (stored["status"], stored["time_limit_s"], stored["unexplored"]) == (None, None, None)
    assert stored["options"]
