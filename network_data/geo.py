"""Node lookup by id, UN/LOCODE or IATA code, city, English or Chinese name, alias, or
coordinates."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz, process, utils

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
_CITY_FIELDS = ("id", "name_en", "name_zh", "country", "lat", "lon", "aliases")


class City(NamedTuple):
    """A city of ``cities.csv``: its id, English name, country, centre and terminals."""

    id: str
    name: str
    name_zh: str
    country: str
    lat: float
    lon: float
    members: tuple[str, ...]


#: Node kinds a city's name does not stand for when it has other terminals.
_NOT_TERMINALS = frozenset({"market", "overseas_warehouse"})


def _similarity(a: str, b: str, **kwargs: Any) -> float:
    """String similarity in [0, 100]: the mean of rapidfuzz's weighted ratio (which forgives
    a name inside a longer one) and its plain ratio (which does not)."""
    return (fuzz.WRatio(a, b, **kwargs) + fuzz.ratio(a, b, **kwargs)) / 2


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


#: How many resolved queries a :class:`NodeIndex` remembers.
_FOUND_KEPT = 10_000


class NodeIndex:
    """Name and spatial indexes over a node table and its cities (see
    :meth:`Network.find_node`)."""

    def __init__(self, nodes: gpd.GeoDataFrame, cities: pd.DataFrame) -> None:
        self._nodes = nodes
        self._ids = {str(node_id).upper(): str(node_id) for node_id in nodes.index}
        self._ids_by_name: dict[str, set[str]] = defaultdict(set)
        self._ids_by_code: dict[str, set[str]] = defaultdict(set)
        #: What a suggestion may be: (what resolves to it, country, whether it is a name)
        self._choices: dict[str, tuple[str, str, bool]] = {}
        self._members: dict[str, list[str]] = defaultdict(list)
        #: Every node and city of several terminals with its folded names, for type-ahead.
        self._keys: list[tuple[str, tuple[str, ...]]] = []
        columns = ("name_en", "name_zh", "aliases", "country", "unlocode", "iata", "city")
        for node_id, name_en, name_zh, aliases, country, unlocode, iata, city in zip(
            map(str, nodes.index), *(nodes[c].tolist() for c in columns), strict=True
        ):
            for name in (name_en, name_zh, *aliases):
                self._ids_by_name[normalise_name(name)].add(node_id)
                self._choices.setdefault(name, (node_id, country, True))
            self._ids_by_name[normalise_name(node_id)].add(node_id)
            self._choices.setdefault(node_id, (node_id, country, False))
            for code in (unlocode, iata):
                if code:
                    self._ids_by_code[str(code).upper()].add(node_id)
            if city:
                self._members[city].append(node_id)
            self._keys.append(
                (node_id, tuple(normalise_name(n) for n in (node_id, name_en, name_zh, *aliases)))
            )
        self._cities_by_name: dict[str, str] = {}
        self._city_rows: dict[str, City] = {}
        for city_id, name_en, name_zh, country, lat, lon, aliases in zip(
            *(cities[c].tolist() for c in _CITY_FIELDS), strict=True
        ):
            self._city_rows[city_id] = City(
                city_id, name_en, name_zh, country, float(lat), float(lon),
                tuple(self._members[city_id]),
            )  # fmt: skip
            for name in (city_id, name_en, name_zh, *aliases):
                self._cities_by_name[normalise_name(name)] = city_id
                self._choices[name] = (name_en, country, True)
            if len(self._members[city_id]) > 1:
                self._keys.append(
                    (
                        city_id,
                        tuple(normalise_name(n) for n in (city_id, name_en, name_zh, *aliases)),
                    )
                )
        self._found: dict[tuple[str, str | None], str] = {}
        self._trees: dict[str | None, tuple[shapely.STRtree, list[str]]] = {}
        for mode in (None, *MODES):
            subset = nodes if mode is None else nodes[nodes["modes"].map(lambda m, x=mode: x in m)]
            self._trees[mode] = (shapely.STRtree(subset.geometry.values), list(subset.index))

    def find(self, query: str, mode: str | None = None) -> str:
        """Resolve ``query`` to a node id; see :meth:`Network.find_node`.

        Answers are remembered (the index never changes): a route plan names the same few
        places again and again, and resolving a city's name reads several rows of the node table.
        """
        found = self._found.get((query, mode))
        if found is None:
            found = self._resolve(query, mode)
            if len(self._found) < _FOUND_KEPT:
                self._found[query, mode] = found
        return found

    def _resolve(self, query: str, mode: str | None) -> str:
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        point = parse_lat_lon(query)
        if point is not None:
            return self.nearest(*point, mode=mode)
        node_id = self._by_name(query, mode)
        if mode is None or mode in self._nodes.at[node_id, "modes"]:
            return node_id
        return self.nearest(self._nodes.at[node_id, "lat"], self._nodes.at[node_id, "lon"], mode)

    def city(self, query: str) -> City | None:
        """The city a query names when that city has several terminals, else None.

        A node id or an IATA code names a node; a UN/LOCODE its node, or the city all its
        nodes share; a name or alias in cities.csv the city.
        """
        key = query.strip().upper()
        if key in self._ids:
            return None
        coded = self._ids_by_code.get(key, set())
        if coded:
            city = self._shared_city(coded)
        else:
            city = self._cities_by_name.get(normalise_name(query))
        if city is None or len(self._members[city]) < 2:
            return None
        return self._city_rows[city]

    def matching(self, query: str) -> list[str | City]:
        """Nodes and cities of several terminals whose id or a name starts with the folded
        query, then those holding it elsewhere, each group by id; a city as a :class:`City`."""
        wanted = normalise_name(query)
        ranked: list[tuple[int, str]] = []
        for place_id, keys in self._keys:
            if any(key.startswith(wanted) for key in keys):
                ranked.append((0, place_id))
            elif any(wanted in key for key in keys):
                ranked.append((1, place_id))
        return [self._city_rows.get(place_id, place_id) for _, place_id in sorted(ranked)]

    def _shared_city(self, node_ids: set[str]) -> str | None:
        """The city of several nodes when they all have the same one."""
        cities = {self._nodes.at[i, "city"] for i in node_ids}
        if len(node_ids) < 2 or len(cities) != 1 or "" in cities:
            return None
        return str(next(iter(cities)))

    def _city_node(self, city: str, mode: str | None) -> str:
        """The city's terminal nearest its centre (handling ``mode`` where one does),
        markets and warehouses only where it has no other."""
        members = self._members[city]
        if mode is not None and any(mode in self._nodes.at[m, "modes"] for m in members):
            members = [m for m in members if mode in self._nodes.at[m, "modes"]]
        terminals = [m for m in members if self._nodes.at[m, "kind"] not in _NOT_TERMINALS]
        centre = self._city_rows[city]
        return min(
            terminals or members,
            key=lambda m: haversine_km(
                centre.lat, centre.lon, self._nodes.at[m, "lat"], self._nodes.at[m, "lon"]
            ),
        )

    def _by_name(self, query: str, mode: str | None = None) -> str:
        """A node id, then a code, a node's name or alias, then a city's name; several nodes
        of one city give the city's main terminal."""
        key = query.strip().upper()
        if key in self._ids:
            return self._ids[key]
        matches = self._ids_by_code.get(key) or self._ids_by_name.get(normalise_name(query))
        city = self._shared_city(matches) if matches else None
        if city is None and not matches:
            city = self._cities_by_name.get(normalise_name(query))
            if city is not None and not self._members[city]:
                city = None
        if city is not None:
            return self._city_node(city, mode)
        if matches and len(matches) == 1:
            return next(iter(matches))
        if matches:
            listed = ", ".join(f"{i} ({self._nodes.at[i, 'name_en']})" for i in sorted(matches))
            raise UnknownPlaceError(
                f"place {query!r} is ambiguous; it names {listed}", sorted(matches)
            )
        shown = self.suggest(query)
        hint = (
            "closest matches: " + ", ".join(label for _, label in shown)
            if shown
            else "give a node id, a UN/LOCODE or IATA code, an English or Chinese name, or "
            "'lat,lon'"
        )
        raise UnknownPlaceError(f"unknown place {query!r}; {hint}", [key for key, _ in shown])

    def suggest(self, query: str, limit: int = _MAX_SUGGESTIONS) -> list[tuple[str, str]]:
        """The places closest to a query that matched nothing, best first, as (what resolves
        to it, how it reads): by string similarity (the mean of rapidfuzz's weighted and plain
        ratios), names before ids, then the best match's country first."""
        found = process.extract(
            query, list(self._choices), scorer=_similarity, processor=utils.default_process,
            limit=40, score_cutoff=50,
        )  # fmt: skip
        if not found:
            return []
        best_country = self._choices[found[0][0]][1]
        ranked = sorted(
            found,
            key=lambda hit: (
                -round(hit[1] / 5),
                not self._choices[hit[0]][2],
                self._choices[hit[0]][1] != best_country,
                -hit[1],
            ),
        )
        shown: dict[str, str] = {}
        for text, _, _ in ranked:
            target = self._choices[text][0]
            if target in self._nodes.index:
                shown.setdefault(target, f"{target} ({self._nodes.at[target, 'name_en']})")
            else:
                shown.setdefault(target, f"{target} (city)")
        return list(shown.items())[:limit]

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
