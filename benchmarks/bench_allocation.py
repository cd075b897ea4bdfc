"""Allocation on OR-Library's capacitated warehouse location instances (Beasley), against HiGHS.

Instances come from ``$SHUDAO_BENCHMARKS_DIR/cflp_orlib`` (default ``../shared/benchmarks``
beside the repository) with their published optima (``known_optima.csv``, all proven), and are
not copied into the repository. Demand may be split, as in the published optima.

(1) cap41..cap134: 37 instances of 16, 25 or 50 warehouses and 50 customers. Target (issue 6):
every one solved to proven optimality with the published value to 1e-6 relative.

(2) capa, capb, capc with each of their four capacities: 12 instances of 100 warehouses and
1,000 customers. Target: a gap <= 0.5 % within 120 s each.

Beside each of our runs, in the same process, the identical MIP (every strong linking row, the
same columns, rows and bounds) goes straight to HiGHS through ``highspy`` with the same time
limit, seed and gap tolerance; the table gives the time ratio ours / HiGHS per instance and
overall (geometric mean, and total seconds). Ours adds to HiGHS the Lagrangian choice of
linking rows and the start on large instances (:mod:`optimizer.allocation._lagrange`).

``SHUDAO_BENCH_QUICK=1`` runs a sample (3 small, 1 large instance);
``SHUDAO_BENCH_CFLP_LARGE`` names the large instances to run (``capa_8000,capb_6000``; default
all 12; ``none`` for none). The full run takes up to 12 x 2 x 120 s for part (2).
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import BENCHMARKS_DIR
from optimizer._ortools import native_stdout_silenced
from optimizer.allocation import AllocationProblem, read_orlib_cap, solve_allocation
from optimizer.allocation._model import formulate, matrix
from optimizer.allocation.solve import GAP_TOLERANCE
from optimizer.check import check_allocation

SEED = 20261122
SMALL_TIME_LIMIT_S = 120.0
LARGE_TIME_LIMIT_S = 120.0
LARGE_GAP_TARGET = 0.005
VALUE_TOLERANCE = 1e-6
CAPACITIES = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}
SMALL = tuple(
    f"cap{k}"
    for k in (41, 42, 43, 44, 51, 61, 62, 63, 64, 71, 72, 73, 74, 81, 82, 83, 84, 91, 92, 93, 94,
              101, 102, 103, 104, 111, 112, 113, 114, 121, 122, 123, 124, 131, 132, 133, 134)
)  # fmt: skip
QUICK_SMALL = ("cap41", "cap71", "cap131")
QUICK_LARGE = ("capb_5000",)


@dataclass(frozen=True)
class Run:
    """One solver's answer on one instance."""

    status: str
    value: float
    bound: float
    seconds: float

    @property
    def gap(self) -> float:
        """(value - bound) / value; inf without a value."""
        if not math.isfinite(self.value):
            return math.inf
        return max(0.0, (self.value - self.bound) / abs(self.value)) if self.value else 0.0


def ours(problem: AllocationProblem, time_limit_s: float) -> tuple[Run, int]:
    """Our solver, and how many constraints the independent checker finds broken."""
    with native_stdout_silenced():
        result = solve_allocation(problem, time_limit_s=time_limit_s, seed=SEED)
    broken = len(check_allocation(problem, result))
    return Run(result.status.value, result.objective, result.bound, result.runtime_s), broken


