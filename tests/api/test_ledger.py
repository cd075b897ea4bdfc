"""The shared-warehouse capacity ledger (issue 6), on SQLite and on PostgreSQL: warehouses and
their weekly capacity, bookings and their transitions, who sees what, idempotent retries, the
audit trail, and many concurrent bookings racing for the last free capacity through a real
server."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx2
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import repositories
from api.db.models import (
    BookingRow,
    LedgerAuditEntry,
    Organisation,
    WarehouseRow,
    WarehouseWeekBooked,
)
from api.db.session import MIGRATIONS, make_engine, make_sessionmaker, migrate
from api.main import create_app
from api.schemas.warehouses import LedgerProblem
from api.settings import Settings
from network_data import Network
from tests.api.conftest import issue_key, new_key
from tests.live import serving

PROBLEM = "application/problem+json"
COUNTED = repositories.COUNTED_STATUSES
DUISBURG = {"name": "Duisburg logport", "node_id": "WH-DEDUI", "pallets_per_week": 20,
            "volume_m3_per_week": 40.0}  # fmt: skip


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def booking(warehouse_id: str, first: str, last: str, pallets: int, volume_m3: float) -> dict:
    return {"warehouse_id": warehouse_id, "first_week": first, "last_week": last,
            "pallets": pallets, "volume_m3": volume_m3}  # fmt: skip


def free_weeks(client: TestClient, key: dict[str, str], warehouse_id: str, first: str, last: str):
    answer = client.get(
        f"/v1/warehouses/{warehouse_id}/capacity?first_week={first}&last_week={last}", headers=key
    )
    assert answer.status_code == 200, answer.text
    return {w["week"]: (w["free_pallets"], w["free_volume_m3"]) for w in answer.json()["weeks"]}


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["detail"]
    if status == 409:  # the documented shape (CONFLICT_RESPONSES is made from this model)
        LedgerProblem.model_validate(body, strict=True)
    return body


def test_warehouses_are_registered_by_coordinators_and_listed_for_all(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    created = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator)
    assert created.status_code == 201, created.text
    warehouse = created.json()
    assert warehouse["owned"] and warehouse["pallets_per_week"] == 20
    assert (
        "role coordinator or admin"
        in assert_problem(client.post("/v1/warehouses", json=DUISBURG, headers=seller), 403)[
            "detail"
        ]
    )
    duplicate = assert_problem(
        client.post("/v1/warehouses", json=DUISBURG, headers=coordinator), 409
    )
    assert "called 'Duisburg logport' already" in duplicate["detail"]
    unknown = assert_problem(
        client.post("/v1/warehouses", json={**DUISBURG, "node_id": "WH-XXX"}, headers=coordinator),
        422,
    )
    assert unknown["errors"][0]["field"] == "node_id" and "/v1/network/search" in unknown["detail"]
    negative = assert_problem(
        client.post(
            "/v1/warehouses", json={**DUISBURG, "pallets_per_week": -1}, headers=coordinator
        ),
        422,
    )
    assert negative["errors"][0]["field"] == "pallets_per_week"
    listed = client.get("/v1/warehouses", headers=seller).json()
    assert [(w["name"], w["node_id"], w["pallets_per_week"], w["owned"]) for w in listed] == [
        ("Duisburg logport", "WH-DEDUI", 20, False)
    ]
    assert client.get("/v1/warehouses?node_id=WH-PLLOD", headers=seller).json() == []
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    for path, method in (
        ("/v1/warehouses", "post"), ("/v1/warehouses/{warehouse_id}/capacity", "put"),
        ("/v1/bookings", "post"), ("/v1/bookings/{booking_id}/confirm", "post"),
        ("/v1/bookings/{booking_id}/cancel", "post"),
    ):  # fmt: skip
        assert "application/problem+json" in paths[path][method]["responses"]["409"]["content"]
    one = client.get(f"/v1/warehouses/{warehouse['id']}", headers=seller).json()
    assert one["week_overrides"] == [] and not one["owned"]
    assert_problem(client.get("/v1/warehouses/nope", headers=seller), 404)


def test_weeks_are_iso_weeks_with_clear_errors(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    for first, last, field, message in (
        ("2026-11-30", "2026-W50", "first_week", "for the week of 2026-11-30 send 2026-W49"),
        ("2026-W49", "2026-W54", "last_week", "2026 has weeks W01 to W53"),
        ("2027-W53", "2027-W53", "first_week", "2027 has weeks W01 to W52"),
        ("2026-W50", "2026-W49", "last_week", "2026-W49 is before first_week 2026-W50"),
        ("2026-W01", "2028-W01", "last_week", "is 106 weeks; at most 104"),  # 53 + 52 + 1
        ("26-W49", "2026-W50", "first_week", "expected an ISO week like 2026-W49"),
    ):
        answer = client.post(
            "/v1/bookings", json=booking(warehouse_id, first, last, 1, 1), headers=seller
        )
        body = assert_problem(answer, 422)
        assert body["errors"][0]["field"] == field and message in body["detail"], body
    # 2026 has 53 ISO weeks: W53 is the week of Monday 2026-12-28.
    ok = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W53", "2027-W01", 1, 1), headers=seller
    )
    assert ok.status_code == 201, ok.text
    ledger = free_weeks(client, seller, warehouse_id, "2026-W52", "2027-W02")
    assert ledger == {"2026-W52": (20, 40.0), "2026-W53": (19, 39.0), "2027-W01": (19, 39.0),
                      "2027-W02": (20, 40.0)}  # fmt: skip
    bad_query = assert_problem(
        client.get(f"/v1/warehouses/{warehouse_id}/capacity?first_week=2026-W60", headers=seller),
        422,
    )
    assert bad_query["errors"][0]["field"] == "first_week"
    nothing = assert_problem(
        client.post("/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 0, 0),
                    headers=seller), 422,
    )  # fmt: skip
    assert nothing["errors"][0]["field"] == "pallets"
    unknown = assert_problem(
        client.post("/v1/bookings", json=booking("nope", "2026-W49", "2026-W49", 1, 1),
                    headers=seller), 422,
    )  # fmt: skip
    assert unknown["errors"][0]["field"] == "warehouse_id"


def test_bookings_take_capacity_and_conflicts_say_what_remains(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    first = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W50", 15, 12.5), headers=seller
    )
    assert first.status_code == 201 and first.json()["status"] == "held"
    assert first.json()["organisation"] == "sichuan-sellers"
    # 20 - 15 = 5 pallets and 40 - 12.5 = 27.5 m3 free in W49 and W50; W51 is empty.
    too_big = assert_problem(
        client.post("/v1/bookings", json=booking(warehouse_id, "2026-W50", "2026-W51", 6, 1),
                    headers=seller), 409,
    )  # fmt: skip
    assert too_big["title"] == "Not enough capacity"
    assert too_big["remaining_pallets"] == 5 and too_big["remaining_volume_m3"] == 27.5
    assert too_big["remaining"] == [
        {"week": "2026-W50", "pallets": 5, "volume_m3": 27.5},
        {"week": "2026-W51", "pallets": 20, "volume_m3": 40.0},
    ]
    assert too_big["errors"] == [
        {"field": "pallets", "message": "pallets: more than is free in 2026-W50"}
    ]
    too_bulky = assert_problem(
        client.post("/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 1, 27.6),
                    headers=seller), 409,
    )  # fmt: skip
    assert [e["field"] for e in too_bulky["errors"]] == ["volume_m3"]
    exact = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 5, 27.5), headers=seller
    )
    assert exact.status_code == 201, exact.text
    assert free_weeks(client, seller, warehouse_id, "2026-W49", "2026-W51") == {
        "2026-W49": (0, 0.0), "2026-W50": (5, 27.5), "2026-W51": (20, 40.0),
    }  # fmt: skip


def test_capacity_changes_and_cuts_below_the_bookings(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    admin = auth(new_key(client, "logport", "admin"))
    rival = auth(new_key(client, "rival-logistics", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    url = f"/v1/warehouses/{warehouse_id}/capacity"
    client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W50", 12, 30), headers=seller
    )
    week_cut = {"pallets_per_week": 10, "volume_m3_per_week": 40,
                "first_week": "2026-W50", "last_week": "2026-W51"}  # fmt: skip
    refused = assert_problem(client.put(url, json=week_cut, headers=coordinator), 409)
    assert refused["overbooked_weeks"] == [
        {"week": "2026-W50", "pallets": 10, "volume_m3": 40.0, "booked_pallets": 12,
         "booked_volume_m3": 30.0}
    ]  # fmt: skip
    assert "2026-W50 (12 pallets, 30 m3 booked)" in refused["detail"]
    default_cut = assert_problem(
        client.put(url, json={"pallets_per_week": 20, "volume_m3_per_week": 25}, headers=admin), 409
    )
    assert [w["week"] for w in default_cut["overbooked_weeks"]] == ["2026-W49", "2026-W50"]
    assert free_weeks(client, seller, warehouse_id, "2026-W50", "2026-W51") == {
        "2026-W50": (8, 10.0), "2026-W51": (20, 40.0),
    }  # fmt: skip
    assert_problem(client.put(url, json={**week_cut, "pallets_per_week": 12}, headers=rival), 403)
    assert_problem(client.put(url, json={**week_cut, "pallets_per_week": 12}, headers=seller), 403)
    half_range = assert_problem(
        client.put(url, json={"pallets_per_week": 1, "volume_m3_per_week": 1,
                              "first_week": "2026-W50"}, headers=admin), 422,
    )  # fmt: skip
    assert half_range["errors"][0]["field"] == "last_week"
    changed = client.put(url, json={**week_cut, "pallets_per_week": 12}, headers=coordinator)
    assert changed.status_code == 200, changed.text
    assert changed.json()["week_overrides"] == [
        {"week": "2026-W50", "pallets": 12, "volume_m3": 40.0},
        {"week": "2026-W51", "pallets": 12, "volume_m3": 40.0},
    ]
    raised = client.put(url, json={"pallets_per_week": 30, "volume_m3_per_week": 60}, headers=admin)
    assert raised.status_code == 200 and raised.json()["pallets_per_week"] == 30
    # Overridden weeks keep their own capacity; the others follow the new default.
    assert free_weeks(client, seller, warehouse_id, "2026-W49", "2026-W52") == {
        "2026-W49": (18, 30.0), "2026-W50": (0, 10.0), "2026-W51": (12, 40.0),
        "2026-W52": (30, 60.0),
    }  # fmt: skip
    assert_problem(client.put("/v1/warehouses/nope/capacity", json=week_cut, headers=admin), 404)


def test_who_sees_which_bookings(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    warehouse_forwarder = auth(new_key(client, "logport", "forwarder"))
    rival = auth(new_key(client, "rival-logistics", "coordinator"))
    alice, bob = auth(new_key(client, "alice-exports")), auth(new_key(client, "bob-trading"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    rival_id = client.post(
        "/v1/warehouses", json={**DUISBURG, "node_id": "WH-PLLOD", "name": "Lodz"}, headers=rival
    ).json()["id"]
    mine = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 2, 2), headers=alice
    ).json()
    client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W50", "2026-W52", 3, 3), headers=bob
    )
    client.post("/v1/bookings", json=booking(rival_id, "2026-W49", "2026-W49", 1, 1), headers=bob)

    def seen(key: dict[str, str], query: str = "") -> set[tuple[str, str]]:
        page = client.get(f"/v1/bookings{query}", headers=key).json()
        return {(b["organisation"], b["warehouse_name"]) for b in page["items"]}

    assert seen(alice) == {("alice-exports", "Duisburg logport")}
    assert seen(bob) == {("bob-trading", "Duisburg logport"), ("bob-trading", "Lodz")}
    assert seen(coordinator) == {("alice-exports", "Duisburg logport"),
                                 ("bob-trading", "Duisburg logport")}  # fmt: skip
    assert seen(rival) == {("bob-trading", "Lodz")}
    assert seen(warehouse_forwarder) == set()  # only coordinators and admins see the warehouse's
    assert seen(coordinator, "?week=2026-W51") == {("bob-trading", "Duisburg logport")}
    assert seen(bob, f"?warehouse_id={rival_id}") == {("bob-trading", "Lodz")}
    assert seen(coordinator, "?status=confirmed") == set()
    assert client.get(f"/v1/bookings/{mine['id']}", headers=coordinator).status_code == 200
    for other in (bob, rival, warehouse_forwarder):
        hidden = assert_problem(client.get(f"/v1/bookings/{mine['id']}", headers=other), 404)
        assert "alice" not in str(hidden)
        assert_problem(client.post(f"/v1/bookings/{mine['id']}/cancel", headers=other), 404)
    first = client.get("/v1/bookings?limit=1", headers=coordinator).json()
    second = client.get(
        f"/v1/bookings?limit=1&cursor={first['next_cursor']}", headers=coordinator
    ).json()
    assert second["next_cursor"] is None
    assert len({first["items"][0]["id"], second["items"][0]["id"]}) == 2
    bad_cursor = assert_problem(client.get("/v1/bookings?cursor=bm9wZQ", headers=alice), 422)
    assert bad_cursor["errors"][0]["field"] == "cursor"


def test_confirm_and_cancel_transitions(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    rival = auth(new_key(client, "rival-logistics", "coordinator"))
    seller = auth(new_key(client, "sichuan-sellers", "coordinator"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    held = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 8, 8), headers=seller
    ).json()
    url = f"/v1/bookings/{held['id']}"
    # The seller's coordinator sees its own booking but does not run the warehouse.
    refused = assert_problem(client.post(f"{url}/confirm", headers=seller), 403)
    assert "coordinator or admin of the organisation owning" in refused["detail"]
    assert_problem(client.post(f"{url}/confirm", headers=rival), 404)
    confirmed = client.post(f"{url}/confirm", headers=coordinator)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["confirmed_at"]
    again = assert_problem(client.post(f"{url}/confirm", headers=coordinator), 409)
    assert again["current_status"] == "confirmed" and "only held or proposed" in again["detail"]
    assert free_weeks(client, seller, warehouse_id, "2026-W49", "2026-W49") == {
        "2026-W49": (12, 32.0)
    }
    cancelled = client.post(f"{url}/cancel", headers=seller)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = assert_problem(client.post(f"{url}/cancel", headers=coordinator), 409)
    assert twice["current_status"] == "cancelled" and "cancelled already" in twice["detail"]
    assert (
        assert_problem(client.post(f"{url}/confirm", headers=coordinator), 409)["current_status"]
        == "cancelled"
    )
    assert free_weeks(client, seller, warehouse_id, "2026-W49", "2026-W49") == {
        "2026-W49": (20, 40.0)
    }
    # A coordinator may cancel a seller's booking in their warehouse.
    other = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 1, 1), headers=seller
    ).json()
    assert client.post(f"/v1/bookings/{other['id']}/cancel", headers=coordinator).status_code == 200


def test_proposed_bookings_take_capacity_only_once_confirmed(client: TestClient) -> None:
    """What an allocation job does: propose bookings for sellers; a coordinator confirms."""
    coordinator = new_key(client, "logport", "coordinator")
    seller = auth(new_key(client, "sichuan-sellers"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=auth(coordinator)).json()[
        "id"
    ]
    sessions: sessionmaker[Session] = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        seller_org = repositories.organisation_by_name(session, "sichuan-sellers").id
        job = repositories.Actor(None, None, job_id=None)
        proposals = [
            repositories.create_booking(
                session, job, warehouse_id=warehouse_id, organisation_id=seller_org,
                first_week="2026-W49", last_week="2026-W49", pallets=15, volume_m3=10,
                status="proposed",
            )[0].id
            for _ in range(2)
        ]  # fmt: skip
        session.commit()
    listed = client.get("/v1/bookings?status=proposed", headers=seller).json()["items"]
    assert {b["id"] for b in listed} == set(proposals)
    assert free_weeks(client, seller, warehouse_id, "2026-W49", "2026-W49") == {
        "2026-W49": (20, 40.0)
    }
    first = client.post(f"/v1/bookings/{proposals[0]}/confirm", headers=auth(coordinator))
    assert first.status_code == 200 and first.json()["status"] == "confirmed"
    second = assert_problem(
        client.post(f"/v1/bookings/{proposals[1]}/confirm", headers=auth(coordinator)), 409
    )
    assert second["remaining_pallets"] == 5 and second["title"] == "Not enough capacity"
    with sessions() as session:
        assert session.get(BookingRow, proposals[1]).status == "proposed"  # type: ignore[union-attr]


def test_idempotency_key_replays_the_booking(client: TestClient) -> None:
    coordinator = auth(new_key(client, "logport", "coordinator"))
    alice, bob = auth(new_key(client, "alice-exports")), auth(new_key(client, "bob-trading"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
    body = booking(warehouse_id, "2026-W49", "2026-W50", 4, 6.5)
    retry = {**alice, "Idempotency-Key": "order-7781"}
    created = client.post("/v1/bookings", json=body, headers=retry)
    assert created.status_code == 201 and "idempotent-replayed" not in created.headers
    replayed = client.post("/v1/bookings", json=body, headers=retry)
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == created.json()
    changed = assert_problem(
        client.post("/v1/bookings", json={**body, "pallets": 5}, headers=retry), 422
    )
    assert changed["errors"][0]["field"] == "Idempotency-Key"
    assert (
        "with a different request" in changed["detail"]
        and created.json()["id"] in changed["detail"]
    )
    # Keys belong to an organisation: bob's request with the same key is a booking of its own.
    bobs = client.post("/v1/bookings", json=body, headers={**bob, "Idempotency-Key": "order-7781"})
    assert bobs.status_code == 201 and bobs.json()["id"] != created.json()["id"]
    assert free_weeks(client, alice, warehouse_id, "2026-W49", "2026-W49") == {
        "2026-W49": (12, 27.0)
    }
    assert_problem(
        client.post("/v1/bookings", json=body, headers={**alice, "Idempotency-Key": ""}), 422
    )


def test_audit_trail_names_who_changed_what(client: TestClient) -> None:
    coordinator = new_key(client, "logport", "coordinator")
    seller = new_key(client, "sichuan-sellers")
    rival = auth(new_key(client, "rival-logistics", "admin"))
    warehouse_id = client.post("/v1/warehouses", json=DUISBURG, headers=auth(coordinator)).json()[
        "id"
    ]
    client.put(
        f"/v1/warehouses/{warehouse_id}/capacity",
        json={"pallets_per_week": 25, "volume_m3_per_week": 50}, headers=auth(coordinator),
    )  # fmt: skip
    booked = client.post(
        "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W49", 2, 2),
        headers=auth(seller),
    ).json()  # fmt: skip
    client.post(f"/v1/bookings/{booked['id']}/cancel", headers=auth(seller))
    trail = client.get(f"/v1/warehouses/{warehouse_id}/audit", headers=auth(coordinator))
    assert trail.status_code == 200, trail.text
    entries = trail.json()["items"]
    assert [e["action"] for e in entries] == [
        "booking.cancelled", "booking.created", "capacity.default_set", "warehouse.created",
    ]  # fmt: skip
    cancelled, _, capacity, _ = entries
    assert capacity["api_key_id"] == coordinator["X-Key-Id"]
    assert capacity["before"] == {"pallets_per_week": 20, "volume_m3_per_week": 40.0}
    assert capacity["after"] == {"pallets_per_week": 25, "volume_m3_per_week": 50.0}
    assert cancelled["api_key_id"] == seller["X-Key-Id"] and cancelled["booking_id"] == booked["id"]
    assert cancelled["organisation_id"] == booked["organisation_id"]
    assert (cancelled["before"]["status"], cancelled["after"]["status"]) == ("held", "cancelled")
    assert entries[0]["created_at"] >= entries[-1]["created_at"]
    page = client.get(f"/v1/warehouses/{warehouse_id}/audit?limit=3", headers=auth(coordinator))
    rest = client.get(
        f"/v1/warehouses/{warehouse_id}/audit?cursor={page.json()['next_cursor']}",
        headers=auth(coordinator),
    ).json()
    assert [e["id"] for e in page.json()["items"] + rest["items"]] == [e["id"] for e in entries]
    assert_problem(client.get(f"/v1/warehouses/{warehouse_id}/audit", headers=rival), 403)
    assert_problem(client.get(f"/v1/warehouses/{warehouse_id}/audit", headers=auth(seller)), 403)
    own = client.get(f"/v1/bookings/{booked['id']}/audit", headers=auth(seller)).json()["items"]
    assert [e["action"] for e in own] == ["booking.cancelled", "booking.created"]
    assert_problem(client.get(f"/v1/bookings/{booked['id']}/audit", headers=rival), 404)


def test_same_idempotency_key_racing_into_two_warehouses(database_url: str) -> None:
    """Two requests with one key but different bodies (so different warehouses, so different
    locks): the second waits for the first (SQLite: for the write lock; PostgreSQL: on the
    unique index) and is then refused as a reuse of the key, not answered with a 500."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            seller = repositories.create_organisation(session, "acme").id
            owner = repositories.Actor(None, repositories.create_organisation(session, "wh").id,
                                       "coordinator")  # fmt: skip
            warehouses = [
                repositories.create_warehouse(session, owner, name, "WH-DEDUI", 10, 10).id
                for name in ("A", "B")
            ]
            session.commit()
        actor = repositories.Actor(None, seller, "forwarder")

        def book(session: Session, warehouse_id: str, fingerprint: str) -> BookingRow:
            return repositories.create_booking(
                session, actor, warehouse_id=warehouse_id, organisation_id=seller,
                first_week="2026-W49", last_week="2026-W49", pallets=1, volume_m3=1,
                idempotency_key="order-1", request_sha256=fingerprint,
            )[0]  # fmt: skip

        outcome: dict[str, object] = {}

        def second() -> None:
            with sessions() as session:
                try:
                    outcome["booking"] = book(session, warehouses[1], "body-2")
                    session.commit()
                except Exception as exc:  # reported to the test thread
                    outcome["error"] = exc

        with sessions() as first:
            book(first, warehouses[0], "body-1")  # holds its lock until the commit
            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.5)
            assert thread.is_alive()  # waiting for the first transaction
            first.commit()
        thread.join(timeout=60)
        assert isinstance(outcome.get("error"), repositories.IdempotencyError), outcome
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(BookingRow)) == 1
    finally:
        engine.dispose()


