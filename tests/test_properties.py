"""Property tests for the road-time rule, distances and name matching."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from network_data.geo import normalise_name, parse_lat_lon
from network_data.road import CHINA, INTERNATIONAL, road_transit_h, road_transit_p90_h
from network_data.validate import haversine_km

distances = st.floats(min_value=0, max_value=20_000, allow_nan=False)
rules = st.sampled_from([CHINA, INTERNATIONAL])
lats = st.floats(min_value=-90, max_value=90)
lons = st.floats(min_value=-180, max_value=180)


@given(distances, distances, rules)
def test_road_time_grows_with_distance(a: float, b: float, r: object) -> None:
    shorter, longer = sorted((a, b))
    assert road_transit_h(shorter, r) <= road_transit_h(longer, r)  # type: ignore[arg-type]


@given(distances, rules)
def test_road_time_bounds(distance_km: float, r: object) -> None:
    single = road_transit_h(distance_km, r)  # type: ignore[arg-type]
    team = road_transit_h(distance_km, r, drivers=2)  # type: ignore[arg-type]
    driving = distance_km / r.speed_kmh  # type: ignore[attr-defined]
    assert driving - 0.05 <= team <= single <= road_transit_p90_h(distance_km, r)  # type: ignore[arg-type]
    # never faster than driving round the clock, never slower than one day per daily allowance
    days = driving / r.daily_driving_h  # type: ignore[attr-defined]
    assert single <= (days + 1) * 24 + 0.05


@given(lats, lons, lats, lons)
def test_haversine_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    there = haversine_km(a, b, c, d)
    assert there == haversine_km(c, d, a, b)
    assert 0 <= there <= 20_016  # half the Earth's circumference


@given(lats, lons, lats, lons, lats, lons)
def test_haversine_triangle_inequality(
    a: float, b: float, c: float, d: float, e: float, f: float
) -> None:
    assert haversine_km(a, b, e, f) <= haversine_km(a, b, c, d) + haversine_km(c, d, e, f) + 1e-6


@given(st.text())
def test_normalise_name_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@given(lats, lons)
def test_parse_lat_lon_round_trip(lat: float, lon: float) -> None:
    parsed = parse_lat_lon(f"{lat:.6f},{lon:.6f}")
    assert parsed is not None
    assert abs(parsed[0] - lat) <= 1e-6 and abs(parsed[1] - lon) <= 1e-6
