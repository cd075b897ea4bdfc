"""Run every benchmark and print its table: ``python -m benchmarks``."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from benchmarks import (
    bench_allocation,
    bench_api,
    bench_consolidation,
    bench_first_mile,
    bench_load,
    bench_parcels,
    bench_places,
    bench_routing,
    bench_scenarios,
    plan_quality,
    resilience,
    scale,
    scale_api,
    scale_batch,
)


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {python}, {platform.system()}"


if __name__ == "__main__":
    print(f"machine: {machine()}\n")
    bench_load.main()
    print()
    bench_places.main()
    print()
    bench_parcels.main()
    print()
    bench_routing.main()
    print()
    scale.main()
    print()
    scale_batch.main()
    print()
    plan_quality.main()
    print()
    bench_api.main()
    print()
    scale_api.main()
    print()
    bench_consolidation.main()
    print()
    bench_allocation.main()
    print()
    bench_first_mile.main()
    print()
    bench_scenarios.main()
    print()
    resilience.main()
