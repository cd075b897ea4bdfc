"""Road distance and truck driving time between points: the numba kernel and its wrapper.

A road leg between two points is estimated from coordinates alone:

- **distance** = great-circle (haversine) distance x a road circuity factor, the mean of the
  factors of the terrain at the two ends (:data:`CIRCUITY`);
- **driving time**: the first and last :data:`URBAN_KM` of the leg on urban roads, the next
  :data:`NATIONAL_KM` at each end on national or provincial roads, the rest on expressways, each
  at the average truck speed of its road class (:data:`SPEED_KMH`);
- **duration** = driving time plus the rests China's driving rules require of one driver
  (:data:`network_data.road.CHINA`): a 20-minute break after every 4 h of continuous driving
  and, beyond 8 h of driving a day, a daily rest until the same time the next day.

Every figure is sourced in ``network_data/SOURCES.md`` (keys ``FM-CIRCUITY``, ``FM-SPEED``,
``CF6``). The kernel runs as plain Python under ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

from network_data.road import CHINA
from network_data.validate import EARTH_RADIUS_KM
from optimizer.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]

TERRAINS = ("plain", "hilly", "mountain")
#: Terrain where nothing says otherwise: most of the pilot zones' hinterland (the Sichuan
#: basin's hills between Chengdu, Mianyang, Nanchong and Dazhou).
TERRAIN = "hilly"
#: Road distance over great-circle distance by terrain (``FM-CIRCUITY``): 1.2 is the classic
#: urban and plain figure, 1.3 the usual country figure for road networks of China's density
#: (the Sichuan basin's hills), 1.5 the mountains of the basin's rim.
CIRCUITY = {"plain": 1.2, "hilly": 1.3, "mountain": 1.5}
#: Average truck speed by road class, km/h (``FM-SPEED``).
SPEED_KMH = {"urban": 25.0, "national": 50.0, "expressway": 70.0}
#: Road kilometres at each end of a leg on urban roads, then on national roads (``FM-SPEED``).
URBAN_KM = 5.0
NATIONAL_KM = 15.0


@njit(cache=True)
def driving_h(
    distance_km: float, urban_km: float, national_km: float, speed_kmh: FloatArray
) -> float:
    """Hours of driving for ``distance_km`` of road: urban, then national, then expressway."""
    urban = min(distance_km, 2.0 * urban_km)
    national = min(distance_km - urban, 2.0 * national_km)
    expressway = distance_km - urban - national
    return float(urban / speed_kmh[0] + national / speed_kmh[1] + expressway / speed_kmh[2])


@njit(cache=True)
def with_rests_h(driving: float, continuous_h: float, break_h: float, daily_h: float) -> float:
    """Elapsed hours for ``driving`` hours of one driver's driving, rests included."""
    full_days = max(math.ceil(driving / daily_h) - 1, 0)
    last_day = driving - full_days * daily_h
    breaks = max(math.ceil(last_day / continuous_h) - 1, 0)
    return full_days * 24.0 + last_day + breaks * break_h


@njit(cache=True)
def travel_kernel(
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    circuity: FloatArray,
    urban_km: float,
    national_km: float,
    speed_kmh: FloatArray,
    continuous_h: float,
    break_h: float,
    daily_h: float,
) -> tuple[FloatArray, FloatArray]:
    """Distance (km) and duration (h) matrices between every pair of points.

    ``circuity[i]`` is the circuity factor at point ``i``; ``speed_kmh`` holds the urban,
    national and expressway speeds. The matrices are symmetric with a zero diagonal.
    """
    n = lat_deg.shape[0]
    distance = np.zeros((n, n))
    duration = np.zeros((n, n))
    phi = np.radians(lat_deg)
    lmb = np.radians(lon_deg)
    for i in range(n):
        for j in range(i + 1, n):
            h = (
                math.sin((phi[j] - phi[i]) / 2) ** 2
                + math.cos(phi[i]) * math.cos(phi[j]) * math.sin((lmb[j] - lmb[i]) / 2) ** 2
            )
            great_circle = 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0)))
            km = great_circle * (circuity[i] + circuity[j]) / 2.0
            hours = with_rests_h(
                driving_h(km, urban_km, national_km, speed_kmh), continuous_h, break_h, daily_h
            )
            distance[i, j] = distance[j, i] = km
            duration[i, j] = duration[j, i] = hours
    return distance, duration


def travel_matrices(
    lat_deg: Sequence[float] | FloatArray,
    lon_deg: Sequence[float] | FloatArray,
    terrain: Sequence[str] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Road ``distance_km`` and truck ``duration_h`` matrices between points.

    Parameters
    ----------
    lat_deg, lon_deg
        WGS-84 coordinates of the points.
    terrain
        Terrain at each point, one of :data:`TERRAINS`; None: all ``"hilly"``.

    Returns
    -------
    distance_km, duration_h
        Square symmetric arrays with a zero diagonal.

    Examples
    --------
    Linshui park to the Chongqing rail hub: 93 km as the crow flies, 121 km by road in the hills
    (the OSM road graph gives 99 km to Chongqing's centre, 13 km nearer), driven in 2 h 10 min:

    >>> km, hours = travel_matrices([30.3331, 29.62], [106.931, 106.42])
    >>> round(float(km[0, 1])), round(float(hours[0, 1]), 2)
    (121, 2.16)
    >>> travel_matrices([30.0], [104.0], ["desert"])
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: terrain: got 'desert'; expected one of plain, hilly, ...
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    if lat.shape != lon.shape or lat.ndim != 1:
        raise InvalidInputError(
            "lon_deg", lon.shape, f"as many longitudes as latitudes {lat.shape}"
        )
    if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)):
        raise InvalidInputError(
            "lat_deg", "out of range", "latitudes in [-90, 90], longitudes in [-180, 180]"
        )
    names = [TERRAIN] * len(lat) if terrain is None else list(terrain)
    for name in names:
        if name not in CIRCUITY:
            raise InvalidInputError("terrain", name, f"one of {', '.join(TERRAINS)}")
    if len(names) != len(lat):
        raise InvalidInputError("terrain", len(names), f"one terrain per point ({len(lat)})")
    return travel_kernel(
        lat,
        lon,
        np.array([CIRCUITY[name] for name in names]),
        URBAN_KM,
        NATIONAL_KM,
        np.array([SPEED_KMH["urban"], SPEED_KMH["national"], SPEED_KMH["expressway"]]),
        CHINA.continuous_driving_h,
        CHINA.break_h,
        CHINA.daily_driving_h,
    )
