"""Validation of the raw dataset files: collect every problem, then raise once.

The checks run on plain tables of strings as read from disk, so that a cell that does not even
parse is reported with its file and line rather than crashing the loader.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections import Counter, namedtuple
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

import pandas as pd
from numba import njit

from network_data.errors import Finding
from network_data.schema import (
    DESTINATION_KINDS,
    MAX_ENDPOINT_OFFSET_KM,
    MODES,
    PATHS_FILE,
    TARIFF_UNITS,
    Column,
)

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
EARTH_RADIUS_KM = 6371.0088


@njit(cache=True)
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS-84 points (compiled: kernels call it too).

    Examples
    --------
    Chengdu to Chongqing city centres:

    >>> round(haversine_km(30.66667, 104.06667, 29.56026, 106.55771))
    269
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0)))


def records(frame: pd.DataFrame) -> Iterator[Any]:
    """Rows as named tuples, with the fields and values ``frame.itertuples(index=False)``
    gives; their cells were typed by :func:`parse_table`.

    Built from each column's ``tolist()``: pandas' own iteration reads a string column held
    by Arrow a cell at a time, which made it most of a large network's load time. Unlike
    ``itertuples``, nullable integer, float and boolean columns give Python scalars, and a
    frame without columns gives no rows (the dataset's tables have neither).

    Examples
    --------
    >>> row = next(records(pd.DataFrame({"id": ["a"], "lat": [1.5], "from": ["x"]})))
    >>> row.id, row.lat, row._2
    ('a', 1.5, 'x')
    """
    row = namedtuple("Pandas", [str(c) for c in frame.columns], rename=True)  # type: ignore[misc]
    columns = [frame.iloc[:, k].tolist() for k in range(frame.shape[1])]
    return map(row._make, zip(*columns, strict=True))


def values(frame: pd.DataFrame, column: str) -> list[Any]:
    """The cells of one column as a plain list."""
    return frame[column].tolist()


def line_of(row_position: int) -> str:
    """CSV location of the data row at ``row_position`` (0-based); the header is line 1."""
    return f"line {row_position + 2}"


@dataclass
class Collector:
    """Accumulates problems while the loader keeps going."""

    problems: list[Finding] = field(default_factory=list)

    def add(self, file: str, location: str, message: str) -> None:
        self.problems.append(Finding(file, location, message))


def _empty(column: Column) -> Any:
    """The value that stands for an empty or unparseable cell."""
    return {"str": "", "list": [], "bool": None}.get(column.kind, math.nan)


def _parse_cell(column: Column, text: str) -> tuple[Any, str | None]:
    """Parse one cell; return the value and an error message or None."""
    missing = _empty(column)
    if text == "":
        return missing, (f"{column.name} is missing" if column.required else None)
    if column.kind == "str":
        if column.choices is not None and text not in column.choices:
            return missing, f"{column.name} {text!r} is not one of {', '.join(column.choices)}"
        return text, None
    if column.kind == "list":
        items = [item.strip() for item in text.split(column.separator) if item.strip()]
        if column.choices is not None:
            bad = [item for item in items if item not in column.choices]
            if bad:
                allowed = ", ".join(column.choices)
                return missing, f"{column.name} has {', '.join(map(repr, bad))}; allowed: {allowed}"
        return items, None
    if column.kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE, None
        return missing, f"{column.name} {text!r} is not true or false"
    try:
        number = float(text)
    except ValueError:
        return missing, f"{column.name} {text!r} is not a number"
    if not math.isfinite(number):
        return missing, f"{column.name} {text!r} is not a finite number"
    if column.minimum is not None and number < column.minimum:
        what = "negative" if column.minimum == 0 else f"below {column.minimum}"
        return missing, f"{column.name} {text} is {what}; it must be >= {column.minimum}"
    if column.maximum is not None and number > column.maximum:
        return missing, f"{column.name} {text} is above {column.maximum}"
    return (int(number) if column.kind == "int" else number), None


def parse_table(
    file: str, raw: pd.DataFrame | None, columns: tuple[Column, ...], problems: Collector
) -> pd.DataFrame:
    """Type-convert a table of strings, reporting every bad cell; bad cells become missing.

    A column that is not required may be left out: its cells are then all empty.
    """
    names = [c.name for c in columns]
    if raw is None:
        problems.add(file, "", "file is missing")
        return pd.DataFrame(columns=names)
    absent = [c.name for c in columns if c.name not in raw.columns and c.required]
    if absent:
        problems.add(file, "", f"missing columns: {', '.join(absent)}")
        return pd.DataFrame(columns=names)
    raw = raw.assign(**{name: "" for name in names if name not in raw.columns})
    parsed: dict[str, list[Any]] = {name: [] for name in names}
    # Cells repeat (modes, countries, units): each distinct text of a column is parsed once.
    # A list is copied per cell, so that no two cells share one.
    seen: list[dict[str, tuple[Any, str | None]]] = [{} for _ in columns]
    key = names[0]
    cells = [raw[name].tolist() for name in names]
    for position, record in enumerate(zip(*cells, strict=True)):
        row_key = record[0]
        for column, text, parsed_of in zip(columns, record, seen, strict=True):
            known = parsed_of.get(text)
            if known is None:
                known = parsed_of[text] = _parse_cell(column, str(text).strip())
            value, error = known
            if error is not None:
                label = f" ({key} {row_key})" if row_key and column.name != key else ""
                problems.add(file, line_of(position) + label, error)
            parsed[column.name].append(list(value) if column.kind == "list" else value)
    return pd.DataFrame(parsed)


def check_unique(file: str, table: pd.DataFrame, column: str, problems: Collector) -> None:
    """Report every repeated value of ``column`` with the lines where it appears again."""
    seen: dict[str, int] = {}
    for position, value in enumerate(values(table, column)):
        if not value:
            continue
        if value in seen:
            first = line_of(seen[value])
            problems.add(
                file, line_of(position), f"duplicate {column} {value!r} (first on {first})"
            )
        else:
            seen[value] = position


def check_unique_chains(products: pd.DataFrame, passage_ids: set[str], problems: Collector) -> None:
    """Report products without a chain, a chain and passages that two products claim, and
    passages that are not in passages.csv.

    Examples
    --------
    >>> problems = Collector()
    >>> table = pd.DataFrame({"id": ["RAIL", "TRAIN", "MC"], "chain": [["rail"]] * 3,
    ...                       "passages": [[], [], ["caspian"]]})
    >>> check_unique_chains(table, {"caspian"}, problems)
    >>> print(problems.problems[0])
    products.csv line 3 (id TRAIN): chain rail is product RAIL's already
    >>> len(problems.problems)
    1
    """
    owners: dict[tuple[tuple[str, ...], frozenset[str]], str] = {}
    for position, (product, chain, named) in enumerate(
        zip(values(products, "id"), products["chain"], products["passages"], strict=True)
    ):
        where = f"{line_of(position)} (id {product})"
        steps = tuple(chain) if isinstance(chain, list) else ()
        named = frozenset(named) if isinstance(named, list) else frozenset()
        for passage in sorted(named - passage_ids):
            problems.add("products.csv", where, f"passage {passage!r} is not in passages.csv")
        if not steps:
            problems.add("products.csv", where, "a product needs a chain of modes")
        elif (steps, named) in owners:
            via = f" via {'|'.join(sorted(named))}" if named else ""
            problems.add(
                "products.csv",
                where,
                f"chain {'|'.join(steps)}{via} is product {owners[steps, named]}'s already",
            )
        else:
            owners[steps, named] = product


def check_cities(cities: pd.DataFrame, nodes: pd.DataFrame, problems: Collector) -> None:
    """Every node's ``city`` is a city of cities.csv in the node's country."""
    country = dict(zip(values(cities, "id"), values(cities, "country"), strict=True))
    for position, (node_id, city, node_country) in enumerate(
        zip(values(nodes, "id"), values(nodes, "city"), values(nodes, "country"), strict=True)
    ):
        if not city:
            continue
        where = f"{line_of(position)} (id {node_id})"
        if city not in country:
            problems.add("nodes.csv", where, f"city {city!r} is not in cities.csv")
        elif country[city] != node_country:
            problems.add(
                "nodes.csv", where,
                f"city {city!r} is in {country[city]}, the node in {node_country}",
            )  # fmt: skip


def check_nodes(nodes: pd.DataFrame, problems: Collector) -> None:
    """Row-level rules of nodes.csv beyond single cells."""
    file = "nodes.csv"
    for position, row in enumerate(records(nodes)):
        where = f"{line_of(position)} (id {row.id})"
        if row.timezone:
            try:
                zoneinfo.ZoneInfo(row.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                problems.add(file, where, f"timezone {row.timezone!r} is not an IANA time zone")
        median, p90 = row.dwell_median_h, row.dwell_p90_h
        if row.kind == "border_crossing" and (_absent(median) or _absent(p90)):
            problems.add(
                file, where, "border_crossing needs dwell_median_h and dwell_p90_h (hours)"
            )
        if not _absent(median) and not _absent(p90) and median > p90:
            problems.add(file, where, f"dwell_median_h {median} exceeds dwell_p90_h {p90}")


def _absent(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def check_corridors(
    corridors: pd.DataFrame,
    nodes: pd.DataFrame,
    waypoint_ids: set[str],
    vehicles: Mapping[str, str],
    passage_ids: set[str],
    problems: Collector,
) -> None:
    """References, ordering of durations and capacity rules of corridors.csv."""
    file = "corridors.csv"
    node_modes = {row.id: set(row.modes) for row in records(nodes) if row.id}
    all_ids = values(corridors, "id") + [r for r in values(corridors, "reverse_id") if r]
    for corridor_id, count in Counter(i for i in all_ids if i).items():
        if count > 1:
            problems.add(file, "", f"duplicate corridor id {corridor_id!r} ({count} times)")
    for position, row in enumerate(records(corridors)):
        where = f"{line_of(position)} (id {row.id})"
        for end in ("origin", "destination"):
            node_id = getattr(row, end)
            if not node_id:
                continue
            if node_id not in node_modes:
                problems.add(file, where, f"{end} {node_id!r} is not a known node")
            elif row.mode and row.mode not in node_modes[node_id]:
                allowed = "|".join(sorted(node_modes[node_id])) or "none"
                problems.add(
                    file,
                    where,
                    f"{end} {node_id!r} does not handle mode {row.mode!r} (its modes: {allowed})",
                )
        for point in row.via:
            if point not in node_modes and point not in waypoint_ids:
                problems.add(file, where, f"via point {point!r} is neither a node nor a waypoint")
        if row.vehicle:
            if row.vehicle not in vehicles:
                problems.add(
                    file, where, f"vehicle {row.vehicle!r} has no row in emission_factors.csv"
                )
            elif row.mode and vehicles[row.vehicle] != row.mode:
                problems.add(
                    file,
                    where,
                    f"vehicle {row.vehicle!r} is a {vehicles[row.vehicle]} vehicle, not {row.mode}",
                )
        for passage in row.passages:
            if passage not in passage_ids:
                problems.add(
                    file,
                    where,
                    f"passage {passage!r} is not defined; known: {', '.join(sorted(passage_ids))}",
                )
        times = (row.duration_min_h, row.duration_h, row.duration_p90_h)
        if not any(_absent(t) for t in times) and not times[0] <= times[1] <= times[2]:
            problems.add(
                file,
                where,
                "durations must satisfy duration_min_h <= duration_h <= duration_p90_h, got "
                f"{times[0]} / {times[1]} / {times[2]}",
            )
        if row.scheduled is True and not _absent(row.departures_per_week):
            problems.add(
                file,
                where,
                "departures_per_week must be empty on a scheduled corridor "
                "(services.csv gives its departures)",
            )
        if row.scheduled is False and _absent(row.departures_per_week):
            problems.add(
                file,
                where,
                "departures_per_week is missing; an unscheduled corridor needs its frequency",
            )


def check_services(
    services: pd.DataFrame, scheduled: Mapping[str, bool], problems: Collector
) -> None:
    """Every scheduled corridor has a timetable, and timetables point at scheduled corridors."""
    file = "services.csv"
    covered: set[str] = set()
    for position, row in enumerate(records(services)):
        where = f"{line_of(position)} (service_id {row.service_id})"
        if row.departure_local and not _HHMM.match(row.departure_local):
            problems.add(
                file, where, f"departure_local {row.departure_local!r} is not HH:MM (00:00-23:59)"
            )
        if not math.isnan(row.rail_cutoff_h) and not row.rail_cutoff_h < row.cutoff_h:
            problems.add(
                file, where,
                f"rail_cutoff_h {row.rail_cutoff_h:g} is not below cutoff_h {row.cutoff_h:g}; a "
                "box arriving by train is accepted later than one delivered by road, or not at all",
            )  # fmt: skip
        if not row.corridor_id:
            continue
        if row.corridor_id not in scheduled:
            problems.add(file, where, f"corridor_id {row.corridor_id!r} is not a known corridor")
        elif not scheduled[row.corridor_id]:
            problems.add(
                file,
                where,
                f"corridor {row.corridor_id!r} is not scheduled; set scheduled=true in "
                "corridors.csv or drop this timetable",
            )
        covered.add(row.corridor_id)
    for corridor_id, is_scheduled in scheduled.items():
        if is_scheduled and corridor_id not in covered:
            problems.add(
                "corridors.csv",
                f"(id {corridor_id})",
                "scheduled corridor has no timetable in services.csv",
            )


def check_through_services(
    through: pd.DataFrame,
    services: pd.DataFrame,
    corridors: pd.DataFrame,
    problems: Collector,
) -> None:
    """Each through train continues a known service along connected corridors of its mode,
    with one dwell (hours >= 0) before each corridor it runs on."""
    file = "through_services.csv"
    service_corridor = dict(zip(values(services, "service_id"), values(services, "corridor_id"),
                                strict=True))  # fmt: skip
    ends = {
        cid: (origin, destination, mode)
        for cid, origin, destination, mode in zip(
            values(corridors, "id"), values(corridors, "origin"),
            values(corridors, "destination"), values(corridors, "mode"), strict=True,
        )
    }  # fmt: skip
    for position, row in enumerate(records(through)):
        where = f"{line_of(position)} (id {row.id})"
        first = service_corridor.get(row.service_id)
        if first is None:
            problems.add(file, where, f"service_id {row.service_id!r} is not in services.csv")
            continue
        if len(row.dwell_h) != len(row.corridors):
            problems.add(
                file, where,
                f"dwell_h has {len(row.dwell_h)} values for {len(row.corridors)} corridors; "
                "give one dwell before each corridor",
            )  # fmt: skip
        for dwell in row.dwell_h:
            try:
                ok = float(dwell) >= 0
            except ValueError:
                ok = False
            if not ok:
                problems.add(file, where, f"dwell_h {dwell!r} is not a number of hours >= 0")
        previous = first
        for corridor_id in row.corridors:
            if corridor_id not in ends:
                problems.add(file, where, f"corridor {corridor_id!r} is not a known corridor")
                break
            if (
                ends[previous][1] != ends[corridor_id][0]
                or ends[previous][2] != ends[corridor_id][2]
            ):
                problems.add(
                    file, where,
                    f"corridor {corridor_id!r} does not continue {previous!r} (it must start "
                    "where that one ends, by the same mode)",
                )  # fmt: skip
                break
            previous = corridor_id


def tariff_scopes(corridor_id: str, mode: str, origin_country: str) -> tuple[str, ...]:
    """Tariff scopes that may price a corridor, most specific first.

    Examples
    --------
    >>> tariff_scopes("RAIL-CNAKL-KZDOS", "rail", "CN")
    ('RAIL-CNAKL-KZDOS', 'mode:rail:CN', 'mode:rail')
    """
    return (corridor_id, f"mode:{mode}:{origin_country}", f"mode:{mode}")


def road_default_scopes(country: str) -> tuple[str, ...]:
    """Tariff scopes that price a road leg off the corridors (from a city's centre or a
    coordinate) in ``country``, most specific first.

    Examples
    --------
    >>> road_default_scopes("CN")
    ('mode:road:CN', 'mode:road')
    """
    return tariff_scopes("", "road", country)[1:]


def check_tariffs(
    file: str,
    tariffs: pd.DataFrame,
    corridor_modes: Mapping[str, str],
    currencies: set[str],
    problems: Collector,
) -> None:
    """Scopes, units and currencies of a tariff table."""
    for position, row in enumerate(records(tariffs)):
        where = f"{line_of(position)} (scope {row.scope})"
        scope_mode = _scope_mode(row.scope, corridor_modes) if row.scope else None
        if row.scope and scope_mode is None:
            problems.add(
                file,
                where,
                f"scope {row.scope!r} is neither a corridor id, mode:<mode>[:<country>] "
                f"with mode in {', '.join(MODES)}, nor customs[:<country>]",
            )
        if scope_mode is not None and row.unit and scope_mode not in TARIFF_UNITS[row.unit]:
            problems.add(
                file,
                where,
                f"unit {row.unit!r} does not apply to {scope_mode}; it is for "
                f"{', '.join(TARIFF_UNITS[row.unit])}",
            )
        if row.currency and row.currency not in currencies:
            problems.add(
                file,
                where,
                f"currency {row.currency!r} has no rate in fx.csv; known: "
                f"{', '.join(sorted(currencies))}",
            )
        dates = {"quoted_on": row.quoted_on, "valid_from": row.valid_from, "valid_to": row.valid_to}
        check_period(file, where, dates, problems)


def parse_date(text: str) -> date | None:
    """A ``YYYY-MM-DD`` cell as a date; None when it is not a real date in that form.

    Examples
    --------
    >>> parse_date("2025-06-30"), parse_date("2025-02-30"), parse_date("30/06/2025")
    (datetime.date(2025, 6, 30), None, None)
    """
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def check_period(
    file: str, where: str, cells: Mapping[str, str], problems: Collector
) -> dict[str, date]:
    """Parse the named date cells of one row (empty ones are skipped) and check the period.

    Reports every cell that is not a ``YYYY-MM-DD`` date, and a ``valid_from`` after its
    ``valid_to``; returns the dates that parsed.

    Examples
    --------
    >>> problems = Collector()
    >>> cells = {"quoted_on": "2025-06-30", "valid_from": "2025-07-01", "valid_to": "2025-06-30"}
    >>> sorted(check_period("tariffs.csv", "line 2", cells, problems))
    ['quoted_on', 'valid_from', 'valid_to']
    >>> print(problems.problems[0])  # doctest: +NORMALIZE_WHITESPACE
    tariffs.csv line 2: valid_from 2025-07-01 is after valid_to 2025-06-30; a period must end on
    or after its first day
    """
    parsed: dict[str, date] = {}
    for name, text in cells.items():
        if not text:
            continue
        day = parse_date(text)
        if day is None:
            problems.add(file, where, f"{name} {text!r} is not a YYYY-MM-DD date")
        else:
            parsed[name] = day
    start, end = parsed.get("valid_from"), parsed.get("valid_to")
    if start is not None and end is not None and start > end:
        problems.add(
            file,
            where,
            f"valid_from {start} is after valid_to {end}; a period must end on or after its "
            "first day",
        )
    return parsed


def check_passage_status(status: pd.DataFrame, passage_ids: set[str], problems: Collector) -> None:
    """Rows of passage_status.csv: known passages, real dates, periods that do not overlap.

    A row with an empty ``valid_to`` holds until a later row of its passage; one that a later
    row follows must end first.

    Examples
    --------
    >>> problems = Collector()
    >>> table = pd.DataFrame({"passage": ["suez", "suez"],
    ...     "valid_from": ["2023-12-15", "2024-06-01"], "valid_to": ["", "2024-12-31"]})
    >>> check_passage_status(table, {"suez"}, problems)
    >>> print(problems.problems[0])  # doctest: +NORMALIZE_WHITESPACE
    passage_status.csv line 3 (passage suez): valid_from 2024-06-01 falls in the period of line 2
    (2023-12-15 to open end); periods of one passage must not overlap
    """
    file = "passage_status.csv"
    periods: dict[str, list[tuple[date, date | None, int]]] = {}
    for position, row in enumerate(records(status)):
        where = f"{line_of(position)} (passage {row.passage})"
        if row.passage and row.passage not in passage_ids:
            known = ", ".join(sorted(passage_ids))
            problems.add(file, where, f"passage {row.passage!r} is not defined; known: {known}")
        cells = {"valid_from": row.valid_from, "valid_to": row.valid_to}
        dates = check_period(file, where, cells, problems)
        if "valid_from" in dates and (not row.valid_to or "valid_to" in dates):
            periods.setdefault(row.passage, []).append(
                (dates["valid_from"], dates.get("valid_to"), position)
            )
    for passage, rows in periods.items():
        ordered = sorted(rows, key=lambda period: period[0])
        for (start, end, first), (later_start, _, position) in pairwise(ordered):
            if end is None or later_start <= end:
                problems.add(
                    file,
                    f"{line_of(position)} (passage {passage})",
                    f"valid_from {later_start} falls in the period of {line_of(first)} ({start} "
                    f"to {end or 'open end'}); periods of one passage must not overlap",
                )


def _scope_mode(scope: str, corridor_modes: Mapping[str, str]) -> str | None:
    if scope in corridor_modes:
        return corridor_modes[scope]
    parts = scope.split(":")
    if parts[0] == "mode" and len(parts) in (2, 3) and parts[1] in MODES:
        return parts[1]
    if parts[0] == "customs" and len(parts) in (1, 2):
        return "customs"
    return None


def check_priced(
    corridors: Iterable[tuple[str, str, str]], scopes: set[str], problems: Collector
) -> None:
    """Every corridor (id, mode, origin country) resolves to a freight rate: ``scopes`` are
    those holding one (:data:`network_data.schema.FREIGHT_UNITS`)."""
    for corridor_id, mode, country in corridors:
        if not scopes.intersection(tariff_scopes(corridor_id, mode, country)):
            problems.add(
                "tariffs.csv",
                "",
                f"corridor {corridor_id!r} has no freight rate: add a row with scope "
                f"{corridor_id!r}, 'mode:{mode}:{country}' or 'mode:{mode}'",
            )


def check_reachable(nodes: pd.DataFrame, destinations: set[str], problems: Collector) -> None:
    """Markets and overseas warehouses must be the destination of at least one corridor."""
    for position, row in enumerate(records(nodes)):
        if row.kind in DESTINATION_KINDS and row.id not in destinations:
            problems.add(
                "nodes.csv",
                f"{line_of(position)} (id {row.id})",
                f"{row.kind} {row.id!r} is not reached by any corridor",
            )


def check_path_endpoint(
    feature_position: int,
    corridor_id: str,
    end: str,
    node_id: str,
    node_lat_lon: tuple[float, float],
    point_lon_lat: tuple[float, float],
    problems: Collector,
) -> None:
    """A path must start and end within :data:`MAX_ENDPOINT_OFFSET_KM` of its nodes."""
    offset_km = haversine_km(node_lat_lon[0], node_lat_lon[1], point_lon_lat[1], point_lon_lat[0])
    if offset_km > MAX_ENDPOINT_OFFSET_KM:
        problems.add(
            PATHS_FILE,
            f"feature {feature_position} (id {corridor_id})",
            f"geometry {end} is {offset_km:.0f} km from node {node_id!r}; at most "
            f"{MAX_ENDPOINT_OFFSET_KM:.0f} km is allowed",
        )