# --- Weekly totals: what capacity checks read, kept equal to the bookings ----------------------


def _totals_from_bookings(session: Session) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(warehouse, week, status) -> (pallets, litres), summed from the bookings themselves."""
    totals: dict[tuple[str, str, str], tuple[int, int]] = {}
    for b in session.scalars(select(BookingRow).where(BookingRow.status != "cancelled")):
        for week in repositories.week_range(b.first_week, b.last_week):
            pallets, litres = totals.get((b.warehouse_id, week, b.status), (0, 0))
            totals[b.warehouse_id, week, b.status] = (
                pallets + b.pallets,
                litres + round(b.volume_m3 * 1000),
            )
    return totals


def _stored_totals(session: Session) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The ledger's weekly totals table, rows of zeros (all cancelled) left out."""
    return {
        (t.warehouse_id, t.week, t.status): (t.pallets, t.volume_litres)
        for t in session.scalars(select(WarehouseWeekBooked))
        if t.pallets or t.volume_litres
    }


def test_weekly_totals_equal_the_bookings_after_random_changes(database_url: str) -> None:
    """400 seeded random creates (held and proposed), confirms and cancels in two warehouses,
    some refused for capacity or state: after each 50, the weekly totals equal the sums over
    the bookings, and no week holds more than its capacity."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            owner = repositories.create_organisation(session, "logport").id
            coordinator = repositories.Actor(None, owner, "coordinator")
            sellers = [
                repositories.Actor(None, repositories.create_organisation(session, name).id,
                                   "forwarder")
                for name in ("alice", "bob", "carol")
            ]  # fmt: skip
            warehouses = [
                repositories.create_warehouse(session, coordinator, name, "WH-DEDUI", 30, 45.5).id
                for name in ("A", "B")
            ]
            session.commit()
        weeks = repositories.week_range("2026-W50", "2027-W03")  # across 2026-W53
        draw = random.Random(19)
        done: Counter[str] = Counter()
        for step in range(400):
            action = draw.choice(("held", "held", "proposed", "confirm", "cancel"))
            with sessions() as session:
                try:
                    if action in ("held", "proposed"):
                        seller = draw.choice(sellers)
                        first = draw.randrange(len(weeks))
                        last = min(len(weeks) - 1, first + draw.randrange(4))
                        repositories.create_booking(
                            session, seller, warehouse_id=draw.choice(warehouses),
                            organisation_id=seller.organisation_id, first_week=weeks[first],
                            last_week=weeks[last], pallets=draw.randrange(7),
                            volume_m3=draw.randrange(1, 9_000) / 1000, status=action,
                        )  # fmt: skip
                    else:
                        wanted = ("held", "proposed") if action == "confirm" else COUNTED
                        ids = session.scalars(
                            select(BookingRow.id)
                            .where(BookingRow.status.in_(wanted))
                            .order_by(BookingRow.id)
                        ).all()
                        if not ids:
                            continue
                        change = (
                            repositories.confirm_booking
                            if action == "confirm"
                            else repositories.cancel_booking
                        )
                        change(session, coordinator, draw.choice(ids))
                    session.commit()
                    done[action] += 1
                except repositories.CapacityError:
                    session.rollback()
                    done["refused"] += 1
            if step % 50 == 49:
                with sessions() as session:
                    assert _stored_totals(session) == _totals_from_bookings(session), step
                    for warehouse_id in warehouses:
                        warehouse = session.get(WarehouseRow, warehouse_id)
                        assert warehouse is not None
                        loads = repositories.ledger(session, warehouse, weeks)
                        assert not any(load.overbooked() for load in loads), loads
        # Every kind of change happened, and capacity refused some.
        assert min(done[k] for k in ("held", "proposed", "confirm", "cancel", "refused")) > 10, done
    finally:
        engine.dispose()


def test_migration_fills_weekly_totals_from_existing_bookings(database_url: str) -> None:
    """Bookings stored before the totals table existed (revision 0003) are summed into it by
    the migration that creates it."""
    engine = make_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        with Session(engine) as session:
            session.add_all([
                Organisation(id="o1", name="logport", created_at=now),
                Organisation(id="o2", name="alice", created_at=now),
            ])  # fmt: skip
            session.flush()
            session.add(WarehouseRow(id="w1", organisation_id="o1", name="A", node_id="WH-DEDUI",
                                  pallets_per_week=20, volume_m3_per_week=40.0, created_at=now,
                                  updated_at=now))  # fmt: skip
            session.flush()
            for ident, status, first, last, pallets, volume_m3 in (
                ("b1", "held", "2026-W52", "2027-W01", 3, 1.5),
                ("b2", "confirmed", "2026-W53", "2026-W53", 2, 0.25),
                ("b3", "cancelled", "2026-W53", "2026-W53", 5, 5.0),
                ("b4", "proposed", "2027-W01", "2027-W01", 1, 0.001),
                ("b5", "held", "2026-W53", "2026-W53", 4, 2.0),
            ):
                session.add(BookingRow(id=ident, warehouse_id="w1", organisation_id="o2",
                                    status=status, first_week=first, last_week=last,
                                    pallets=pallets, volume_m3=volume_m3, created_at=now,
                                    updated_at=now))  # fmt: skip
            session.commit()
        migrate(engine)
        with Session(engine) as session:
            # b1 spans 2026-W52, 2026-W53 (2026 has 53 ISO weeks) and 2027-W01; b3 is cancelled.
            assert _stored_totals(session) == {
                ("w1", "2026-W52", "held"): (3, 1500),
                ("w1", "2026-W53", "held"): (3 + 4, 1500 + 2000),
                ("w1", "2026-W53", "confirmed"): (2, 250),
                ("w1", "2027-W01", "held"): (3, 1500),
                ("w1", "2027-W01", "proposed"): (1, 1),
            }
            warehouse = session.get(WarehouseRow, "w1")
            assert warehouse is not None
            loads = repositories.ledger(session, warehouse, ["2026-W52", "2026-W53", "2027-W01"])
            assert [(w.week, w.booked_pallets, w.booked_volume_m3) for w in loads] == [
                ("2026-W52", 3, 1.5), ("2026-W53", 9, 3.75), ("2027-W01", 3, 1.5),
            ]  # fmt: skip
    finally:
        engine.dispose()


# --- Concurrency: a real server, many threads, the last free capacity ------------------------

#: Requests fired at once. Not more: from about 55 simultaneous requests on, the service stalls
#: for the pool timeout (30 s) and answers 500, before any ledger code runs. ``current_key``
#: leaves the request's session holding a pooled connection (5 + 10 overflow) while the request
#: waits for one of AnyIO's 40 worker threads to run the endpoint, and those threads can all be
#: waiting for a pooled connection in ``current_key`` themselves (15 + 40 = 55).
CONCURRENT_REQUESTS = 50


def fire(http: httpx2.Client, requests: list[tuple[dict[str, str], dict]]) -> list[Any]:
    """POST every booking at once, one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(requests))

    def post(request: tuple[dict[str, str], dict]) -> Any:
        barrier.wait(timeout=60)
        return http.post("/v1/bookings", json=request[1], headers=request[0])

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(post, requests))


