"""Write a copy of the bundled dataset restricted to a set of nodes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from network_data.load import BUNDLED_DATA_DIR
from network_data.synthetic import read_table as _read
from network_data.synthetic import write_table as _write


def write_subnetwork(
    node_ids: Iterable[str], target: Path, source: Path = BUNDLED_DATA_DIR
) -> Path:
    """Dataset directory with only ``node_ids`` of the dataset in ``source`` and the corridors
    between them.

    Nodes dropped from the network but used as ``via`` points become waypoints; markets and
    warehouses left unreachable are dropped.
    """
    target.mkdir(parents=True, exist_ok=True)
    keep = set(node_ids)
    nodes = _read(source / "nodes.csv")
    corridors = _read(source / "corridors.csv")
    corridors = corridors[corridors["origin"].isin(keep) & corridors["destination"].isin(keep)]
    reached = set(corridors["destination"]) | {
        o for o, r in zip(corridors["origin"], corridors["reverse_id"], strict=True) if r
    }
    destination_kinds = nodes["kind"].isin(["market", "overseas_warehouse"])
    kept = nodes["id"].isin(keep) & (~destination_kinds | nodes["id"].isin(reached))
    dropped = nodes[~kept]
    waypoints = pd.concat(
        [
            _read(source / "waypoints.csv"),
            dropped[["id", "name_en", "lat", "lon", "source"]].rename(columns={"name_en": "name"}),
        ],
        ignore_index=True,
    )
    _write(nodes[kept], target / "nodes.csv")
    _write(waypoints, target / "waypoints.csv")
    _write(corridors, target / "corridors.csv")
    ids = set(corridors["id"]) | set(corridors["reverse_id"]) - {""}
    services = _read(source / "services.csv")
    services = services[services["corridor_id"].isin(ids)]
    _write(services, target / "services.csv")
    through = _read(source / "through_services.csv")
    runs_within = [
        service in set(services["service_id"]) and set(chain.split("|")) <= ids
        for service, chain in zip(through["service_id"], through["corridors"], strict=True)
    ]
    _write(through[runs_within], target / "through_services.csv")
    tariffs = _read(source / "tariffs.csv")
    _write(
        tariffs[tariffs["scope"].str.startswith(("mode:", "customs")) | tariffs["scope"].isin(ids)],
        target / "tariffs.csv",
    )
    for name in ("fx.csv", "emission_factors.csv", "passages.csv", "passage_status.csv",
                 "container_types.csv",
                 "products.csv", "cities.csv", "dataset.json"):  # fmt: skip
        (target / name).write_bytes((source / name).read_bytes())
    paths = json.loads((source / "corridor_paths.geojson").read_text(encoding="utf-8"))
    paths["features"] = [f for f in paths["features"] if f["properties"]["id"] in ids]
    (target / "corridor_paths.geojson").write_text(json.dumps(paths), encoding="utf-8")
    return target
