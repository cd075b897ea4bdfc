"""The ``allocation`` job (issue 6), on SQLite and on PostgreSQL: it reads the ledger's capacity
and bookings, allocates sellers' demand, and proposes bookings that a coordinator confirms."""

from __future__ import annotations

import math

from fastapi.testclient import TestClient

from tests.api.conftest import new_key
from tests.api.test_jobs import assert_rejected, auth, wait_for

# An order is 0.036 m3: with 4 weeks of stock it holds 4 x 0.036 / 1.44 = 0.1 pallet positions
# and 0.144 m3 of a week's capacity, so 20 pallets a week hold the stock of 200 weekly orders.
SELLERS = [
    {"seller": "chengdu-a", "hub": "Chengdu", "market": "MKT-DE", "orders_per_week": 150,
     "m3_per_order": 0.036, "organisation": "chengdu-a"},
    {"seller": "linshui-b", "hub": "Linshui", "market": "MKT-DE", "orders_per_week": 100,
     "m3_per_order": 0.036, "organisation": "linshui-b"},
]  # fmt: skip
TERMS = {"market": "MKT-DE", "last_mile_cny_per_order": 38, "delivery_days": 2,
         "rent_cny_per_pallet_week": 16, "handling_cny_per_inbound_pallet": 16,
         "handling_cny_per_order": 13}  # fmt: skip
DUISBURG = {"name": "Duisburg logport", "node_id": "WH-DEDUI", "pallets_per_week": 20,
            "volume_m3_per_week": 40.0}  # fmt: skip


def test_allocation_job_proposes_bookings_that_fill_the_ledger(client: TestClient) -> None:
    coordinator = auth(new_key(client, "cq-logistics", "coordinator"))
    seller_a = auth(new_key(client, "chengdu-a"))
    seller_b = auth(new_key(client, "linshui-b"))
    other = auth(new_key(client, "wuhu-c"))
    warehouse = client.post("/v1/warehouses", json=DUISBURG, headers=coordinator).json()
    # A job proposes bookings only for organisations that have booked in its warehouses: each
    # seller holds a pallet in 2026-W52, after the weeks planned.
    for seller in (seller_a, seller_b):
        earlier = client.post(
            "/v1/bookings",
            json={"warehouse_id": warehouse["id"], "first_week": "2026-W52",
                  "last_week": "2026-W52", "pallets": 1, "volume_m3": 1},
            headers=seller,
        )  # fmt: skip
        assert earlier.status_code == 201, earlier.text
    held = client.post(
        "/v1/bookings",
        json={"warehouse_id": warehouse["id"], "first_week": "2026-W49",
              "last_week": "2026-W49", "pallets": 5, "volume_m3": 10},
        headers=other,
    )  # fmt: skip
    assert held.status_code == 201, held.text
    job_input = {
        "sellers": SELLERS,
        "warehouses": [{"warehouse": "Duisburg logport", **TERMS}],
        "first_week": "2026-W49", "weeks": 2, "time_limit_s": 30,
    }  # fmt: skip
    submitted = client.post(
        "/v1/jobs", json={"kind": "allocation", "input": job_input}, headers=coordinator
    )
    assert submitted.status_code == 202, submitted.text
    job = wait_for(client, coordinator, submitted.json()["id"], timeout_s=180)
    assert job["status"] == "succeeded", job["error"]
    plan = job["result"]
    assert plan["status"] == "optimal" and plan["weeks"] == ["2026-W49", "2026-W50"]
    # 250 orders a week want room; W49 has 20 - 5 = 15 pallets free (150 orders), W50 all 20
    # (200 orders). Serving costs far less than the CNY 300 penalty, so every free pallet is used.
    served = {w: sum(f["quantity"] for f in plan["flows"] if f["week"] == w) for w in (1, 2)}
    assert math.isclose(served[1], 150, abs_tol=1e-6) and math.isclose(served[2], 200, abs_tol=1e-6)
    assert math.isclose(sum(u["quantity"] for u in plan["unserved"]), 100 + 50, abs_tol=1e-6)
    proposals = plan["proposals"]
    assert all(p["booking_id"] and "not_proposed" not in p for p in proposals)
    by_week = {
        week: sum(p["pallets"] for p in proposals if p["first_week"] <= week <= p["last_week"])
        for week in plan["weeks"]
    }
    assert by_week == {"2026-W49": 15, "2026-W50": 20}

    listed = client.get(
        f"/v1/bookings?warehouse_id={warehouse['id']}&status=proposed", headers=coordinator
    ).json()["items"]
    assert {b["id"] for b in listed} == {p["booking_id"] for p in proposals}
    assert {b["organisation"] for b in listed} <= {"chengdu-a", "linshui-b"}
    own = client.get("/v1/bookings?status=proposed", headers=seller_a).json()["items"]
    assert own and {b["organisation"] for b in own} == {"chengdu-a"}
    for proposal in proposals:  # rounded to whole pallets, so all of them fit together
        confirmed = client.post(
            f"/v1/bookings/{proposal['booking_id']}/confirm", headers=coordinator
        )
        assert confirmed.status_code == 200, confirmed.text
    capacity = client.get(
        f"/v1/warehouses/{warehouse['id']}/capacity?first_week=2026-W49&last_week=2026-W50",
        headers=coordinator,
    ).json()["weeks"]
    assert [w["free_pallets"] for w in capacity] == [0, 0]
    assert all(w["free_volume_m3"] >= 0 for w in capacity)


def test_allocation_job_errors_name_the_field_and_the_role(client: TestClient) -> None:
    coordinator = auth(new_key(client, "cq-logistics", "coordinator"))
    forwarder = auth(new_key(client, "forwarder-x"))
    good = {"sellers": SELLERS, "warehouses": [{"warehouse": "Duisburg logport", **TERMS}],
            "first_week": "2026-W49"}  # fmt: skip
    denied = client.post("/v1/jobs", json={"kind": "allocation", "input": good}, headers=forwarder)
    assert denied.status_code == 403 and "coordinator or admin" in denied.json()["detail"]
    for job_input, field in (
        ({**good, "first_week": "2026-12-01"}, "input.first_week"),
        ({**good, "weeks": 0}, "input.weeks"),
        ({**good, "service_level": 1.5}, "input.service_level"),
        ({**good, "sellers": [{**SELLERS[0], "m3_per_order": -1}]}, "input.sellers.0.m3_per_order"),
        ({**good, "warehouses": [{**TERMS, "warehouse": "W", "delivery_days": "soon"}]},
         "input.warehouses.0.delivery_days"),
        ({key: v for key, v in good.items() if key != "sellers"}, "input.sellers"),
    ):  # fmt: skip
        assert_rejected(client, coordinator, "allocation", job_input, field)
    # A warehouse the coordinator's organisation does not run fails the job, naming the row.
    submitted = client.post(
        "/v1/jobs", json={"kind": "allocation", "input": good}, headers=coordinator
    ).json()
    failed = wait_for(client, coordinator, submitted["id"])
    assert failed["status"] == "failed"
    assert failed["error"].startswith("input.warehouses.0.warehouse: got 'Duisburg logport'")
    assert "POST /v1/warehouses" in failed["error"]
