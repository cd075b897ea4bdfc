"""A route plan's warnings and use_passages over HTTP (rates with a date, issue 17 item 4)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import new_key

RAIL = {
    "origin": "CNCKG-RLY", "destination": "CNQZH", "weight_kg": 800, "volume_m3": 4.2,
    "ready_at": "2026-12-10T08:00:00+00:00", "modes": ["rail"],
}  # fmt: skip


def test_route_plan_answers_and_stores_its_warnings(client: TestClient) -> None:
    key = {"Authorization": new_key(client, "acme")["Authorization"]}
    created = client.post("/v1/route-plans", json=RAIL, headers=key)
    assert created.status_code == 201, created.text
    # tariffs.csv: mode:rail:CN quoted 2025-06-30, valid 91 days (VALID-RAIL)
    expected = [
        "rail rates (the default for rail legs from CN) quoted 2025-06-30 and valid to "
        "2025-09-28, 17 months before this departure (2026-12-12): ask the carrier for a "
        "current rate"
    ]
    assert created.json()["warnings"] == expected
    stored = client.get(f"/v1/route-plans/{created.json()['id']}", headers=key).json()
    assert stored["warnings"] == expected and stored["request"]["use_passages"] == []


def test_use_passages_reaches_the_planner(client: TestClient) -> None:
    key = {"Authorization": new_key(client, "acme")["Authorization"]}
    sea = {
        "origin": "Chongqing", "destination": "Rotterdam", "weight_kg": 5000, "volume_m3": 20,
        "ready_at": "2026-12-10T08:00:00+00:00", "allowed_modes": ["sea", "road"],
    }  # fmt: skip
    default = client.post("/v1/route-plans", json=sea, headers=key).json()
    assert all("via the Cape" in o["summary"] for o in default["options"])
    asked = client.post(
        "/v1/route-plans", json={**sea, "use_passages": ["suez", "bab-el-mandeb"]}, headers=key
    ).json()
    assert all("via Suez" in o["summary"] for o in asked["options"])
    wrong = client.post("/v1/route-plans", json={**sea, "use_passages": ["kiel"]}, headers=key)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "use_passages"
