"""The ``shudao`` commands, run as a user would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from network_data import load_network

runner = CliRunner()


def test_summary_reports_counts_modes_and_version() -> None:
    result = runner.invoke(app, ["network", "summary"])
    assert result.exit_code == 0, result.output
    nodes, corridors = map(
        int, re.search(r"(\d+) nodes, (\d+) directed corridors", result.output).groups()
    )
    assert nodes >= 80 and corridors >= 250
    for mode in ("road", "rail", "inland_water", "sea", "air"):
        assert re.search(rf"^\s+{mode}\s+\d+", result.output, re.M), mode
    assert re.search(r"network \d{4}-\d{2}-\d{2}\+[0-9a-f]{12} \(dataset date", result.output)
    # nodes by status, and what is not operating yet (issue 18)
    assert re.search(rf"^\s+operating\s+{nodes}$", result.output, re.M)
    assert re.search(r"^\s+under_construction\s+1$", result.output, re.M)
    assert re.search(r"^\s+node\s+CNMYG-CRX\s+planned\s+Mianyang", result.output, re.M)


def test_summary_json() -> None:
    result = runner.invoke(app, ["network", "summary", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["corridors_by_mode"]["sea"] > 0


def test_broken_dataset_exits_2_with_every_problem(data_copy: Path) -> None:
    nodes = data_copy / "nodes.csv"
    nodes.write_text(nodes.read_text(encoding="utf-8").replace(",45.17018,", ",145.17018,"))
    result = runner.invoke(app, ["network", "summary", "--data", str(data_copy)])
    assert result.exit_code == 2
    assert "nodes.csv line" in result.output and "lat 145.17018 is above 90.0" in result.output


def test_export_geojson_and_gpkg(tmp_path: Path) -> None:
    geojson = tmp_path / "network.geojson"
    assert runner.invoke(app, ["network", "export", "-o", str(geojson)]).exit_code == 0
    features = json.loads(geojson.read_text())["features"]
    assert {f["geometry"]["type"] for f in features} == {"Point", "LineString"}
    gpkg = tmp_path / "network.gpkg"
    result = runner.invoke(app, ["network", "export", "--format", "gpkg", "-o", str(gpkg)])
    assert result.exit_code == 0, result.output
    corridors = gpd.read_file(gpkg, layer="corridors")
    nodes = gpd.read_file(gpkg, layer="nodes")
    assert len(corridors) + len(nodes) == len(features)
    assert corridors.crs.to_epsg() == 4326


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["network", "export", "--format", "shp", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "geojson" in result.output and "gpkg" in result.output


def test_map_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "network.png"
    result = runner.invoke(app, ["network", "map", "-o", str(out), "--dpi", "60"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


PLAN_ARGS = ["plan", "--from", "Linshui", "--to", "Duisburg", "--weight-kg", "800",
             "--volume-m3", "4.2", "--ready", "2026-11-23T08:00:00+00:00"]  # fmt: skip


def test_plan_json_document() -> None:
    result = runner.invoke(app, [*PLAN_ARGS, "--json", "--currency", "EUR"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["currency"] == "EUR" and document["infeasible_reason"] is None
    assert 1 <= len(document["options"]) <= 5
    for option in document["options"]:
        assert option["total_cost"] == pytest.approx(sum(leg["cost"] for leg in option["legs"]))
        # one currency per document, the summary line's price included
        assert f"; EUR {option['total_cost']:,.0f};" in option["summary"]
        assert "CNY" not in option["summary"]


def test_plan_table() -> None:
    result = runner.invoke(app, [*PLAN_ARGS, "--modes", "rail,road", "--max-options", "2"])
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())  # the terminal table wraps long summaries
    assert "Option 1" in words and "China-Europe rail" in words
    assert "Option 3" not in result.output
    # times read as local time where they happen: Linshui's first leg at +08:00, the arrival
    # in Duisburg at +01:00 (winter), whatever offset the ready time was given in
    assert "depart (local)" in result.output
    first_leg = next(line for line in result.output.splitlines() if "CN-LINSHUI-PARK" in line)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+08:00", first_leg)
    assert re.search(r"arrival \d{4}-\d\d-\d\d \d\d:\d\d \+01:00", words)


def test_plan_without_option_exits_0_with_the_reason() -> None:
    args = ["plan", "--from", "CNCTU-TFU", "--to", "SGSIN-SIN", "--weight-kg", "300",
            "--volume-m3", "1", "--cargo", "battery", "--modes", "air", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "lithium batteries" in json.loads(result.output)["infeasible_reason"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--avoid", "suez,kiel"], "avoid: got 'kiel'"),
        (["--regime", "1111"], "customs_regime: got '1111'"),
        (["--deadline", "2026-11-20T00:00+00:00"], "deadline"),
        (["--ready", "next monday"], "ready: got 'next monday'"),
        (["--time-limit", "0"], "--time-limit: got 0.0; expected seconds > 0 (inf"),
    ],
)
def test_plan_invalid_input_exits_2(extra: list[str], message: str) -> None:
    result = runner.invoke(app, [*PLAN_ARGS, *extra])
    assert result.exit_code == 2
    assert message in result.output


def test_plan_batch_csv_to_parquet(tmp_path: Path) -> None:
    shipments = tmp_path / "shipments.csv"
    shipments.write_text(
        "id,origin,destination,weight_kg,volume_m3,ready_at,avoid\n"
        "A1,Linshui,Duisburg,800,4.2,2026-11-23T08:00:00+08:00,\n"
        "A2,Wuhu,Rotterdam,12000,60,2026-11-24T08:00:00+08:00,suez\n"
        "A3,Chengdu,Atlantis,10,1,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "plans.parquet"
    result = runner.invoke(app, ["plan-batch", str(shipments), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    plans = pd.read_parquet(out)
    assert list(plans["id"]) == ["A1", "A2", "A3"]
    assert list(plans["status"]) == ["planned", "planned", "invalid"]
    assert "Atlantis" in plans.loc[2, "error"]


@pytest.mark.parametrize(
    ("output", "extra", "message"),
    [
        ("plans.csv", ["--chunk-size", "10"], "--chunk-size: given with -o plans.csv"),
        ("plans.parquet", ["--scheduler", "tcp://127.0.0.1:1"],
         "--scheduler: given with -o plans.parquet"),
        ("plans.txt", [], "output: got 'plans.txt'; expected a .parquet or .csv file name, or "
         "a directory (a name without a suffix, or ending in /: plans.txt/)"),
    ],
)  # fmt: skip
def test_plan_batch_refuses_what_a_file_output_cannot_take(
    tmp_path: Path, output: str, extra: list[str], message: str
) -> None:
    """--chunk-size and --scheduler apply only to a directory output; a name with another
    suffix is more likely a typo than a directory."""
    result = runner.invoke(
        app, ["plan-batch", str(EXAMPLES / "shipments.csv"), "-o", str(tmp_path / output), *extra]
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message}"), result.output
    assert "directory output (-o plans/)" in result.output or not extra
    assert not any(tmp_path.iterdir())


def test_plan_batch_output_is_a_directory_or_one_file(tmp_path: Path) -> None:
    from api.cli import _batch_directory

    (tmp_path / "old.csv").mkdir()
    assert _batch_directory(str(tmp_path / "plans.csv")) is None
    assert _batch_directory(str(tmp_path / "plans.parquet")) is None
    for directory in ("plans", "plans.csv/", "old.csv", "runs/2026.12/"):
        assert _batch_directory(f"{tmp_path}/{directory}") == tmp_path / directory.rstrip("/")


def test_consolidate_writes_the_plan_and_prints_a_summary(tmp_path: Path) -> None:
    lots = tmp_path / "lots.csv"
    lots.write_text(
        "id,seller,origin,destination,ready_date,deadline,weight_kg,volume_m3\n"
        + "".join(f"L{i},acme,Chengdu,Duisburg,2026-11-29,2026-12-31,2000,10\n" for i in range(6))
        + "TOO-BIG,acme,Chengdu,Duisburg,2026-11-29,2026-12-31,2000,90\n"
    )
    plan = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        ["consolidate", str(lots), "--hub", "CNCTU-RLY", "--from", "2026-12-02",
         "--to", "2026-12-02", "--time-limit", "30", "-o", str(plan)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("optimal: CNY ")
    assert "6 lots placed ({'container': 6}); 1 unplaced" in result.output
    assert "RAIL-CNCTU-RLY-CNAKL" in result.output and "40HQ → DEDUI" in result.output
    assert "unplaced TOO-BIG: volume_m3: got 90.0; expected at most 68" in result.output
    document = json.loads(plan.read_text())
    assert document["departures"][0]["units"][0]["shipments"] == [f"L{i}" for i in range(6)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--hub", "Atlantis", "--from", "2026-12-02", "--to", "2026-12-02"],
            "hub: got 'Atlantis'",
        ),
        (["--hub", "Chengdu", "--from", "December", "--to", "2026-12-02"], "from: got 'December'"),
        (
            ["--hub", "Chengdu", "--from", "2026-12-09", "--to", "2026-12-02"],
            "--to: got 2026-12-02; expected a day 0 to",
        ),
    ],
)
def test_consolidate_bad_arguments_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    lots = tmp_path / "lots.csv"
    lots.write_text(
        "id,origin,destination,deadline,weight_kg,volume_m3\nL1,Chengdu,Duisburg,2026-12-31,5,1\n"
    )
    result = runner.invoke(app, ["consolidate", str(lots), *extra])
    assert result.exit_code == 2
    assert message in result.output


EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
ALLOCATE_ARGS = ["allocate", str(EXAMPLES / "sellers.csv"), "--warehouses",
                 str(EXAMPLES / "warehouses.csv"), "--workers", "1"]  # fmt: skip


def test_allocate_writes_the_allocation_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "allocation.json"
    result = runner.invoke(
        app, [*ALLOCATE_ARGS, "--service-days", "5", "--service-level", "0.95", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("optimal: CNY ")
    # 4,200 + 4 x (500 + 1,500 + 600 + 400 + 1,200 + 500 + 700 + 300 + 250) orders in sellers.csv
    assert "orders: 28,000 forecast, 28,000 served, 0 unserved" in result.output
    for heading in ("Cost by component", "Utilisation per warehouse and week", "Who serves whom"):
        assert heading in result.output
    document = json.loads(out.read_text())
    assert document["customers"][0]["customer_id"] == "guangan-autoparts/MKT-DE"
    duisburg = [load for load in document["loads"] if load["warehouse_id"] == "WH-DEDUI"]
    # Duisburg is the cheapest way to Germany and too small for it: full every week.
    assert [load["planned"][0] for load in duisburg] == [250.0] * 4
    assert all(
        p + b <= c + 1e-6
        for load in document["loads"]
        for p, b, c in zip(load["planned"], load["booked"], load["capacity"], strict=True)
    )
    assert {lane["warehouse_id"] for lane in document["lanes"]} == set(document["open_warehouses"])
    # ISO weeks: the first full week after the dataset date (Sunday 2026-11-22)
    assert "2026-W48 (23 Nov)" in result.output and "2026-W51 (14 Dec)" in result.output


def test_allocate_unreachable_service_level_leaves_every_order_unserved() -> None:
    # No warehouse delivers within a day (1.5 days at best), so no order may be served:
    # 28,000 orders x CNY 300.
    result = runner.invoke(app, [*ALLOCATE_ARGS, "--service-days", "1", "--service-level", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("optimal: CNY 8,400,000 (bound 8,400,000, gap 0.00%)")


def test_allocate_bad_row_exits_2_naming_row_and_column(tmp_path: Path) -> None:
    sellers = tmp_path / "sellers.csv"
    sellers.write_text(
        "seller,hub,market,orders_per_week,m3_per_order\nacme,Chengdu,MKT-DE,10,-1\n"
    )
    result = runner.invoke(
        app, ["allocate", str(sellers), "--warehouses", str(EXAMPLES / "warehouses.csv")]
    )
    assert result.exit_code == 2
    assert "row 1 (acme): m3_per_order: got '-1'" in result.output


PICKUPS_ARGS = [
    "pickups", str(EXAMPLES / "pickups.csv"), "--hub", "Chengdu rail port",
    "--cutoff", "2026-12-03T18:00+08:00", "--fleet", str(EXAMPLES / "fleet.csv"),
    "--time-limit", "2", "--seed", "1",
]  # fmt: skip


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_pickups_writes_geojson_and_prints_the_routes(tmp_path: Path, backend: str) -> None:
    out = tmp_path / "routes.geojson"
    result = runner.invoke(app, [*PICKUPS_ARGS, "--backend", backend, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"feasible ({backend}): CNY ")
    assert "7 pickups served, 1 unserved" in result.output
    assert "unserved MY-OVERSIZE: too big for any truck: 24,000 kg and 70 m3" in result.output
    routes = gpd.read_file(out)
    legs = routes[routes["kind"] == "leg"]
    assert set(legs.geom_type) == {"LineString"} and (legs["to"] == "CNCTU-RLY").any()
    stops = routes[routes["kind"] == "stop"]
    assert sorted(stops["pickup_id"].dropna()) == [
        "AZ-1", "DY-1", "GH-1", "JY-1", "MY-CITY-1", "MY-ECODEV-1", "MY-HITECH-1",
    ]  # fmt: skip


def test_pickups_bad_input_exits_2_naming_the_field(tmp_path: Path) -> None:
    lots = tmp_path / "pickups.csv"
    lots.write_text("id,place,weight_kg,windows\nP1,Mianyang,500,12:00-10:00;x\n")
    result = runner.invoke(app, [*PICKUPS_ARGS[:1], str(lots), *PICKUPS_ARGS[2:]])
    assert result.exit_code == 2
    assert "error: P1.windows: got 'x'" in result.output
    lots.write_text("id,place,weight_kg\nP1,Mianyan Hitech,500\n")
    result = runner.invoke(app, [*PICKUPS_ARGS[:1], str(lots), *PICKUPS_ARGS[2:]])
    assert result.exit_code == 2
    assert "P1.place: got 'Mianyan Hitech'; expected a known" in result.output


def test_a_date_alone_is_the_local_day_at_the_origin_and_destination() -> None:
    """--ready 2026-12-10 is midnight in Chengdu (+08:00); --deadline a date is that day's
    end at the destination (Duisburg, +01:00 in winter)."""
    common = ["plan", "--from", "Chengdu", "--to", "Duisburg", "--weight-kg", "1000",
              "--volume-m3", "5", "--json"]  # fmt: skip
    by_date = runner.invoke(app, [*common, "--ready", "2026-12-10", "--deadline", "2027-01-20"])
    by_time = runner.invoke(
        app,
        [*common, "--ready", "2026-12-10T00:00+08:00", "--deadline", "2027-01-20T23:59:59+01:00"],
    )
    assert by_date.exit_code == 0, by_date.output
    assert json.loads(by_date.output) == json.loads(by_time.output)
    bad = runner.invoke(app, [*common, "--ready", "2026-13-10"])
    assert bad.exit_code == 2
    assert "ready: got '2026-13-10'" in bad.output and "or a date such as" in bad.output


def test_readme_example_files_run_as_written(tmp_path: Path) -> None:
    """README's plan-batch, consolidate and contract-rates commands name files that ship."""
    batch = runner.invoke(
        app, ["plan-batch", str(EXAMPLES / "shipments.csv"), "-o", str(tmp_path / "plans.csv")]
    )
    assert batch.exit_code == 0, batch.output
    assert "wrote 8 plans" in batch.output and "'planned': 8" in batch.output
    lots = runner.invoke(
        app,
        ["consolidate", str(EXAMPLES / "lots.csv"), "--hub", "Chengdu", "--from", "2026-12-01",
         "--to", "2026-12-31", "--time-limit", "30", "-o", str(tmp_path / "plan.json"),
         "--quiet"],
    )  # fmt: skip
    assert lots.exit_code == 0, lots.output
    assert "8 lots placed" in lots.output and "0 unplaced" in lots.output
    # each box's destination, and the departure in the hub's local time
    assert "40GP →" in lots.output and "DEDUI" in lots.output  # the cell may wrap
    assert "2026-12-07 10:00 +08:00" in lots.output
    rates = runner.invoke(
        app, ["network", "summary", "--tariffs", str(EXAMPLES / "contract_rates.csv")]
    )
    assert rates.exit_code == 0, rates.output
    network = load_network(tariffs=EXAMPLES / "contract_rates.csv")
    contract = network.tariffs_for("RAIL-CNCTU-RLY-CNAKL")
    assert set(contract["source"].map(tuple)) == {("CONTRACT",)}


