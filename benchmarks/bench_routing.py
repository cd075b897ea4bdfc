"""Route planning: single-plan latency, batch throughput, and a networkx baseline.

Shipments are drawn with a fixed seed: origins in the pilot zones, destinations abroad
(warehouses, markets, ports, terminals), 50 kg to 20 t at 150-400 kg/m3, ready within 60 days.

Baseline (issue 3): k-shortest simple paths by line-haul hours on the collapsed graph
(networkx ``shortest_simple_paths``, k = 10), each path evaluated in Python with the same cost
model (:func:`optimizer.costs.reference.reference_path_value`), keeping the Pareto-best. Targets:
p50 <= 5 ms, batch >= 2,000 shipments/s on 2 cores, >= 20x the baseline.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from network_data import Network, load_network
from optimizer.costs.reference import reference_path_value
from optimizer.model import Shipment
from optimizer.routing import plan_batch, plan_routes

SEED = 20261122
LATENCY_SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_LATENCY", "1000"))
BATCH_SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_BATCH", "10000"))
BASELINE_SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_BASELINE", "100"))
BASELINE_K = 10
P50_TARGET_MS, BATCH_TARGET_PER_S, BASELINE_TARGET_RATIO = 5.0, 2000.0, 20.0
ORIGIN_KINDS = ("city", "industrial_park", "rail_terminal", "river_port", "airport", "bonded_zone")
DESTINATION_KINDS = ("overseas_warehouse", "market", "seaport", "rail_terminal")


def random_shipments(network: Network, count: int, seed: int = SEED) -> pd.DataFrame:
    """A reproducible table of shipments from the pilot zones to places abroad."""
    rng = np.random.default_rng(seed)
    nodes = network.nodes
    origins = sorted(nodes.index[(nodes["country"] == "CN") & nodes["kind"].isin(ORIGIN_KINDS)])
    destinations = sorted(
        nodes.index[(nodes["country"] != "CN") & nodes["kind"].isin(DESTINATION_KINDS)]
    )
    weight_kg = np.exp(rng.uniform(math.log(50), math.log(20_000), count))
    density = rng.uniform(150, 400, count)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    return pd.DataFrame(
        {
            "id": [f"S{i:05d}" for i in range(count)],
            "origin": rng.choice(origins, count),
            "destination": rng.choice(destinations, count),
            "weight_kg": weight_kg.round(1),
            "volume_m3": (weight_kg / density).round(2),
            "ready_at": [
                (start + timedelta(hours=float(h))).isoformat()
                for h in rng.uniform(0, 60 * 24, count).round()
            ],
        }
    )


def _shipment(row: Any) -> Shipment:
    """The shipment of a row of :func:`random_shipments` (a Series or a dict)."""
    return Shipment(
        str(row["origin"]), str(row["destination"]), float(row["weight_kg"]),
        float(row["volume_m3"]), ready_at=datetime.fromisoformat(str(row["ready_at"])),
    )  # fmt: skip


def by_city(network: Network, shipments: list[Shipment]) -> list[tuple[Shipment, Shipment]]:
    """(as drawn, named by city) for each shipment with an end at a terminal of a city of
    several terminals, that end named by its city as a forwarder types it ("Chongqing")."""

    def city_name(node_id: str) -> str:
        city = network.nodes.at[node_id, "city"]
        found = network.find_city(str(city)) if city else None
        return found.name if found is not None else node_id

    pairs: list[tuple[Shipment, Shipment]] = []
    for shipment in shipments:
        named = replace(shipment, origin=city_name(shipment.origin),
                        destination=city_name(shipment.destination))  # fmt: skip
        if named != shipment:
            pairs.append((shipment, named))
    return pairs


def _latency_ms(network: Network, shipments: list[Shipment]) -> list[float]:
    latencies_ms = []
    for shipment in shipments:
        start = time.perf_counter()
        plan_routes(network, shipment)
        latencies_ms.append((time.perf_counter() - start) * 1000)
    return latencies_ms


def baseline_plan(
    network: Network, graph: nx.DiGraph, shipment: Shipment
) -> list[tuple[float, float, float]]:
    """k-shortest simple paths by hours, each evaluated in Python; the Pareto-best values."""
    values = []
    try:
        paths = itertools.islice(
            nx.shortest_simple_paths(graph, shipment.origin, shipment.destination, weight="hours"),
            BASELINE_K,
        )
        for path in paths:
            corridors = [graph.edges[u, v]["corridor"] for u, v in itertools.pairwise(path)]
            value = reference_path_value(network, corridors, shipment)
            if value is not None:
                values.append(value)
    except nx.NetworkXNoPath:
        return []
    return [
        v for v in values
        if not any(w != v and all(a <= b for a, b in zip(w, v, strict=True)) for w in values)
    ]  # fmt: skip


def collapsed_graph(network: Network) -> nx.DiGraph:
    """One edge per node pair, the corridor with the fewest line-haul hours."""
    graph = nx.DiGraph()
    for corridor_id, row in network.corridors.sort_values("duration_h").iloc[::-1].iterrows():
        graph.add_edge(
            row["origin"], row["destination"], hours=row["duration_h"], corridor=corridor_id
        )
    return graph


def main() -> None:
    """Print the routing benchmark table."""
    network = load_network()
    table = random_shipments(network, max(LATENCY_SHIPMENTS, BASELINE_SHIPMENTS))
    shipments = [_shipment(row) for _, row in table.iterrows()]
    start = time.perf_counter()
    plan_routes(network, shipments[0])
    warmup_s = time.perf_counter() - start
    latencies_ms, labels, feasible = [], [], 0
    for shipment in shipments[:LATENCY_SHIPMENTS]:
        start = time.perf_counter()
        plan = plan_routes(network, shipment)
        latencies_ms.append((time.perf_counter() - start) * 1000)
        labels.append(plan.labels_settled)
        feasible += bool(plan.options)
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    city_pairs = by_city(network, shipments[:LATENCY_SHIPMENTS])
    _latency_ms(network, [named for _, named in city_pairs])  # both warm, as in a service
    city_p50 = np.median(_latency_ms(network, [named for _, named in city_pairs]))
    same_p50 = np.median(_latency_ms(network, [drawn for drawn, _ in city_pairs]))

    graph = collapsed_graph(network)
    baseline_ms, cheaper, ours_ms = [], 0, []
    for shipment in shipments[:BASELINE_SHIPMENTS]:
        start = time.perf_counter()
        found = baseline_plan(network, graph, shipment)
        baseline_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        plan = plan_routes(network, shipment)
        ours_ms.append((time.perf_counter() - start) * 1000)
        if found and plan.options:
            cheaper += min(o.cost_cny for o in plan.options) < min(v[1] for v in found) - 0.01

    batch = random_shipments(network, BATCH_SHIPMENTS, seed=SEED + 1)
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    result = plan_batch(network, batch, workers=workers)
    batch_s = time.perf_counter() - start
    throughput = len(result) / batch_s

    ratio = statistics.mean(baseline_ms) / statistics.mean(ours_ms)
    corridors = len(network.corridors)
    print(f"Route planning ({corridors} corridors; JIT + compile warm-up {warmup_s:.2f} s)")
    print(f"{'measure':<70} {'value':>12} {'target':>10} {'ratio':>7}")
    p50_name = f"single plan p50, {LATENCY_SHIPMENTS} shipments (ms)"
    batch_name = f"batch of {BATCH_SHIPMENTS} on {workers} processes (shipments/s)"
    baseline_name = f"baseline: networkx {BASELINE_K}-shortest paths, mean (ms)"
    rows = [
        (p50_name, p50, P50_TARGET_MS, P50_TARGET_MS / p50),
        ("single plan p99 (ms)", p99, None, None),
        (f"the {len(city_pairs)} of them with an end in a city of several terminals, p50 (ms)",
         same_p50, None, None),
        ("... with that end named by its city (all terminals), p50 (ms)", city_p50,
         P50_TARGET_MS, P50_TARGET_MS / city_p50),
        ("labels settled per plan, median", statistics.median(labels), None, None),
        ("shipments with at least one option (%)", 100 * feasible / LATENCY_SHIPMENTS, None, None),
        (batch_name, throughput, BATCH_TARGET_PER_S, throughput / BATCH_TARGET_PER_S),
        (baseline_name, statistics.mean(baseline_ms), None, None),
        ("Shudao on the same shipments, mean (ms)", statistics.mean(ours_ms), None, None),
        ("speed-up over the baseline (x)", ratio, BASELINE_TARGET_RATIO,
         ratio / BASELINE_TARGET_RATIO),
        ("shipments where Shudao finds a cheaper option (%)", 100 * cheaper / BASELINE_SHIPMENTS,
         None, None),
    ]  # fmt: skip
    for name, value, target, versus in rows:
        target_text = "" if target is None else f"{target:,.1f}"
        versus_text = "" if versus is None else f"{versus:.2f}"
        print(f"{name:<70} {value:>12,.2f} {target_text:>10} {versus_text:>7}")


if __name__ == "__main__":
    main()
