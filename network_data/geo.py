"""Node lookup by id, English or Chinese name, alias, or coordinates."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from network_data.errors import UnknownPlaceError
from network_data.schema import MODES
from network_data.validate import haversine_km

#: Vendored Natural Earth 1:110m admin-0 countries (public domain).
OUTLINES_PATH = Path(__file__).parent / "data" / "countries_110m.geojson"
#: The 1:110m outlines cut coasts; a point this close to a country counts as in it.
COAST_TOLERANCE_DEG = 0.3
_LAT_LON = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$")
#: Letters that Unicode does not decompose into a base letter and a mark.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "\u0131": "i", "æ": "ae"})
_MAX_SUGGESTIONS = 5


def normalise_name(text: str) -> str:
    """Fold case, accents and punctuation so that "Łódź", "lodz" and "LODZ" compare equal.

    Examples
    --------
    >>> normalise_name("Łódź") == normalise_name("lodz")
    True
    >>> normalise_name("Guang'an")
    'guangan'
    >>> normalise_name("成都")
    '成都'
    """
    compatible = unicodedata.normalize("NFKD", text).casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", compatible)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def parse_lat_lon(text: str) -> tuple[float, float] | None:
    """Parse ``"lat,lon"``; None when ``text`` is not of that shape.

    Raises
    ------
    ValueError
        When it is of that shape but out of range.

    Examples
    --------
    >>> parse_lat_lon("30.66, 104.07")
    (30.66, 104.07)
    >>> parse_lat_lon("Chengdu") is None
    True
    """
    match = _LAT_LON.match(text)
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(
            f"coordinates {text!r} are out of range: latitude must be in [-90, 90] and "
            "longitude in [-180, 180] (give them as 'lat,lon')"
        )
    return lat, lon


class NodeIndex:
    """Name and spatial indexes over a node table (see :meth:`Network.find_node`)."""

    def __init__(self, nodes: gpd.GeoDataFrame) -> None:
        self._nodes = nodes
        self._ids_by_name: dict[str, set[str]] = defaultdict(set)
        for node_id, row in nodes.iterrows():
            names = [str(node_id), row["name_en"], row["name_zh"], *row["aliases"]]
            for name in names:
                self._ids_by_name[normalise_name(name)].add(str(node_id))
        self._trees: dict[str | None, tuple[shapely.STRtree, list[str]]] = {}
        for mode in (None, *MODES):
            subset = nodes if mode is None else nodes[nodes["modes"].map(lambda m, x=mode: x in m)]
            self._trees[mode] = (shapely.STRtree(subset.geometry.values), list(subset.index))

    def find(self, query: str, mode: str | None = None) -> str:
        """Resolve ``query`` to a node id; see :meth:`Network.find_node`."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        point = parse_lat_lon(query)
        if point is not None:
            return self.nearest(*point, mode=mode)
        node_id = self._by_name(query)
        if mode is None or mode in self._nodes.at[node_id, "modes"]:
            return node_id
        return self.nearest(self._nodes.at[node_id, "lat"], self._nodes.at[node_id, "lon"], mode)

    def _by_name(self, query: str) -> str:
        key = normalise_name(query)
        matches = self._ids_by_name.get(key, set())
        if len(matches) == 1:
            return next(iter(matches))
        if matches:
            listed = ", ".join(f"{i} ({self._nodes.at[i, 'name_en']})" for i in sorted(matches))
            raise UnknownPlaceError(
                f"place {query!r} is ambiguous; it names {listed}", sorted(matches)
            )
        close = difflib.get_close_matches(key, list(self._ids_by_name), n=20, cutoff=0.6)
        if key:
            close += [name for name in self._ids_by_name if key in name and name not in close]
        candidates = list(
            dict.fromkeys(i for name in close for i in sorted(self._ids_by_name[name]))
        )
        shown = candidates[:_MAX_SUGGESTIONS]
        hint = (
            "closest matches: " + ", ".join(f"{i} ({self._nodes.at[i, 'name_en']})" for i in shown)
            if shown
            else "give a node id, an English or Chinese name, or 'lat,lon'"
        )
        raise UnknownPlaceError(f"unknown place {query!r}; {hint}", shown)

    def nearest(self, lat: float, lon: float, mode: str | None = None) -> str:
        """Id of the node nearest to (lat, lon) by great-circle distance that handles ``mode``.

        The R-tree works in degrees, where a degree of longitude shrinks with latitude, so its
        planar nearest is only a first guess: every node within the widened search radius is
        then ranked by great-circle distance.
        """
        tree, ids = self._trees[mode]
        if not ids:
            raise ValueError(f"no node handles mode {mode!r}")
        query = shapely.Point(lon, lat)
        first = int(tree.query_nearest(query)[0])
        planar_deg = float(query.distance(tree.geometries[first]))
        widest_lat = min(abs(lat) + planar_deg, 85.0)
        radius_deg = planar_deg / math.cos(math.radians(widest_lat)) + 1e-9
        candidates = tree.query(query.buffer(radius_deg))
        distances = [
            haversine_km(lat, lon, tree.geometries[c].y, tree.geometries[c].x) for c in candidates
        ]
        return ids[int(candidates[int(np.argmin(distances))])]


@cache
def load_outlines() -> gpd.GeoDataFrame:
    """Load the vendored Natural Earth 1:110m country outlines (read once, then cached).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per country with columns ``name``, ``iso_a3`` (null where no ISO code exists)
        and polygon ``geometry`` in EPSG:4326.

    Examples
    --------
    >>> countries = load_outlines()
    >>> countries.crs.to_epsg()
    4326
    >>> sorted(countries.loc[countries["iso_a3"].isin(["CHN", "DEU"]), "name"])
    ['China', 'Germany']
    """
    return gpd.read_file(OUTLINES_PATH)


class LandIndex:
    """Which country outline a point lies in (coasts given :data:`COAST_TOLERANCE_DEG`).

    Examples
    --------
    >>> land = LandIndex()
    >>> land.name(land.territory(30.66, 104.07)), land.territory(0.0, -30.0) is None
    ('China', True)
    """

    def __init__(self) -> None:
        outlines = load_outlines()
        self._names = [str(n) for n in outlines["name"]]
        self._tree = shapely.STRtree(outlines.geometry.values)

    def territory(self, lat: float, lon: float) -> int | None:
        """Index of the country containing the point, else of one within the tolerance."""
        point = shapely.Point(lon, lat)
        inside = self._tree.query(point, predicate="intersects")
        if len(inside):
            return int(inside[0])
        nearest, distance = self._tree.query_nearest(point, return_distance=True)
        if len(nearest) and float(distance[0]) <= COAST_TOLERANCE_DEG:
            return int(nearest[0])
        return None

    def name(self, territory: int | None) -> str:
        """Country name of a territory index ("the sea" for None)."""
        return "the sea" if territory is None else self._names[territory]
