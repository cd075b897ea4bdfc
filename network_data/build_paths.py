"""Rebuild ``corridor_paths.geojson`` from ``corridors.csv``: run after editing corridors.

``python -m network_data.build_paths [DATA_DIR]``

Land and river corridors follow their ``via`` points (waypoints.csv or nodes.csv), so an
alignment through mountains or along a river is drawn where the line really runs. Sea corridors
follow the maritime network shipped with the ``searoute`` package (a development dependency;
the loader never imports it): routes whose ``passages`` include ``cape`` are computed with Suez,
Bab-el-Mandeb and Panama closed. Air corridors are great circles drawn by the loader and have no
stored path. Sea paths that cross the antimeridian keep continuous longitudes (beyond +-180).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from network_data.load import BUNDLED_DATA_DIR
from network_data.schema import PATHS_FILE
from network_data.validate import records

_DECIMALS = 4
#: searoute's restriction names for a voyage that must go round the Cape of Good Hope.
_CAPE_RESTRICTIONS = ["northwest", "suez", "babalmandab", "panama"]
_DEFAULT_RESTRICTIONS = ["northwest"]


def sea_route(
    origin_lon_lat: tuple[float, float], destination_lon_lat: tuple[float, float], *, cape: bool
) -> tuple[list[list[float]], float]:
    """Coordinates and length in km of the maritime path between two points.

    Examples
    --------
    Shanghai Yangshan to Rotterdam via Suez is about 10,540 nm:

    >>> coords, km = sea_route((122.0691, 30.6254), (4.4424, 51.9044), cape=False)
    >>> round(km / 1.852, -1)
    10540.0
    """
    import searoute

    route = searoute.searoute(
        list(origin_lon_lat),
        list(destination_lon_lat),
        units="km",
        append_orig_dest=True,
        restrictions=_CAPE_RESTRICTIONS if cape else _DEFAULT_RESTRICTIONS,
    )
    return route["geometry"]["coordinates"], float(route["properties"]["length"])


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def build_paths(data_dir: Path) -> list[dict[str, Any]]:
    """GeoJSON features, one per non-air row of ``corridors.csv``."""
    nodes = _read(data_dir / "nodes.csv").set_index("id")
    waypoints = _read(data_dir / "waypoints.csv").set_index("id")
    points = {
        point_id: (float(row["lon"]), float(row["lat"]))
        for table in (nodes, waypoints)
        for point_id, row in table.iterrows()
    }
    features: list[dict[str, Any]] = []
    for row in records(_read(data_dir / "corridors.csv")):
        if row.mode == "air":
            continue
        if row.mode == "sea":
            coordinates, _ = sea_route(
                points[row.origin], points[row.destination], cape="cape" in row.passages.split("|")
            )
        else:
            stops = [row.origin, *filter(None, row.via.split("|")), row.destination]
            coordinates = [list(points[stop]) for stop in stops]
        rounded = [[round(lon, _DECIMALS), round(lat, _DECIMALS)] for lon, lat in coordinates]
        features.append(
            {
                "type": "Feature",
                "properties": {"id": row.id},
                "geometry": {"type": "LineString", "coordinates": rounded},
            }
        )
    return features


def write_paths(features: list[dict[str, Any]], path: Path) -> None:
    """Write a FeatureCollection with one feature per line, so that diffs stay readable."""
    lines = [json.dumps(feature, ensure_ascii=False, separators=(",", ":")) for feature in features]
    body = ",\n".join(lines)
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[0]) if args else BUNDLED_DATA_DIR
    features = build_paths(data_dir)
    write_paths(features, data_dir / PATHS_FILE)
    print(f"wrote {len(features)} paths to {data_dir / PATHS_FILE}")


if __name__ == "__main__":
    main()
