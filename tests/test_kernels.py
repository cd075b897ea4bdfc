"""Kernels against their reference twins (run also under NUMBA_DISABLE_JIT=1)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network_data import Network, load_network
from optimizer._compile import epoch_hours, from_epoch_hours, routing_data
from optimizer.costs.line_haul import line_haul_costs
from optimizer.costs.reference import (
    reference_line_haul,
    reference_line_haul_cny,
    reference_next_departure,
)
from optimizer.costs.search import transfer_penalties
from optimizer.costs.timetable import next_departure, next_departure_off_a_train
from optimizer.model import Shipment
from optimizer.routing import edge_costs

NETWORK = load_network()
DATA = routing_data(NETWORK)
SCHEDULED = [c for c, s in zip(DATA.arrays.edge_ids, DATA.edge_scheduled, strict=True) if s]
weights = st.floats(min_value=0.5, max_value=80_000)
volumes = st.floats(min_value=0.01, max_value=250)


def kernel_costs(weight_kg: float, volume_m3: float) -> dict[str, float]:
    zero = np.zeros(len(DATA.arrays.edge_ids))
    prices = line_haul_costs(weight_kg, volume_m3, DATA.tariffs, zero, zero, zero)
    return dict(zip(DATA.arrays.edge_ids, prices.cost_cny.tolist(), strict=True))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weights, volumes, st.sampled_from(DATA.arrays.edge_ids))
def test_line_haul_kernel_matches_reference(
    weight_kg: float, volume_m3: float, corridor_id: str
) -> None:
    expected = reference_line_haul_cny(NETWORK, corridor_id, weight_kg, volume_m3)
    assert kernel_costs(weight_kg, volume_m3)[corridor_id] == pytest.approx(expected, rel=1e-9)


def test_every_corridor_matches_reference_for_the_linshui_lot() -> None:
    costs = kernel_costs(800, 4.2)
    for corridor_id in DATA.arrays.edge_ids:
        assert costs[corridor_id] == pytest.approx(
            reference_line_haul_cny(NETWORK, corridor_id, 800, 4.2), rel=1e-9
        ), corridor_id


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weights, volumes, st.sampled_from([DATA.arrays.edge_ids[e] for e in DATA.road_edges]))
def test_road_continuation_matches_reference(
    weight_kg: float, volume_m3: float, corridor_id: str
) -> None:
    """A truck driving on pays the road rates without their fixed part and minimum."""
    costs = edge_costs(DATA, Shipment("Chongqing", "Qinzhou", weight_kg, volume_m3))
    e = DATA.edge_index[corridor_id]
    expected, _, _ = reference_line_haul(
        NETWORK, corridor_id, weight_kg, volume_m3, continues_road=True
    )
    assert costs.road_continuation_cny[e] == pytest.approx(expected, rel=1e-9)
    assert costs.road_continuation_cny[e] <= costs.line_haul_cny[e]


def test_transfer_penalties_hand_computed() -> None:
    """Node 0: a road corridor (CNY 100, 60 driving on, transfer 30), a rail corridor (500,
    transfer 80) and a last leg (20, 5 driving on) whose handling is 15; node 1: a road
    corridor dearer to drive on (120) than to book (100), transfer 10, and a last leg (90, 8
    driving on) whose handling is 15."""
    penalty, unscheduled = transfer_penalties(
        2, np.array([0, 2, 3]), np.array([0, 1, 0]), np.array([True, True, True]),
        np.array([100.0, 500.0, 100.0]), np.array([60.0, 500.0, 120.0]),
        np.array([30.0, 80.0, 10.0]), np.array([20.0, 90.0]), np.array([5.0, 8.0]),
        np.array([15.0, 15.0]),
    )  # fmt: skip
    # node 0: max(last leg 15 + |20 - 5|, road 30 + |100 - 60|, rail 80 + 0); an unscheduled
    # arrival never pays more there. Node 1: max(10 + |100 - 120|, 15 + |90 - 8|), and
    # 120 - 100 more to drive on.
    assert penalty.tolist() == [80.0, 97.0]
    assert unscheduled.tolist() == [0.0, 20.0]


def test_hand_computed_charges() -> None:
    costs = kernel_costs(800, 4.2)
    # LCL on the ERAI leg: 4.2 revenue tonnes x USD 90 x 7.16 CNY/USD
    assert costs["RAIL-KZDOS-BYBRE"] == pytest.approx(4.2 * 90 * 7.16)
    # Air Chongqing-Budapest: chargeable max(800 kg, 4.2 m3 x 166.67 = 700 kg) = 800 kg at the
    # +500 kg break, 4.17 x 0.92 = 3.84 USD/kg; the +1000 break would cost 1000 x 3.67 = 3670
    assert costs["AIR-CNCKG-CKG-HUBUD-BUD"] == pytest.approx(800 * 3.84 * 7.16)
    # 450 kg / 0.5 m3: 450 x 4.00 (+300 break) = 1800 beats charging 500 kg x 3.84 = 1920
    assert kernel_costs(450, 0.5)["AIR-CNCKG-CKG-HUBUD-BUD"] == pytest.approx(450 * 4.0 * 7.16)
    # 490 kg / 0.5 m3: 490 x 4.00 = 1960, so it is cheaper to pay for 500 kg at 3.84 = 1920
    assert kernel_costs(490, 0.5)["AIR-CNCKG-CKG-HUBUD-BUD"] == pytest.approx(500 * 3.84 * 7.16)
    # Shanghai-Rotterdam: 40GP USD 2,500 (58 m3 usable), LCL USD 62.5 per W/M tonne.
    # 20 t / 55 m3: one 40GP (2,500) beats LCL (55 x 62.5 = 3,437.5)
    assert kernel_costs(20_000, 55)["SEA-CNSHA-YSN-NLRTM"] == pytest.approx(2500 * 7.16)
    # 30 t / 110 m3: two 40GP (5,000) beat 40HQ + 40HQ (5,250) and LCL (6,875)
    assert kernel_costs(30_000, 110)["SEA-CNSHA-YSN-NLRTM"] == pytest.approx(5000 * 7.16)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(SCHEDULED),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.booleans(),
)
def test_next_departure_matches_reference(
    corridor_id: str, ready_naive: datetime, off_a_train: bool
) -> None:
    ready = ready_naive.replace(tzinfo=UTC, microsecond=0)
    timetable = DATA.ensure_timetable(epoch_hours(ready) - 48, epoch_hours(ready) + 24 * 60)
    e = DATA.edge_index[corridor_id]
    if off_a_train:
        depart_h, position = next_departure_off_a_train(
            timetable.departures, timetable.rail_departures, e, epoch_hours(ready)
        )
    else:
        depart_h, position = next_departure(timetable.departures, e, epoch_hours(ready))
    expected = reference_next_departure(NETWORK, corridor_id, ready, off_a_train=off_a_train)
    assert expected is not None and position >= 0
    assert from_epoch_hours(depart_h) == expected[0]
    assert timetable.service_name[timetable.service_of[position]] == expected[1]


def test_cutoff_is_respected_on_the_chengdu_train() -> None:
    # Daily at 10:00 and 22:00 Beijing time (02:00, 14:00 UTC), booking closes 48 h before.
    ready = datetime(2026, 11, 23, 8, tzinfo=UTC)
    depart, _ = reference_next_departure(NETWORK, "RAIL-CNCTU-RLY-CNAKL", ready) or (None, "")
    assert depart == datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert depart - timedelta(hours=48) >= ready


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already pure Python")
def test_kernels_pass_without_jit() -> None:
    """This file, the journey-shape kernel against its twin, and hand-checked plans that run
    the search kernel (one stopped by its time limit), in pure Python."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    routing = Path(__file__).with_name("test_routing.py")
    shapes = Path(__file__).with_name("test_quotable_shape.py")
    limited = Path(__file__).with_name("test_time_limit.py")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(__file__)),
         str(shapes),
         f"{routing}::test_chengdu_to_lodz_by_rail_hand_checked",
         f"{routing}::test_chongqing_to_singapore_by_the_land_sea_corridor",
         f"{routing}::test_first_and_last_mile_to_coordinates",
         f"{limited}::test_a_search_stopped_at_once_finds_nothing_and_bounds_everything",
         "-k", "not without_jit"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]


