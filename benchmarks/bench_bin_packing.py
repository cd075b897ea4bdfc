"""Exact bin packing on BPPLIB: how often the proven optimum is reached within 10 s.

Instances come from ``$SHUDAO_BENCHMARKS_DIR/bin_packing`` (default ``../shared/benchmarks``
beside the repository) and are not copied into the repository. Families: Falkenauer u120, t60
and t120 (all 20 each), :data:`SCHOLL_SAMPLE` Scholl instances of capacity <= 1000 drawn with a
fixed seed, and Scholl HARD0-HARD2 (capacity 100,000). Every known optimum is a proven one
(``known_optima.csv``).

Three methods run in the same process, one instance after the other, 10 s each:

- ours: :func:`optimizer.consolidation.bin_packing.solve_bin_packing` (FFD, L2, arc-flow MIP in
  HiGHS on one thread);
- FFD: first-fit decreasing alone;
- the textbook item-to-bin assignment model in CP-SAT (one Boolean per item and bin, as many
  bins as first-fit used, bins used in order), same seed, on all cores; the first
  :data:`ASSIGNMENT_SAMPLE` instances of each family only, to bound the run time.

An instance counts as solved when the method's bin count equals the known optimum; "proven" when
the method also proved it. Every packing is verified with :func:`optimizer.check.check_bin_packing`.
Target (issue 5): >= 95 % of the Falkenauer instances solved. The run takes about 6 minutes.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ortools.sat.python import cp_model

from benchmarks import BENCHMARKS_DIR
from optimizer._ortools import cp_sat_status
from optimizer.check import check_bin_packing
from optimizer.consolidation.bin_packing import first_fit_decreasing, read_bpp, solve_bin_packing
from optimizer.results import SolveStatus

TIME_LIMIT_S = 10.0
SEED = 20261122
ASSIGNMENT_SAMPLE = 5
FALKENAUER_TARGET = 0.95
SCHOLL_SAMPLE = 20


@dataclass(frozen=True)
class Instance:
    """One BPPLIB instance with its proven optimum."""

    name: str
    sizes: list[int]
    capacity: int
    optimum: int


@dataclass(frozen=True)
class Run:
    """One method on one instance: bins used, whether it proved optimality, wall seconds."""

    bins: int
    proven: bool
    seconds: float


def families(folder: Path) -> dict[str, list[Instance]]:
    """The benchmark families, each a fixed, sorted list of instances."""
    with (folder / "known_optima.csv").open(newline="") as file:
        optima = {row["instance"]: int(row["optimum_or_bks"]) for row in csv.DictReader(file)}

    def load(paths: list[Path]) -> list[Instance]:
        return [Instance(path.stem, *read_bpp(path), optima[path.stem]) for path in paths]

    scholl = sorted((folder / "scholl").glob("*.txt"))
    hard = [path for path in scholl if path.stem.startswith("HARD")]
    small = [path for path in scholl if path not in hard]
    return {
        f"Falkenauer {kind}": load(sorted((folder / "falkenauer").glob(f"Falkenauer_{kind}_*.txt")))
        for kind in ("u120", "t60", "t120")
    } | {
        "Scholl, capacity <= 1000": load(sorted(random.Random(SEED).sample(small, SCHOLL_SAMPLE))),
        "Scholl HARD, capacity 100000": load(hard[:3]),
    }


def run_ours(instance: Instance) -> tuple[Run, list[list[int]]]:
    result = solve_bin_packing(
        instance.sizes, instance.capacity, time_limit_s=TIME_LIMIT_S, seed=SEED
    )
    proven = result.status == SolveStatus.OPTIMAL
    return Run(result.num_bins, proven, result.runtime_s), result.bins


def run_first_fit(instance: Instance) -> tuple[Run, list[list[int]]]:
    start = time.perf_counter()
    bins = first_fit_decreasing(instance.sizes, instance.capacity)
    return Run(len(bins), False, time.perf_counter() - start), bins


def run_assignment(instance: Instance) -> tuple[Run, list[list[int]]]:
    """Item-to-bin assignment model in CP-SAT; first-fit's packing if it finds nothing."""
    start = time.perf_counter()
    sizes, capacity = instance.sizes, instance.capacity
    bin_range = range(len(first_fit_decreasing(sizes, capacity)))
    model = cp_model.CpModel()
    packed = {
        (item, bin_number): model.new_bool_var(f"x_{item}_{bin_number}")
        for item in range(len(sizes))
        for bin_number in bin_range
    }
    used = [model.new_bool_var(f"used_{bin_number}") for bin_number in bin_range]
    for item in range(len(sizes)):
        model.add_exactly_one(packed[item, bin_number] for bin_number in bin_range)
    for bin_number in bin_range:
        model.add(
            sum(sizes[item] * packed[item, bin_number] for item in range(len(sizes)))
            <= capacity * used[bin_number]
        )
    for earlier, later in itertools.pairwise(used):
        model.add_implication(later, earlier)
    model.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = TIME_LIMIT_S
    solver.parameters.random_seed = SEED
    solver.parameters.num_workers = os.cpu_count() or 1
    status = cp_sat_status(int(solver.solve(model)))
    seconds = time.perf_counter() - start
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        first_fit = first_fit_decreasing(sizes, capacity)
        return Run(len(first_fit), False, seconds), first_fit
    bins = [
        [item for item in range(len(sizes)) if solver.value(packed[item, bin_number])]
        for bin_number in bin_range
    ]
    bins = [items for items in bins if items]
    return Run(len(bins), status == SolveStatus.OPTIMAL, seconds), bins