#: HiGHS through highspy runs in a child process: highspy and OR-Tools each ship a
#: ``libhighs.so.1`` (1.15.1 and OR-Tools' own 1.12.0), and one process can load only one.
_PEER = r"""
import json, sys, time
import numpy as np
import highspy
data = np.load(sys.argv[1])
time_limit_s, seed, gap = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
lp = highspy.HighsLp()
lp.num_col_, lp.num_row_ = len(data["cost"]), len(data["row_lower"])
lp.col_cost_, lp.col_lower_, lp.col_upper_ = data["cost"], data["lower"], data["upper"]
lp.row_lower_, lp.row_upper_ = data["row_lower"], data["row_upper"]
lp.offset_ = float(data["constant"])
lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
lp.a_matrix_.start_ = np.searchsorted(data["entry_row"], np.arange(lp.num_row_ + 1))
lp.a_matrix_.index_, lp.a_matrix_.value_ = data["entry_col"], data["entry_value"]
kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
lp.integrality_ = [kinds[int(flag)] for flag in data["integer"]]
highs = highspy.Highs()
highs.setOptionValue("output_flag", False)
highs.setOptionValue("time_limit", max(time_limit_s - (time.perf_counter() - start), 0.1))
highs.setOptionValue("random_seed", seed)
highs.setOptionValue("mip_rel_gap", gap)
highs.passModel(lp)
highs.run()
info = highs.getInfo()
optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
has_value = info.primal_solution_status == 2
print(json.dumps({
    "status": "optimal" if optimal else "feasible" if has_value else "timed_out",
    "value": info.objective_function_value if has_value else None,
    "bound": info.mip_dual_bound, "seconds": time.perf_counter() - start}))
"""


