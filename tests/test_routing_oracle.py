"""The label-setting search against brute force: every simple path, evaluated independently.

On sub-networks of the bundled dataset (chosen by hypothesis), the Pareto front of
(arrival, cost, CO2e) over every simple path, each evaluated with the reference twins and the
rules written out again below, must equal the planner's full front.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from network_data import Network, load_network
from optimizer.costs.reference import reference_path_values
from optimizer.routing import Shipment, plan_routes
from tests.subnetwork import write_subnetwork

HORIZON = timedelta(days=90)
POOL = [
    "CN-LINSHUI-PARK", "CNCKG", "CNCKG-RLY", "CNCKG-PRT", "CNCTU", "CNCTU-RLY", "CNNAO",
    "CNQZH", "CNNNG", "CNPXG", "VNHAN", "SGSIN", "MKT-SG", "MYPKG", "CNKMG", "CNMHN", "LAVTE",
    "CNFAN", "VNSGN", "CNTAC", "CNSHA-WGQ", "CNSHA-YSN", "CNWUH",
]  # fmt: skip


@cache
def subnetwork(nodes: frozenset[str]) -> Network:
    directory = Path(tempfile.mkdtemp(prefix="shudao-sub-"))
    return load_network(write_subnetwork(nodes, directory / "data"))


def pareto(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Non-dominated points, sorted; near-equal points (float noise) count once."""
    unique: list[tuple[float, float, float]] = []
    for p in sorted(points):
        if not any(same(p, q) for q in unique):
            unique.append(p)
    return [
        p for p in unique
        if not any(not same(p, q) and q[0] <= p[0] + 1e-6 and q[1] <= p[1] + 1e-6
                   and q[2] <= p[2] + 1e-6 for q in unique)
    ]  # fmt: skip


def same(p: tuple[float, float, float], q: tuple[float, float, float]) -> bool:
    return abs(p[0] - q[0]) < 0.02 and abs(p[1] - q[1]) < 0.01 and abs(p[2] - q[2]) < 0.001


def assert_same_front(
    got: list[tuple[float, float, float]], expected: list[tuple[float, float, float]]
) -> None:
    assert len(got) == len(expected), (got, expected)
    for p, q in zip(got, expected, strict=True):
        assert same(p, q), (p, q)


def brute_force_front(
    network: Network, shipment: Shipment, origin: str, destination: str
) -> list[tuple[float, float, float]]:
    """Every simple path, and every path simple up to where an export first clears customs and
    simple from there: once cleared, a journey may pass a node again (Fangchenggang to Nanning to
    clear 9610 and back to its port), as the search's customs state lets it."""
    graph, nodes = network.graph, network.nodes

    def simple(start: str, end: str) -> list[list[str]]:
        paths = nx.all_simple_edge_paths(graph, start, end, cutoff=None)
        return [[key for _, _, key in edge_path] for edge_path in paths]

    walks = simple(origin, destination)

    def clears(node: str) -> bool:
        return bool(
            nodes.at[node, "country"] == "CN"
            and shipment.customs_regime in nodes.at[node, "regimes"]
        )

    corridors = network.corridors
    exported = nodes.at[origin, "country"] == "CN" and nodes.at[destination, "country"] != "CN"
    if exported and not clears(origin):  # cleared further on: after that a node may come again
        for node in [n for n in graph if n != destination and clears(n)]:
            before = [
                path for path in simple(origin, node)
                if not any(clears(corridors.at[c, "destination"]) for c in path[:-1])
            ]  # fmt: skip
            if before:
                onward = simple(node, destination)
                walks += [first + then for first in before for then in onward]
    results = []
    for path in walks:
        for basis in ("loose", "boxed"):  # a journey is priced one way over the whole move
            results.extend(reference_path_values(network, path, shipment, basis=basis))
    return pareto(results)


def planner_front(network: Network, shipment: Shipment) -> list[tuple[float, float, float]]:
    plan = plan_routes(network, shipment, every_journey=True)  # the search's whole front
    return pareto([
        ((o.arrival - shipment.ready_at).total_seconds() / 3600, o.cost_cny, o.co2e_kg)
        for o in plan.options
    ])  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sets(st.sampled_from(POOL), min_size=6, max_size=10),
    st.floats(min_value=50, max_value=3000),
    st.floats(min_value=0.1, max_value=12),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 30)),
    st.sampled_from(["general", "9610", "9710"]),
    st.randoms(use_true_random=False),
)
def test_planner_front_equals_brute_force(
    chosen: set[str], weight_kg: float, volume_m3: float, ready: datetime, regime: str, rng: object
) -> None:
    network = subnetwork(frozenset(chosen))
    pairs = sorted(
        (o, d) for o in network.graph for d in nx.descendants(network.graph, o) if o != d
    )
    if not pairs:
        return
    origin, destination = rng.choice(pairs)  # type: ignore[attr-defined]
    ready_at = ready.replace(tzinfo=UTC, microsecond=0)
    shipment = Shipment(
        origin, destination, weight_kg, volume_m3, ready_at=ready_at, customs_regime=regime
    )
    expected = brute_force_front(network, shipment, origin, destination)
    event(f"front of {min(len(expected), 3)}{'+' if len(expected) >= 3 else ''} options")
    assert_same_front(planner_front(network, shipment), expected)


@pytest.mark.parametrize(
    ("origin", "destination"),
    [("CN-LINSHUI-PARK", "CNQZH"), ("CNCTU-RLY", "VNHAN"), ("CNCKG", "CNPXG"), ("CNQZH", "CNCTU")],
)
def test_fixed_cases_against_brute_force(origin: str, destination: str) -> None:
    network = subnetwork(frozenset(POOL[:11]))
    shipment = Shipment(
        origin, destination, 800, 4.2, ready_at=datetime(2026, 11, 23, 8, tzinfo=UTC)
    )
    expected = brute_force_front(network, shipment, origin, destination)
    assert expected
    assert_same_front(planner_front(network, shipment), expected)


@pytest.mark.parametrize("destination", ["LAVTE", "VNHAN", "SGSIN"])
def test_through_trains_against_brute_force(destination: str) -> None:
    """The China-Laos train runs on past Kunming and the Hanoi train past Nanning, and a box
    off the Qinzhou train meets the feeder's later rail-sea cut-off: staying aboard, booking
    anew and the two cut-offs are all on the brute-force side too."""
    network = subnetwork(frozenset(
        ["CNCKG", "CNCKG-RLY", "CNCTU", "CNCTU-RLY", "CNKMG", "CNMHN", "LAVTE", "CNNNG", "CNPXG",
         "VNHAN", "CNQZH", "SGSIN"]
    ))  # fmt: skip
    assert len(network.through_services) == 3
    assert network.services["rail_cutoff_h"].notna().any()
    shipment = Shipment(
        "CNCKG-RLY", destination, 2_000, 10, ready_at=datetime(2026, 12, 7, 8, tzinfo=UTC)
    )
    expected = brute_force_front(network, shipment, "CNCKG-RLY", destination)
    assert_same_front(planner_front(network, shipment), expected)
    plan = plan_routes(network, shipment, every_journey=True)
    through_names = set(network.through_services["service_name"])
    uses_train = any(leg.service in through_names for o in plan.options for leg in o.legs)
    assert uses_train == (destination != "SGSIN")