METHODS: dict[str, Callable[[Instance], tuple[Run, list[list[int]]]]] = {
    "ours (arc-flow, HiGHS)": run_ours,
    "first-fit decreasing": run_first_fit,
    "CP-SAT assignment": run_assignment,
}


def measure(
    family: list[Instance], progress: Callable[[str], None]
) -> dict[str, list[tuple[Instance, Run]]]:
    """Every method on the instances it runs on; raises if a packing is infeasible."""
    runs: dict[str, list[tuple[Instance, Run]]] = {name: [] for name in METHODS}
    for position, instance in enumerate(family):
        for name, method in METHODS.items():
            if method is run_assignment and position >= ASSIGNMENT_SAMPLE:
                continue
            run, bins = method(instance)
            problems = check_bin_packing(instance.sizes, instance.capacity, bins)
            if problems:
                raise AssertionError(f"{name} on {instance.name}: {problems}")
            runs[name].append((instance, run))
            progress(
                f"{instance.name}: {name} {run.bins} bins (optimum {instance.optimum}), "
                f"{run.seconds:.2f} s"
            )
    return runs


def solved_share(runs: list[tuple[Instance, Run]]) -> float:
    return sum(run.bins == instance.optimum for instance, run in runs) / len(runs)


def main() -> None:
    """Print the bin-packing table: share solved to optimality, extra bins, seconds."""
    folder = BENCHMARKS_DIR / "bin_packing"
    if not folder.is_dir():
        print(f"Bin packing: skipped, no BPPLIB instances in {folder} (set SHUDAO_BENCHMARKS_DIR)")
        return

    def progress(line: str) -> None:
        print(f"  {line}", file=sys.stderr, flush=True)

    measured = {name: measure(family, progress) for name, family in families(folder).items()}
    print(
        f"Bin packing, BPPLIB ({TIME_LIMIT_S:.0f} s per instance, seed {SEED}; CP-SAT on the first "
        f"{ASSIGNMENT_SAMPLE} of each family, {os.cpu_count()} workers; ours 1 thread)"
    )
    header = (
        f"{'family':<30} {'method':<24} {'n':>3} {'solved %':>9} {'proven %':>9} "
        f"{'extra bins':>10} {'mean s':>7} {'max s':>6}"
    )
    print(header)
    for family, runs in measured.items():
        for name, method_runs in runs.items():
            seconds = [run.seconds for _, run in method_runs]
            proven = sum(run.proven for _, run in method_runs) / len(method_runs)
            extra = statistics.mean(run.bins - instance.optimum for instance, run in method_runs)
            proven_text = "-" if name == "first-fit decreasing" else f"{100 * proven:.0f}"
            print(
                f"{family:<30} {name:<24} {len(method_runs):>3} "
                f"{100 * solved_share(method_runs):>9.0f} {proven_text:>9} {extra:>10.2f} "
                f"{statistics.mean(seconds):>7.2f} {max(seconds):>6.2f}"
            )

    ours, assignment = "ours (arc-flow, HiGHS)", "CP-SAT assignment"
    falkenauer = [
        pair for family in ("Falkenauer u120", "Falkenauer t60") for pair in measured[family][ours]
    ]
    share = solved_share(falkenauer)
    print(
        f"Falkenauer u120 + t60 solved by ours / target ({100 * FALKENAUER_TARGET:.0f} %): "
        f"{100 * share:.0f} % / {100 * FALKENAUER_TARGET:.0f} % = {share / FALKENAUER_TARGET:.2f}"
        f"  {'PASS' if share >= FALKENAUER_TARGET else 'FAIL'}"
    )
    sampled = {instance.name for runs in measured.values() for instance, _ in runs[assignment]}
    ours_sampled = [
        pair for runs in measured.values() for pair in runs[ours] if pair[0].name in sampled
    ]
    assignment_runs = [pair for runs in measured.values() for pair in runs[assignment]]
    ours_s = statistics.mean(run.seconds for _, run in ours_sampled)
    assignment_s = statistics.mean(run.seconds for _, run in assignment_runs)
    print(
        f"same {len(sampled)} instances, solved: ours {100 * solved_share(ours_sampled):.0f} %, "
        f"CP-SAT assignment {100 * solved_share(assignment_runs):.0f} %; "
        f"mean seconds CP-SAT / ours: {assignment_s / ours_s:.1f}"
    )
    all_ours = [pair for runs in measured.values() for pair in runs[ours]]
    all_first_fit = [pair for runs in measured.values() for pair in runs["first-fit decreasing"]]
    print(
        f"all {len(all_ours)} instances, extra bins over the optimum: "
        f"first-fit {sum(run.bins - i.optimum for i, run in all_first_fit)}, "
        f"ours {sum(run.bins - i.optimum for i, run in all_ours)}"
    )


if __name__ == "__main__":
    main()
