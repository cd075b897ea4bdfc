"""Broken copies of the dataset: every problem is reported with its file and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from network_data import NetworkValidationError, load_network


def edit_csv(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(table).to_csv(path, index=False, lineterminator="\n")


def set_cell(path: Path, key: str, column: str, value: str) -> int:
    """Set ``column`` of the row whose first column is ``key``; return its CSV line number."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    position = int(table.index[table.iloc[:, 0] == key][0])
    table.loc[position, column] = value
    table.to_csv(path, index=False, lineterminator="\n")
    return position + 2


def problems_of(data: Path) -> str:
    with pytest.raises(NetworkValidationError) as info:
        load_network(data)
    return str(info.value)


def test_bundled_dataset_is_valid() -> None:
    load_network()


def test_unknown_node_referenced(data_copy: Path) -> None:
    line = set_cell(data_copy / "corridors.csv", "RAIL-CNCTU-RLY-CNAKL", "origin", "CNXXX")
    assert (
        f"corridors.csv line {line} (id RAIL-CNCTU-RLY-CNAKL): origin 'CNXXX' is not a known node"
        in problems_of(data_copy)
    )


def test_unknown_via_point(data_copy: Path) -> None:
    set_cell(data_copy / "corridors.csv", "RAIL-CNCTU-RLY-CNAKL", "via", "WP-LANZHOU|WP-NOWHERE")
    assert "via point 'WP-NOWHERE' is neither a node nor a waypoint" in problems_of(data_copy)


