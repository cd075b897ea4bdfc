"""Could lower bounds prune the search on a scaled network? ``python -m benchmarks.scale_pruning``.

A study for issue 23, not a benchmark of ``make bench``. On a network ``SHUDAO_PRUNING_SCALE``
times the bundled one (10 by default), it plans random shipments of the bundled network
(``bench_routing.random_shipments``) and asks of every label the search settled whether it
could have been dropped, by the search's own rule (a complete journey no later, no dearer and
no dirtier than the label plus its lower bounds to the destination), in the most favourable
case: every journey of the final Pareto front known from the start. Two kinds of bound:

- the search's own (:func:`optimizer.costs.search.lower_bounds`: backward Dijkstra per
  criterion over the corridors' run times, prices and emissions, no waits), on every label;
- the time bound replaced by the exact earliest arrival from the label's node and time under
  the floor's simplifications (:class:`benchmarks.floor.ReferenceArrival`: waits for the
  timetables included, no handling or dwell), on a sample of labels (it is slow); cost and
  CO2e bounds as the search's.

It also counts the settled labels outside the bundled network's replica (node ids ``-X<k>``),
compares each shipment's Pareto front with its front on the bundled network alone, and says for
the replicas' labels which criteria a front journey beats their bounds on: time alone, cost and
CO2e, and so on. Few labels prunable under either bound means per-node lower bounds cannot make
the search grow slower than the network: the replicas' labels are cheaper or cleaner than some
front journeys and earlier than others, so no single journey dominates them.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from benchmarks.bench_routing import _shipment, random_shipments
from benchmarks.floor import ReferenceArrival
from network_data import load_network
from network_data.synthetic import write_scaled_network
from optimizer import validity
from optimizer._compile import epoch_hours, routing_data
from optimizer.costs import search as kernel
from optimizer.routing.places import resolve_place
from optimizer.routing.search import search_shipment

SCALE = int(os.environ.get("SHUDAO_PRUNING_SCALE", "10"))
SHIPMENTS = int(os.environ.get("SHUDAO_PRUNING_SHIPMENTS", "20"))
#: Settled labels per search (one per load basis) checked with the exact earliest arrival.
SAMPLE = int(os.environ.get("SHUDAO_PRUNING_SAMPLE", "20"))
HORIZON_DAYS = 90
#: Ids of nodes in a replica (:func:`network_data.synthetic.write_scaled_network`).
REPLICA = re.compile(r"-X\d+$")


def _settled(head: Any, link: Any) -> Any:
    """Rows of the settled labels, from the search's (head, link) lists."""
    rows = []
    for first in head[head >= 0].tolist():
        i = first
        while i >= 0:
            rows.append(i)
            i = int(link[i])
    return np.array(rows, dtype=np.int64)


def _dominated(front: Any, keys: Any) -> Any:
    """Per row of ``keys`` (arrival, cost, CO2e): whether a front journey is no worse in all."""
    return (front[None, :, :] <= keys[:, None, :]).all(axis=2).any(axis=1)


def main() -> None:
    """Print the share of settled labels each bound could have pruned."""
    directory = write_scaled_network(SCALE, Path(tempfile.mkdtemp(prefix="shudao-pruning-")))
    network = load_network(directory)
    data = routing_data(network)
    rows = random_shipments(load_network(), SHIPMENTS).to_dict("records")
    ready = [epoch_hours(datetime.fromisoformat(str(row["ready_at"]))) for row in rows]
    reference = ReferenceArrival(network, min(ready) - 24, max(ready) + 24 * (HORIZON_DAYS + 30))
    rng = np.random.default_rng(0)
    settled = replicas = by_static = sampled = by_exact = same_front = 0
    bundled = routing_data(load_network())
    #: Criteria (arrival, cost, CO2e) a front journey is checked on against replica labels.
    subsets = {
        "time": [0], "cost": [1], "CO2e": [2], "cost and CO2e": [1, 2], "time and CO2e": [0, 2],
        "time and cost": [0, 1], "all three": [0, 1, 2],
    }  # fmt: skip
    beaten_on = dict.fromkeys(subsets, 0)
    bounds: list[Any] = []
    original: Callable[..., Any] = kernel.lower_bounds

    def keep_bounds(*args: Any) -> Any:
        bounds.append(original(*args))
        return bounds[-1]

    for row in rows:
        shipment = validity.follow_passage_status(network, _shipment(row))
        origin = resolve_place(data, "origin", shipment.origin)
        destination = resolve_place(data, "destination", shipment.destination)
        bounds.clear()
        with mock.patch.object(kernel, "lower_bounds", keep_bounds):
            found = search_shipment(data, shipment, origin, destination, HORIZON_DAYS)
        front = np.array(
            [(j.arrival_h, j.cost_cny, j.co2e_kg) for j in found.journeys], dtype=np.float64
        ).reshape(-1, 3)
        alone = search_shipment(
            bundled, shipment, resolve_place(bundled, "origin", shipment.origin),
            resolve_place(bundled, "destination", shipment.destination), HORIZON_DAYS,
        )  # fmt: skip
        same_front += sorted(map(tuple, front.round(6).tolist())) == sorted(
            (round(j.arrival_h, 6), round(j.cost_cny, 6), round(j.co2e_kg, 6))
            for j in alone.journeys
        )
        for result, bound in zip(found.results, bounds, strict=True):
            labels = _settled(result.head, result.link)
            nodes = result.ints[labels, kernel.NODE]
            keys = result.floats[labels, :3] + bound[nodes]
            settled += len(labels)
            in_replica = np.array(
                [bool(REPLICA.search(data.arrays.node_ids[n])) for n in nodes.tolist()], dtype=bool
            )
            replicas += int(in_replica.sum())
            no_worse = front[None, :, :] <= keys[in_replica][:, None, :]
            for name, columns in subsets.items():
                beaten_on[name] += int(no_worse[:, :, columns].all(axis=2).any(axis=1).sum())
            by_static += int(_dominated(front, keys).sum())
            for i in rng.choice(len(labels), min(SAMPLE, len(labels)), replace=False).tolist():
                node, arrival_h = int(nodes[i]), float(result.floats[labels[i], kernel.ARRIVAL])
                at = data.arrays.node_ids[node]
                earliest = (
                    arrival_h
                    if at == destination.label
                    else reference(at, destination.label, arrival_h, HORIZON_DAYS * 24.0)
                )
                exact = np.array([[earliest, keys[i, 1], keys[i, 2]]])
                sampled += 1
                by_exact += int(_dominated(front, exact)[0])
    print(
        f"Pruning study, {SHIPMENTS} random shipments of the bundled network on the {SCALE}x "
        f"network ({datetime.now(UTC):%Y-%m-%d})"
    )
    print(f"labels settled: {settled:,}, outside the bundled replica: {replicas / settled:.0%}")
    print(
        f"Pareto fronts equal to the front on the bundled network alone: "
        f"{same_front} of {SHIPMENTS}"
    )
    print("labels outside the bundled replica whose bounds a front journey beats (no later, no")
    print("dearer, no dirtier) on:")
    for name, count in beaten_on.items():
        print(f"  {name:<14} {count / max(replicas, 1):6.1%}")
    print(
        f"prunable with the search's bounds and the final front known from the start: "
        f"{by_static / settled:.1%}"
    )
    print(
        f"prunable with the exact earliest arrival as time bound (sample of {sampled}): "
        f"{by_exact / max(sampled, 1):.1%}"
    )


if __name__ == "__main__":
    main()
