"""Consolidation: (1) bin packing against known optima, (2) a generated month at one hub.

(1) is :mod:`benchmarks.bench_bin_packing` (BPPLIB instances from ``../shared/benchmarks``).

(2) A month of e-commerce lots at the Chengdu rail port, pooled onto the 30 daily China-Europe
trains via Alashankou of December 2026. Lots (fixed seed): ready between 28 November and
27 December, due 24-44 days later, 0.05-20 m3 (log-normal, median 1.35 m3) at 120-400 kg/m3,
for ten European warehouses, terminals and markets; 75 % general, 12 % lithium batteries,
10 % high value, 3 % perishable. Every lot may also be booked alone on any route the planner
finds. Targets (issue 5): solved within 60 s with a gap <= 2 %; savings reported against booking
every lot alone. Two slot settings in the same run: each train's capacity (the default) and a
forwarder's allotment of 20 TEU per train, where the departures couple the destinations.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import numpy as np

from benchmarks import bench_bin_packing
from network_data import Network, load_network
from optimizer._ortools import native_stdout_silenced
from optimizer.check import check_consolidation
from optimizer.consolidation import problem_from_records, solve_consolidation

SEED = 20261122
LOTS = 5_000
TIME_LIMIT_S = 60.0
GAP_TARGET = 0.02
FIRST_DAY, LAST_DAY = date(2026, 12, 1), date(2026, 12, 30)
TRAIN = "RAIL-CNCTU-RLY-CNAKL"
DESTINATIONS = (
    "DEDUI", "WH-DEDUI", "WH-PLLOD", "PLLOD", "WH-HUBUD", "MKT-DE", "MKT-PL", "WH-BELGG",
    "MKT-NL", "WH-RUMOW",
)  # fmt: skip
CLASSES = ("general", "battery", "high_value", "perishable")
CLASS_SHARES = (0.75, 0.12, 0.10, 0.03)


def generate_month(count: int = LOTS, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` lots at the Chengdu rail port, as rows of ``shudao consolidate``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        ready = FIRST_DAY - timedelta(days=3) + timedelta(days=int(rng.integers(0, 30)))
        volume_m3 = float(np.clip(np.round(rng.lognormal(0.3, 0.8), 2), 0.05, 20))
        rows.append(
            {
                "id": f"L{i:05d}",
                "seller": f"seller-{int(rng.integers(0, 200)):03d}",
                "origin": "CNCTU-RLY",
                "destination": str(rng.choice(DESTINATIONS)),
                "ready_date": ready.isoformat(),
                "deadline": (ready + timedelta(days=int(rng.integers(24, 45)))).isoformat(),
                "weight_kg": float(np.round(volume_m3 * rng.uniform(120, 400), 1)),
                "volume_m3": volume_m3,
                "cargo_class": str(rng.choice(CLASSES, p=CLASS_SHARES)),
                "value_cny": float(np.round(volume_m3 * rng.uniform(2_000, 20_000))),
            }
        )
    return rows


def month_row(network: Network, rows: list[dict[str, Any]], slots_teu: float | None) -> str:
    """Solve the month once with ``slots_teu`` and format one line of figures."""
    problem = problem_from_records(
        network, rows, hubs=["CNCTU-RLY"], first_day=FIRST_DAY, last_day=LAST_DAY,
        corridors={TRAIN}, slots_teu=slots_teu,
    )  # fmt: skip
    with native_stdout_silenced():
        result = solve_consolidation(problem, time_limit_s=TIME_LIMIT_S, seed=1)
    broken = len(check_consolidation(problem, result))
    kinds = {"container": 0, "own": 0, "standalone": 0}
    for placement in result.placements:
        kinds[placement.kind] += 1
    verdict = "PASS" if result.gap <= GAP_TARGET and result.runtime_s <= TIME_LIMIT_S else "MISS"
    slots = "train capacity" if slots_teu is None else f"{slots_teu:g} TEU allotment"
    warm_gap = (result.warm_start_cny - result.bound_cny) / result.warm_start_cny
    return (
        f"{slots:<20} {len(result.departures):>4} {len(result.units):>5} "
        f"{kinds['container']:>6} {kinds['own'] + kinds['standalone']:>6} "
        f"{len(result.unplaced):>5} {result.runtime_s:>6.1f} {result.status.value:>9} "
        f"{100 * result.gap:>6.2f} {100 * warm_gap:>8.2f} {result.baseline_cny / 1e6:>9.2f} "
        f"{result.objective_cny / 1e6:>9.2f} {result.savings_pct:>7.1f} "
        f"{result.co2e_kg / 1e3:>7.1f} {result.baseline_co2e_kg / 1e3:>7.1f} {broken:>5}  "
        f"gap/target {result.gap / GAP_TARGET:.2f} {verdict}"
    )


def main() -> None:
    """Print both tables (``SHUDAO_BENCH_MONTH_ONLY=1``: the month alone)."""
    if not os.environ.get("SHUDAO_BENCH_MONTH_ONLY"):
        bench_bin_packing.main()
        print()
    network = load_network()
    rows = generate_month()
    print(
        f"Consolidation, a generated month: {len(rows)} lots at the Chengdu rail port, the daily "
        f"Alashankou trains of {FIRST_DAY}..{LAST_DAY}; limit {TIME_LIMIT_S:g} s, seed 1"
    )
    print(
        f"{'slots':<20} {'deps':>4} {'boxes':>5} {'pooled':>6} {'alone':>6} {'unpl.':>5} "
        f"{'secs':>6} {'status':>9} {'gap %':>6} {'greedy %':>8} {'alone MCNY':>9} "
        f"{'plan MCNY':>9} {'save %':>7} {'t CO2e':>7} {'alone t':>7} {'check':>5}"
    )
    for slots_teu in (None, 20.0):
        print(month_row(network, rows, slots_teu), flush=True)
    print(
        "gap: (plan - proven bound) / plan; greedy %: the first-fit-decreasing warm start "
        "against the same bound; check: constraints the independent checker found broken"
    )


if __name__ == "__main__":
    main()
