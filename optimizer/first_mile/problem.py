"""What a first-mile run is asked: the pickups, the fleet, the hub and the train's cut-off.

Trucks leave their start depot (the hub unless told otherwise) no earlier than the start of the
planning day, collect lots at factories and parks within their time windows, and unload at their
end depot (the hub) by the departure's booking cut-off. Road distance and driving time come from
:mod:`optimizer.first_mile.travel`, or from matrices the user supplies.

Rows of a pickups table are read by :func:`problem_from_records`; a bad row raises
:class:`~optimizer.errors.InvalidInputError` naming the pickup, the field, the value and what is
allowed. A pickup that no truck can carry, or reach in time, is not an error: the solver reports
it unserved with the reason.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from network_data import Network
from network_data.geo import parse_lat_lon
from network_data.road import CHINA
from network_data.validate import haversine_km
from optimizer.errors import InvalidInputError
from optimizer.first_mile.travel import TERRAIN, TERRAINS, travel_matrices
from optimizer.inputs import check_year, read_rows
from optimizer.model import CARGO_CLASSES, MAX_VOLUME_M3, MAX_WEIGHT_KG, freight_class
from optimizer.routing import SNAP_KM, find_place

FloatArray = npt.NDArray[np.float64]
Window = tuple[datetime, datetime]

#: A hired truck at the bundled China FTL tariff: CNY 800 per truck and CNY 5.5 per km, tolls
#: included (``network_data/data/tariffs.csv``, scope ``mode:road:CN``, ``TAR-ROAD-CN``).
FIXED_COST_CNY = 800.0
COST_CNY_PER_KM = 5.5
#: The driver's time, CNY per hour (``FM-DRIVER-H``): CNY 75,216 a year, the 2023 average wage
#: of production and service workers in Chinese enterprises, over 2,088 statutory hours.
COST_CNY_PER_H = 36.0
#: One driver's day, hours: duty within China's daily driving limit keeps the driving within it
#: (``CF6``).
SHIFT_H = CHINA.daily_driving_h
#: Loading one lot at a factory door, minutes (``FM-SERVICE``).
SERVICE_MIN = 30.0
#: Well-to-wheel CO2e of an articulated diesel truck, g per tonne-km
#: (``network_data/data/emission_factors.csv``, ``truck_artic_diesel``; ``CF7``, ``GLEC32``).
TRUCK_CO2E_G_PER_TKM = 90.0
#: Penalty for leaving a pickup behind, CNY: about twice a dedicated truck's day (CNY 800 +
#: 600 km at CNY 5.5 + 10 h at CNY 36 = CNY 4,460), so that a plan drops a pickup only when no
#: truck has room or time for it.
DROP_PENALTY_CNY = 10_000.0
#: Without a start time, the planning day is the 24 hours before the cut-off.
PLANNING_DAY = timedelta(hours=24)
_CLOCK_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
#: The most a fleet or pickups row may say (:func:`fleet_from_records`,
#: :func:`problem_from_records`), each with where it comes from.
RECORD_LIMITS: dict[str, tuple[float, str]] = {
    "capacity_kg": (100_000, "twice the 49 t gross weight GB 1589-2016 allows a road truck"),
    "capacity_m3": (200, "above a 17.5 m semi-trailer's box, about 140 m3"),
    "count": (1_000, "trucks of one type"),
    "fixed_cost_cny": (1e7, "CNY 10 million a truck-day"),
    "cost_cny_per_km": (1e7, "CNY 10 million a km"),
    "cost_cny_per_h": (1e7, "CNY 10 million an hour"),
    "shift_h": (168, "a week"),
    "co2e_g_per_tkm": (10_000, "ten times a freighter aircraft's"),
    "weight_kg": (MAX_WEIGHT_KG, "a shipment's largest weight"),
    "volume_m3": (MAX_VOLUME_M3, "a shipment's largest volume"),
    "pieces": (1_000_000, "packages in one lot"),
    "service_min": (1_440, "a day"),
}


def _number(name: str, value: object, low: float, *, strict: bool = False) -> float:
    """``value`` as a float >= ``low`` (> ``low`` when ``strict``), else an error on ``name``."""
    allowed = f"a number {'>' if strict else '>='} {low:g}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(name, value, allowed)
    if value < low or (strict and value == low):
        raise InvalidInputError(name, value, allowed)
    return float(value)


_ISO_EXAMPLE = "such as 2026-12-03T18:00+08:00"


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        shown = value.isoformat() if isinstance(value, datetime) else value
        raise InvalidInputError(name, shown, "a timezone-aware datetime")
    return value


@dataclass(frozen=True)
class Place:
    """A point trucks drive to: a network node or a coordinate.

    Parameters
    ----------
    label
        How the place is named in results: a node id, ``"lat,lon"``, or any name when the
        problem carries its own matrices.
    lat, lon
        WGS-84 point; None (both) only when the problem supplies its matrices.
    terrain
        ``plain``, ``hilly`` or ``mountain``: how winding the roads around it are.

    Examples
    --------
    >>> Place("CN-LINSHUI-PARK", 30.3331, 106.931).terrain
    'hilly'
    >>> Place("X", 30.0, None)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: X.lon: got None; expected both lat and lon, or neither
    """

    label: str
    lat: float | None = None
    lon: float | None = None
    terrain: str = TERRAIN

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise InvalidInputError("place", self.label, "a non-empty place name")
        if self.lat is None or self.lon is None:
            if self.lat is not None or self.lon is not None:
                missing = "lat" if self.lat is None else "lon"
                raise InvalidInputError(
                    f"{self.label}.{missing}", None, "both lat and lon, or neither"
                )
        else:
            lat = _number(f"{self.label}.lat", self.lat, -90)
            lon = _number(f"{self.label}.lon", self.lon, -180)
            if lat > 90 or lon > 180:
                raise InvalidInputError(
                    f"{self.label}.lat",
                    (lat, lon),
                    "latitude in [-90, 90], longitude in [-180, 180]",
                )
        if self.terrain not in TERRAINS:
            raise InvalidInputError(
                f"{self.label}.terrain", self.terrain, f"one of {', '.join(TERRAINS)}"
            )

    @property
    def has_point(self) -> bool:
        """Whether the place has coordinates."""
        return self.lat is not None


@dataclass(frozen=True)
class Pickup:
    """One lot to collect and bring to the hub.

    Parameters
    ----------
    pickup_id
        Unique id.
    place
        Where the lot waits.
    weight_kg, volume_m3
        Gross weight and volume (>= 0).
    pieces
        Number of packages (reported).
    windows
        Times the truck may start loading: ``(start, end)`` pairs of timezone-aware datetimes,
        end at or after start, not overlapping; empty: any time of the planning day.
    service_min
        Loading time at the door.
    cargo_class
        One of ``general``, ``battery``, ``perishable``, ``high_value``, ``express`` (reported).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 12, 3, 9, tzinfo=timezone.utc)
    >>> Pickup("P1", Place("p", 30.0, 106.0), 800, 4.2, windows=((at, at.replace(hour=8)),))
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: P1.windows: got '2026-12-03T09:00...'; expected an end ...
    >>> Pickup("P1", Place("p", 30.0, 106.0), -5)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: P1.weight_kg: got -5; expected a number >= 0
    """

    pickup_id: str
    place: Place
    weight_kg: float
    volume_m3: float = 0.0
    pieces: int = 1
    windows: tuple[Window, ...] = ()
    service_min: float = SERVICE_MIN
    cargo_class: str = "general"

    def __post_init__(self) -> None:
        if not isinstance(self.pickup_id, str) or not self.pickup_id.strip():
            raise InvalidInputError("id", self.pickup_id, "a non-empty pickup id")
        name = self.pickup_id
        if not isinstance(self.place, Place):
            raise InvalidInputError(f"{name}.place", self.place, "a Place")
        _number(f"{name}.weight_kg", self.weight_kg, 0)
        _number(f"{name}.volume_m3", self.volume_m3, 0)
        _number(f"{name}.service_min", self.service_min, 0)
        if isinstance(self.pieces, bool) or not isinstance(self.pieces, int) or self.pieces < 0:
            raise InvalidInputError(f"{name}.pieces", self.pieces, "an integer >= 0")
        if self.cargo_class not in CARGO_CLASSES:
            raise InvalidInputError(
                f"{name}.cargo_class", self.cargo_class, f"one of {', '.join(CARGO_CLASSES)}"
            )
        windows = []
        for window in self.windows:
            if not (isinstance(window, tuple | list) and len(window) == 2):
                raise InvalidInputError(f"{name}.windows", window, "(start, end) pairs")
            start = _aware(f"{name}.windows", window[0])
            end = _aware(f"{name}.windows", window[1])
            if end < start:
                raise InvalidInputError(
                    f"{name}.windows", f"{start.isoformat()}/{end.isoformat()}",
                    "an end at or after the start",
                )  # fmt: skip
            windows.append((start, end))
        windows.sort()
        for (_, end), (start, _) in itertools.pairwise(windows):
            if start < end:
                raise InvalidInputError(
                    f"{name}.windows", f"{start.isoformat()} before {end.isoformat()}",
                    "windows that do not overlap",
                )  # fmt: skip
        object.__setattr__(self, "windows", tuple(windows))


@dataclass(frozen=True)
class VehicleType:
    """Trucks of one kind: how much they carry, what they cost, where they start and end.

    Parameters
    ----------
    name
        Unique name of the type.
    capacity_kg, capacity_m3
        Payload and load volume (> 0).
    count
        Trucks available.
    fixed_cost_cny
        Cost of using one truck for the day.
    cost_cny_per_km, cost_cny_per_h
        Cost of every road kilometre and of every hour from leaving the start depot to
        arriving at the end depot (waiting and loading included).
    shift_h
        Longest route, start depot to end depot.
    start_depot, end_depot
        Labels of places of the problem (the hub or one of its depots); None: the hub.
    co2e_g_per_tkm
        Well-to-wheel emission intensity, applied to each lot's weight over the kilometres it
        rides.
    cargo_classes
        The cargo classes it may carry; None: every class. Lithium batteries (UN3480/3481,
        class 9) go only on a truck licensed for dangerous goods and perishables only in a
        reefer, so a fleet lists them only on the types that are.

    Examples
    --------
    A container truck with a 40HQ box (68 m3 usable, 26,500 kg payload, ``container_types.csv``):

    >>> truck = VehicleType("40HQ truck", 26_500, 68, count=3)
    >>> truck.cost_cny_per_km, truck.shift_h, truck.carries("battery")
    (5.5, 8.0, True)
    >>> VehicleType("van", 1_800, 16, cargo_classes=frozenset({"general"})).carries("battery")
    False
    >>> VehicleType("van", 0, 10)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: van.capacity_kg: got 0; expected a number > 0
    """

    name: str
    capacity_kg: float
    capacity_m3: float
    count: int = 1
    fixed_cost_cny: float = FIXED_COST_CNY
    cost_cny_per_km: float = COST_CNY_PER_KM
    cost_cny_per_h: float = COST_CNY_PER_H
    shift_h: float = SHIFT_H
    start_depot: str | None = None
    end_depot: str | None = None
    co2e_g_per_tkm: float = TRUCK_CO2E_G_PER_TKM
    cargo_classes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.cargo_classes is not None:
            unknown = sorted(set(self.cargo_classes) - set(CARGO_CLASSES))
            if unknown or not self.cargo_classes:
                raise InvalidInputError(
                    f"{self.name}.cargo_classes", ";".join(unknown) or "",
                    f"some of {', '.join(CARGO_CLASSES)}, ';' between",
                )  # fmt: skip
            object.__setattr__(self, "cargo_classes", frozenset(self.cargo_classes))
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError("name", self.name, "a non-empty vehicle type name")
        for attribute in ("capacity_kg", "capacity_m3", "shift_h"):
            _number(f"{self.name}.{attribute}", getattr(self, attribute), 0, strict=True)
        for attribute in ("fixed_cost_cny", "cost_cny_per_km", "cost_cny_per_h", "co2e_g_per_tkm"):
            _number(f"{self.name}.{attribute}", getattr(self, attribute), 0)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise InvalidInputError(f"{self.name}.count", self.count, "an integer >= 1")
        for attribute in ("start_depot", "end_depot"):
            value = getattr(self, attribute)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidInputError(f"{self.name}.{attribute}", value, "a place label or None")

    def carries(self, cargo_class: str) -> bool:
        """Whether trucks of this type may carry lots of ``cargo_class`` (express parcels
        where general cargo goes, :func:`optimizer.model.freight_class`)."""
        return self.cargo_classes is None or bool(
            {cargo_class, freight_class(cargo_class)} & self.cargo_classes
        )


@dataclass(frozen=True)
class PickupProblem:
    """Pickups to bring to a hub by a cut-off with a fleet of trucks.

    Parameters
    ----------
    pickups
        The lots to collect (unique ids).
    fleet
        The vehicle types (unique names).
    hub
        Where the lots go; the start and end depot of every truck unless its type says
        otherwise.
    cutoff
        Timezone-aware booking cut-off of the departure: every truck unloads at its end depot
        by then.
    start
        Earliest time a truck leaves its start depot; None: 24 hours before the cut-off.
    depots
        Other places trucks may start or end at (named by the fleet's ``start_depot`` and
        ``end_depot``).
    drop_penalty_cny
        Cost of leaving a pickup behind; None: every pickup some truck can serve must be
        served.
    distance_km, duration_h
        Optional road distance and driving time between :attr:`places` (rows and columns in
        that order: the hub, the depots, then the pickups); None: computed from coordinates by
        :func:`~optimizer.first_mile.travel.travel_matrices`. Give both or neither.
    name
        Name of the instance (reported).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> cutoff = datetime(2026, 12, 3, 18, tzinfo=timezone.utc)
    >>> problem = PickupProblem(
    ...     (Pickup("P1", Place("park", 30.33, 106.93), 800, 4.2),),
    ...     (VehicleType("truck", 10_000, 40),), Place("hub", 29.62, 106.42), cutoff)
    >>> [p.label for p in problem.places]
    ['hub', 'park']
    >>> round(float(problem.distance_matrix[0, 1]))
    121
    """

    pickups: tuple[Pickup, ...]
    fleet: tuple[VehicleType, ...]
    hub: Place
    cutoff: datetime
    start: datetime | None = None
    depots: tuple[Place, ...] = ()
    drop_penalty_cny: float | None = DROP_PENALTY_CNY
    distance_km: FloatArray | None = field(default=None, repr=False, compare=False)
    duration_h: FloatArray | None = field(default=None, repr=False, compare=False)
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pickups", tuple(self.pickups))
        object.__setattr__(self, "fleet", tuple(self.fleet))
        object.__setattr__(self, "depots", tuple(self.depots))
        _aware("cutoff", self.cutoff)
        if self.start is not None and _aware("start", self.start) >= self.cutoff:
            raise InvalidInputError(
                "start",
                self.start.isoformat(),
                f"a time before the cut-off {self.cutoff.isoformat()}",
            )
        if not isinstance(self.hub, Place):
            raise InvalidInputError("hub", self.hub, "a Place")
        if not self.fleet:
            raise InvalidInputError("fleet", [], "at least one vehicle type")
        for kind, keys in (
            ("pickup id", [p.pickup_id for p in self.pickups]),
            ("vehicle type name", [v.name for v in self.fleet]),
            ("depot label", [d.label for d in (self.hub, *self.depots)]),
        ):
            repeated = [k for k in keys if keys.count(k) > 1]
            if repeated:
                raise InvalidInputError(kind.split()[-1], repeated[0], f"a unique {kind}")
        labels = [d.label for d in (self.hub, *self.depots)]
        for vehicle in self.fleet:
            for attribute in ("start_depot", "end_depot"):
                value = getattr(vehicle, attribute)
                if value is not None and value not in labels:
                    raise InvalidInputError(
                        f"{vehicle.name}.{attribute}",
                        value,
                        f"one of the depots {', '.join(labels)}",
                    )
        if self.drop_penalty_cny is not None:
            _number("drop_penalty_cny", self.drop_penalty_cny, 0)
        self._check_matrices()

    def _check_matrices(self) -> None:
        given = {"distance_km": self.distance_km, "duration_h": self.duration_h}
        if all(m is None for m in given.values()):
            missing = [p.label for p in self.places if not p.has_point]
            if missing:
                raise InvalidInputError(
                    "distance_km",
                    None,
                    f"matrices, or coordinates for every place ({missing[0]} has none)",
                )
            return
        n = len(self.places)
        for name, matrix in given.items():
            if matrix is None:
                other = "duration_h" if name == "distance_km" else "distance_km"
                raise InvalidInputError(name, None, f"a matrix given with {other}")
            values = np.asarray(matrix, dtype=np.float64)
            if values.shape != (n, n):
                raise InvalidInputError(
                    name, values.shape, f"a {n} x {n} matrix over problem.places"
                )
            if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
                raise InvalidInputError(name, "negative or missing entries", "finite numbers >= 0")
            object.__setattr__(self, name, values)

    @property
    def places(self) -> tuple[Place, ...]:
        """Every place in matrix order: the hub, the depots, then each pickup's place."""
        return (self.hub, *self.depots, *(p.place for p in self.pickups))

    @property
    def planning_start(self) -> datetime:
        """Earliest departure of any truck: :attr:`start`, or 24 hours before the cut-off."""
        return self.start if self.start is not None else self.cutoff - PLANNING_DAY

    def depot_index(self, label: str | None) -> int:
        """Row of a depot in the matrices (None: the hub)."""
        labels = [d.label for d in (self.hub, *self.depots)]
        return 0 if label is None else labels.index(label)

    def hours(self, moment: datetime) -> float:
        """Hours from :attr:`planning_start` to ``moment``."""
        return (moment - self.planning_start).total_seconds() / 3600.0

    def moment(self, hours: float) -> datetime:
        """The time ``hours`` after :attr:`planning_start`, in the cut-off's time zone."""
        return (self.planning_start + timedelta(hours=hours)).astimezone(self.cutoff.tzinfo)

    @cached_property
    def _travel(self) -> tuple[FloatArray, FloatArray]:
        if self.distance_km is not None and self.duration_h is not None:
            return self.distance_km, self.duration_h
        places = self.places
        return travel_matrices(
            [float(p.lat or 0.0) for p in places],
            [float(p.lon or 0.0) for p in places],
            [p.terrain for p in places],
        )

    @property
    def distance_matrix(self) -> FloatArray:
        """Road km between :attr:`places` (given, or from the travel kernel)."""
        return self._travel[0]

    @property
    def duration_matrix(self) -> FloatArray:
        """Driving hours, rests included, between :attr:`places`."""
        return self._travel[1]


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _field_number(record: Mapping[str, Any], owner: str, name: str, default: float | None) -> float:
    """The row's ``name`` as a finite number at most its :data:`RECORD_LIMITS` entry."""
    text = _text(record, name)
    if not text:
        if default is None:
            raise InvalidInputError(f"{owner}.{name}", None, "a number")
        return default
    try:
        number = float(text)
    except ValueError as exc:
        raise InvalidInputError(f"{owner}.{name}", record.get(name), "a number") from exc
    if not math.isfinite(number):
        raise InvalidInputError(f"{owner}.{name}", record.get(name), "a finite number")
    limit, reason = RECORD_LIMITS[name]
    if number > limit:
        raise InvalidInputError(
            f"{owner}.{name}", record.get(name), f"a number <= {limit:,g} ({reason})"
        )
    return number


