"""Services as they run: through trains booked once, and door-to-door times beside the
published ones (issue 17 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from network_data import Network
from optimizer.routing import Shipment, plan_routes

MONDAY = datetime(2026, 12, 7, 8, tzinfo=UTC)


def fastest_of(network: Network, origin: str, destination: str, family: str) -> float:
    """Door-to-door days of the fastest journey of a family (as benchmarks/plan_quality)."""
    shipment = Shipment(origin, destination, 2_000, 10, ready_at=MONDAY)
    plan = plan_routes(network, shipment, every_journey=True)
    days = [(o.arrival - MONDAY) / timedelta(days=1) for o in plan.options
            if o.family.startswith(family)]  # fmt: skip
    return min(days)


def test_a_through_train_is_booked_once(network: Network) -> None:
    """Chongqing to Vientiane on the China-Laos train: one 48 h cut-off at Chongqing, then the
    train runs on from Kunming 6 h after it arrives, not on the next day's Kunming-Vientiane
    express (10:00 daily, its own 48 h cut-off), with no handling or booking at Kunming."""
    shipment = Shipment("CNCKG-RLY", "LAVTE", 2_000, 10, ready_at=MONDAY,
                        allowed_modes={"rail"})  # fmt: skip
    plan = plan_routes(network, shipment, every_journey=True)
    aboard = [
        o
        for o in plan.options
        if [leg.service for leg in o.legs][1:] == ["China-Laos train Chongqing-Vientiane"] * 2
    ]
    assert aboard
    to_kunming, from_kunming, into_laos = aboard[0].legs
    # Mon/Wed/Fri 10:00 Beijing; ready Mon 16:00 Beijing, so Fri 02:00 UTC is the first whose
    # cut-off (48 h before) has not passed
    assert to_kunming.depart == datetime(2026, 12, 11, 2, tzinfo=UTC)
    assert from_kunming.depart == to_kunming.arrive + timedelta(hours=6)
    assert into_laos.depart == from_kunming.arrive + timedelta(hours=5)  # Mohan border dwell
    assert [c.kind for c in from_kunming.charges] == ["line_haul"]
    assert {c.kind for c in into_laos.charges} == {"line_haul", "export_declaration",
                                                   "import_declaration", "cfs"}  # fmt: skip


@pytest.mark.parametrize(
    ("origin", "destination", "family", "low", "high"),
    [
        ("CNCTU-RLY", "PLLOD", "Rail freight via", 12, 16),
        ("CNCKG-RLY", "LAVTE", "Rail freight via Mohan", 4, 5),
        ("CNCKG-RLY", "TRIST", "Middle Corridor", 20, 25),
    ],
)
def test_published_door_to_door_days(
    network: Network, origin: str, destination: str, family: str, low: float, high: float
) -> None:
    """Chengdu-Lodz 12-16 days (CF1), Chongqing-Laos 4-5 (Xinhua 2022-12-03), China-Europe by
    the Middle Corridor 20-25 (Trend 2024-01): the fastest journey of each, from a Monday."""
    assert low <= fastest_of(network, origin, destination, family) <= high
