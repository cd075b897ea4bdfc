"""Larger networks made from the bundled one, to measure how planning cost grows (issue 23).

:func:`write_scaled_network` writes a dataset ``factor`` times the bundled network: the network
itself and ``factor - 1`` replicas of it, each shifted by up to :data:`MAX_SHIFT_DEG` in latitude
and longitude, with every node, city, corridor, service, through service and corridor tariff
copied under new ids (``-X<k>`` appended). Each replica is therefore a network with the bundled
network's degrees, mode mix, timetables and frequencies; replicas are joined by road links
between copies of the same city or industrial park (each replica to a random earlier one, so a
search from the bundled network reaches every replica). The result loads through
:func:`network_data.load_network` and passes the same validation as the bundled dataset; its
sources are the bundled rows' sources, plus ``ROAD-CIRC`` and the road rules for the links.
Nothing here is data to plan on: the replicas are places that do not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from network_data.load import BUNDLED_DATA_DIR
from network_data.road import road_transit_h, road_transit_p90_h, rules_for_country
from network_data.schema import PATHS_FILE
from network_data.validate import haversine_km

#: Each replica is shifted by a random offset of at most this many degrees in each axis.
MAX_SHIFT_DEG = 1.0
#: Node kinds joined by road to their copy in another replica.
LINKED_KINDS = ("city", "industrial_park")
#: Road km per great-circle km (``ROAD-CIRC`` in SOURCES.md).
ROAD_CIRCUITY = 1.25
#: Files copied unchanged: reference tables every replica shares.
SHARED_FILES = (
    "fx.csv", "emission_factors.csv", "passages.csv", "passage_status.csv",
    "container_types.csv", "products.csv", "waypoints.csv",
)  # fmt: skip


def read_table(path: Path) -> pd.DataFrame:
    """A dataset CSV as text cells, exactly as written (no type guessing, no NaN)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write a table :func:`read_table` read, with Unix line ends."""
    table.to_csv(path, index=False, lineterminator="\n")


def write_scaled_network(
    factor: int, target: Path, *, seed: int = 0, source: Path = BUNDLED_DATA_DIR
) -> Path:
    """Write a dataset ``factor`` times the network in ``source`` into ``target``.

    Parameters
    ----------
    factor
        How many copies of the network the dataset holds (1: the network itself).
    target
        Directory to write (created if needed).
    seed
        Seeds the replicas' shifts and which replica each links to; same seed, same files.
    source
        Dataset directory to copy, the bundled network by default.

    Returns
    -------
    Path
        ``target``.

    Examples
    --------
    >>> import tempfile
    >>> from network_data import load_network
    >>> directory = write_scaled_network(2, Path(tempfile.mkdtemp()) / "x2")
    >>> bundled, doubled = load_network(), load_network(directory)
    >>> len(doubled.nodes) == 2 * len(bundled.nodes)
    True
    >>> doubled.nodes.at["CNCTU-X1", "name_en"]
    'Chengdu X1'
    """
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be an integer >= 1, got {factor!r}")
    rng = np.random.default_rng(seed)
    shifts = [(0.0, 0.0)] + [
        tuple(rng.uniform(-MAX_SHIFT_DEG, MAX_SHIFT_DEG, 2)) for _ in range(factor - 1)
    ]
    links_to = [int(rng.integers(0, k)) for k in range(1, factor)]
    target.mkdir(parents=True, exist_ok=True)
    nodes = read_table(source / "nodes.csv")
    corridors = read_table(source / "corridors.csv")
    cities = read_table(source / "cities.csv")
    node_ids = set(nodes["id"])
    scopes = set(corridors["id"]) | set(corridors["reverse_id"]) - {""}

    def replicas(table: pd.DataFrame, copy: Callable[[pd.DataFrame, int], pd.DataFrame]) -> Any:
        return pd.concat([table, *(copy(table.copy(), k) for k in range(1, factor))])

    def shifted_places(table: pd.DataFrame, k: int) -> pd.DataFrame:
        dlat, dlon = shifts[k]
        table["id"] = table["id"] + f"-X{k}"
        table["lat"] = [f"{float(v) + dlat:.5f}" for v in table["lat"]]
        table["lon"] = [f"{float(v) + dlon:.5f}" for v in table["lon"]]
        table["name_en"] = table["name_en"] + f" X{k}"
        table["name_zh"] = table["name_zh"] + f" X{k}"
        table["aliases"] = ""
        return table

    def node_copy(table: pd.DataFrame, k: int) -> pd.DataFrame:
        table = shifted_places(table, k)
        table["city"] = [f"{city}-X{k}" if city else "" for city in table["city"]]
        table["unlocode"] = ""
        table["iata"] = ""
        return table

    def corridor_copy(table: pd.DataFrame, k: int) -> pd.DataFrame:
        for column in ("id", "origin", "destination"):
            table[column] = table[column] + f"-X{k}"
        table["reverse_id"] = [f"{r}-X{k}" if r else "" for r in table["reverse_id"]]
        table["via"] = [
            "|".join(f"{p}-X{k}" if p in node_ids else p for p in via.split("|")) if via else ""
            for via in table["via"]
        ]
        return table

    def service_copy(table: pd.DataFrame, k: int) -> pd.DataFrame:
        table["service_id"] = table["service_id"] + f"-X{k}"
        table["corridor_id"] = table["corridor_id"] + f"-X{k}"
        return table

    def through_copy(table: pd.DataFrame, k: int) -> pd.DataFrame:
        table["id"] = table["id"] + f"-X{k}"
        table["service_id"] = table["service_id"] + f"-X{k}"
        table["corridors"] = ["|".join(f"{c}-X{k}" for c in chain.split("|"))
                              for chain in table["corridors"]]  # fmt: skip
        return table

    def tariff_copy(table: pd.DataFrame, k: int) -> pd.DataFrame:
        table = table[table["scope"].isin(scopes)].copy()
        table["scope"] = table["scope"] + f"-X{k}"
        return table

    all_nodes = replicas(nodes, node_copy)
    links = _links(nodes, corridors, all_nodes, links_to)
    write_table(all_nodes, target / "nodes.csv")
    write_table(replicas(cities, shifted_places), target / "cities.csv")
    write_table(pd.concat([replicas(corridors, corridor_copy), links]), target / "corridors.csv")
    for name, copy in (
        ("services.csv", service_copy),
        ("through_services.csv", through_copy),
        ("tariffs.csv", tariff_copy),
    ):
        write_table(replicas(read_table(source / name), copy), target / name)
    for name in SHARED_FILES:
        (target / name).write_bytes((source / name).read_bytes())
    dataset = json.loads((source / "dataset.json").read_text(encoding="utf-8"))
    dataset["name"] = f"{dataset['name']} (synthetic, {factor} x, seed {seed})"
    (target / "dataset.json").write_text(json.dumps(dataset, indent=2), encoding="utf-8")
    _write_paths(source, target, shifts, all_nodes, links)
    return target


def _links(
    nodes: pd.DataFrame, corridors: pd.DataFrame, all_nodes: pd.DataFrame, links_to: list[int]
) -> pd.DataFrame:
    """Road corridors joining each replica's cities and parks to their copies in an earlier
    replica, priced by the road defaults and timed by the road rules of their country."""
    template = corridors[corridors["mode"] == "road"].iloc[0]
    where = _points(all_nodes)
    linked = nodes[
        nodes["kind"].isin(LINKED_KINDS)
        & nodes["modes"].str.split("|").map(lambda modes: "road" in modes)
        & (nodes["status"].isin(["", "operating"]))
    ]
    rows = []
    for k, other in enumerate(links_to, start=1):
        for node_id, country in zip(linked["id"], linked["country"], strict=True):
            here = f"{node_id}-X{k}"
            there = node_id if other == 0 else f"{node_id}-X{other}"
            km = ROAD_CIRCUITY * haversine_km(*where[here], *where[there]) + 1.0
            rules = rules_for_country(country)
            hours = road_transit_h(km, rules)
            row = template.copy()
            row["id"], row["reverse_id"] = f"LINK-{here}-{there}", f"LINK-{there}-{here}"
            row["origin"], row["destination"] = here, there
            row["distance_km"] = f"{km:.0f}"
            row["duration_min_h"] = row["duration_h"] = f"{hours:.1f}"
            row["duration_p90_h"] = f"{road_transit_p90_h(km, rules):.1f}"
            row["via"] = row["passages"] = row["opens_year"] = ""
            row["status"] = "operating"
            row["source"] = "ROAD-CIRC;CF6;EU-561;CAP-ROAD"
            rows.append(row)
    return pd.DataFrame(rows, columns=corridors.columns)


def _write_paths(
    source: Path,
    target: Path,
    shifts: list[tuple[float, float]],
    all_nodes: pd.DataFrame,
    links: pd.DataFrame,
) -> None:
    """Each replica's corridor geometries shifted with it, and straight lines for the links."""
    paths = json.loads((source / PATHS_FILE).read_text(encoding="utf-8"))
    features = list(paths["features"])
    for k, (dlat, dlon) in enumerate(shifts[1:], start=1):
        for feature in paths["features"]:
            geometry, properties = feature["geometry"], feature["properties"]
            coordinates = _shift(geometry["coordinates"], dlat, dlon)
            features.append({
                "type": "Feature",
                "properties": {**properties, "id": f"{properties['id']}-X{k}"},
                "geometry": {**geometry, "coordinates": coordinates},
            })  # fmt: skip
    where = _points(all_nodes)
    for corridor_id, origin, destination in zip(
        links["id"], links["origin"], links["destination"], strict=True
    ):
        line = [[where[n][1], where[n][0]] for n in (origin, destination)]
        features.append({"type": "Feature", "properties": {"id": corridor_id},
                         "geometry": {"type": "LineString", "coordinates": line}})  # fmt: skip
    paths["features"] = features
    (target / PATHS_FILE).write_text(json.dumps(paths), encoding="utf-8")


def _points(nodes: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(lat, lon) of every node of a text table."""
    return {
        node_id: (float(lat), float(lon))
        for node_id, lat, lon in zip(nodes["id"], nodes["lat"], nodes["lon"], strict=True)
    }


def _shift(coordinates: Any, dlat: float, dlon: float) -> Any:
    """Coordinates of a GeoJSON geometry, nested lists of [lon, lat], moved by the shift."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [round(coordinates[0] + dlon, 5), round(coordinates[1] + dlat, 5), *coordinates[2:]]
    return [_shift(part, dlat, dlon) for part in coordinates]