def _classes(record: Mapping[str, Any], name: str) -> frozenset[str] | None:
    classes = frozenset(c.strip() for c in _text(record, name).split(";") if c.strip())
    return classes or None


def _field_integer(record: Mapping[str, Any], owner: str, name: str, default: int) -> int:
    number = _field_number(record, owner, name, default)
    if number != int(number):
        raise InvalidInputError(f"{owner}.{name}", record.get(name), "a whole number")
    return int(number)


def _parse_moment(owner: str, name: str, text: str, day_start: datetime) -> datetime:
    """An ISO time (the cut-off's zone when it has no offset) or ``HH:MM`` on the planning day
    (its first occurrence at or after the planning start)."""
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", text):
            clock = time.fromisoformat(text.zfill(5))
            moment = datetime.combine(day_start.date(), clock, day_start.tzinfo)
            return moment if moment >= day_start else moment + timedelta(days=1)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{owner}.{name}", text, "an ISO 8601 time or HH:MM") from exc
    check_year(f"{owner}.{name}", moment, text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=day_start.tzinfo)


def _windows(record: Mapping[str, Any], owner: str, day_start: datetime) -> tuple[Window, ...]:
    pairs: list[tuple[str, str, str]] = []
    for item in (part.strip() for part in _text(record, "windows").split(";")):
        if not item:
            continue
        clock = _CLOCK_RANGE.match(item)
        if clock:
            pairs.append(("windows", clock.group(1), clock.group(2)))
        elif item.count("/") == 1:
            first, last = item.split("/")
            pairs.append(("windows", first.strip(), last.strip()))
        else:
            raise InvalidInputError(
                f"{owner}.windows", item, "'HH:MM-HH:MM' or 'start/end' ISO times, ';' between"
            )
    if _text(record, "window_start") or _text(record, "window_end"):
        pairs.append(("window_end", _text(record, "window_start"), _text(record, "window_end")))
    windows = []
    for name, first, last in pairs:
        if not first or not last:
            raise InvalidInputError(f"{owner}.{name}", f"{first}/{last}", "both a start and an end")
        start = _parse_moment(owner, name, first, day_start)
        end = _parse_moment(owner, name, last, day_start)
        if _CLOCK_RANGE.match(f"{first}-{last}"):
            if end <= start:
                end += timedelta(days=1)  # a clock range over midnight
            day = timedelta(days=1)
            if start > day_start and end - day > day_start:
                start, end = start - day, end - day  # still open at the planning start
        if end <= start:
            raise InvalidInputError(
                f"{owner}.{name}", f"{start.isoformat()}/{end.isoformat()}",
                f"an end after the start {start.isoformat()}",
            )  # fmt: skip
        windows.append((start, end))
    return tuple(windows)


