"""Every figure in the bundled data has a defined source and follows its stated rule."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from network_data import Network
from network_data.load import BUNDLED_DATA_DIR
from network_data.road import road_transit_h, road_transit_p90_h, rules_for_country
from network_data.schema import FILES
from network_data.validate import haversine_km

SOURCES_MD = BUNDLED_DATA_DIR.parent / "SOURCES.md"
NM_KM = 1.852


@pytest.fixture(scope="module")
def network(network: Network) -> Network:
    """The bundled network with its planned facilities: their figures follow the rules too."""
    return replace(
        network,
        nodes=pd.concat([network.nodes, network.planned.nodes]),
        corridors=pd.concat([network.corridors, network.planned.corridors]),
    )


def defined_keys() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9-]+)` \|", SOURCES_MD.read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("file", sorted(FILES))
def test_every_source_key_is_defined(file: str) -> None:
    table = pd.read_csv(BUNDLED_DATA_DIR / file, dtype=str, keep_default_na=False)
    used = {key for cell in table["source"] for key in cell.split(";") if key}
    assert used, file
    assert used <= defined_keys(), sorted(used - defined_keys())


def test_every_data_file_is_described() -> None:
    text = SOURCES_MD.read_text(encoding="utf-8")
    for path in BUNDLED_DATA_DIR.iterdir():
        assert f"`{path.name}`" in text, path.name


def alignment_km(network: Network, row: pd.Series) -> float:
    points = [row["origin"], *row["via"], row["destination"]]
    coords = [
        (network.nodes.at[p, "lat"], network.nodes.at[p, "lon"])
        if p in network.nodes.index
        else (network.waypoints.at[p, "lat"], network.waypoints.at[p, "lon"])
        for p in points
    ]
    return sum(haversine_km(*a, *b) for a, b in pairwise(coords))


def forward_rows(network: Network, mode: str) -> pd.DataFrame:
    rows = network.corridors[network.corridors["mode"] == mode]
    return rows[rows["reverse_of"] == ""]


# corridor-facts section 6: OSM road distances between these places (km)
ROAD_OSM_KM = {
    ("CNMYG", "CNCTU"): 112, ("CNNAO", "CNCTU"): 207, ("CNDAX", "CNCKG-RLY"): 215,
    ("CN-GUANGAN", "CNCKG-RLY"): 119, ("CN-LINSHUI-PARK", "CNCKG-RLY"): 99, ("CNCTU", "CNCKG"): 287,
    ("CNCKG", "CNQZH"): 981, ("CNCTU", "CNQZH"): 1242, ("CNNNG", "CNPXG"): 194,
    ("CNKMG", "CNMHN"): 537, ("CNCTU", "CNSHA-YSN"): 1821, ("CNCTU", "CNYTN"): 1593,
    ("CNDAX", "CNWZH-PRT"): 138,
}  # fmt: skip


def test_road_distances_follow_osm_or_circuity(network: Network) -> None:
    for corridor_id, row in forward_rows(network, "road").iterrows():
        key = (row["origin"], row["destination"])
        osm = ROAD_OSM_KM.get(key) or ROAD_OSM_KM.get(key[::-1])
        if osm is not None:
            assert "CF6" in row["source"] and row["distance_km"] == osm, corridor_id
        else:
            assert "ROAD-CIRC" in row["source"], corridor_id
            assert row["distance_km"] == pytest.approx(1.25 * alignment_km(network, row), abs=0.6)


def test_road_times_follow_the_driving_rules(network: Network) -> None:
    roads = network.corridors[network.corridors["mode"] == "road"]
    for corridor_id, row in roads.iterrows():
        rules = rules_for_country(network.nodes.at[row["origin"], "country"])
        if row["reverse_of"]:  # a reverse row keeps its forward row's times
            rules = rules_for_country(network.nodes.at[row["destination"], "country"])
        assert row["duration_h"] == road_transit_h(row["distance_km"], rules), corridor_id
        assert row["duration_min_h"] == road_transit_h(row["distance_km"], rules, drivers=2)
        assert row["duration_p90_h"] == road_transit_p90_h(row["distance_km"], rules)


def test_rail_alignment_distances(network: Network) -> None:
    for corridor_id, row in forward_rows(network, "rail").iterrows():
        if "ALIGN" in row["source"]:
            assert row["distance_km"] == pytest.approx(1.05 * alignment_km(network, row), abs=0.6)
        else:
            assert {"CF2", "CF6", "HFE-CRX"} & set(row["source"]), corridor_id


# corridor-facts section 4: searoute distances in nautical miles
SEA_NM = {
    "SEA-CNSHA-YSN-NLRTM": 10514, "SEA-CNSHA-YSN-NLRTM-CAPE": 13479, "SEA-CNSHA-YSN-DEHAM": 10783,
    "SEA-CNSHA-YSN-DEHAM-CAPE": 13748, "SEA-CNNGB-NLRTM": 10454, "SEA-CNNGB-NLRTM-CAPE": 13549,
    "SEA-CNYTN-NLRTM": 9819, "SEA-CNYTN-NLRTM-CAPE": 13154, "SEA-CNQZH-NLRTM": 9702,
    "SEA-CNQZH-NLRTM-CAPE": 13046, "SEA-CNSHA-YSN-USLAX": 5750, "SEA-CNSHA-YSN-SGSIN": 2155,
    "SEA-CNYTN-SGSIN": 1460, "SEA-CNQZH-SGSIN": 1343, "SEA-CNQZH-MYPKG": 1623,
    "SEA-CNQZH-THLCH": 1343, "SEA-CNQZH-VNSGN": 805, "SEA-CNQZH-IDJKT": 1706,
    "SEA-CNQZH-AEJEA": 4839, "SEA-CNSHA-YSN-AEJEA": 5651,
}  # fmt: skip


@pytest.mark.parametrize(("corridor_id", "nautical_miles"), SEA_NM.items())
def test_sea_distances_match_corridor_facts(
    network: Network, corridor_id: str, nautical_miles: int
) -> None:
    assert network.corridors.at[corridor_id, "distance_km"] / NM_KM == pytest.approx(
        nautical_miles, rel=0.05
    )


def test_sea_distance_is_the_length_of_its_path(network: Network) -> None:
    for corridor_id, row in network.corridors[network.corridors["mode"] == "sea"].iterrows():
        coords = list(row.geometry.coords)
        length = sum(haversine_km(a[1], a[0], b[1], b[0]) for a, b in pairwise(coords))
        assert row["distance_km"] == pytest.approx(length, rel=0.01), corridor_id


def test_cape_routes_avoid_suez_and_are_longer(network: Network) -> None:
    cape = network.corridors[network.corridors.index.str.endswith("-CAPE")]
    assert len(cape) >= 10
    for corridor_id, row in cape.iterrows():
        assert "suez" not in row["passages"] and "cape" in row["passages"]
        suez = network.corridors.loc[corridor_id.removesuffix("-CAPE")]
        assert "suez" in suez["passages"] and "bab-el-mandeb" in suez["passages"]
        assert row["distance_km"] > suez["distance_km"] + 2500
        assert row["duration_h"] > suez["duration_h"] + 7 * 24


def test_distances_are_at_least_the_great_circle(network: Network) -> None:
    for corridor_id, row in network.corridors.iterrows():
        o, d = network.nodes.loc[row["origin"]], network.nodes.loc[row["destination"]]
        great_circle = haversine_km(o["lat"], o["lon"], d["lat"], d["lon"])
        assert row["distance_km"] >= 0.99 * great_circle - 1, corridor_id
        if row["mode"] in ("road", "rail", "air"):
            assert row["distance_km"] <= 2.5 * great_circle + 5, corridor_id


def test_air_block_times(network: Network) -> None:
    air = network.corridors[network.corridors["mode"] == "air"]
    expected = (air["distance_km"] / 800 + 0.5).round(1)
    assert (air["duration_h"] - expected).abs().max() <= 0.051


def test_paths_rebuild_to_the_committed_file(tmp_path: Path) -> None:
    """The committed paths are what build_paths makes of corridors.csv today."""
    pytest.importorskip("searoute")
    from network_data.build_paths import build_paths, write_paths

    out = tmp_path / "paths.geojson"
    write_paths(build_paths(BUNDLED_DATA_DIR), out)
    committed = (BUNDLED_DATA_DIR / "corridor_paths.geojson").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed
