"""First-mile routing on public instances: gap to the best-known value, PyVRP beside OR-Tools.

Instances come from ``$SHUDAO_BENCHMARKS_DIR`` (default ``../shared/benchmarks``) and are not
copied into the repository: the CVRPLIB X instances with up to 200 customers (``cvrp/X``,
X-n101-k25 ... X-n200-k36, 22 instances) and the Solomon 100-customer VRPTW set
(``vrptw/solomon``, 56). :func:`optimizer.first_mile.read_vrplib` reads them with the distance
conventions of the published values (CVRP: Euclidean rounded to the nearest integer per edge;
VRPTW: truncated to one decimal, distance-only objective), so ``PickupResult.objective`` is
directly comparable with ``known_optima.csv``.

Both backends run on every instance, one after the other on one core, with the same seed, once
with :data:`SHORT_S` and once with :data:`LONG_S` (separate runs). Every plan is verified with
:func:`optimizer.check.check_pickups`. Gap = (objective - best known) / best known.

The full set takes about 1 h 45 min (78 instances x 2 backends x 40 s), so by default a fixed
sample runs (about 30 min): :data:`X_SAMPLE` X instances evenly spaced in size and two Solomon
instances of each of the six classes (C1, C2, R1, R2, RC1, RC2). ``SHUDAO_BENCH_FIRST_MILE_ALL=1``
runs every instance; ``SHUDAO_BENCH_QUICK=1`` two of each family at 2 s and 5 s.

Target (issue 7): mean gap <= 1 % at 30 s on the X instances with the default backend.
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks import BENCHMARKS_DIR
from optimizer.check import check_pickups
from optimizer.first_mile import BACKENDS, DEFAULT_BACKEND, read_vrplib, solve_pickups

SHORT_S, LONG_S = 10.0, 30.0
SEED = 1
X_SAMPLE = 10
SOLOMON_PER_CLASS = 2
MAX_CUSTOMERS = 200
GAP_TARGET = 0.01


@dataclass(frozen=True)
class Instance:
    """One instance file with its best-known value."""

    family: str
    path: Path
    best_known: float

    @property
    def name(self) -> str:
        return self.path.stem


def _known(folder: Path) -> dict[str, float]:
    with (folder / "known_optima.csv").open(newline="") as file:
        return {row["instance"]: float(row["optimum_or_bks"]) for row in csv.DictReader(file)}


def _spread(items: list[Path], count: int) -> list[Path]:
    """``count`` items evenly spaced over ``items`` (all when there are no more)."""
    if len(items) <= count:
        return items
    if count == 1:
        return [items[len(items) // 2]]
    return [items[round(k * (len(items) - 1) / (count - 1))] for k in range(count)]


def instances(everything: bool, quick: bool) -> list[Instance]:
    """The instances to run, X first, each family in order of name."""
    chosen: list[Instance] = []
    x_folder = BENCHMARKS_DIR / "cvrp"
    if (x_folder / "X").is_dir():
        known = _known(x_folder)

        def customers(path: Path) -> int:
            return int(path.stem.split("-")[1][1:]) - 1

        paths = sorted(
            (p for p in (x_folder / "X").glob("X-n*.vrp") if customers(p) <= MAX_CUSTOMERS),
            key=customers,
        )
        if not everything:
            paths = _spread(paths, 2 if quick else X_SAMPLE)
        chosen += [Instance("X", p, known[p.stem]) for p in paths]
    solomon = BENCHMARKS_DIR / "vrptw"
    if (solomon / "solomon").is_dir():
        known = _known(solomon)
        paths = sorted((solomon / "solomon").glob("*.txt"))
        if not everything:
            classes: dict[str, list[Path]] = {}
            for path in paths:
                classes.setdefault(path.stem[:-2], []).append(path)  # C1, C2, R1, ... RC2
            per_class = 1 if quick else SOLOMON_PER_CLASS
            paths = [p for group in classes.values() for p in _spread(group, per_class)]
            paths = paths[:2] if quick else paths
        chosen += [Instance("Solomon", p, known[p.stem]) for p in sorted(paths)]
    return chosen


def main() -> None:
    """Print the table: gap per instance and backend at both limits, then mean and max."""
    everything = bool(os.environ.get("SHUDAO_BENCH_FIRST_MILE_ALL"))
    quick = bool(os.environ.get("SHUDAO_BENCH_QUICK")) and not everything
    short_s, long_s = (2.0, 5.0) if quick else (SHORT_S, LONG_S)
    chosen = instances(everything, quick)
    if not chosen:
        print(
            f"First mile: skipped, no CVRPLIB X or Solomon instances in {BENCHMARKS_DIR} "
            "(set SHUDAO_BENCHMARKS_DIR)"
        )
        return
    limits = (short_s, long_s)
    columns = [(backend, limit) for backend in BACKENDS for limit in limits]
    print(
        f"First mile on public instances: gap to the best-known value (%), seed {SEED}, one core; "
        f"{'all' if everything else 'sampled'} {len(chosen)} instances; default backend "
        f"{DEFAULT_BACKEND}"
    )
    header = f"{'instance':<14} {'best known':>10} " + " ".join(
        f"{f'{backend} {limit:g}s':>12}" for backend, limit in columns
    )
    print(header + f" {'checks':>6}")
    gaps: dict[tuple[str, str, float], list[float]] = {}
    for instance in chosen:
        problem = read_vrplib(instance.path)
        cells, broken = [], 0
        for backend, limit in columns:
            result = solve_pickups(problem, time_limit_s=limit, seed=SEED, backend=backend)
            broken += len(check_pickups(problem, result))
            if result.unserved:
                cells.append(f"{'no plan':>12}")
                gaps.setdefault((instance.family, backend, limit), []).append(float("inf"))
                continue
            # objectives are sums of rounded distances: round off the float noise
            gap = (round(result.objective, 6) - instance.best_known) / instance.best_known
            gaps.setdefault((instance.family, backend, limit), []).append(gap)
            cells.append(f"{100 * gap:>12.2f}")
            print(
                f"  {instance.name} {backend} {limit:g} s: {result.objective:.1f}",
                file=sys.stderr,
                flush=True,
            )
        print(f"{instance.name:<14} {instance.best_known:>10.1f} {' '.join(cells)} {broken:>6}")
    print()
    print(
        f"{'family':<10} {'backend':<8} {'limit s':>7} {'n':>3} {'mean gap %':>10} {'max gap %':>9}"
    )
    for (family, backend, limit), values in gaps.items():
        print(
            f"{family:<10} {backend:<8} {limit:>7g} {len(values):>3} "
            f"{100 * statistics.mean(values):>10.2f} {100 * max(values):>9.2f}"
        )
    target = gaps.get(("X", DEFAULT_BACKEND, long_s))
    if target:
        mean = statistics.mean(target)
        verdict = "PASS" if mean <= GAP_TARGET else "MISS"
        print(
            f"target: mean gap <= {100 * GAP_TARGET:g} % on X at {long_s:g} s with "
            f"{DEFAULT_BACKEND}: {100 * mean:.2f} % {verdict}"
        )
    print(
        "gap: (objective - best known) / best known; checks: constraints the independent "
        "checker found broken (0 expected); 'no plan': a required pickup left unserved"
    )


if __name__ == "__main__":
    main()