def test_allocate_starts_on_an_iso_week() -> None:
    by_week = runner.invoke(app, [*ALLOCATE_ARGS, "--start", "2026-W50"])
    by_date = runner.invoke(app, [*ALLOCATE_ARGS, "--start", "2026-12-09"])
    assert by_week.exit_code == 0, by_week.output
    assert "2026-W50 (07 Dec)" in by_week.output
    assert by_date.output.replace(by_date.output.split("\n")[0], "") == by_week.output.replace(
        by_week.output.split("\n")[0], ""
    )  # the same plan (the first line holds the run time)
    bad = runner.invoke(app, [*ALLOCATE_ARGS, "--start", "2026-W54"])
    assert bad.exit_code == 2 and "2026 has weeks W01 to W53" in bad.output


# The commands build the job kinds' input models (issue 22): a rule lives in the model, and a
# refusal names the command's option or the file's row.
LOTS_CSV = (
    "id,origin,destination,deadline,weight_kg,volume_m3\nL1,Chengdu,Duisburg,2026-12-31,5,1\n"
)
CONSOLIDATE_TAIL = ["--hub", "Chengdu", "--from", "2026-12-02", "--to", "2026-12-02"]


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        ("consolidate", ["--max-late-days", "91"],
         "error: --max-late-days: got 91.0; expected a number in [0, 90]"),
        ("consolidate", ["--seed", "-1"],
         "error: --seed: got -1; expected an integer in [0, 2,147,483,647]"),
        ("consolidate", ["--time-limit", "0"],
         "error: --time-limit: got 0.0; expected a number in [0.1, 86400]"),
        ("allocate", ["--fairness", "2"],
         "error: --fairness: got 2.0; expected a number in [0, 1]"),
        ("allocate", ["--weeks", "27"], "error: --weeks: got 27; expected an integer in [1, 26]"),
        ("allocate", ["--lead-time-limit", "0"],
         "error: --lead-time-limit: got 0.0; expected a number in [0.1, 120]"),
        ("pickups", ["--terrain", "moon"], "error: --terrain: got 'moon'; expected one of"),
        ("pickups", ["--cutoff", "2026-12-03 18:00"], "error: --cutoff: got '2026-12-03 18:00'"),
    ],
)  # fmt: skip
def test_commands_refuse_what_the_job_refuses_naming_the_option(
    tmp_path: Path, command: str, extra: list[str], message: str
) -> None:
    lots = tmp_path / "lots.csv"
    lots.write_text(LOTS_CSV)
    arguments = {
        "consolidate": ["consolidate", str(lots), *CONSOLIDATE_TAIL],
        "allocate": ALLOCATE_ARGS,
        "pickups": PICKUPS_ARGS,
    }[command]
    result = runner.invoke(app, [*arguments, *extra])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message), result.output


