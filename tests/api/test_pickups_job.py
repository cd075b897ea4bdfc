"""The ``pickups`` job (issue 7), on SQLite and on PostgreSQL: the example Mianyang lots routed
to the Chengdu rail port over HTTP, checked against the fleet and the cut-off."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import new_key
from tests.api.test_jobs import assert_rejected, auth, wait_for

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
CUTOFF = "2026-12-03T18:00+08:00"
CAPACITY = {"9.6 m box truck (dangerous goods class 9 licence)": (18_000, 55),
            "4.2 m light truck": (1_800, 16)}  # fmt: skip


def job_input(**overrides: object) -> dict[str, object]:
    return {
        "pickups_csv": (EXAMPLES / "pickups.csv").read_text(),
        "fleet_csv": (EXAMPLES / "fleet.csv").read_text(),
        "hub": "Chengdu rail port", "cutoff": CUTOFF, "time_limit_s": 2, "seed": 1,
        **overrides,
    }  # fmt: skip


def test_pickups_job_routes_the_example_lots(client: TestClient) -> None:
    forwarder = auth(new_key(client, "mianyang-forwarding"))
    submitted = client.post("/v1/jobs", json={"kind": "pickups", "input": job_input()},
                            headers=forwarder)  # fmt: skip
    assert submitted.status_code == 202, submitted.text
    job = wait_for(client, forwarder, submitted.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job["error"]
    plan = job["result"]
    # 24 t and 70 m3 fit neither truck type; the seven other lots fit and have time.
    assert [u["pickup_id"] for u in plan["unserved"]] == ["MY-OVERSIZE"]
    assert plan["unserved"][0]["reason"].startswith("too big for any truck")
    served = sorted(s["pickup_id"] for r in plan["routes"] for s in r["stops"] if s["pickup_id"])
    assert served == ["AZ-1", "DY-1", "GH-1", "JY-1", "MY-CITY-1", "MY-ECODEV-1", "MY-HITECH-1"]
    # MY-ECODEV-1 holds lithium batteries: only the licensed truck type may carry it.
    carriers = {r["vehicle_type"] for r in plan["routes"]
                if any(s["pickup_id"] == "MY-ECODEV-1" for s in r["stops"])}  # fmt: skip
    assert carriers == {"9.6 m box truck (dangerous goods class 9 licence)"}
    cutoff = datetime.fromisoformat(CUTOFF)
    for route in plan["routes"]:
        assert route["stops"][-1]["place"] == "CNCTU-RLY"
        assert datetime.fromisoformat(route["stops"][-1]["arrival"]) <= cutoff
        kg, m3 = CAPACITY[route["vehicle_type"]]
        assert all(s["load_kg"] <= kg + 1e-6 and s["load_m3"] <= m3 + 1e-6 for s in route["stops"])
    legs = [f for f in plan["geojson"]["features"] if f["properties"]["kind"] == "leg"]
    assert len(legs) == sum(len(r["stops"]) - 1 for r in plan["routes"])


def test_pickups_job_errors_name_the_field(client: TestClient) -> None:
    forwarder = auth(new_key(client, "mianyang-forwarding"))
    for bad, field in (
        (job_input(cutoff="2026-12-03 18:00"), "input.cutoff"),
        (job_input(fleet_csv="name,capacity_kg,capacity_m3\nvan,heavy,9\n"),
         "input.fleet.0.capacity_kg"),
        (job_input(fleet_csv="name,capacity_kg,capacity_m3,count\nvan,1800,9,inf\n"),
         "input.fleet.0.count"),
        (job_input(backend="gurobi"), "input.backend"),
        (job_input(time_limit_s=0), "input.time_limit_s"),
        ({key: v for key, v in job_input().items() if key != "pickups_csv"}, "input.pickups"),
    ):  # fmt: skip
        assert_rejected(client, forwarder, "pickups", bad, field)
    # Places resolve when the job runs: an unknown one fails the job naming the row.
    unknown = job_input(pickups_csv="id,place,weight_kg\nP1,Mianyan Hitech,500\n")
    submitted = client.post(
        "/v1/jobs", json={"kind": "pickups", "input": unknown}, headers=forwarder
    ).json()
    failed = wait_for(client, forwarder, submitted["id"])
    assert failed["status"] == "failed"
    assert failed["error"].startswith("input.pickups.0.place: got 'Mianyan Hitech'")
