"""The ``shudao network`` commands, run as a user would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
from typer.testing import CliRunner

from api.cli import app

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