def test_duplicate_node_id(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", "CNMYG-RLY", "id", "CNMYG")
    text = problems_of(data_copy)
    assert "nodes.csv line 13: duplicate id 'CNMYG' (first on line 12)" in text


def test_duplicate_corridor_id_between_forward_and_reverse(data_copy: Path) -> None:
    set_cell(
        data_copy / "corridors.csv", "ROAD-CNMYG-CNMYG-RLY", "reverse_id", "ROAD-CNMYG-CNCTU-RLY"
    )
    assert "duplicate corridor id 'ROAD-CNMYG-CNCTU-RLY' (2 times)" in problems_of(data_copy)


def test_negative_time(data_copy: Path) -> None:
    line = set_cell(data_copy / "corridors.csv", "RAIL-CNCKG-RLY-CNQZH", "duration_h", "-40")
    assert (
        f"corridors.csv line {line} (id RAIL-CNCKG-RLY-CNQZH): duration_h -40 is negative; "
        "it must be >= 0.0" in problems_of(data_copy)
    )


def test_durations_out_of_order(data_copy: Path) -> None:
    set_cell(data_copy / "corridors.csv", "RAIL-CNCKG-RLY-CNQZH", "duration_p90_h", "20")
    assert "duration_min_h <= duration_h <= duration_p90_h, got 32.0 / 40.0 / 20.0" in problems_of(
        data_copy
    )


def test_missing_cost(data_copy: Path) -> None:
    line = set_cell(data_copy / "nodes.csv", "CNQZH", "handling_cost_cny_per_container", "")
    assert (
        f"nodes.csv line {line} (id CNQZH): handling_cost_cny_per_container is missing"
        in problems_of(data_copy)
    )


def test_negative_tariff_and_unknown_currency(data_copy: Path) -> None:
    def corrupt(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[0, "rate"] = "-800"
        table.loc[1, "currency"] = "RUB"
        return table

    edit_csv(data_copy / "tariffs.csv", corrupt)
    text = problems_of(data_copy)
    assert "tariffs.csv line 2 (scope mode:road:CN): rate -800 is negative" in text
    assert "tariffs.csv line 3 (scope mode:road:CN): currency 'RUB' has no rate in fx.csv" in text


def test_negative_capacity(data_copy: Path) -> None:
    line = set_cell(
        data_copy / "corridors.csv", "SEA-CNQZH-SGSIN", "capacity_teu_per_departure", "-1"
    )
    assert (
        f"line {line} (id SEA-CNQZH-SGSIN): capacity_teu_per_departure -1 is negative"
        in problems_of(data_copy)
    )


def test_unscheduled_corridor_without_frequency(data_copy: Path) -> None:
    set_cell(data_copy / "corridors.csv", "RAIL-KZDOS-BYBRE", "departures_per_week", "")
    assert "departures_per_week is missing; an unscheduled corridor needs its frequency" in (
        problems_of(data_copy)
    )


def test_geometry_endpoint_far_from_node(data_copy: Path) -> None:
    paths = data_copy / "corridor_paths.geojson"
    collection = json.loads(paths.read_text(encoding="utf-8"))
    position, feature = next(
        (i, f)
        for i, f in enumerate(collection["features"])
        if f["properties"]["id"] == "SEA-CNQZH-SGSIN"
    )
    lon, lat = feature["geometry"]["coordinates"][-1]
    feature["geometry"]["coordinates"][-1] = [lon + 1.0, lat]  # about 111 km east at the equator
    paths.write_text(json.dumps(collection), encoding="utf-8")
    assert (
        f"corridor_paths.geojson feature {position} (id SEA-CNQZH-SGSIN): geometry end is 111 km "
        "from node 'SGSIN'; at most 25 km is allowed" in problems_of(data_copy)
    )


def test_corridor_without_path(data_copy: Path) -> None:
    paths = data_copy / "corridor_paths.geojson"
    collection = json.loads(paths.read_text(encoding="utf-8"))
    collection["features"] = [
        f for f in collection["features"] if f["properties"]["id"] != "RAIL-CNCKG-RLY-CNQZH"
    ]
    paths.write_text(json.dumps(collection), encoding="utf-8")
    assert "corridor 'RAIL-CNCKG-RLY-CNQZH' (rail) has no path" in problems_of(data_copy)


def test_scheduled_corridor_without_timetable(data_copy: Path) -> None:
    edit_csv(
        data_copy / "services.csv",
        lambda t: t[t["corridor_id"] != "RAIL-CNCKG-RLY-CNMLX"],
    )
    assert (
        "corridors.csv (id RAIL-CNCKG-RLY-CNMLX): scheduled corridor has no timetable in "
        "services.csv" in problems_of(data_copy)
    )


def test_timetable_on_unknown_corridor_and_bad_time(data_copy: Path) -> None:
    def corrupt(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[0, "corridor_id"] = "RAIL-NOWHERE"
        table.loc[1, "departure_local"] = "25:00"
        return table

    edit_csv(data_copy / "services.csv", corrupt)
    text = problems_of(data_copy)
    assert "corridor_id 'RAIL-NOWHERE' is not a known corridor" in text
    assert "departure_local '25:00' is not HH:MM (00:00-23:59)" in text


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("lat", "95.5", "lat 95.5 is above 90.0"),
        ("lon", "-181", "lon -181 is below -180.0"),
        ("lat", "north", "lat 'north' is not a number"),
    ],
)
def test_coordinates_out_of_range(data_copy: Path, column: str, value: str, message: str) -> None:
    line = set_cell(data_copy / "nodes.csv", "CNDAX", column, value)
    assert f"nodes.csv line {line} (id CNDAX): {message}" in problems_of(data_copy)


def test_market_that_no_corridor_reaches(data_copy: Path) -> None:
    edit_csv(data_copy / "corridors.csv", lambda t: t[t["destination"] != "MKT-LA"])
    assert "market 'MKT-LA' is not reached by any corridor" in problems_of(data_copy)


def test_warehouse_that_no_corridor_reaches(data_copy: Path) -> None:
    edit_csv(
        data_copy / "corridors.csv",
        lambda t: t[(t["destination"] != "WH-USONT") & ~t["reverse_id"].str.contains("WH-USONT")],
    )
    assert "overseas_warehouse 'WH-USONT' is not reached by any corridor" in problems_of(data_copy)


def test_enumerations_name_the_allowed_values(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", "CNDAX", "kind", "harbour")
    set_cell(data_copy / "nodes.csv", "CNAQG", "regimes", "9610|9999")
    text = problems_of(data_copy)
    assert "kind 'harbour' is not one of city, industrial_park, rail_terminal" in text
    assert "regimes has '9999'; allowed: 9610, 9710, 9810, 1210, general" in text


def test_mode_the_node_cannot_handle(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", "CNQZH", "modes", "road|sea")
    assert "destination 'CNQZH' does not handle mode 'rail' (its modes: road|sea)" in problems_of(
        data_copy
    )


def test_border_crossing_without_dwell(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", "CNAKL", "dwell_p90_h", "")
    assert "border_crossing needs dwell_median_h and dwell_p90_h (hours)" in problems_of(data_copy)


def test_corridor_without_tariff(data_copy: Path) -> None:
    edit_csv(data_copy / "tariffs.csv", lambda t: t[~t["scope"].str.startswith("mode:road")])
    assert "corridor 'ROAD-CNMYG-CNCTU-RLY' has no freight rate" in problems_of(data_copy)


def test_unit_not_allowed_for_mode(data_copy: Path) -> None:
    set_cell(data_copy / "tariffs.csv", "mode:road:CN", "unit", "kg")
    assert "unit 'kg' does not apply to road; it is for air" in problems_of(data_copy)


def test_missing_column_and_missing_file(data_copy: Path) -> None:
    edit_csv(data_copy / "fx.csv", lambda t: t.drop(columns=["as_of"]))
    (data_copy / "passages.csv").unlink()
    text = problems_of(data_copy)
    assert "fx.csv: missing columns: as_of" in text
    assert "passages.csv: file is missing" in text


def test_all_problems_are_reported_at_once(data_copy: Path) -> None:
    set_cell(data_copy / "nodes.csv", "CNDAX", "lat", "95.5")
    set_cell(data_copy / "corridors.csv", "RAIL-CNCKG-RLY-CNQZH", "duration_h", "-40")
    edit_csv(data_copy / "corridors.csv", lambda t: t[t["destination"] != "MKT-LA"])
    with pytest.raises(NetworkValidationError) as info:
        load_network(data_copy)
    assert len(info.value.problems) >= 3
    assert str(info.value).startswith(
        f"{len(info.value.problems)} problems in the network dataset:"
    )


def test_a_cell_text_repeated_is_parsed_once_yet_reported_on_every_line() -> None:
    """parse_table parses each distinct text of a column once; the errors of a repeated bad
    text still name every line it is on, in file order, and list cells are never shared."""
    from network_data.schema import Column
    from network_data.validate import Collector, parse_table, records

    columns = (
        Column("id"),
        Column("weight", "float", minimum=0),
        Column("modes", "list", choices=("rail", "road")),
    )
    raw = pd.DataFrame(
        {"id": ["a", "b", "c"], "weight": ["-1", "2", "-1"], "modes": ["rail|road"] * 3}
    )
    problems = Collector()
    table = parse_table("t.csv", raw, columns, problems)
    assert [str(p) for p in problems.problems] == [
        "t.csv line 2 (id a): weight -1 is negative; it must be >= 0",
        "t.csv line 4 (id c): weight -1 is negative; it must be >= 0",
    ]
    rows = list(records(table))
    assert [r.modes for r in rows] == [["rail", "road"]] * 3
    rows[0].modes.append("air")
    assert rows[1].modes == ["rail", "road"]