def test_concurrent_bookings_never_overbook(database_url: str, network: Network) -> None:
    settings = Settings(
        database_url=database_url, inprocess_worker=False,
        rate_limit_per_minute=100_000, rate_limit_burst=100_000,
    )  # fmt: skip
    app = create_app(settings, network=network)
    limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
    with (
        serving(app) as base_url,
        httpx2.Client(base_url=base_url, timeout=120, limits=limits) as http,
    ):
        sessions: sessionmaker[Session] = app.state.sessions
        coordinator = issue_key(sessions, "logport", "coordinator")
        sellers = [issue_key(sessions, f"seller-{i}", "forwarder") for i in range(6)]
        warehouse_id = http.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()["id"]
        http.put(
            f"/v1/warehouses/{warehouse_id}/capacity", headers=coordinator,
            json={"pallets_per_week": 16, "volume_m3_per_week": 40,
                  "first_week": "2026-W49", "last_week": "2026-W49"},
        ).raise_for_status()  # fmt: skip
        http.post(
            "/v1/bookings", json=booking(warehouse_id, "2026-W49", "2026-W51", 12, 30),
            headers=sellers[0],
        ).raise_for_status()  # fmt: skip
        # Free now: W49 4 pallets, 10 m3; W50 and W51 8 pallets, 10 m3 (20 - 12, 40 - 30).
        capacity = {"2026-W49": (16, 40.0), "2026-W50": (20, 40.0), "2026-W51": (20, 40.0)}
        ranges = [("2026-W49", "2026-W49"), ("2026-W49", "2026-W50"), ("2026-W50", "2026-W51"),
                  ("2026-W51", "2026-W51")]  # fmt: skip
        requests = [
            (sellers[i % 6], booking(warehouse_id, *ranges[i % 4], i % 3 + 1, 1.5 * (i % 2 + 1)))
            for i in range(CONCURRENT_REQUESTS)
        ]
        answers = fire(http, requests)

        created = [
            body for (_, body), a in zip(requests, answers, strict=True) if a.status_code == 201
        ]
        refused = [
            (body, a.json())
            for (_, body), a in zip(requests, answers, strict=True)
            if a.status_code == 409
        ]
        assert len(created) + len(refused) == len(requests), [a.text for a in answers]
        assert created and refused
        for answer in answers:
            if answer.status_code == 201:
                assert answer.json()["status"] == "held"
            else:
                assert answer.headers["content-type"] == PROBLEM
        for body, problem in refused:
            weeks = repositories.week_range(body["first_week"], body["last_week"])
            assert problem["title"] == "Not enough capacity"
            assert [w["week"] for w in problem["remaining"]] == weeks
            assert (
                problem["remaining_pallets"] < body["pallets"]
                or problem["remaining_volume_m3"] < body["volume_m3"]
            ), problem
        # The ledger is the first booking plus exactly the 201s, and within capacity every week.
        expected = {week: [12, 30.0] for week in capacity}
        for body in created:
            for week in repositories.week_range(body["first_week"], body["last_week"]):
                expected[week][0] += body["pallets"]
                expected[week][1] += body["volume_m3"]
        ledger = http.get(
            f"/v1/warehouses/{warehouse_id}/capacity?first_week=2026-W49&last_week=2026-W51",
            headers=coordinator,
        ).json()["weeks"]
        free = {}
        for week in ledger:
            pallets, volume_m3 = capacity[week["week"]]
            assert (week["pallets"], week["volume_m3"]) == (pallets, volume_m3)
            assert [week["booked_pallets"], week["booked_volume_m3"]] == expected[week["week"]]
            assert week["free_pallets"] >= 0 and week["free_volume_m3"] >= 0
            free[week["week"]] = (week["free_pallets"], week["free_volume_m3"])
        # Nothing was refused that would fit even now (free capacity only shrank meanwhile).
        for body, _ in refused:
            weeks = repositories.week_range(body["first_week"], body["last_week"])
            assert any(
                free[w][0] < body["pallets"] or free[w][1] < body["volume_m3"] for w in weeks
            ), body
        with sessions() as session:
            count = session.scalar(select(func.count()).select_from(BookingRow))
            assert count == 1 + len(created)
            audited = session.scalar(
                select(func.count())
                .select_from(LedgerAuditEntry)
                .where(LedgerAuditEntry.action == "booking.created")
            )
            assert audited == count

        # The same Idempotency-Key sent 12 times at once makes one booking, answered 12 times.
        retried = booking(warehouse_id, "2026-W52", "2026-W52", 1, 1)
        same_key = {**sellers[1], "Idempotency-Key": "retry-me"}
        answers = fire(http, [(same_key, retried)] * 12)
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["id"] for a in answers}) == 1
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 11
        with sessions() as session:
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(BookingRow)
                    .where(BookingRow.first_week == "2026-W52")
                )
                == 1
            )
