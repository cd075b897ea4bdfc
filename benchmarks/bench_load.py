"""Load time of the bundled network, cold (new process) and warm (same process).

Target (issue 2): warm load under 1 s. For scale, the same nodes and corridors are also read
back from a GeoPackage export with geopandas, the way a GIS-based tool would ship a network
(that read does no validation, no reverse expansion and no tariffs).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd

from network_data import load_network
from network_data.export import export_network

WARM_TARGET_S = 1.0
COLD_RUNS = 3
WARM_RUNS = 10
_COLD_SNIPPET = (
    "import time; t = time.perf_counter(); "
    "from network_data import load_network; load_network(); "
    "print(time.perf_counter() - t)"
)


def cold_load_s() -> list[float]:
    """Seconds for imports plus load in a fresh interpreter, one figure per run."""
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", _COLD_SNIPPET], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(COLD_RUNS)
    ]


def timed(function: object, runs: int) -> list[float]:
    """Wall seconds of ``runs`` calls of ``function``."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    """Print the load-time table."""
    cold = cold_load_s()
    warm = timed(load_network, WARM_RUNS)
    network = load_network()
    graph_and_arrays = timed(
        lambda: (
            network.__dict__.pop("graph", None),
            network.__dict__.pop("arrays", None),
            network.graph,
            network.arrays,
        ),
        WARM_RUNS,
    )
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = export_network(network, Path(tmp) / "network.gpkg", "gpkg")
        peer = timed(
            lambda: (gpd.read_file(gpkg, layer="nodes"), gpd.read_file(gpkg, layer="corridors")),
            WARM_RUNS,
        )
    warm_median = statistics.median(warm)
    rows = [
        ("cold: new process, imports + load_network()", statistics.median(cold), min(cold)),
        ("warm: load_network() again in the same process", warm_median, min(warm)),
        (
            "warm: build graph + numba arrays",
            statistics.median(graph_and_arrays),
            min(graph_and_arrays),
        ),
        ("reference: geopandas.read_file of a GPKG export", statistics.median(peer), min(peer)),
    ]
    print(f"Network load ({len(network.nodes)} nodes, {len(network.corridors)} corridors)")
    print(f"{'measure':<52} {'median s':>9} {'min s':>7}")
    for name, median_s, min_s in rows:
        print(f"{name:<52} {median_s:>9.3f} {min_s:>7.3f}")
    print(
        f"warm load / target ({WARM_TARGET_S:.1f} s): {warm_median / WARM_TARGET_S:.2f}"
        f"  {'PASS' if warm_median < WARM_TARGET_S else 'FAIL'}"
    )
    print(f"warm load / GPKG read: {warm_median / statistics.median(peer):.2f}")


if __name__ == "__main__":
    main()
