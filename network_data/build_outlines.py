"""Rebuild the vendored country outlines used as the base map.

The outlines are Natural Earth 1:110m admin-0 countries (public domain), taken
from the copy that the ``pyogrio`` wheel ships as a test fixture, so that
neither this script nor the plotting code ever downloads anything.

Run it from the repository root after upgrading ``pyogrio``::

    python -m network_data.build_outlines

The output ``network_data/data/countries_110m.geojson`` holds one feature per
line so that a rebuild shows up as a readable diff.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

#: Location of the Natural Earth fixture inside the installed ``pyogrio`` package.
SOURCE_RESOURCE = "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"

#: Where the vendored GeoJSON is written.
OUTPUT_PATH = Path(__file__).parent / "data" / "countries_110m.geojson"

#: 0.001 degree is about 110 m, far below the 1:110m source's own accuracy.
GRID_SIZE_DEG = 0.001
COORDINATE_DECIMALS = 3

# Natural Earth leaves ``iso_a3`` as "-99" for France and Norway because of
# their overseas territories; the real codes are restored so joins on ISO
# codes work. The remaining "-99" rows (Kosovo, N. Cyprus, Somaliland) have
# no ISO 3166 code and become null.
ISO_A3_FIXES = {"France": "FRA", "Norway": "NOR"}
MISSING_ISO_A3 = "-99"


def read_source() -> gpd.GeoDataFrame:
    """Read the Natural Earth countries shipped with ``pyogrio``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``iso_a3`` (null where no ISO code exists) and
        ``geometry`` in EPSG:4326, sorted by ``name``.

    Examples
    --------
    >>> countries = read_source()
    >>> list(countries.columns)
    ['name', 'iso_a3', 'geometry']
    >>> countries.loc[countries["name"] == "France", "iso_a3"].item()
    'FRA'
    """
    resource = importlib.resources.files("pyogrio").joinpath(SOURCE_RESOURCE)
    with importlib.resources.as_file(resource) as shapefile:
        countries = gpd.read_file(shapefile, columns=["name", "iso_a3"])
    iso_a3 = countries["name"].map(ISO_A3_FIXES).fillna(countries["iso_a3"])
    countries["iso_a3"] = iso_a3.where(iso_a3 != MISSING_ISO_A3, None)
    countries = countries[["name", "iso_a3", "geometry"]]
    return countries.sort_values("name", ignore_index=True)


def _round_coordinates(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    # Dividing the rounded integer by 10**3 yields the double nearest to the
    # 3-decimal value, so json.dumps prints it without binary noise.
    return np.round(coords, COORDINATE_DECIMALS)


def to_geojson_lines(countries: gpd.GeoDataFrame) -> str:
    """Serialise countries as a GeoJSON FeatureCollection, one feature per line.

    Coordinates are snapped to a 0.001 degree grid with
    :func:`shapely.set_precision`, which also repairs any ring the snapping
    would make invalid, and rings follow the RFC 7946 right-hand rule
    (exteriors counter-clockwise).

    Parameters
    ----------
    countries : geopandas.GeoDataFrame
        Columns ``name``, ``iso_a3`` and ``geometry`` in EPSG:4326.

    Returns
    -------
    str
        The GeoJSON text, ending with a newline.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame(
    ...     {"name": ["Square"], "iso_a3": ["SQR"]},
    ...     geometry=[box(0.12345, 0.0, 1.0, 1.0)],
    ...     crs="EPSG:4326",
    ... )
    >>> print(to_geojson_lines(frame), end="")  # doctest: +NORMALIZE_WHITESPACE
    {"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"name":"Square","iso_a3":"SQR"},"geometry":{"type":"Polygon","coordinates":[[[0.123,0.0],[1.0,0.0],[1.0,1.0],[0.123,1.0],[0.123,0.0]]]}}
    ]}
    """
    geometries = shapely.set_precision(countries.geometry.to_numpy(), grid_size=GRID_SIZE_DEG)
    geometries = shapely.transform(geometries, _round_coordinates)
    geometries = shapely.orient_polygons(geometries, exterior_cw=False)
    feature_lines = []
    for name, iso_a3, geometry in zip(
        countries["name"], countries["iso_a3"], geometries, strict=True
    ):
        feature: dict[str, Any] = {
            "type": "Feature",
            # pandas holds missing codes as NaN, which is not valid JSON.
            "properties": {"name": name, "iso_a3": iso_a3 if isinstance(iso_a3, str) else None},
            "geometry": shapely.geometry.mapping(geometry),
        }
        feature_lines.append(
            json.dumps(feature, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        )
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(feature_lines) + "\n]}\n"


def main() -> None:
    """Rebuild ``network_data/data/countries_110m.geojson``."""
    text = to_geojson_lines(read_source())
    OUTPUT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT_PATH} ({len(text.encode('utf-8')) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
