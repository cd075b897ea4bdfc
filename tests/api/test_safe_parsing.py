"""Issue 19, cases 3, 4 and 8: every job input is parsed safely at submission, on SQLite and on
PostgreSQL. YAML aliases are refused, CSV that cannot be read and numbers, seeds, dates and
times out of range answer 422 naming the field with a short answer, never a 500 or a job that
is accepted and then fails with an exception's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scenarios.spec import BUNDLED_DIR
from tests.api.conftest import new_key
from tests.api.test_jobs import SHIPMENT, assert_rejected, auth, wait_for
from tests.test_cli_files import billion_laughs

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
FLEET = [{"name": "9.6 m truck", "capacity_kg": 18_000, "capacity_m3": 55}]
PICKUPS = {
    "pickups": [{"id": "P1", "place": "Linshui", "weight_kg": 800}],
    "fleet": FLEET, "hub": "CNCKG-RLY", "cutoff": "2026-12-03T18:00+08:00",
}  # fmt: skip
LOTS = [{"id": "L1", "origin": "Chengdu", "destination": "Duisburg", "deadline": "2026-12-31",
         "weight_kg": 2000, "volume_m3": 10}]  # fmt: skip
CONSOLIDATION = {"shipments": LOTS, "hub": "CNCTU-RLY", "from": "2026-12-02", "to": "2026-12-02"}
ALLOCATION = {
    "sellers_csv": (EXAMPLES / "sellers.csv").read_text(encoding="utf-8"),
    "warehouses_csv": (EXAMPLES / "warehouses.csv").read_text(encoding="utf-8"),
    "first_week": "2026-W49", "weeks": 2,
}  # fmt: skip
ROLE = {"route-batch": "forwarder", "consolidation": "forwarder", "pickups": "forwarder",
        "allocation": "coordinator", "scenario": "planner"}  # fmt: skip
UNCLOSED_QUOTE = 'origin,destination\n"x'


def _key(client: TestClient, kind: str) -> dict[str, str]:
    return auth(new_key(client, "safe-parsing", ROLE[kind]))


def test_case3_yaml_aliases_are_refused_with_a_short_error(client: TestClient) -> None:
    answer = assert_rejected(
        client, _key(client, "scenario"), "scenario", {"scenario": billion_laughs()},
        "input.scenario",
    )  # fmt: skip
    assert answer["errors"][0]["message"] == (
        "input.scenario: (file): line 3, column 15: got the YAML anchor &a0; expected no anchors "
        "or aliases (write each value out)"
    )


@pytest.mark.parametrize(
    ("kind", "job_input", "field"),
    [
        ("route-batch", {"csv": ""}, "input.csv"),
        ("route-batch", {"csv": UNCLOSED_QUOTE}, "input.csv"),
        ("consolidation", {**CONSOLIDATION, "csv": UNCLOSED_QUOTE}, "input.csv"),
        ("pickups", {**PICKUPS, "pickups_csv": ""}, "input.pickups_csv"),
        ("pickups", {**PICKUPS, "pickups_csv": UNCLOSED_QUOTE}, "input.pickups_csv"),
        ("pickups", {**PICKUPS, "fleet_csv": ""}, "input.fleet_csv"),
        ("pickups", {**PICKUPS, "fleet_csv": UNCLOSED_QUOTE}, "input.fleet_csv"),
        ("allocation", {**ALLOCATION, "sellers_csv": ""}, "input.sellers_csv"),
        ("allocation", {**ALLOCATION, "sellers_csv": UNCLOSED_QUOTE}, "input.sellers_csv"),
        ("allocation", {**ALLOCATION, "warehouses_csv": "\x00\x01"}, "input.warehouses_csv"),
    ],
)  # fmt: skip
def test_case4_empty_csv_answers_422_naming_the_field(
    client: TestClient, kind: str, job_input: dict[str, Any], field: str
) -> None:
    answer = assert_rejected(client, _key(client, kind), kind, job_input, field)
    problem = answer["errors"][0]["message"].removeprefix(f"{field}: ")
    assert problem in (
        "got an empty table; expected CSV text with a header line",
        "got malformed CSV on line 2 (unexpected end of data); expected CSV text with a header "
        "line",
        "got binary data (control character U+0000 on line 1); expected CSV text with a header "
        "line",
    )


def test_case4_a_row_wider_than_its_header_answers_422(client: TestClient) -> None:
    # pandas read "A,B,C" under "origin,destination" as origin B, destination C: refused now
    answer = assert_rejected(
        client, _key(client, "route-batch"), "route-batch",
        {"csv": "origin,destination,weight_kg,volume_m3\nWuhu,Rotterdam,500,2,9\n"}, "input.csv",
    )  # fmt: skip
    assert answer["errors"][0]["message"].startswith(
        "input.csv: got 5 fields on line 2; expected at most 4"
    )


@pytest.mark.parametrize(
    ("kind", "job_input"),
    [
        ("consolidation", CONSOLIDATION),
        ("pickups", PICKUPS),
        ("allocation", ALLOCATION),
    ],
)
def test_case4_huge_seed_answers_422(client: TestClient, kind: str, job_input: dict) -> None:
    key = _key(client, kind)
    answer = assert_rejected(client, key, kind, {**job_input, "seed": 2**70}, "input.seed")
    assert answer["errors"][0]["message"] == (
        "input.seed: got 1180591620717411303424; expected an integer in [0, 2,147,483,647]"
    )
    # 2**31 - 1, the largest seed CP-SAT, HiGHS and PyVRP all take, is accepted
    accepted = client.post(
        "/v1/jobs", json={"kind": kind, "input": {**job_input, "seed": 2**31 - 1}}, headers=key
    )
    assert accepted.status_code == 202, accepted.text
    client.delete(f"/v1/jobs/{accepted.json()['id']}", headers=key)


def test_case4_capacity_1e308_answers_422(client: TestClient) -> None:
    key = _key(client, "pickups")
    fleet = [{**FLEET[0], "capacity_kg": 1e308}]
    answer = assert_rejected(
        client, key, "pickups", {**PICKUPS, "fleet": fleet}, "input.fleet.0.capacity_kg"
    )
    assert answer["errors"][0]["message"] == (
        "input.fleet.0.capacity_kg: got 1e+308; expected a number <= 100,000 (twice the 49 t "
        "gross weight GB 1589-2016 allows a road truck)"
    )
    for column, value, field in (
        ("count", 1e9, "input.fleet.0.count"),
        ("shift_h", 1e308, "input.fleet.0.shift_h"),
        ("fixed_cost_cny", 1e300, "input.fleet.0.fixed_cost_cny"),
    ):
        assert_rejected(client, key, "pickups", {**PICKUPS, "fleet": [{**FLEET[0], column: value}]},
                        field)  # fmt: skip
    pickups = [{**PICKUPS["pickups"][0], "weight_kg": 1e308}]
    assert_rejected(
        client, key, "pickups", {**PICKUPS, "pickups": pickups}, "input.pickups.0.weight_kg"
    )


def test_case4_year_one_start_answers_422(client: TestClient) -> None:
    key = _key(client, "pickups")
    answer = assert_rejected(
        client, key, "pickups", {**PICKUPS, "start": "0001-01-01T00:00+14:00"}, "input.start"
    )
    assert answer["errors"][0]["message"] == (
        "input.start: got '0001-01-01T00:00+14:00'; expected a date in the years 2000-2199"
    )
    for job_input, field in (
        ({**PICKUPS, "cutoff": "9999-12-31T23:59-12:00"}, "input.cutoff"),
        ({**PICKUPS, "start": "2026-12-04T18:00+08:00"}, "input.start"),  # after the cut-off
        ({**PICKUPS, "pickups": [{**PICKUPS["pickups"][0],
                                  "windows": "0001-01-01T08:00+14:00/2026-12-03T12:00+08:00"}]},
         "input.pickups.0.windows"),
    ):  # fmt: skip
        assert_rejected(client, key, "pickups", job_input, field)


@pytest.mark.parametrize(
    ("kind", "job_input", "field"),
    [
        ("consolidation", {**CONSOLIDATION, "from": "0001-01-01", "to": "0001-01-02"},
         "input.from"),
        ("consolidation", {**CONSOLIDATION, "to": "2027-12-02"}, "input.to"),
        ("allocation", {**ALLOCATION, "first_week": "2199-W52", "weeks": 26}, "input.first_week"),
        ("scenario", {"scenario": "name: x\ndescription: y\n"
                      "demand: {generate: {start: 0001-01-01}}\n"},
         "input.scenario.demand.generate.start"),
        ("scenario", {"scenario": "name: x\ndescription: y\n"
                      "demand: {generate: {scale: 1e12}}\n"},
         "input.scenario.demand.generate.scale"),
        ("scenario", {"scenario": "name: x\ndescription: y\ndemand: {generate: {}}\n"
                      "changes: [{delay: {modes: [rail], hours: 1, p90_hours: 1e300}}]\n"},
         "input.scenario.changes[0].delay.p90_hours"),
        ("pickups", {**PICKUPS, "backend": "x" * 100_000}, "input.backend"),
        ("allocation", {**ALLOCATION, "first_week": "x" * 100_000}, "input.first_week"),
        ("allocation", {**ALLOCATION, "single_sourcing": ["x" * 100] * 1000},
         "input.single_sourcing"),
        ("allocation", {"warehouses_csv": ALLOCATION["warehouses_csv"], "first_week": "2026-W49",
                        "sellers": [{"seller": "ga", "hub": "Linshui", "market": "MKT-DE",
                                     "orders_per_week": 1e308, "m3_per_order": 0.03}]},
         "input.sellers.0.orders_per_week"),
    ],
)  # fmt: skip
def test_case4_other_numbers_and_dates_answer_422(
    client: TestClient, kind: str, job_input: dict[str, Any], field: str
) -> None:
    assert_rejected(client, _key(client, kind), kind, job_input, field)


def test_case4_a_route_batch_row_with_infinite_pieces_is_an_invalid_row(
    client: TestClient,
) -> None:
    key = _key(client, "route-batch")
    shipments = [SHIPMENT, {**SHIPMENT, "pieces": "inf"}, {**SHIPMENT, "ready_at": "0001-01-01"}]
    submitted = client.post(
        "/v1/jobs", json={"kind": "route-batch", "input": {"shipments": shipments}}, headers=key
    )
    job = wait_for(client, key, submitted.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert [row["status"] for row in job["result"]["rows"]] == ["planned", "invalid", "invalid"]
    assert job["result"]["rows"][1]["error"] == "pieces: got 'inf'; expected a whole number"
    assert job["result"]["rows"][2]["error"] == (
        "ready_at: got '0001-01-01'; expected a date in the years 2000-2199"
    )


def test_case8_job_scenario_names_only_bundled_data(client: TestClient) -> None:
    key = _key(client, "scenario")
    head = "name: x\ndescription: y\ndemand: {generate: {weeks: 1}}\n"
    for named in ("../../../../etc/passwd", "/etc/passwd", "spec.py", "data/nothing.csv"):
        text = f"{head}analyses: {{allocation: {{sellers: {named}, warehouses: x.csv}}}}\n"
        answer = assert_rejected(
            client,
            key,
            "scenario",
            {"scenario": text},
            "input.scenario.analyses.allocation.sellers",
        )
        assert str(BUNDLED_DIR) not in answer["errors"][0]["message"]  # no server path shown
    bundled = (
        f"{head}analyses: {{allocation: {{sellers: data/guangan_sellers.csv, "
        "warehouses: data/warehouses.csv}}\n"
    )
    accepted = client.post(
        "/v1/jobs", json={"kind": "scenario", "input": {"scenario": bundled, "sample": 1}},
        headers=key,
    )  # fmt: skip
    assert accepted.status_code == 202, accepted.text
    client.delete(f"/v1/jobs/{accepted.json()['id']}", headers=key)