def test_network_fixture_is_the_bundled_one(network: Network) -> None:
    assert network.version == NETWORK.version


@pytest.mark.parametrize(
    ("corridor_id", "ready"),
    [
        ("SEA-NLRTM-CNSHA-YSN", datetime(2027, 3, 25, 14, 30, tzinfo=UTC)),  # EU spring forward
        ("SEA-NLRTM-CNSHA-YSN", datetime(2026, 10, 22, 12, 0, tzinfo=UTC)),  # EU fall back
        ("AIR-BELGG-CNCKG-CKG", datetime(2027, 3, 26, 9, 0, tzinfo=UTC)),
        ("SEA-USLAX-CNSHA-YSN", datetime(2027, 3, 11, 0, 0, tzinfo=UTC)),  # US spring forward
    ],
)
def test_next_departure_across_daylight_saving_changes(corridor_id: str, ready: datetime) -> None:
    timetable = DATA.ensure_timetable(epoch_hours(ready) - 48, epoch_hours(ready) + 24 * 60)
    depart_h, _ = next_departure(
        timetable.departures, DATA.edge_index[corridor_id], epoch_hours(ready)
    )
    expected = reference_next_departure(NETWORK, corridor_id, ready)
    assert expected is not None and from_epoch_hours(depart_h) == expected[0]


def test_every_other_week_survives_a_53_week_year() -> None:
    # ISO 2026 has 53 weeks; the Chengdu-Manzhouli train must still run every other week.
    departures = []
    ready = datetime(2026, 12, 1, tzinfo=UTC)
    for _ in range(5):
        found = reference_next_departure(NETWORK, "RAIL-CNCTU-RLY-CNMLX", ready)
        assert found is not None
        departures.append(found[0])
        ready = found[0] - timedelta(hours=47)  # just after the cut-off of that departure
    gaps = {b - a for a, b in itertools.pairwise(departures)}
    assert gaps == {timedelta(days=14)}


def test_containers_mix_40gp_and_40hq() -> None:
    # 5 t / 126 m3 Shanghai-Rotterdam: 40GP (58 m3, USD 2,500) + 40HQ (68 m3, USD 2,625) = 126 m3
    # for USD 5,125, cheaper than 2 x 40HQ (5,250) or 40HQ + 40GP + anything else.
    assert kernel_costs(5000, 126)["SEA-CNSHA-YSN-NLRTM"] == pytest.approx(5125 * 7.16)