def aware_moment(name: str, value: datetime | str) -> datetime:
    """A timezone-aware time from a datetime or an ISO 8601 text with offset, in the years
    :data:`~optimizer.inputs.YEARS`.

    Examples
    --------
    >>> aware_moment("cutoff", "2026-12-03T18:00+08:00").hour
    18
    >>> aware_moment("cutoff", "2026-12-03 18:00")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: cutoff: got '2026-12-03 18:00'; expected an ISO 8601 ...
    >>> aware_moment("start", "0001-01-01T00:00+14:00")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: start: got '0001-01-01T00:00+14:00'; expected a date in ...
    """
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InvalidInputError(name, value, f"an ISO 8601 time with offset, {_ISO_EXAMPLE}")
    else:
        moment = _aware(name, value)
    check_year(name, moment, value if isinstance(value, str) else None)
    return moment


def _lat_lon(owner: str, query: str) -> tuple[float, float] | None:
    """The point of a ``"lat,lon"`` query; None for a node id or name."""
    if not query:
        raise InvalidInputError(owner, query, "a node id, a place name or 'lat,lon'")
    try:
        return parse_lat_lon(query)
    except ValueError as exc:
        raise InvalidInputError(owner, query, "'lat,lon' within [-90, 90] and [-180, 180]") from exc


