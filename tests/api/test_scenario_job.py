"""The ``scenario`` job (issue 8), on SQLite and on PostgreSQL: a planner runs a bundled
scenario against the baseline over HTTP and gets the KPIs ``shudao scenario run --json`` prints."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import new_key
from tests.api.test_jobs import assert_rejected, auth, wait_for

KPI_KEYS = {"total_cost", "mean_days", "p90_days", "co2e_kg", "unserved", "mode_split"}


def test_planner_runs_a_scenario_against_the_baseline(client: TestClient) -> None:
    planner = auth(new_key(client, "sichuan-commerce", "planner"))
    job_input = {"name": "carbon_price", "sample": 12, "baseline": True}
    submitted = client.post("/v1/jobs", json={"kind": "scenario", "input": job_input},
                            headers=planner)  # fmt: skip
    assert submitted.status_code == 202, submitted.text
    job = wait_for(client, planner, submitted.json()["id"], timeout_s=300)
    assert job["status"] == "succeeded", job["error"]
    scenario, baseline = job["result"]["scenario"], job["result"]["baseline"]
    assert set(scenario) >= KPI_KEYS and set(baseline) >= KPI_KEYS
    # The same 12 shipments (seeded): with a price on CO2e shippers pick cleaner options.
    assert scenario["co2e_kg"] <= baseline["co2e_kg"]
    share_total = sum(scenario["mode_split"].values())
    assert abs(share_total - 1.0) < 1e-3  # shares of tonne-km, rounded to 4 places


def test_scenario_job_errors_name_the_field_and_the_role(client: TestClient) -> None:
    planner = auth(new_key(client, "sichuan-commerce", "planner"))
    forwarder = auth(new_key(client, "forwarder-x"))
    denied = client.post("/v1/jobs", json={"kind": "scenario", "input": {"name": "baseline"}},
                         headers=forwarder)  # fmt: skip
    assert denied.status_code == 403 and "planner or admin" in denied.json()["detail"]
    for job_input, field in (
        ({"name": "atlantis"}, "input.name"),
        ({"name": "baseline", "sample": 0}, "input.sample"),
        ({"name": "baseline", "baseline": "nowhere"}, "input.baseline"),
        ({"scenario": "name: x\ndescription: y\ndemand: {file: lots.csv}\n"},
         "input.scenario.demand.file"),
        ({}, "input"),
    ):  # fmt: skip
        assert_rejected(client, planner, "scenario", job_input, field)
