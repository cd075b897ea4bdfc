"""The bundled network: coverage the issue asks for, and the Network API."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from network_data import Network, NetworkValidationError, UnknownPlaceError, load_network
from network_data.schema import MODES, NODE_KINDS

# Places the pilot-zone plans name, by node id (see nodes.csv).
REQUIRED_NODES = [
    # Chengdu: rail port, both airports, bonded zone
    "CNCTU-RLY", "CNCTU-CTU", "CNCTU-TFU", "CNCTU-BZ",
    # Chongqing: Tuanjiecun, Guoyuan, Jiangbei, bonded zone
    "CNCKG-RLY", "CNCKG-PRT", "CNCKG-CKG", "CNCKG-BZ",
    "CNMYG-MIG", "CNMYG-BZ", "CNMYG-RLY",
    "CNDAX-RLY", "CNDAX-BLC", "CNDAX-DZH",
    "CN-GUANGAN-PRT", "CN-LINSHUI-PARK", "CN-QIANFENG-PARK", "CN-HUAYING-PARK",
    "CNNAO", "CNWZH-PRT", "CNWHI-PRT", "CNWHI-BZ", "CNWHI-WHA",
    "CNAQG-PRT", "CNAQG-BLC", "CNAQG-AQG",
    # gateways
    "CNAKL", "CNHRS", "CNERC", "CNMLX", "CNPXG", "CNMHN", "CNQZH", "CNFAN",
    "CNSHA-YSN", "CNNGB", "CNYTN", "CNSHA-PVG",
    # transit and gauge-change points, the Caspian crossing
    "KZDOS", "KZALT", "BYBRE", "PLMAL", "RUZBK", "MNZUU", "KZAKU", "AZALT",
    # overseas hubs and markets
    "DEDUI", "DEHAM", "PLLOD", "HUBUD", "NLRTM", "BELGG", "GBFXT", "RUMOW", "KZALA", "UZTAS",
    "TRIST", "SGSIN", "THLCH", "VNSGN", "VNHAN", "LAVTE", "IDJKT", "MYPKG", "AEJEA", "USLAX",
]  # fmt: skip


def test_coverage_counts(network: Network) -> None:
    summary = network.summary()
    assert summary["nodes"] >= 80
    assert summary["corridors"] >= 250
    assert set(summary["corridors_by_mode"]) == set(MODES)
    # the only dry port the seeds name, Guang'an's, is planned; Riyadh's (issue 21) operates
    assert set(summary["nodes_by_kind"]) == set(NODE_KINDS)
    assert set(network.nodes.index[network.nodes["kind"] == "dry_port"]) == {"SARUH-DRY"}
    assert "dry_port" in set(network.planned.nodes["kind"])


@pytest.mark.parametrize("node_id", REQUIRED_NODES)
def test_required_place_present(network: Network, node_id: str) -> None:
    assert node_id in network.nodes.index


def test_border_crossings_carry_dwell_and_gauge(network: Network) -> None:
    borders = network.nodes[network.nodes["kind"] == "border_crossing"]
    assert (borders["dwell_median_h"] <= borders["dwell_p90_h"]).all()
    # 1,435 mm China meets 1,520 mm at these stations (corridor facts section 1)
    gauge = set(borders.index[borders["gauge_change"].astype(bool)])
    assert {"CNAKL", "CNHRS", "CNERC", "CNMLX", "PLMAL"} <= gauge
    assert "CNMHN" not in gauge  # China-Laos railway is standard gauge throughout


def test_scheduled_services_named_by_the_issue(network: Network) -> None:
    names = " ".join(network.corridors.loc[network.corridors["scheduled"], "service_name"])
    fragments = [
        "via Alashankou", "via Horgos", "via Erenhot", "via Manzhouli", "ILSTC rail-sea",
        "China-Laos", "Hanoi", "Chongqing-Shanghai Direct Express", "via Suez", "via Cape",
        "Jebel Ali", "Los Angeles", "Chengdu-Brussels",
    ]  # fmt: skip
    for fragment in fragments:
        assert fragment in names, fragment
    middle = network.corridors.loc["SEA-KZAKU-AZALT"]
    assert "caspian" in middle["passages"]


def test_every_scheduled_corridor_has_a_timetable(network: Network) -> None:
    scheduled = set(network.corridors.index[network.corridors["scheduled"]])
    assert scheduled == set(network.services["corridor_id"])
    assert (network.corridors["departures_per_week"] > 0).all()


def test_weekly_capacity_is_departures_times_slots(network: Network) -> None:
    # Chengdu-Alashankou runs twice a day (services.csv) with 100 TEU trains: 1,400 TEU a week.
    row = network.corridors.loc["RAIL-CNCTU-RLY-CNAKL"]
    assert row["departures_per_week"] == 14
    assert row["capacity_teu_per_week"] == 1_400
    # Chengdu-Manzhouli runs on odd ISO weeks only: half a departure a week.
    assert network.corridors.loc["RAIL-CNCTU-RLY-CNMLX", "departures_per_week"] == 0.5


def test_reverse_corridors_mirror_their_forward_row(network: Network) -> None:
    forward = network.corridors.loc["RAIL-CNCTU-RLY-CNAKL"]
    backward = network.corridors.loc["RAIL-CNAKL-CNCTU-RLY"]
    assert (backward["origin"], backward["destination"]) == ("CNAKL", "CNCTU-RLY")
    assert backward["distance_km"] == forward["distance_km"]
    assert backward["via"] == list(reversed(forward["via"]))
    assert shapely.equals(backward.geometry, shapely.reverse(forward.geometry))


def test_geometries_start_and_end_at_their_nodes(network: Network) -> None:
    from network_data.validate import haversine_km

    for corridor_id, row in network.corridors.iterrows():
        for node_id, (lon, lat) in [
            (row["origin"], row.geometry.coords[0]),
            (row["destination"], row.geometry.coords[-1]),
        ]:
            node = network.nodes.loc[node_id]
            assert haversine_km(node["lat"], node["lon"], lat, lon) <= 25, corridor_id


def test_emission_intensity_by_vehicle(network: Network) -> None:
    by_mode = network.corridors.groupby("mode")["co2e_g_per_tkm"].median()
    # GLEC-based WTW defaults: air >> road > inland water > rail > deep sea
    assert by_mode["air"] > by_mode["road"] > by_mode["inland_water"] > by_mode["rail"]
    assert by_mode["sea"] < by_mode["rail"]


def test_version_is_date_plus_content_hash(network: Network, data_copy: Path) -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\+[0-9a-f]{12}", network.version)
    assert load_network(data_copy).version == network.version
    nodes = data_copy / "nodes.csv"
    nodes.write_text(nodes.read_text(encoding="utf-8").replace(",2,0,30,", ",3,0,30,", 1))
    assert load_network(data_copy).version != network.version


def test_graph_and_arrays_agree(network: Network) -> None:
    graph = network.graph
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == len(network.nodes)
    assert graph.number_of_edges() == len(network.corridors)
    arrays = network.arrays
    assert arrays.indptr[-1] == len(network.corridors)
    for i, node_id in enumerate(arrays.node_ids):
        leaving = set(arrays.edge_ids[arrays.indptr[i] : arrays.indptr[i + 1]])
        assert leaving == {key for _, _, key in graph.out_edges(node_id, keys=True)}
    assert np.all(np.diff(arrays.edge_origin) >= 0)


def test_chengdu_reaches_duisburg_by_rail(network: Network) -> None:
    rail = nx.DiGraph((u, v) for u, v, mode in network.graph.edges(data="mode") if mode == "rail")
    path = nx.shortest_path(rail, "CNCTU-RLY", "DEDUI")
    assert path[1] in {"CNAKL", "CNHRS", "CNERC", "CNMLX"}
    assert "PLMAL" in path


@pytest.mark.parametrize(
    ("query", "mode", "expected"),
    [
        ("CNCTU-RLY", None, "CNCTU-RLY"),
        ("cnctu-rly", None, "CNCTU-RLY"),
        ("chengdu", None, "CNCTU"),
        ("成都", None, "CNCTU"),
        ("成都", "rail", "CNCTU-RLY"),
        ("Chengdu", "air", "CNCTU-CTU"),
        ("Duisburg", None, "DEDUI"),
        ("ŁÓDŹ", None, "PLLOD"),
        ("Guang'an", "inland_water", "CN-GUANGAN-PRT"),
        ("团结村", None, "CNCKG-RLY"),
        ("30.33,106.93", None, "CN-LINSHUI-PARK"),
        ("30.33, 106.93", "rail", "CNCKG-PRT"),  # Guoyuan has a rail siding
        # the nearest seaport to Duisburg since issue 21: Antwerp 167.8 km, Rotterdam 169.0 km
        ("51.43,6.77", "sea", "BEANR"),
        ("33.9,-118.4", "air", "USLAX-LAX"),
    ],
)
def test_find_node(network: Network, query: str, mode: str | None, expected: str) -> None:
    assert network.find_node(query, mode=mode) == expected


def test_find_node_unknown_lists_closest_matches(network: Network) -> None:
    with pytest.raises(UnknownPlaceError, match="Chengdu") as info:
        network.find_node("Chengdoo")
    assert "CNCTU" in info.value.candidates
    with pytest.raises(UnknownPlaceError, match="Duisburg"):
        network.find_node("Duisberg")


def test_find_node_rejects_bad_mode_and_coordinates(network: Network) -> None:
    with pytest.raises(ValueError, match="mode 'boat' is not one of road, rail"):
        network.find_node("Chengdu", mode="boat")
    with pytest.raises(ValueError, match="out of range"):
        network.find_node("95.0,104.0")


def test_find_node_ambiguous_name(data_copy: Path) -> None:
    nodes = data_copy / "nodes.csv"
    text = nodes.read_text(encoding="utf-8")
    nodes.write_text(text.replace("Mianyang city,", "Mianyang city|Deyang,").replace(
        "Chengdu city|蓉,", "Chengdu city|蓉|Deyang,"), encoding="utf-8")  # fmt: skip
    with pytest.raises(UnknownPlaceError, match="ambiguous") as info:
        load_network(data_copy).find_node("deyang")
    assert info.value.candidates == ["CNCTU", "CNMYG"]


def test_to_cny(network: Network) -> None:
    assert network.to_cny(1000, "CNY") == 1000
    assert network.to_cny(3289, "USD") == pytest.approx(3289 * 7.16)
    with pytest.raises(ValueError, match="currency 'XXX' has no FX rate; known: CNY, EUR, USD"):
        network.to_cny(1, "XXX")


def test_tariffs_most_specific_scope_wins_per_unit(network: Network) -> None:
    # The ERAI-priced 1,520 mm leg has its own rows ...
    erai = network.tariffs_for("RAIL-KZDOS-BYBRE")
    assert set(erai["scope"]) == {"RAIL-KZDOS-BYBRE"}
    # ... while a Kazakh branch line falls back to the KZ default and a Chinese feeder to CN's.
    assert set(network.tariffs_for("RAIL-KZDOS-KZALA")["scope"]) == {"mode:rail:KZ"}
    assert set(network.tariffs_for("RAIL-CNMYG-RLY-CNCTU-RLY")["scope"]) == {"mode:rail:CN"}
    # Border links carry only the per-km part of the rate (TAR-BORDER-LINK).
    link = network.tariffs_for("RAIL-CNAKL-KZDOS")
    assert set(link["scope"]) == {"RAIL-CNAKL-KZDOS"} and (link["rate"] == 0).all()
    air = network.tariffs_for("AIR-CNCKG-CKG-HUBUD-BUD")
    assert sorted(air.loc[air.unit == "kg", "break_from"]) == [0, 45, 100, 300, 500, 1000]


def test_contract_tariffs_override_bundled_rates(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "scope,unit,break_from,rate,rate_per_km,min_charge,currency,quoted_on,valid_from,"
        "valid_to,source\n"
        "RAIL-KZDOS-BYBRE,container:40GP,0,2950,0,0,USD,2026-11-01,2026-11-01,2027-04-30,"
        "contract\n",
        encoding="utf-8",
    )
    network = load_network(tariffs=rates)
    rows = network.tariffs_for("RAIL-KZDOS-BYBRE").set_index("unit")
    assert rows.at["container:40GP", "rate"] == 2950
    # The contract replaces every bundled row of its scope; units it does not quote fall back
    # to the next scope (the Kazakh default), not to the replaced ERAI rows.
    assert rows.at["container:20GP", "scope"] == "mode:rail:KZ"
    assert network.version != load_network().version


def test_contract_tariffs_are_validated(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "scope,unit,break_from,rate,rate_per_km,min_charge,currency,quoted_on,valid_from,"
        "valid_to,source\n"
        "RAIL-NOWHERE,container:40GP,0,-5,0,0,XYZ,2026-11-01,2026-11-01,2027-04-30,contract\n",
        encoding="utf-8",
    )
    with pytest.raises(NetworkValidationError) as info:
        load_network(tariffs=rates)
    text = str(info.value)
    assert "rates.csv line 2 (scope RAIL-NOWHERE): rate -5 is negative" in text
    assert "scope 'RAIL-NOWHERE' is neither a corridor id, mode:<mode>" in text
    assert "currency 'XYZ' has no rate in fx.csv" in text


def test_missing_dataset_directory_reports_each_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkValidationError, match=r"nodes\.csv: file is missing"):
        load_network(tmp_path)


def test_loading_twice_gives_equal_networks(data_copy: Path) -> None:
    first, second = load_network(data_copy), load_network(data_copy)
    assert first.version == second.version
    assert first.corridors.drop(columns="geometry").equals(
        second.corridors.drop(columns="geometry")
    )
    shutil.rmtree(data_copy)


def test_records_are_the_rows_itertuples_gives(network: Network) -> None:
    """network_data.validate.records builds rows from whole columns instead of pandas'
    cell-by-cell iteration; the rows must be the same, field names and types included."""
    from network_data.validate import records

    for table in (network.nodes, network.corridors, network.services, network.tariffs,
                  network.through_services, network.cities, network.passages):  # fmt: skip
        expected = [repr(row) for row in table.itertuples(index=False)]
        assert [repr(row) for row in records(table)] == expected