def _place(network: Network | None, owner: str, query: str, terrain: str) -> Place:
    point = _lat_lon(owner, query)
    if network is not None:
        node = find_place(network, owner, query)
        lat, lon = float(network.nodes.at[node, "lat"]), float(network.nodes.at[node, "lon"])
        if point is None or haversine_km(point[0], point[1], lat, lon) <= SNAP_KM:
            return Place(node, lat, lon, terrain)
    if point is None:
        raise InvalidInputError(owner, query, "'lat,lon' (no network was given to look up names)")
    return Place(f"{point[0]:.4f},{point[1]:.4f}", point[0], point[1], terrain)


def fleet_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[VehicleType, ...]:
    """Read vehicle-type rows (from a CSV or JSON) into :class:`VehicleType` objects.

    Columns: ``name``, ``capacity_kg``, ``capacity_m3`` (required), ``count`` (default 1),
    ``fixed_cost_cny``, ``cost_cny_per_km``, ``cost_cny_per_h``, ``shift_h``,
    ``co2e_g_per_tkm`` (defaults: the module constants), ``start_depot``, ``end_depot``
    (place names resolved by :func:`problem_from_records`; empty: the hub) and
    ``cargo_classes`` (``general;battery``; empty: every class).

    Examples
    --------
    >>> fleet = fleet_from_records([{"name": "9.6 m truck", "capacity_kg": "18000",
    ...     "capacity_m3": "55", "count": "4", "cost_cny_per_km": ""}])
    >>> fleet[0].count, fleet[0].cost_cny_per_km
    (4, 5.5)
    >>> fleet_from_records([{"name": "van", "capacity_kg": "heavy", "capacity_m3": "9"}])
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: van.capacity_kg: got 'heavy'; expected a number
    >>> fleet_from_records([{"name": "van", "capacity_kg": 1e308, "capacity_m3": "9"}])
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: van.capacity_kg: got 1e+308; expected a number <= 100,000...
    """
    fleet = []
    for row, record in enumerate(records, start=1):
        name = _text(record, "name") or f"row {row}"
        count = _field_integer(record, name, "count", 1)
        fleet.append(
            VehicleType(
                name=name,
                capacity_kg=_field_number(record, name, "capacity_kg", None),
                capacity_m3=_field_number(record, name, "capacity_m3", None),
                count=count,
                fixed_cost_cny=_field_number(record, name, "fixed_cost_cny", FIXED_COST_CNY),
                cost_cny_per_km=_field_number(record, name, "cost_cny_per_km", COST_CNY_PER_KM),
                cost_cny_per_h=_field_number(record, name, "cost_cny_per_h", COST_CNY_PER_H),
                shift_h=_field_number(record, name, "shift_h", SHIFT_H),
                start_depot=_text(record, "start_depot") or None,
                end_depot=_text(record, "end_depot") or None,
                co2e_g_per_tkm=_field_number(record, name, "co2e_g_per_tkm", TRUCK_CO2E_G_PER_TKM),
                cargo_classes=_classes(record, "cargo_classes"),
            )
        )
    return tuple(fleet)