def test_a_bad_fleet_row_is_named_by_its_file_and_row(tmp_path: Path) -> None:
    fleet = tmp_path / "trucks.csv"
    fleet.write_text("name,capacity_kg,capacity_m3\nvan,1800,16\ntruck,heavy,55\n")
    arguments = [*PICKUPS_ARGS]
    arguments[arguments.index("--fleet") + 1] = str(fleet)
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert result.output.startswith("error: trucks.csv row 2.capacity_kg: got 'heavy'")


def test_a_shipments_file_without_a_column_is_named_by_its_row(tmp_path: Path) -> None:
    shipments = tmp_path / "shipments.csv"
    shipments.write_text("id,origin,destination,weight_kg\nA1,Linshui,Duisburg,800\n")
    result = runner.invoke(app, ["plan-batch", str(shipments), "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2
    assert result.output == "error: A1: missing volume_m3\n"


def test_the_job_slots_limits_do_not_bind_a_command(tmp_path: Path) -> None:
    """A job runs at most 600 s and takes at most 10,000 rows; on one's own machine the same
    model allows a night's solve and any number of rows."""
    from api.jobs.consolidation import ConsolidationInput
    from api.jobs.route_batch import RouteBatchInput
    from optimizer.errors import InvalidInputError
    from optimizer.jobs import MAX_ROWS, checked

    row = {"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4}
    rows = {"shipments": [row] * (MAX_ROWS + 1)}
    with pytest.raises(InvalidInputError, match="10001 rows; at most 10000 per job"):
        checked(RouteBatchInput, rows)
    assert len(checked(RouteBatchInput, rows, local=True).shipments or []) == MAX_ROWS + 1
    lots = {"csv": LOTS_CSV, "hub": "Chengdu", "from": "2026-12-02", "to": "2026-12-02"}
    with pytest.raises(InvalidInputError, match=r"input.time_limit_s: got 3600; .* \[0.1, 600\]"):
        checked(ConsolidationInput, {**lots, "time_limit_s": 3600})
    assert checked(ConsolidationInput, {**lots, "time_limit_s": 3600}, local=True).time_limit_s
    lots_file = tmp_path / "lots.csv"
    lots_file.write_text(LOTS_CSV)
    result = runner.invoke(
        app, ["consolidate", str(lots_file), *CONSOLIDATE_TAIL, "--time-limit", "3600"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("optimal: ")
