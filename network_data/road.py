"""Road transit time under driving-hour rules.

Road corridors run continuously (no timetable), so their line-haul time is the driving time plus
the breaks and daily rest that the drivers' hours rules impose. The rules and speeds come from
``network_data/SOURCES.md`` (keys ``CF6`` and ``EU-561``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DrivingRules:
    """Drivers' hours rules and the average trunk speed of one jurisdiction.

    Parameters
    ----------
    speed_kmh
        Effective average speed on trunk roads, stops excluded.
    daily_driving_h
        Driving hours allowed per day for a single driver.
    continuous_driving_h
        Driving hours after which a break is mandatory.
    break_h
        Length of that break.
    congestion_factor_p90
        Multiplier giving the 90th-percentile transit time from the typical one.
    """

    speed_kmh: float
    daily_driving_h: float
    continuous_driving_h: float
    break_h: float
    congestion_factor_p90: float

    def __post_init__(self) -> None:
        for name in ("speed_kmh", "daily_driving_h", "continuous_driving_h", "break_h"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.congestion_factor_p90 < 1:
            raise ValueError(
                f"congestion_factor_p90 must be >= 1, got {self.congestion_factor_p90!r}"
            )


#: China: 4 h continuous driving then a 20 min rest, about 8 h a day, 60-65 km/h on trunk roads.
CHINA = DrivingRules(
    speed_kmh=62.0,
    daily_driving_h=8.0,
    continuous_driving_h=4.0,
    break_h=20 / 60,
    congestion_factor_p90=1.25,
)
#: Everywhere else: EU Regulation 561/2006 (9 h a day, 45 min after 4.5 h) and a 65 km/h average.
INTERNATIONAL = DrivingRules(
    speed_kmh=65.0,
    daily_driving_h=9.0,
    continuous_driving_h=4.5,
    break_h=0.75,
    congestion_factor_p90=1.25,
)


def rules_for_country(country: str) -> DrivingRules:
    """Return the driving rules that apply to a road leg starting in ``country`` (ISO alpha-2).

    Examples
    --------
    >>> rules_for_country("CN").daily_driving_h
    8.0
    >>> rules_for_country("DE").daily_driving_h
    9.0
    """
    return CHINA if country == "CN" else INTERNATIONAL


def _day_h(driving_h: float, rules: DrivingRules) -> float:
    """Elapsed hours for ``driving_h`` of driving within one day, breaks included."""
    breaks = max(math.ceil(driving_h / rules.continuous_driving_h) - 1, 0)
    return driving_h + breaks * rules.break_h


def road_transit_h(distance_km: float, rules: DrivingRules = CHINA, *, drivers: int = 1) -> float:
    """Door-to-door road transit hours for ``distance_km`` under ``rules``.

    A single driver drives at most ``daily_driving_h`` a day and then rests until the same time
    the next day; a two-driver crew relays, so only the breaks are added.

    Parameters
    ----------
    distance_km
        Road distance, non-negative.
    rules
        Driving rules, :data:`CHINA` by default.
    drivers
        1 (single driver) or 2 (team driving).

    Returns
    -------
    float
        Transit hours, rounded to 0.1 h.

    Examples
    --------
    287 km Chengdu-Chongqing at 62 km/h is 4.63 h of driving, one 20-minute break:

    >>> road_transit_h(287)
    5.0

    1,242 km Chengdu-Qinzhou is 20.03 h of driving: two full days (48 h) and 4.03 h more,
    which needs one more break:

    >>> road_transit_h(1242)
    52.4
    >>> road_transit_h(1242, drivers=2)
    21.7
    """
    if not distance_km >= 0:
        raise ValueError(f"distance_km must be >= 0, got {distance_km!r}")
    if drivers not in (1, 2):
        raise ValueError(f"drivers must be 1 or 2, got {drivers!r}")
    driving_h = distance_km / rules.speed_kmh
    if drivers == 2:
        return round(_day_h(driving_h, rules), 1)
    full_days = max(math.ceil(driving_h / rules.daily_driving_h) - 1, 0)
    last_day_h = driving_h - full_days * rules.daily_driving_h
    return round(full_days * 24.0 + _day_h(last_day_h, rules), 1)


def road_transit_p90_h(distance_km: float, rules: DrivingRules = CHINA) -> float:
    """90th-percentile road transit hours: the single-driver time times the congestion factor.

    Examples
    --------
    >>> road_transit_p90_h(287)
    6.2
    """
    return round(road_transit_h(distance_km, rules) * rules.congestion_factor_p90, 1)