def read_fleet(path: str | Path) -> tuple[VehicleType, ...]:
    """Read a fleet CSV file, or a JSON list (columns of :func:`fleet_from_records`), with
    :func:`optimizer.inputs.read_rows`."""
    return fleet_from_records(read_rows(path))


def _planning_times(
    cutoff: datetime | str, start: datetime | str | None
) -> tuple[datetime, datetime | None, datetime]:
    """The cut-off, the start (None: not given) and the planning day's start in the cut-off's
    time zone."""
    cutoff_at = aware_moment("cutoff", cutoff)
    start_at = None if start is None else aware_moment("start", start)
    if start_at is not None and start_at >= cutoff_at:
        raise InvalidInputError(
            "start", start_at.isoformat(), f"a time before the cut-off {cutoff_at.isoformat()}"
        )
    return cutoff_at, start_at, (start_at or cutoff_at - PLANNING_DAY).astimezone(cutoff_at.tzinfo)


def problem_from_records(
    records: Iterable[Mapping[str, Any]],
    *,
    fleet: Sequence[VehicleType],
    hub: str,
    cutoff: datetime | str,
    network: Network | None = None,
    start: datetime | str | None = None,
    drop_penalty_cny: float | None = DROP_PENALTY_CNY,
    terrain: str = TERRAIN,
) -> PickupProblem:
    """Read pickup rows (from a CSV or JSON) into a :class:`PickupProblem`.

    Columns: ``id``, ``place`` (node id, name or ``"lat,lon"``; names need ``network``),
    ``weight_kg`` (required), ``volume_m3`` (default 0), ``pieces`` (default 1), time windows
    as ``windows`` (``"08:00-12:00;14:00-17:00"`` clock ranges on the planning day, or
    ``"start/end"`` ISO times, ``;`` between) and/or ``window_start`` and ``window_end``,
    ``service_min`` (default :data:`SERVICE_MIN`), ``cargo_class`` and ``terrain``. Times
    without an offset are in the cut-off's time zone.

    Parameters
    ----------
    records
        The pickup rows.
    fleet
        Vehicle types (see :func:`fleet_from_records`); their ``start_depot`` and
        ``end_depot`` are place names, resolved here like the pickups' places.
    hub
        Where the lots go: node id, name or ``"lat,lon"``.
    cutoff
        Booking cut-off at the hub (timezone-aware datetime or ISO time with offset).
    network
        Network to resolve place names with; None: places must be ``"lat,lon"``.
    start
        Earliest departure of the trucks; None: 24 hours before the cut-off.
    drop_penalty_cny
        Cost of leaving a pickup behind (None: serve every servable pickup).
    terrain
        Terrain of places whose row gives none (and of the depots).

    Raises
    ------
    optimizer.errors.InvalidInputError
        Naming the pickup, the field, the value and what is allowed: unknown places (with the
        closest matches), a window that ends before it starts, a negative load, a repeated id.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> problem = problem_from_records(
    ...     [{"id": "P1", "place": "Linshui", "weight_kg": "800", "volume_m3": "4.2",
    ...       "windows": "08:00-12:00"}],
    ...     fleet=[VehicleType("truck", 10_000, 40)], hub="Chongqing railport",
    ...     cutoff="2026-12-03T18:00+08:00", network=network)
    >>> problem.hub.label, problem.pickups[0].place.label
    ('CNCKG-RLY', 'CN-LINSHUI-PARK')
    >>> problem.pickups[0].windows[0][0].isoformat()
    '2026-12-03T08:00:00+08:00'
    >>> problem_from_records([{"id": "P2", "place": "Linshu", "weight_kg": "5"}],
    ...     fleet=[VehicleType("truck", 10_000, 40)], hub="CNCKG-RLY",
    ...     cutoff="2026-12-03T18:00+08:00", network=network)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: P2.place: got 'Linshu'; expected a known place (closest ...
    """
    cutoff_at, start_at, day_start = _planning_times(cutoff, start)
    if terrain not in TERRAINS:
        raise InvalidInputError("terrain", terrain, f"one of {', '.join(TERRAINS)}")
    hub_place = _place(network, "hub", hub.strip(), terrain)
    depots: dict[str, Place] = {}
    vehicles = []
    for vehicle in fleet:
        ends: dict[str, str] = {}
        for attribute in ("start_depot", "end_depot"):
            query = getattr(vehicle, attribute)
            if query is None:
                continue
            place = _place(network, f"{vehicle.name}.{attribute}", query, terrain)
            if place.label != hub_place.label:
                depots.setdefault(place.label, place)
            ends[attribute] = place.label
        vehicles.append(
            replace(vehicle, start_depot=ends.get("start_depot"), end_depot=ends.get("end_depot"))
        )
    pickups = _pickups(
        records, day_start, lambda owner, query, kind: _place(network, owner, query, kind), terrain
    )
    return PickupProblem(
        pickups, tuple(vehicles), hub_place, cutoff_at, start_at, tuple(depots.values()),
        drop_penalty_cny,
    )  # fmt: skip


