"""Services as they run: through trains booked once, and door-to-door times beside the
published ones (issue 17 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.plan_quality import PUBLISHED, fastest_days
from network_data import Network
from optimizer.routing import Shipment, plan_routes

MONDAY = datetime(2026, 12, 7, 8, tzinfo=UTC)


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


def test_the_hanoi_train_runs_through_nanning(network: Network) -> None:
    """Chongqing to Hanoi on the cross-border train (Mondays 10:00 Beijing): booked once, it
    waits 12 h at Nanning for the daily Nanning-Hanoi train and 4 h at the Pingxiang border,
    with no second cut-off or handling on the way."""
    shipment = Shipment("CNCKG-RLY", "VNHAN", 2_000, 10, ready_at=MONDAY,
                        allowed_modes={"rail"})  # fmt: skip
    plan = plan_routes(network, shipment, every_journey=True)
    through = next(o for o in plan.options if len(o.legs) == 3)
    to_nanning, to_border, into_vietnam = through.legs
    assert to_nanning.depart == datetime(2026, 12, 14, 2, tzinfo=UTC)  # next Monday's train
    assert to_border.depart == to_nanning.arrive + timedelta(hours=12)
    assert into_vietnam.depart == to_border.arrive + timedelta(hours=4)
    assert {leg.service for leg in through.legs} == {"Chongqing-Hanoi cross-border train"}
    assert [c.kind for c in to_border.charges] == ["line_haul"]


def test_a_box_off_the_train_makes_the_rail_sea_cut_off(network: Network) -> None:
    """At Qinzhou a box off a Land-Sea Corridor train joins a feeder up to 6 h before it sails
    (rail-sea through booking); the same box trucked in meets the 72 h container-yard cut-off.
    Both reach the quay on Friday 11 December at 13:00 UTC."""
    by_rail = plan_routes(
        network,
        Shipment("CNCKG-RLY", "SGSIN", 2_000, 10, ready_at=MONDAY, allowed_modes={"rail", "sea"}),
        every_journey=True,
    )
    train, feeder = next(o for o in by_rail.options if len(o.legs) == 2).legs
    assert train.arrive + timedelta(hours=7) == datetime(2026, 12, 11, 13, tzinfo=UTC)
    assert feeder.depart == datetime(2026, 12, 12, 8, tzinfo=UTC)  # Sat 16:00 Beijing
    trucked = plan_routes(
        network,
        Shipment("CNQZH", "SGSIN", 2_000, 10, ready_at=datetime(2026, 12, 11, 13, tzinfo=UTC),
                 allowed_modes={"sea"}),
    )  # fmt: skip
    assert trucked.options[0].legs[0].depart == datetime(2026, 12, 15, 8, tzinfo=UTC)  # Tue


@pytest.mark.parametrize(
    ("what", "origin", "destination", "family", "published"),
    PUBLISHED,
    ids=[lane[0] for lane in PUBLISHED],
)
def test_published_door_to_door_days(
    network: Network,
    what: str,
    origin: str,
    destination: str,
    family: str,
    published: tuple[float, float],
) -> None:
    """Chengdu-Lodz 12-16 days (CF1), Chongqing-Laos 4-5 (Xinhua 2022-12-03), Chongqing-Hanoi
    4-5 (Xinhua 2022-03-27), Chongqing-Singapore by rail-sea about 8 (China Daily 2018-03-22),
    China-Europe by the Middle Corridor 20-25 (Trend 2024-01): the fastest journey of each,
    for cargo handed over at the best moment of a week, as benchmarks/plan_quality reports."""
    low, high = published
    days = fastest_days(network, origin, destination, family)
    assert days is not None and low <= days <= high, what
