"""Parcel channels through ``/v1/route-plans``: the fields that describe the pieces, and every
channel's quote in the stored plan (issue 21)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import new_key

PARCEL = {
    "origin": "Chengdu", "destination": "Los Angeles", "weight_kg": 2, "volume_m3": 0.009,
    "ready_at": "2026-12-07T09:00:00+08:00", "piece_dimensions_cm": [30, 20, 15],
    "destination_postcode": "90001",
}  # fmt: skip


def test_a_parcel_plan_answers_and_stores_every_channel(client: TestClient) -> None:
    key = {"Authorization": new_key(client, "acme")["Authorization"]}
    created = client.post("/v1/route-plans", json=PARCEL, headers=key)
    assert created.status_code == 201, created.text
    plan = created.json()
    channels = {c["channel"]: c for c in plan["parcel_channels"]}
    assert {c for c, q in channels.items() if q["offered"]} == {
        "EXP-DHL", "POST-EPACKET", "POST-REG", "LINE-US",
    }  # fmt: skip
    epacket = channels["POST-EPACKET"]
    assert epacket["cost"] == pytest.approx(sum(c["amount"] for c in epacket["charges"]))
    assert epacket["regime"] == "9610" and epacket["duties"] == "DDU"
    assert channels["RAIL-EU"] == {
        "channel": "RAIL-EU", "name": "China-Europe rail parcel line (DDP)",
        "kind": "rail_parcel", "offered": False,
        "reason": "China-Europe rail parcel line (DDP) does not serve US",
    }  # fmt: skip
    line = next(o for o in plan["options"] if o["product"] == "LINE-US")
    assert line["total_cost"] == channels["LINE-US"]["cost"] and len(line["legs"]) == 1
    stored = client.get(f"/v1/route-plans/{plan['id']}", headers=key).json()
    assert stored["parcel_channels"] == plan["parcel_channels"]
    assert stored["request"]["piece_dimensions_cm"] == [30, 20, 15]
    in_usd = client.post("/v1/route-plans", json={**PARCEL, "currency": "USD"}, headers=key)
    usd = {c["channel"]: c for c in in_usd.json()["parcel_channels"]}
    assert usd["POST-EPACKET"]["cost"] == pytest.approx(epacket["cost"] / 7.16, abs=0.01)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"piece_dimensions_cm": [30, 0, 15]}, "piece_dimensions_cm.1"),
        ({"piece_dimensions_cm": [30, 20]}, "piece_dimensions_cm.2"),
        ({"contents": ["gas"]}, "contents.0"),
        ({"destination_postcode": "9" * 21}, "destination_postcode"),
    ],
)
def test_bad_parcel_fields_are_refused_by_name(
    client: TestClient, change: dict[str, object], field: str
) -> None:
    key = {"Authorization": new_key(client, "acme")["Authorization"]}
    refused = client.post("/v1/route-plans", json={**PARCEL, **change}, headers=key)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in refused.json()["errors"]}
