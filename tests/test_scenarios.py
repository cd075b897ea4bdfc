"""Scenarios: files and their errors, changes, bundled scenarios' KPIs, sweeps, CLI, job kind."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from network_data import Network, load_network
from network_data.schema import MODES
from optimizer.errors import InvalidInputError
from scenarios import jobs
from scenarios.changes import apply_changes
from scenarios.cli import scenario_app
from scenarios.demand import read_demand
from scenarios.runner import ScenarioResult, compute_kpis, plan_options, run_scenario
from scenarios.spec import (
    Scenario,
    ScenarioError,
    bundled_names,
    load_scenario,
    parse_scenario,
    scenario_from_dict,
)
from scenarios.sweep import run_samples, run_sweep, sample_values

#: Shipments planned per bundled scenario: enough for every zone and market group to appear.
SAMPLE = 200


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network()


@pytest.fixture(scope="module")
def runs(network: Network) -> dict[str, ScenarioResult]:
    """Every bundled scenario on the same 200-shipment sample (each ~3-6 s)."""
    return {
        name: run_scenario(name, sample=SAMPLE, workers=2, network=network)
        for name in bundled_names()
    }


def _doc(**overrides: Any) -> dict[str, Any]:
    return {"name": "t", "description": "a test", "demand": {"generate": {}}, **overrides}


# --- files and validation -------------------------------------------------------------------


def test_every_bundled_scenario_says_what_it_is() -> None:
    names = set(bundled_names())
    assert {"baseline", "red_sea_closure", "red_sea_reopening", "border_congestion",
            "yangtze_low_water", "guangan_inland_port", "carbon_price",
            "demand_growth"} <= names  # fmt: skip
    for name in names:
        scenario = load_scenario(name)
        assert scenario.name == name
        assert len(scenario.description) > 60


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _doc(
                changes=[
                    {"close": {"passages": ["suez"]}},
                    {"scale": {"what": "cost", "factor": 2, "modes": ["sea"]}},
                    {"scale": {"what": "cost", "factor": -1, "modes": ["sea"]}},
                ]
            ),
            "changes[2].scale.factor: got -1; expected a number > 0",
        ),
        (
            _doc(changes=[{"scale": {"what": "speed", "factor": 1, "modes": ["sea"]}}]),
            "changes[0].scale.what: got 'speed'; expected one of 'capacity', 'frequency', "
            "'cost' or 'dwell'",
        ),
        (_doc(changes=[{"close": {}}]), "changes[0].close: name at least one of modes"),
        (
            _doc(
                changes=[
                    {"close": {"modes": ["sea"]}, "fx": {"currency": "USD", "cny_per_unit": 7}}
                ]
            ),
            "changes[0]: exactly one of close, scale",
        ),
        (_doc(changes=[{"teleport": {}}]), "changes[0].teleport: no such key"),
        (_doc(demand={}), "demand: exactly one of file, generate"),
        (_doc(demand={"generate": {"weeks": 0}}), "demand.generate.weeks: got 0; expected a"),
        (_doc(description=""), "description: got ''"),
        (
            _doc(
                uncertain=[
                    {
                        "name": "x",
                        "path": "changes[3].delay.hours",
                        "distribution": "uniform",
                        "low": 1,
                        "high": 2,
                    }
                ]
            ),
            "uncertain[0].path: got 'changes[3].delay.hours'; expected the path of a number",
        ),
        (
            _doc(
                uncertain=[
                    {
                        "name": "x",
                        "path": "demand.generate.scale",
                        "distribution": "triangular",
                        "low": 1,
                        "high": 2,
                    }
                ]
            ),
            "uncertain[0]: a triangular distribution needs mode",
        ),
        (
            _doc(changes=[{"delay": {"passages": ["suez"], "hours": float("inf")}}]),
            "changes[0].delay.hours: got inf; expected a finite number",
        ),
    ],
)
def test_invalid_files_name_the_key(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(document)
    assert message in str(caught.value)


def _uncertain(*parameters: dict[str, Any]) -> dict[str, Any]:
    """A scenario with a delay of 48 h at Suez whose uncertain ``parameters`` are given."""
    delay = {"delay": {"passages": ["suez"], "hours": 48}}
    return _doc(changes=[delay], uncertain=list(parameters))


DELAY_H = {"path": "changes[0].delay.hours", "distribution": "uniform", "low": 1, "high": 2}
WEEKS = {"path": "demand.generate.weeks", "distribution": "uniform", "low": 1, "high": 6}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _uncertain({"name": "a", **DELAY_H}, {"name": "a", **WEEKS}),
            "uncertain[1].name: got 'a'; expected a name not used by uncertain[0]",
        ),
        (
            _uncertain({"name": "total_cost", **DELAY_H}),
            "uncertain[0].name: got 'total_cost'; expected a name other than the sweep's own",
        ),
        (_uncertain({"name": "share_rail", **DELAY_H}), "uncertain[0].name: got 'share_rail'"),
        (
            _uncertain({"name": "a", **DELAY_H}, {"name": "b", **DELAY_H}),
            "uncertain[1].path: got 'changes[0].delay.hours'; expected a path not drawn by "
            "uncertain[0]",
        ),
        (
            _uncertain(
                {
                    "name": "a",
                    "path": DELAY_H["path"],
                    "distribution": "normal",
                    "mean": 48,
                    "sd": 12,
                }
            ),
            # 48 - 8 x 12 = -48 hours: the support of an unclipped normal reaches below zero.
            "uncertain[0] (a): a draw of -48 is possible and invalid "
            "(changes[0].delay.hours: got -48.0; expected a number >= 0)",
        ),
        (
            _uncertain({"name": "w", **{**WEEKS, "low": 0}}),
            "uncertain[0] (w): a draw of 0 is possible and invalid (demand.generate.weeks",
        ),
        (
            _uncertain(
                {
                    "name": "a",
                    **{**DELAY_H, "distribution": "normal", "mean": float("nan"), "sd": 12},
                }
            ),
            "uncertain[0].mean: got nan; expected a finite number",
        ),
    ],
)
def test_uncertain_parameters_are_checked_when_the_file_loads(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(document)
    assert message in str(caught.value)


def test_uncertain_draws_stay_within_their_support_and_whole_fields_get_whole_numbers() -> None:
    normal = {**DELAY_H, "distribution": "normal", "mean": 48, "sd": 12, "low": 0, "high": 60}
    scenario = scenario_from_dict(_uncertain({"name": "delay_h", **normal}, {"name": "w", **WEEKS}))
    draws = [sample_values(scenario, i, seed=3) for i in range(200)]
    assert all(0 <= d["delay_h"] <= 60 for d in draws)
    assert any(d["delay_h"] == 60 for d in draws)  # P(N(48, 12) > 60) = 16 %: clipped
    assert {d["w"] for d in draws} == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    assert scenario.with_values({"demand.generate.weeks": 4.0}).demand.generate is not None


def test_a_demand_file_with_a_bad_amount_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "lots.csv").write_text(
        "id,origin,destination,weight_kg,volume_m3,value_cny\n"
        "A,Linshui,Duisburg,800,4.2,\n"
        "B,Linshui,Duisburg,heavy,4.2,9000\n"
        "C,Linshui,Duisburg,800,4.2,-5\n"
    )
    scenario = scenario_from_dict(_doc(demand={"file": "lots.csv"}), base_dir=tmp_path)
    with pytest.raises(
        ScenarioError, match=r"lots.csv column weight_kg needs a number >= 0; got line 3 \(id B\)"
    ):
        read_demand(scenario)
    (tmp_path / "lots.csv").write_text((tmp_path / "lots.csv").read_text().replace("heavy", "800"))
    with pytest.raises(ScenarioError, match=r"column value_cny needs .* line 4 \(id C\): '-5'"):
        read_demand(scenario)


def test_yaml_errors_and_missing_files() -> None:
    with pytest.raises(ScenarioError, match=r"\(file\): not valid YAML"):
        parse_scenario("name: [unclosed")
    with pytest.raises(ScenarioError, match=r"\(file\): got list"):
        parse_scenario("- a\n- b\n")
    with pytest.raises(ScenarioError, match="not a bundled scenario"):
        load_scenario("no_such_scenario")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"close": {"nodes": ["CNAKL", "NOPE"]}}, "changes[0].close.nodes[1]: got 'NOPE'"),
        ({"delay": {"passages": ["kiel"], "hours": 5}}, "changes[0].delay.passages[0]: got 'kiel'"),
        (
            {
                "add_corridor": {
                    "id": "X",
                    "origin": "CNCTU",
                    "destination": "ATLANTIS",
                    "mode": "road",
                    "distance_km": 5,
                    "duration_h": 1,
                }
            },
            "changes[0].add_corridor.destination: got 'ATLANTIS'",
        ),
        (
            {
                "add_corridor": {
                    "id": "X",
                    "origin": "CNCTU",
                    "destination": "CNMYG",
                    "mode": "rail",
                    "distance_km": 5,
                    "duration_h": 1,
                }
            },
            "expected a node handling rail",
        ),
        ({"scale": {"what": "dwell", "factor": 2, "modes": ["rail"]}}, "dwell is scaled at nodes"),
        # A planned node's or corridor's id: added again, the network held it twice.
        (
            {
                "add_node": {
                    "id": "CN-GUANGAN-APT", "name_en": "Guang'an", "kind": "airport",
                    "country": "CN", "lat": 30.5, "lon": 106.6, "modes": ["road", "air"],
                }
            },
            "changes[0].add_node.id: got 'CN-GUANGAN-APT', a node the dataset plans",
        ),
        (
            {
                "add_corridor": {
                    "id": "ROAD-CN-GUANGAN-APT-CN-GUANGAN", "origin": "CNCTU",
                    "destination": "CNMYG", "mode": "road", "distance_km": 5, "duration_h": 1,
                }
            },
            "got 'ROAD-CN-GUANGAN-APT-CN-GUANGAN', a corridor the dataset plans",
        ),
    ],
)  # fmt: skip
def test_unknown_ids_name_the_change(network: Network, change: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_changes(network, scenario_from_dict(_doc(changes=[change])).changes)
    assert message in str(caught.value)


# --- changes --------------------------------------------------------------------------------


def _changed(network: Network, *changes: dict[str, Any]) -> Any:
    return apply_changes(network, scenario_from_dict(_doc(changes=list(changes))).changes)


def test_changes_edit_a_copy(network: Network) -> None:
    before = network.corridors.copy()
    changed = _changed(
        network,
        {"close": {"nodes": ["CNERC"]}},
        {"scale": {"what": "capacity", "factor": 0.5, "corridors": ["RAIL-CNCTU-RLY-CNAKL"]}},
        {"scale": {"what": "frequency", "factor": 3 / 7, "corridors": ["RAIL-CNCTU-RLY-CNAKL"]}},
        {"delay": {"nodes": ["CNAKL"], "hours": 10}},
        {"fx": {"currency": "EUR", "cny_per_unit": 8.0}},
        {"carbon_price": {"per_t_co2e": 100, "currency": "EUR"}},
    )
    pd.testing.assert_frame_equal(network.corridors, before)  # the base is untouched
    corridors = changed.network.corridors
    assert not ((corridors["origin"] == "CNERC") | (corridors["destination"] == "CNERC")).any()
    train = corridors.loc["RAIL-CNCTU-RLY-CNAKL"]
    base = network.corridors.loc["RAIL-CNCTU-RLY-CNAKL"]
    assert train["capacity_teu_per_departure"] == base["capacity_teu_per_departure"] / 2
    assert train["departures_per_week"] == 6  # 14 departures a week (twice daily) x 3/7
    # weekly capacity = half the boxes on 6 of 14 departures
    assert train["capacity_teu_per_week"] == pytest.approx(base["capacity_teu_per_week"] * 3 / 14)
    dwell = network.nodes.at["CNAKL", "dwell_median_h"]
    assert changed.network.nodes.at["CNAKL", "dwell_median_h"] == dwell + 10
    assert changed.network.to_cny(1, "EUR") == 8.0
    assert changed.carbon_cny_per_kg == pytest.approx(0.8)  # EUR 100/t x 8 CNY/EUR / 1000 kg
    assert changed.network.version != network.version


def test_cost_scaling_copies_the_mode_default_to_the_corridor(network: Network) -> None:
    corridor = "IWW-CN-GUANGAN-PRT-CNCKG-PRT"
    changed = _changed(
        network, {"scale": {"what": "cost", "factor": 2, "corridors": [corridor]}}
    ).network
    before = network.tariffs_for(corridor).set_index("unit")["rate"]
    after = changed.tariffs_for(corridor).set_index("unit")["rate"]
    pd.testing.assert_series_equal(after, before * 2)
    other = "IWW-CNCKG-PRT-CN-GUANGAN-PRT"
    pd.testing.assert_frame_equal(
        changed.tariffs_for(other).reset_index(drop=True),
        network.tariffs_for(other).reset_index(drop=True),
    )


def test_added_node_corridor_and_service_are_routable(network: Network) -> None:
    from datetime import UTC, datetime

    from optimizer.routing import Shipment, plan_routes

    changed = apply_changes(network, load_scenario("guangan_inland_port").changes).network
    assert changed.find_node("Chongqing warehouse for Guang'an sellers") == "CN-GUANGAN-CKG-WH"
    assert bool(changed.corridors.at["IWW-CN-GUANGAN-PRT-CNCKG-PRT", "scheduled"])
    assert changed.corridors.at["IWW-CN-GUANGAN-PRT-CNCKG-PRT", "departures_per_week"] == 7
    ready = datetime(2026, 12, 1, tzinfo=UTC)
    plan = plan_routes(changed, Shipment("CN-GUANGAN-CKG-WH", "Duisburg", 800, 4, ready_at=ready))
    assert plan.options
    assert plan.options[0].legs[0].corridor_id == "ROAD-CN-GUANGAN-CKG-WH-CNCKG-PRT"


# --- bundled scenarios move their KPIs the right way -----------------------------------------


def test_baseline_kpis(runs: dict[str, ScenarioResult]) -> None:
    kpis = runs["baseline"].kpis
    assert kpis["planned"] == SAMPLE and kpis["shipments"] > 9_000
    assert kpis["total_cost"] > 0 and kpis["co2e_kg"] > 0 and kpis["carbon_cost"] == 0
    assert kpis["p90_days"] >= kpis["mean_days"] > 0
    assert sum(kpis["mode_split"].values()) == pytest.approx(1, abs=1e-3)
    assert kpis["corridor_utilisation"] and all(
        0 < u <= 1 + 1e-9 for u in kpis["corridor_utilisation"].values()
    )
    shipments = runs["baseline"].shipments
    served = shipments[shipments["status"] == "served"]
    assert (served["cost_cny"] > 0).all()
    # totals estimate the whole demand: the sample's sum times demand / sample
    scale = kpis["shipments"] / SAMPLE
    assert kpis["total_cost"] == pytest.approx(served["cost_cny"].sum() * scale, rel=1e-6)


def test_same_seed_same_result(network: Network, runs: dict[str, ScenarioResult]) -> None:
    again = run_scenario("baseline", sample=SAMPLE, workers=1, network=network)
    pd.testing.assert_frame_equal(again.shipments, runs["baseline"].shipments)
    assert again.kpis == runs["baseline"].kpis


def _europe(result: ScenarioResult, mode: str) -> pd.DataFrame:
    s = result.shipments
    return s[(s["status"] == "served") & (s["region"] == "europe") & (s["main_mode"] == mode)]


def test_red_sea_closure_sends_sea_round_the_cape(runs: dict[str, ScenarioResult]) -> None:
    # Against the reopening: the closure is the dated status, which the baseline follows too.
    base, closed = runs["red_sea_reopening"], runs["red_sea_closure"]
    assert _europe(closed, "sea")["days"].mean() > _europe(base, "sea")["days"].mean() + 5
    assert closed.kpis["mode_split"]["rail"] > base.kpis["mode_split"]["rail"]
    assert closed.kpis["cost_per_t"] > base.kpis["cost_per_t"]
    sea = _europe(closed, "sea")["corridors"]
    assert sea.str.contains("-CAPE", regex=False).all()
    # Through Suez when the carriers sail it (searoute: 10,514 nm against 13,479 via the Cape).
    reopened = _europe(base, "sea")["corridors"]
    assert not reopened.str.contains("-CAPE", regex=False).any()


def test_baseline_follows_the_dated_passage_status(runs: dict[str, ScenarioResult]) -> None:
    # 2026-11-30: the main carriers avoid Suez and Bab-el-Mandeb (passage_status.csv), so the
    # baseline sends sea freight to Europe round the Cape, at the cost of the closure.
    base, closed = runs["baseline"], runs["red_sea_closure"]
    assert _europe(base, "sea")["corridors"].str.contains("-CAPE", regex=False).all()
    assert base.kpis["total_cost"] == closed.kpis["total_cost"]


def test_border_congestion_slows_china_europe_trains(runs: dict[str, ScenarioResult]) -> None:
    base, jammed = runs["baseline"], runs["border_congestion"]
    assert _europe(jammed, "rail")["days"].mean() > _europe(base, "rail")["days"].mean() + 1
    assert jammed.kpis["mean_days"] > base.kpis["mean_days"]


def test_carbon_price_cuts_emissions(runs: dict[str, ScenarioResult]) -> None:
    base, priced = runs["baseline"], runs["carbon_price"]
    assert priced.kpis["co2e_kg"] < base.kpis["co2e_kg"]
    assert priced.kpis["carbon_cost"] > 0
    assert priced.kpis["total_cost"] > base.kpis["total_cost"]


def test_demand_growth_scales_cost(runs: dict[str, ScenarioResult]) -> None:
    base, grown = runs["baseline"], runs["demand_growth"]
    factor = 1.15**5  # 2.011
    assert grown.kpis["shipments"] / base.kpis["shipments"] == pytest.approx(factor, rel=0.01)
    assert grown.kpis["total_cost"] / base.kpis["total_cost"] == pytest.approx(factor, rel=0.15)


def test_yangtze_low_water(network: Network, runs: dict[str, ScenarioResult]) -> None:
    low = runs["yangtze_low_water"]
    barge = "IWW-CNCKG-PRT-CNSHA-WGQ"
    assert low.network.corridors.at[barge, "capacity_teu_per_week"] == pytest.approx(
        0.6 * network.corridors.at[barge, "capacity_teu_per_week"]
    )
    assert low.network.passages.at["three-gorges-locks", "dwell_median_h"] == 24 + 72
    base = runs["baseline"]
    assert low.kpis["mean_days"] >= base.kpis["mean_days"]
    assert low.kpis["mode_split"]["inland_water"] <= base.kpis["mode_split"]["inland_water"]


def test_guangan_inland_port_runs_its_analyses(runs: dict[str, ScenarioResult]) -> None:
    kpis = runs["guangan_inland_port"].kpis
    assert kpis["consolidation"]["lots"] > 0
    assert kpis["consolidation"]["savings_cny"] >= 0
    assert kpis["allocation"]["status"] in ("optimal", "feasible")
    assert set(kpis["warehouse_utilisation"]) <= {"WH-DEDUI", "WH-PLLOD", "WH-HUBUD"}
    assert all(0 <= u <= 1 + 1e-6 for u in kpis["warehouse_utilisation"].values())


def test_capacity_share_leaves_demand_unserved(network: Network) -> None:
    document = load_scenario("baseline").model_dump(mode="json", exclude_none=True)
    document["choice"]["capacity_share"] = 0.0005
    tight = run_scenario(scenario_from_dict(document), sample=60, workers=1, network=network)
    assert tight.kpis["unserved"] > 0
    assert (tight.shipments["status"] == "no_capacity").any()
    assert all(u <= 1 + 1e-9 for u in tight.kpis["corridor_utilisation"].values())


# --- sweeps -----------------------------------------------------------------------------------


class _SweepStoppedError(Exception):
    pass


def test_sweep_resumes_without_redoing_samples(tmp_path: Path) -> None:
    scenario = load_scenario("border_congestion")
    settings: dict[str, Any] = {"samples": 6, "shipments": 8, "seed": 3, "chunk_size": 2}

    def stop_after_first(start: int) -> None:
        raise _SweepStoppedError(start)

    with pytest.raises(_SweepStoppedError):
        run_sweep(scenario, tmp_path, workers=1, on_chunk=stop_after_first, **settings)
    chunks = sorted((tmp_path / "chunks").glob("chunk-*.parquet"))
    assert [p.name for p in chunks] == ["chunk-0000000.parquet"]
    written_at = chunks[0].stat().st_mtime_ns

    redone: list[int] = []
    results = run_sweep(scenario, tmp_path, workers=1, on_chunk=redone.append, **settings)
    assert sorted(redone) == [2, 4]  # chunk 0 was not run again
    assert chunks[0].stat().st_mtime_ns == written_at
    assert list(results["sample"]) == list(range(6))

    document = scenario.model_dump(mode="json", exclude_none=True)
    fresh = run_samples(document, scenario.base_dir, list(range(6)), 3, 8)
    pd.testing.assert_frame_equal(results, fresh)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["samples"] == 6
    assert {d["parameter"] for d in summary["drivers"]["mean_days"]} == {
        "border_dwell_h", "demand_scale"
    }  # fmt: skip

    with pytest.raises(ScenarioError, match="other settings"):
        run_sweep(scenario, tmp_path, workers=1, **{**settings, "seed": 4})


def test_sweep_draws_depend_only_on_seed_and_index() -> None:
    scenario = load_scenario("yangtze_low_water")
    values = sample_values(scenario, 5, seed=1)
    assert values == sample_values(scenario, 5, seed=1)
    assert 12 <= values["lock_delay_h"] <= 240
    assert 0.5 <= values["barge_capacity_factor"] <= 0.8
    with pytest.raises(ScenarioError, match="no uncertain parameters"):
        run_sweep(load_scenario("baseline"), "unused", samples=1)


# --- command line ---------------------------------------------------------------------------


def test_cli_run_json_and_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        scenario_app,
        ["run", "carbon_price", "--baseline", "baseline", "--sample", "15", "--json",
         "--workers", "1", "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for run in (document["scenario"], document["baseline"]):
        assert {"total_cost", "mean_days", "p90_days", "co2e_kg", "unserved", "mode_split"} <= set(
            run
        )
    assert document["scenario"]["name"] == "carbon_price"
    report = (tmp_path / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 3
    assert "http://" not in report and "https://" not in report
    # against the baseline: the change and % columns; corridors by name, their ids beside
    assert ">change</th>" in report and ">%</th>" in report
    assert " by " in report and '<br><small class="id">' in report
    shipments = pd.read_parquet(tmp_path / "shipments.parquet")
    assert len(shipments) == 15 and len(pd.read_parquet(tmp_path / "baseline_shipments.parquet"))


def test_cli_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: x\ndemand: {generate: {weeks: -2}}\n")
    result = CliRunner().invoke(scenario_app, ["run", str(bad)])
    assert result.exit_code == 2
    assert "demand.generate.weeks: got -2" in result.stderr


def test_cli_wires_into_a_parent_app() -> None:
    import typer

    app = typer.Typer()
    app.add_typer(scenario_app, name="scenario")
    result = CliRunner().invoke(app, ["scenario", "--help"])
    assert result.exit_code == 0
    assert "run" in result.stdout and "sweep" in result.stdout


# --- job kind -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_input", "field"),
    [
        ({}, "input"),
        ({"name": "nope"}, "input.name"),
        ({"name": "baseline", "sample": 0}, "input.sample"),
        ({"name": "baseline", "baseline": "nope"}, "input.baseline"),
        ({"scenario": 5}, "input.scenario"),
        ({"scenario": "name: x\ndescription: y\ndemand: {file: /etc/passwd}\n"},
         "input.scenario.demand.file"),
    ],
)  # fmt: skip
def test_job_validation_names_the_field(job_input: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        jobs.validate(job_input)
    assert caught.value.field == field


def test_job_runs_on_the_service_network(network: Network) -> None:
    text = (Path(__file__).parents[1] / "scenarios" / "red_sea_closure.yaml").read_text()
    checked = jobs.validate({"scenario": text, "sample": 10, "baseline": True})
    assert isinstance(checked.scenario, Scenario)
    seen: list[float] = []
    result = jobs.run({"scenario": text, "sample": 10, "baseline": True}, network,
                      lambda p: seen.append(p) or True)  # fmt: skip
    assert seen and result["scenario"]["name"] == "red_sea_closure"
    assert result["baseline"]["name"] == "baseline"
    json.dumps(result)
    with pytest.raises(InterruptedError):
        jobs.run({"name": "baseline", "sample": 5}, network, lambda p: False)


@pytest.fixture
def external_scheduler(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler and one worker started as a planner would, with the ``dask`` command."""
    dask = Path(sys.executable).with_name("dask")
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--scheduler-file", str(scheduler_file), "--no-dashboard"]
    processes = [
        subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", *common],
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([dask, "worker", "--nworkers", "1", "--nthreads", "1", *common],
                         stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        yield json.loads(scheduler_file.read_text())["address"]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def test_cli_sweep_on_an_existing_cluster(tmp_path: Path, external_scheduler: str) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "border_congestion", "--samples", "2", "--shipments", "5",
            "--chunk-size", "1", "--scheduler", external_scheduler, "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(scenario_app, args)
    assert result.exit_code == 0, result.output
    assert "driver border_dwell_h" in result.output or "driver demand_scale" in result.output
    samples = pd.read_parquet(out / "samples.parquet")
    assert list(samples["sample"]) == [0, 1]
    # The same draws and results as on the local cluster: the sample is the unit of work.
    document = load_scenario("border_congestion").model_dump(mode="json", exclude_none=True)
    local = run_samples(document, load_scenario("border_congestion").base_dir, [0, 1], 0, 5)
    pd.testing.assert_frame_equal(samples, local)


def test_a_run_reports_its_progress(network: Network) -> None:
    """Each run (the baseline's too) says how far its planning has got, ending at all of it."""
    heard: list[tuple[str, int, int]] = []
    run_scenario(
        "red_sea_closure", baseline="red_sea_reopening", sample=30, workers=1, network=network,
        progress=lambda name, done, total: heard.append((name, done, total)),
    )  # fmt: skip
    for name in ("red_sea_closure", "red_sea_reopening"):
        mine = [(done, total) for n, done, total in heard if n == name]
        assert mine[0] == (0, 30) and mine[-1] == (30, 30), name
        assert [done for done, _ in mine] == sorted(done for done, _ in mine)


def test_like_with_like_compares_the_shipments_both_runs_serve(
    network: Network, runs: dict[str, ScenarioResult]
) -> None:
    """A run that leaves shipments unserved looks cheaper in its own totals; the comparison
    on the shipments both runs serve does not (issue 20: notebook 02 at sample=60)."""
    from dataclasses import replace

    from scenarios.runner import kpi_document, like_with_like

    closure, reopening = runs["red_sea_closure"], runs["red_sea_reopening"]
    paired = replace(closure, baseline=reopening)
    same = like_with_like(paired)
    assert same is not None and like_with_like(closure) is None
    served = {
        name: set(r.shipments.loc[r.shipments["status"] == "served", "id"])
        for name, r in (("scenario", closure), ("baseline", reopening))
    }
    common = served["scenario"] & served["baseline"]
    assert same["shipments"] == len(common)
    assert same["only_scenario"] == len(served["scenario"] - common)
    assert same["only_baseline"] == len(served["baseline"] - common)
    scale = closure.kpis["shipments"] / closure.kpis["planned"]
    for name, run in (("scenario", closure), ("baseline", reopening)):
        rows = run.shipments[run.shipments["id"].isin(common)]
        assert same[name]["total_cost"] == pytest.approx(rows["cost_cny"].sum() * scale, rel=1e-9)
    assert kpi_document(paired)["like_with_like"] == same


def test_a_plan_stopped_at_its_time_limit_says_so_and_is_counted(network: Network) -> None:
    """A demand row's plan searches for at most its ``time_limit_s`` (10 s by default); one
    stopped at it chooses among what it found, and the KPIs count such plans."""
    row = {"id": "S1", "origin": "Chongqing", "destination": "Rotterdam", "weight_kg": 12000,
           "volume_m3": 40, "ready_at": "2026-11-23T08:00:00+00:00"}  # fmt: skip
    whole = plan_options(network, row)
    stopped = plan_options(network, {**row, "time_limit_s": "1e-9"})
    assert (whole["status"], whole["stopped"]) == ("planned", False)
    assert stopped["stopped"] and len(stopped["options"]) < len(whole["options"])
    refused = plan_options(network, {**row, "time_limit_s": "0"})
    assert refused["status"] == "invalid" and refused["reason"].startswith("time_limit_s: got '0'")
    rows = pd.DataFrame({"status": ["served", "no_option", "served"], "cost_cny": [1.0, None, 2.0],
                         "weight_kg": [1.0] * 3, "co2e_kg": [1.0, None, 1.0],
                         "days": [1.0, None, 1.0], "main_mode": ["rail", "", "sea"],
                         "region": ["europe"] * 3, "plan_stopped": [True, True, False],
                         **{f"tkm_{m}": [1.0, None, 1.0] for m in MODES}})  # fmt: skip
    kpis = compute_kpis(rows, pd.DataFrame({"corridor": [], "utilisation": []}), 1.0)
    assert kpis["plans_stopped"] == 2
