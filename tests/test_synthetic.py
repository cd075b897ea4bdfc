"""The scaled networks of :mod:`network_data.synthetic` (issue 23): valid datasets with the
bundled network's distributions, and the search exact on them (brute force on sub-networks)."""

from __future__ import annotations

import filecmp
import tempfile
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network_data import Network, load_network
from network_data.synthetic import LINKED_KINDS, write_scaled_network
from optimizer.routing import Shipment
from tests.subnetwork import write_subnetwork
from tests.test_routing_oracle import assert_same_front, brute_force_front, planner_front

BASE_POOL = ["CNCKG", "CNCKG-RLY", "CNCKG-PRT", "CNQZH", "SGSIN", "CNCTU", "CNCTU-RLY", "VNHAN"]


@cache
def scaled(factor: int) -> Path:
    return write_scaled_network(factor, Path(tempfile.mkdtemp(prefix="shudao-x")) / "data")


def replica_of(node_id: str) -> int:
    head, _, tail = node_id.rpartition("-X")
    return int(tail) if head and tail.isdigit() else 0


def test_a_scaled_network_is_valid_and_keeps_the_distributions(network: Network) -> None:
    tripled = load_network(scaled(3))  # validated as the bundled dataset is
    assert len(tripled.nodes) == 3 * len(network.nodes)
    assert len(tripled.services) == 3 * len(network.services)
    assert len(tripled.through_services) == 3 * len(network.through_services)
    corridors = tripled.corridors
    own = corridors[~corridors.index.str.startswith("LINK-")]
    assert len(own) == 3 * len(network.corridors)
    for k in (1, 2):
        copy = own[[replica_of(c) == k for c in own.index]]
        assert Counter(copy["mode"]) == Counter(network.corridors["mode"])
        assert sorted(copy["distance_km"]) == sorted(network.corridors["distance_km"])
        out_degree = Counter(copy["origin"].str.removesuffix(f"-X{k}"))
        assert out_degree == Counter(network.corridors["origin"])
    linked = network.nodes["kind"].isin(LINKED_KINDS) & (network.nodes["status"] == "operating")
    links = corridors[corridors.index.str.startswith("LINK-")]
    assert len(links) == 2 * 2 * int(linked.sum())  # both ways, replicas 1 and 2
    assert (links["mode"] == "road").all()
    for k in (1, 2):  # every replica is reached from the bundled network
        assert nx.has_path(tripled.graph, "CNCTU", f"DEDUI-X{k}")


def test_same_seed_same_files() -> None:
    again = write_scaled_network(3, Path(tempfile.mkdtemp()) / "data")
    comparison = filecmp.dircmp(scaled(3), again)
    assert comparison.left_list == comparison.right_list
    assert not comparison.diff_files and not comparison.funny_files


def test_bad_factor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="factor must be an integer >= 1, got 0"):
        write_scaled_network(0, tmp_path)


@cache
def sub_of_tenfold(nodes: frozenset[str]) -> Network:
    directory = Path(tempfile.mkdtemp(prefix="shudao-x10-sub-"))
    return load_network(write_subnetwork(nodes, directory / "data", source=scaled(10)))


def linked_pool() -> list[str]:
    """The base pool and its copies in a replica linked straight to the bundled network."""
    tenfold = load_network(scaled(10))
    links = tenfold.corridors[tenfold.corridors.index.str.startswith("LINK-")]
    k = min(replica_of(o) for o, d in zip(links["origin"], links["destination"], strict=True)
            if replica_of(d) == 0)  # fmt: skip
    return BASE_POOL + [f"{node}-X{k}" for node in BASE_POOL]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_search_is_exact_on_sampled_sub_networks_of_the_tenfold_network(
    data: st.DataObject,
) -> None:
    pool = linked_pool()
    chosen = data.draw(st.sets(st.sampled_from(pool), min_size=6, max_size=9))
    network = sub_of_tenfold(frozenset(chosen))
    pairs = sorted(
        (o, d) for o in network.graph for d in nx.descendants(network.graph, o) if o != d
    )
    if not pairs:
        return
    origin, destination = data.draw(st.sampled_from(pairs))
    shipment = Shipment(
        origin, destination, data.draw(st.floats(50, 3000)), data.draw(st.floats(0.1, 12)),
        ready_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
    )  # fmt: skip
    assert_same_front(
        planner_front(network, shipment), brute_force_front(network, shipment, origin, destination)
    )
