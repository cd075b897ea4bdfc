"""Load, validate and assemble the corridor network."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from network_data import validate as v
from network_data.errors import NetworkValidationError, UnknownPlaceError
from network_data.parcels import BUNDLED_DATA_DIR as BUNDLED_DATA_DIR
from network_data.parcels import ParcelTables, load_parcel_tables
from network_data.schema import (
    CRS,
    FILES,
    FREIGHT_UNITS,
    OPTIONAL_FILES,
    PARCEL_FILES,
    PARITY_SHARE,
    PATHS_FILE,
    TARIFF_COLUMNS,
)
from network_data.status import OPERATING, Planned, split

if TYPE_CHECKING:
    import networkx as nx

    from network_data.arrays import NetworkArrays
    from network_data.geo import City, NodeIndex

METADATA_FILE = "dataset.json"
_GEOD = Geod(ellps="WGS84")
#: Spacing of the points drawn along a great-circle air path.
_AIR_POINT_SPACING_KM = 200.0


class TariffRow(NamedTuple):
    """One row of ``tariffs.csv`` as compiling the network reads it; ``label`` is its index
    in :attr:`Network.tariffs` (a plain tuple, so a network with these cached still pickles
    to worker processes)."""

    label: Any
    scope: str
    unit: str
    break_from: float
    rate: float
    rate_per_km: float
    min_charge: float
    currency: str
    quoted_on: str
    valid_from: str
    valid_to: str


@dataclass(frozen=True, eq=False)
class Network:
    """The validated multimodal corridor network.

    Attributes
    ----------
    nodes
        One row per node, indexed by node id, Point geometry, EPSG:4326.
    corridors
        One row per *directed* corridor (reverse corridors expanded), indexed by corridor id,
        LineString geometry, EPSG:4326. Derived columns: ``co2e_g_per_tkm`` (from the vehicle),
        ``departures_per_week`` (from the timetable for scheduled corridors) and
        ``capacity_teu_per_week``.
    services
        Timetables of scheduled corridors: weekdays, local departure time, booking cut-off.
    tariffs
        Rates by scope (a corridor id, ``mode:<mode>:<country>`` or ``mode:<mode>``).
    fx
        CNY per unit of each currency, indexed by currency code.
    emission_factors
        Well-to-wheel g CO2e per tonne-km by vehicle type, indexed by vehicle.
    passages
        Named passages (straits, canals, transit countries, locks) with their dwell.
    passage_status
        Dated status of passages: whether the main container carriers sail through
        (``open``) or round (``avoided``) from ``valid_from`` to ``valid_to``
        (:func:`optimizer.validity.passage_status_on`).
    waypoints
        Alignment points used to draw land and river paths.
    container_types
        Unit loads: 20GP, 40GP and 40HQ boxes, reefer boxes and the PMC air pallet, with
        volume and payload limits.
    through_services
        Trains that run on as the same train past their first corridor, booked once, indexed
        by id: the service they continue, the corridors they go on over and the dwell before
        each.
    cities
        Cities people name that no city-kind node stands for, indexed by id: names, aliases
        and a centre point; their terminals carry the id in ``nodes["city"]``
        (:meth:`find_place`).
    planned
        Nodes, corridors, services and through trains that are planned or under construction
        (or wait on one that is): plans leave them out; a scenario's ``open`` change switches
        them on (:mod:`network_data.status`).
    products
        What forwarders sell, indexed by id: a name and the chain of main-haul modes a route
        must follow to be offered as that product (:mod:`optimizer.quotable`).
    version
        ``<dataset date>+<12 hex digits of the content hash>`` (the parcel files included).
    date
        Dataset date (ISO 8601).
    parcels
        The parcel channels, their zones and rate bands (:mod:`network_data.parcels`), or None
        for a dataset directory without the parcel files.
    """

    nodes: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    services: pd.DataFrame
    tariffs: pd.DataFrame
    fx: pd.DataFrame
    emission_factors: pd.DataFrame
    passages: pd.DataFrame
    passage_status: pd.DataFrame
    waypoints: pd.DataFrame
    container_types: pd.DataFrame
    products: pd.DataFrame
    through_services: pd.DataFrame
    cities: pd.DataFrame
    planned: Planned
    version: str
    date: str
    parcels: ParcelTables | None = None

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The network as a networkx MultiDiGraph; edge keys are corridor ids."""
        from network_data.graph import build_graph

        return build_graph(self.nodes, self.corridors)

    @cached_property
    def arrays(self) -> NetworkArrays:
        """Compact numpy arrays (CSR adjacency) for numba kernels."""
        from network_data.arrays import build_arrays

        return build_arrays(self.nodes, self.corridors)

    @cached_property
    def _node_index(self) -> NodeIndex:
        from network_data.geo import NodeIndex

        return NodeIndex(self.nodes, self.cities)

    def find_node(self, query: str, mode: str | None = None) -> str:
        """Resolve a place to a node id: in this order a node id, a UN/LOCODE or IATA code, a
        city of ``cities.csv``, a node's English or Chinese name or alias, or ``"lat,lon"``.

        Names match case-, accent- and punctuation-insensitively. A city of several terminals
        gives the one nearest its centre (handling ``mode`` where one does); a plan from or to
        it may use any of them (:meth:`find_city`). With ``mode``, the answer is the named
        node if it handles that mode, otherwise the nearest node that does; a ``"lat,lon"``
        query gives the nearest node handling ``mode`` (any mode when None). A near miss is
        never corrected: the error lists the closest places (rapidfuzz's weighted ratio,
        names before ids, the best match's country first).

        Raises
        ------
        network_data.errors.UnknownPlaceError
            For unknown or ambiguous names; the message lists the closest matches.
        ValueError
            For an unknown mode or coordinates out of range.

        Examples
        --------
        >>> network = load_network()
        >>> network.find_node("chengdu")
        'CNCTU'
        >>> network.find_node("成都", mode="rail")
        'CNCTU-RLY'
        >>> network.find_node("51.43,6.77")
        'DEDUI'
        >>> network.find_node("PVG"), network.find_node("Łódź"), network.find_node("华沙")
        ('CNSHA-PVG', 'PLLOD', 'MKT-PL')
        >>> network.find_node("Chongqnig")
        Traceback (most recent call last):
        ...
        network_data.errors.UnknownPlaceError: unknown place 'Chongqnig'; closest matches: CNCKG ...
        """
        try:
            return self._node_index.find(query, mode)
        except UnknownPlaceError as error:
            waiting = self._not_operating_node(query)
            if waiting is None:
                raise
            row = self.planned.nodes.loc[waiting]
            opens = "" if pd.isna(row["opens_year"]) else f", opens {int(row['opens_year'])}"
            raise UnknownPlaceError(
                f"place {query!r} is {row['name_en']} ({waiting}), which is "
                f"{str(row['status']).replace('_', ' ')}{opens}: plans use operating "
                f"facilities; a scenario's `open` change switches it on; {error}",
                error.candidates,
            ) from None

    def _not_operating_node(self, query: str) -> str | None:
        """The planned node a query names exactly (id, name or alias), if any."""
        from network_data.geo import normalise_name

        wanted = normalise_name(query)
        for node_id, row in self.planned.nodes.iterrows():
            names = (node_id, row["name_en"], row["name_zh"], *row["aliases"])
            if any(normalise_name(name) == wanted for name in names):
                return str(node_id)
        return None

    def find_city(self, query: str) -> City | None:
        """The city of ``cities.csv`` a query names when it has several terminals, else None:
        by name or alias, or by a UN/LOCODE its terminals share (a plan from or to it may use
        any of them, :func:`optimizer.routing.plan_routes`).

        Examples
        --------
        >>> network = load_network()
        >>> shanghai = network.find_city("CNSHA")
        >>> shanghai.name, shanghai.members
        ('Shanghai', ('CNSHA-WGQ', 'CNSHA-YSN', 'CNSHA-PVG'))
        >>> network.find_city("上海") == shanghai, network.find_city("PVG")
        (True, None)
        """
        return self._node_index.city(query)

    def places_matching(self, query: str) -> list[str | City]:
        """Type-ahead: node ids and cities of several terminals whose id, name or alias starts
        with ``query`` (folded as :meth:`find_node` folds it), then those that hold it.

        Examples
        --------
        >>> [getattr(p, "id", p) for p in load_network().places_matching("duis")]
        ['DEDUI', 'WH-DEDUI']
        """
        return self._node_index.matching(query)

    def to_cny(self, amount: float, currency: str) -> float:
        """Convert ``amount`` of ``currency`` to CNY at the dataset's FX rate.

        Examples
        --------
        >>> load_network().to_cny(100, "USD")
        716.0
        """
        rate = self.cny_per_unit.get(currency)
        if rate is None:
            known = ", ".join(sorted(self.fx.index))
            raise ValueError(f"currency {currency!r} has no FX rate; known: {known}")
        return float(amount) * rate

    @cached_property
    def cny_per_unit(self) -> dict[str, float]:
        """CNY per unit of each currency of ``fx``, as a dict (do not change it): compiling a
        large network converts a few hundred thousand tariff rows, and a DataFrame's ``.at``
        costs about 30 us a look-up.

        Examples
        --------
        >>> load_network().cny_per_unit["USD"]
        7.16
        """
        return {
            str(c): float(r) for c, r in zip(self.fx.index, self.fx["cny_per_unit"], strict=True)
        }

    @cached_property
    def _tariff_records_by_scope(self) -> dict[str, list[TariffRow]]:
        by_scope: dict[str, list[TariffRow]] = {}
        columns = [self.tariffs[name].tolist() for name in TariffRow._fields[1:]]
        for label, *values in zip(self.tariffs.index, *columns, strict=True):
            row = TariffRow(label, *values)
            by_scope.setdefault(str(row.scope), []).append(row)
        return by_scope

    def tariff_records_for(self, corridor_id: str) -> list[TariffRow]:
        """The rows of :meth:`tariffs_for` as :class:`TariffRow` tuples, without building a
        DataFrame: what compiling the network reads.

        Examples
        --------
        >>> [(r.unit, r.rate) for r in load_network().tariff_records_for("RAIL-KZDOS-BYBRE")][:2]
        [('container:20GP', 2140.0), ('container:40GP', 3289.0)]
        """
        mode, origin_country = self._corridor_mode_and_origin_country[corridor_id]
        return self.tariff_records_in(v.tariff_scopes(corridor_id, mode, origin_country))

    @cached_property
    def _corridor_mode_and_origin_country(self) -> dict[str, tuple[str, str]]:
        country = dict(zip(self.nodes.index, self.nodes["country"].astype(str), strict=True))
        corridors = self.corridors
        return {
            str(cid): (str(mode), country[origin])
            for cid, mode, origin in zip(
                corridors.index, corridors["mode"], corridors["origin"], strict=True
            )
        }

    def tariff_records_in(self, scopes: Sequence[str]) -> list[TariffRow]:
        """The tariff rows of ``scopes``, most specific first: each scope adds the rows of the
        units no earlier scope priced (a road leg from China: ``("mode:road:CN",
        "mode:road")``).

        Examples
        --------
        >>> rows = load_network().tariff_records_in(("mode:road:CN", "mode:road"))
        >>> [(r.scope, r.unit, r.currency) for r in rows]
        [('mode:road:CN', 'truck', 'CNY'), ('mode:road:CN', 'ltl_t', 'CNY')]
        """
        chosen: list[TariffRow] = []
        units_done: set[str] = set()
        for scope in scopes:
            fresh = [
                row
                for row in self._tariff_records_by_scope.get(scope, ())
                if row.unit not in units_done
            ]
            chosen += fresh
            units_done.update(row.unit for row in fresh)
        return chosen

    def tariffs_for(self, corridor_id: str) -> pd.DataFrame:
        """Tariff rows that price ``corridor_id``: its own rows, else the mode default.

        Rows of the most specific scope win, unit by unit: a corridor-specific ``kg`` rate
        hides the mode default ``kg`` rate but not a default ``wm`` rate.

        Examples
        --------
        >>> network = load_network()
        >>> rows = network.tariffs_for("RAIL-KZDOS-BYBRE")
        >>> float(rows.loc[rows.unit == "container:40GP", "rate"].iloc[0])
        3289.0
        """
        return self.tariffs.loc[[row.label for row in self.tariff_records_for(corridor_id)]]

    def summary(self) -> dict[str, Any]:
        """Counts by mode, node kind and status, with the dataset version and date, and what
        is not operating yet (return corridors left out): counts of nodes, corridors and
        services are of operating ones, those plans use.

        Examples
        --------
        >>> s = load_network().summary()
        >>> s["nodes"] >= 80 and s["corridors"] >= 250
        True
        >>> sorted(s["corridors_by_mode"])
        ['air', 'inland_water', 'rail', 'road', 'sea']
        """
        return {
            "version": self.version,
            "date": self.date,
            "nodes": len(self.nodes),
            "corridors": len(self.corridors),
            "services": len(self.services),
            "tariff_rows": len(self.tariffs),
            "nodes_by_kind": _counts(self.nodes["kind"]),
            "nodes_by_status": _counts(
                pd.concat([self.nodes["status"], self.planned.nodes["status"]])
            ),
            "corridors_by_status": _counts(
                pd.concat([self.corridors["status"], self.planned.corridors["status"]])
            ),
            "services_by_status": _counts(
                pd.concat([self.services["status"], self.planned.services["status"]])
            ),
            "corridors_by_mode": _counts(self.corridors["mode"]),
            "corridor_km_by_mode": {
                mode: round(float(km))
                for mode, km in self.corridors.groupby("mode")["distance_km"].sum().items()
            },
            "not_operating": self._not_operating(),
        }

    def _not_operating(self) -> list[dict[str, Any]]:
        planned = self.planned
        corridors = planned.corridors
        waiting_nodes = set(planned.nodes.index)
        corridors = corridors[
            (corridors["reverse_of"] == "")
            & ~corridors["origin"].isin(waiting_nodes)
            & ~corridors["destination"].isin(waiting_nodes)
        ]
        rows = [
            *(("node", i, r.name_en, r.status, r.opens_year) for i, r in planned.nodes.iterrows()),
            *(
                ("corridor", r.id, r.service_name or f"{r.origin} - {r.destination}",
                 r.status, r.opens_year)
                for r in corridors.itertuples()
            ),
            *(
                ("service", r.service_id, r.service_name, r.status, r.opens_year)
                for r in planned.services.itertuples()
                if r.corridor_id not in planned.corridors.index
            ),
        ]  # fmt: skip
        return [
            {
                "what": what,
                "id": str(item),
                "name": str(name),
                "status": str(status),
                "opens_year": None if pd.isna(year) else int(year),
            }
            for what, item, name, status, year in rows
        ]