def _pickups(
    records: Iterable[Mapping[str, Any]],
    day_start: datetime,
    place_of: Callable[[str, str, str], Place],
    terrain: str,
) -> tuple[Pickup, ...]:
    """The pickup rows read; ``place_of(field, query, terrain)`` makes each one's place."""
    pickups = []
    for row, record in enumerate(records, start=1):
        owner = _text(record, "id") or f"row {row}"
        place = place_of(
            f"{owner}.place", _text(record, "place"), _text(record, "terrain") or terrain
        )
        pieces = _field_integer(record, owner, "pieces", 1)
        pickups.append(
            Pickup(
                pickup_id=owner,
                place=place,
                weight_kg=_field_number(record, owner, "weight_kg", None),
                volume_m3=_field_number(record, owner, "volume_m3", 0.0),
                pieces=pieces,
                windows=_windows(record, owner, day_start),
                service_min=_field_number(record, owner, "service_min", SERVICE_MIN),
                cargo_class=_text(record, "cargo_class") or "general",
            )
        )
    return tuple(pickups)


def check_pickup_records(
    records: Iterable[Mapping[str, Any]],
    *,
    cutoff: datetime | str,
    start: datetime | str | None = None,
    terrain: str = TERRAIN,
) -> None:
    """Check pickup rows as :func:`problem_from_records` reads them, without a network: every
    number, time and window, and the form of each place (whether a named place exists needs
    the network).

    Raises
    ------
    optimizer.errors.InvalidInputError
        Naming the pickup and the field, as :func:`problem_from_records` does.

    Examples
    --------
    >>> check_pickup_records([{"id": "P1", "place": "Linshui", "weight_kg": "800"}],
    ...     cutoff="2026-12-03T18:00+08:00")
    >>> check_pickup_records([{"id": "P1", "place": "Linshui", "weight_kg": "800",
    ...     "windows": "0001-01-01T08:00+14:00/2026-12-03T12:00+08:00"}],
    ...     cutoff="2026-12-03T18:00+08:00")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: P1.windows: got '0001-01-01T08:00+14:00'; expected a ...
    """
    day_start = _planning_times(cutoff, start)[2]

    def place_form(owner: str, query: str, kind: str) -> Place:
        _lat_lon(owner, query)
        return Place(query, terrain=kind)

    _pickups(records, day_start, place_form, terrain)