def highs_alone(problem: AllocationProblem, time_limit_s: float) -> Run:
    """The full strong formulation, from the same arrays as ours, solved by ``highspy``.

    The seconds count building the arrays here and the model and solve in the child.
    """
    start = time.perf_counter()
    model = matrix(formulate(problem))
    built_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        np.savez(
            path, cost=model.cost, lower=model.lower, upper=model.upper, integer=model.integer,
            row_lower=model.row_lower, row_upper=model.row_upper, entry_row=model.entry_row,
            entry_col=model.entry_col, entry_value=model.entry_value, constant=model.constant,
        )  # fmt: skip
        answer = subprocess.run(
            [sys.executable, "-c", _PEER, str(path), str(time_limit_s - built_s),
             str(SEED % 2**31), str(GAP_TOLERANCE)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    value = math.inf if found["value"] is None else float(found["value"])
    return Run(found["status"], value, float(found["bound"]), built_s + found["seconds"])


def known_optima(folder: Path) -> dict[str, float]:
    """Published optima by instance name (``cap41``, ``capa_8000``)."""
    with (folder / "known_optima.csv").open() as f:
        return {row["instance"]: float(row["optimum_or_bks"]) for row in csv.DictReader(f)}


def load(folder: Path, name: str) -> AllocationProblem:
    """An instance by name: ``cap41`` or ``capa_8000``."""
    if "_" in name:
        family, capacity = name.split("_")
        return read_orlib_cap(folder / f"{family}.txt", float(capacity))
    return read_orlib_cap(folder / f"{name}.txt")


def row(name: str, problem: AllocationProblem, optimum: float, mine: Run, peer: Run) -> str:
    """One line of figures."""
    error = abs(mine.value - optimum) / optimum if math.isfinite(mine.value) else math.inf
    ratio = mine.seconds / peer.seconds if peer.seconds > 0 else math.inf
    size = f"{len(problem.warehouses)}x{len(problem.customers)}"
    return (
        f"{name:<11} {size:>8} {optimum:>15,.3f} | {mine.status:>9} {mine.value:>15,.3f} "
        f"{100 * mine.gap:>7.3f} {mine.seconds:>7.2f} {error:>8.1e} | {peer.status:>9} "
        f"{peer.value:>15,.3f} {100 * peer.gap:>7.3f} {peer.seconds:>7.2f} | {ratio:>6.2f}"
    )


HEADER = (
    f"{'instance':<11} {'m x n':>8} {'published':>15} | {'ours':>9} {'value':>15} "
    f"{'gap %':>7} {'secs':>7} {'rel err':>8} | {'HiGHS':>9} {'value':>15} {'gap %':>7} "
    f"{'secs':>7} | {'ratio':>6}"
)


def main() -> None:
    """Print both tables."""
    folder = BENCHMARKS_DIR / "cflp_orlib"
    if not (folder / "known_optima.csv").is_file():
        print(
            f"Allocation: skipped, no OR-Library instances in {folder} (set SHUDAO_BENCHMARKS_DIR)"
        )
        return
    quick = bool(os.environ.get("SHUDAO_BENCH_QUICK"))
    optima = known_optima(folder)
    small = [n for n in (QUICK_SMALL if quick else SMALL) if (folder / f"{n}.txt").is_file()]
    large = [f"{family}_{c}" for family, caps in CAPACITIES.items() for c in caps]
    chosen = os.environ.get("SHUDAO_BENCH_CFLP_LARGE")
    if quick:
        large = list(QUICK_LARGE)
    elif chosen:
        large = [] if chosen == "none" else [n.strip() for n in chosen.split(",") if n.strip()]
    large = [n for n in large if (folder / f"{n.split('_')[0]}.txt").is_file()]
    ratios: list[float] = []
    totals = [0.0, 0.0]

    print(
        f"Allocation (1): OR-Library cap41..cap134, split demand, limit {SMALL_TIME_LIMIT_S:g} s, "
        f"seed {SEED}; target: proven optimal, value = published to {VALUE_TOLERANCE:g}"
    )
    print(HEADER)
    families: dict[str, list[bool]] = {}
    broken_total = 0
    for name in small:
        problem = load(folder, name)
        mine, broken = ours(problem, SMALL_TIME_LIMIT_S)
        peer = highs_alone(problem, SMALL_TIME_LIMIT_S)
        broken_total += broken
        optimum = optima[name]
        ok = (
            mine.status == "optimal"
            and abs(mine.value - optimum) <= VALUE_TOLERANCE * optimum
            and broken == 0
        )
        families.setdefault(name[:-1] + "x", []).append(ok)
        ratios.append(mine.seconds / peer.seconds)
        totals[0] += mine.seconds
        totals[1] += peer.seconds
        print(row(name, problem, optimum, mine, peer), flush=True)
    if small:
        counts = ", ".join(f"{family} {sum(oks)}/{len(oks)}" for family, oks in families.items())
        solved = sum(sum(oks) for oks in families.values())
        verdict = "PASS" if solved == len(small) else "MISS"
        print(f"proven optimal at the published value, per family: {counts}")
        print(
            f"{solved}/{len(small)} instances; checker: {broken_total} broken constraints; "
            f"{verdict}"
        )

    print()
    print(
        f"Allocation (2): OR-Library capa/capb/capc, 100 x 1000, limit {LARGE_TIME_LIMIT_S:g} s "
        f"each, seed {SEED}; target: gap <= {100 * LARGE_GAP_TARGET:g} %"
    )
    print(HEADER)
    met = 0
    for name in large:
        problem = load(folder, name)
        mine, broken = ours(problem, LARGE_TIME_LIMIT_S)
        peer = highs_alone(problem, LARGE_TIME_LIMIT_S)
        ratios.append(mine.seconds / peer.seconds)
        totals[0] += mine.seconds
        totals[1] += peer.seconds
        ok = mine.gap <= LARGE_GAP_TARGET and broken == 0
        met += ok
        print(
            row(name, problem, optima[name], mine, peer)
            + f"  check {broken} {'PASS' if ok else 'MISS'}",
            flush=True,
        )
    if large:
        print(
            f"{met}/{len(large)} within {100 * LARGE_GAP_TARGET:g} % in "
            f"{LARGE_TIME_LIMIT_S:g} s; {'PASS' if met == len(large) else 'MISS'}"
        )
    if ratios:
        print(
            f"time ours / HiGHS alone: geometric mean {statistics.geometric_mean(ratios):.2f} "
            f"over {len(ratios)} instances; total {totals[0]:.1f} s / {totals[1]:.1f} s = "
            f"{totals[0] / totals[1]:.2f}"
        )
    print(
        "gap: (value - proven bound) / value; rel err: |value - published| / published; ratio: "
        "our seconds / HiGHS's seconds on the identical MIP (< 1: ours is faster)"
    )


if __name__ == "__main__":
    main()