def _counts(series: pd.Series[Any]) -> dict[str, int]:
    return {str(k): int(n) for k, n in series.value_counts().sort_index().items()}


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _read_paths(path: Path, problems: v.Collector) -> list[tuple[str, list[list[float]]]]:
    if not path.is_file():
        problems.add(PATHS_FILE, "", "file is missing")
        return []
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = collection["features"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        problems.add(PATHS_FILE, "", f"not a GeoJSON FeatureCollection ({exc})")
        return []
    paths: list[tuple[str, list[list[float]]]] = []
    for position, feature in enumerate(features):
        corridor_id = str(feature.get("properties", {}).get("id", ""))
        geometry = feature.get("geometry") or {}
        coordinates = geometry.get("coordinates")
        if geometry.get("type") != "LineString" or not coordinates or len(coordinates) < 2:
            problems.add(
                PATHS_FILE,
                f"feature {position} (id {corridor_id})",
                "geometry must be a LineString with at least 2 points",
            )
            coordinates = []
        paths.append((corridor_id, coordinates))
    return paths


def _expand_reverse(corridors: pd.DataFrame) -> pd.DataFrame:
    """Add the reverse of every corridor that names a ``reverse_id``."""
    forward = corridors.assign(reverse_of="")
    has_reverse = forward[forward["reverse_id"] != ""]
    backward = has_reverse.assign(
        id=has_reverse["reverse_id"],
        origin=has_reverse["destination"],
        destination=has_reverse["origin"],
        service_name=[
            f"{name} (return)" if name else "" for name in v.values(has_reverse, "service_name")
        ],
        via=pd.Series(
            [list(reversed(points)) for points in v.values(has_reverse, "via")],
            index=has_reverse.index,
            dtype=object,
        ),
        reverse_id="",
        reverse_of=has_reverse["id"],
    )
    return pd.concat([forward, backward], ignore_index=True)


def _air_path(lat1: float, lon1: float, lat2: float, lon2: float) -> shapely.LineString:
    distance_km = v.haversine_km(lat1, lon1, lat2, lon2)
    inner = max(int(distance_km // _AIR_POINT_SPACING_KM), 1)
    points = [(lon1, lat1), *_GEOD.npts(lon1, lat1, lon2, lat2, inner), (lon2, lat2)]
    lons = np.rad2deg(np.unwrap(np.deg2rad([p[0] for p in points])))
    return shapely.LineString(np.column_stack([lons, [p[1] for p in points]]))


def with_derived_columns(
    corridors: gpd.GeoDataFrame, services: pd.DataFrame, emission_factors: pd.DataFrame
) -> gpd.GeoDataFrame:
    """``corridors`` (indexed by id) with the columns derived from the rest: departures per
    week (from ``services`` for scheduled corridors), weekly TEU capacity and g CO2e per
    tonne-km of the vehicle. The loader and a scenario's changed tables both use it."""
    weekly = (
        (services["weekdays"].map(len) * services["week_parity"].map(PARITY_SHARE))
        .groupby(services["corridor_id"])
        .sum()
    )
    from_timetable = corridors.index.to_series().map(weekly).fillna(0.0).astype(float)
    departures = corridors["departures_per_week"].astype(float)
    departures = departures.where(~corridors["scheduled"].astype(bool), from_timetable)
    return corridors.assign(
        departures_per_week=departures,
        capacity_teu_per_week=corridors["capacity_teu_per_departure"] * departures,
        co2e_g_per_tkm=corridors["vehicle"].map(emission_factors["co2e_g_per_tkm"]),
    )


def _content_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        if file.is_file():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def load_network(
    path: str | os.PathLike[str] | None = None,
    *,
    tariffs: str | os.PathLike[str] | None = None,
) -> Network:
    """Load and validate a corridor network.

    Parameters
    ----------
    path
        Directory holding the dataset files (``nodes.csv``, ``corridors.csv``, ...);
        None loads the dataset bundled with Shudao.
    tariffs
        Optional CSV with the columns of ``tariffs.csv``. Its rows replace the bundled rows of
        every scope it lists (a forwarder's contract rates); it is validated like the rest.

    Returns
    -------
    Network

    Raises
    ------
    NetworkValidationError
        Listing every problem found, each with its file and line or feature.

    Examples
    --------
    >>> network = load_network()
    >>> network.corridors.loc["RAIL-CNCTU-RLY-CNAKL", "distance_km"]
    np.float64(3019.0)
    >>> network.corridors.crs.to_string()
    'EPSG:4326'
    """
    directory = Path(path) if path is not None else BUNDLED_DATA_DIR
    problems = v.Collector()
    tables = {
        name: v.parse_table(name, _read_csv(directory / name), columns, problems)
        for name, columns in FILES.items()
        if name not in OPTIONAL_FILES or (directory / name).exists()
    }
    for name in OPTIONAL_FILES - set(tables):
        tables[name] = pd.DataFrame(columns=[c.name for c in FILES[name]])
    for name in ("nodes.csv", "corridors.csv", "services.csv"):
        tables[name]["status"] = tables[name]["status"].replace("", OPERATING)
    nodes, corridors = tables["nodes.csv"], tables["corridors.csv"]
    for name, key in [
        ("nodes.csv", "id"),
        ("waypoints.csv", "id"),
        ("services.csv", "service_id"),
        ("fx.csv", "currency"),
        ("emission_factors.csv", "vehicle"),
        ("passages.csv", "id"),
        ("container_types.csv", "container_type"),
        ("products.csv", "id"),
        ("through_services.csv", "id"),
        ("through_services.csv", "service_id"),
        ("cities.csv", "id"),
    ]:
        v.check_unique(name, tables[name], key, problems)
    v.check_nodes(nodes, problems)
    v.check_cities(tables["cities.csv"], nodes, problems)
    v.check_unique_chains(tables["products.csv"], set(tables["passages.csv"]["id"]), problems)
    vehicles = dict(
        zip(
            v.values(tables["emission_factors.csv"], "vehicle"),
            v.values(tables["emission_factors.csv"], "mode"),
            strict=True,
        )
    )
    v.check_corridors(
        corridors,
        nodes,
        set(tables["waypoints.csv"]["id"]),
        vehicles,
        set(tables["passages.csv"]["id"]),
        problems,
    )
    v.check_passage_status(
        tables["passage_status.csv"], set(tables["passages.csv"]["id"]), problems
    )
    directed = _expand_reverse(corridors)
    v.check_services(
        tables["services.csv"],
        {
            cid: bool(s)
            for cid, s in zip(
                v.values(directed, "id"), v.values(directed, "scheduled"), strict=True
            )
            if cid
        },
        problems,
    )
    v.check_through_services(
        tables["through_services.csv"], tables["services.csv"], directed, problems
    )

    corridor_modes = {
        cid: m
        for cid, m in zip(v.values(directed, "id"), v.values(directed, "mode"), strict=True)
        if cid and m
    }
    currencies = {c for c in tables["fx.csv"]["currency"] if c}
    tariff_table = tables["tariffs.csv"]
    v.check_tariffs("tariffs.csv", tariff_table, corridor_modes, currencies, problems)
    hashed_files = [directory / name for name in (*FILES, PATHS_FILE, METADATA_FILE)]
    if tariffs is not None:
        override_path = Path(tariffs)
        override = v.parse_table(
            override_path.name, _read_csv(override_path), TARIFF_COLUMNS, problems
        )
        v.check_tariffs(override_path.name, override, corridor_modes, currencies, problems)
        kept = tariff_table[~tariff_table["scope"].isin(set(override["scope"]))]
        tariff_table = pd.concat([kept, override], ignore_index=True)
        hashed_files.append(override_path)
    node_country = dict(zip(v.values(nodes, "id"), v.values(nodes, "country"), strict=True))
    v.check_priced(
        (
            (row.id, row.mode, node_country.get(row.origin, ""))
            for row in v.records(directed)
            if row.id and row.mode
        ),
        set(tariff_table.loc[tariff_table["unit"].isin(FREIGHT_UNITS), "scope"]),
        problems,
    )
    v.check_reachable(nodes, set(directed["destination"]), problems)

    node_points = {
        row.id: (row.lat, row.lon)
        for row in v.records(nodes)
        if row.id and math.isfinite(row.lat) and math.isfinite(row.lon)
    }
    geometries = _corridor_geometries(
        directed, node_points, _read_paths(directory / PATHS_FILE, problems), problems
    )
    if problems.problems:
        raise NetworkValidationError(problems.problems)

    parcel_paths = [directory / name for name in PARCEL_FILES]
    parcels = load_parcel_tables(directory) if any(p.is_file() for p in parcel_paths) else None
    if parcels is not None:
        hashed_files.extend(parcel_paths)
    metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    date = str(metadata["date"])
    return _assemble(tables, directed, geometries, tariff_table, date, hashed_files, parcels)


def _corridor_geometries(
    directed: pd.DataFrame,
    node_points: dict[str, tuple[float, float]],
    paths: list[tuple[str, list[list[float]]]],
    problems: v.Collector,
) -> dict[str, shapely.LineString]:
    """A LineString for every directed corridor: stored paths, reversed paths or air arcs."""
    ends = {
        row.id: (row.origin, row.destination)
        for row in v.records(directed)
        if row.id and not row.reverse_of
    }
    geometries: dict[str, shapely.LineString] = {}
    for position, (corridor_id, coordinates) in enumerate(paths):
        if corridor_id not in ends:
            problems.add(
                PATHS_FILE,
                f"feature {position} (id {corridor_id})",
                f"id {corridor_id!r} is not a corridor row of corridors.csv",
            )
            continue
        if not coordinates:
            continue
        for end, node_id, point in zip(
            ("start", "end"), ends[corridor_id], (coordinates[0], coordinates[-1]), strict=True
        ):
            if node_id in node_points:
                v.check_path_endpoint(
                    position,
                    corridor_id,
                    end,
                    node_id,
                    node_points[node_id],
                    (point[0], point[1]),
                    problems,
                )
        geometries[corridor_id] = shapely.LineString(coordinates)
    for row in v.records(directed):
        if not row.id or row.origin not in node_points or row.destination not in node_points:
            continue
        if row.mode == "air":
            geometries[row.id] = _air_path(*node_points[row.origin], *node_points[row.destination])
        elif row.reverse_of and row.reverse_of in geometries:
            geometries[row.id] = shapely.reverse(geometries[row.reverse_of])
        elif not row.reverse_of and row.id not in geometries:
            problems.add(
                PATHS_FILE,
                "",
                f"corridor {row.id!r} ({row.mode}) has no path; run "
                "`python -m network_data.build_paths` after editing corridors.csv",
            )
    return geometries


def _assemble(
    tables: dict[str, pd.DataFrame],
    directed: pd.DataFrame,
    geometries: dict[str, shapely.LineString],
    tariff_table: pd.DataFrame,
    date: str,
    hashed_files: list[Path],
    parcels: ParcelTables | None,
) -> Network:
    raw_nodes = tables["nodes.csv"]
    nodes = gpd.GeoDataFrame(
        raw_nodes.set_index("id", drop=False).rename_axis(None),
        geometry=gpd.points_from_xy(raw_nodes["lon"], raw_nodes["lat"]),
        crs=CRS,
    )
    emission = tables["emission_factors.csv"].set_index("vehicle")
    corridors = directed.set_index("id", drop=False).rename_axis(None)
    corridors = gpd.GeoDataFrame(
        corridors, geometry=[geometries[cid] for cid in corridors["id"]], crs=CRS
    )
    parts = split(
        nodes,
        corridors,
        tables["services.csv"],
        tables["through_services.csv"].set_index("id"),
    )
    services = parts.services
    corridors = with_derived_columns(parts.corridors, services, emission)
    planned = replace(
        parts.planned,
        corridors=with_derived_columns(
            parts.planned.corridors, pd.concat([services, parts.planned.services]), emission
        ),
    )
    return Network(
        nodes=parts.nodes,
        corridors=corridors,
        services=services,
        tariffs=tariff_table.reset_index(drop=True),
        fx=tables["fx.csv"].set_index("currency"),
        emission_factors=emission,
        passages=tables["passages.csv"].set_index("id"),
        passage_status=tables["passage_status.csv"],
        waypoints=tables["waypoints.csv"].set_index("id"),
        container_types=tables["container_types.csv"].set_index("container_type"),
        products=tables["products.csv"].set_index("id"),
        through_services=parts.through_services,
        planned=planned,
        cities=tables["cities.csv"].set_index("id", drop=False).rename_axis(None),
        version=f"{date}+{_content_hash(hashed_files)}",
        date=date,
        parcels=parcels,
    )
