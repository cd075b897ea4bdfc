"""What a forwarder would read in the plans (issue 17): ``python -m benchmarks.plan_quality``.

On 1,000 random shipments from the pilot zones (``bench_routing.random_shipments``), each
shown option is read again from its legs, independently of the planner's own bookkeeping:

- options *barely different* from another shown option (one covers it, :class:`Similarity`;
  target 0), options that follow no product (target 0) and options that double back (target 0);
- the same counts for the planner as it was before (``SHUDAO_BENCH_BASELINE_REV``, default
  30c7eae), run from a git worktree of that commit in a child process on the same shipments
  and on today's network (:func:`baseline_dataset`: the operating rows, in the words that
  planner knows), and its single-plan p50 beside ours, the two taking turns every 50
  shipments over 3 passes, each plan's fastest (target: ours at most 1.5x);
- on 100 of the lanes, a sweep of growing loads (1 to 60 m3 at 250 kg/m3): lanes where the
  cheapest journey's cost falls as the load grows (target 0; issue 17 item 2), and the same on
  the cheapest shown option (the similarity rule may show one up to 5 % dearer instead);
- door-to-door days of the through service on lanes with published times, beside them
  (issue 17 item 3).

Without git or the baseline commit (a copy without history), the baseline rows are skipped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_routing import _shipment, random_shipments
from network_data import Network, load_network
from network_data.load import BUNDLED_DATA_DIR
from network_data.schema import FREIGHT_UNITS, PATHS_FILE
from network_data.validate import haversine_km
from optimizer import quotable
from optimizer.model import Shipment
from optimizer.routing import plan_routes

SHIPMENTS = int(os.environ.get("SHUDAO_BENCH_QUALITY_SHIPMENTS", "1000"))
SWEEP_LANES = 100
SWEEP_M3 = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60)
DENSITY_KG_PER_M3 = 250.0
BASELINE_REV = os.environ.get("SHUDAO_BENCH_BASELINE_REV", "30c7eae")
TARGET_SLOWDOWN = 1.5
#: Timed passes over the shipments, the planners taking turns every CHUNK shipments
#: (:func:`compare_speed`).
ROUNDS = int(os.environ.get("SHUDAO_BENCH_QUALITY_ROUNDS", "3"))
CHUNK = 50
REPO = Path(__file__).resolve().parents[1]
READY = datetime(2026, 12, 7, 8, tzinfo=UTC)
#: Lanes with published door-to-door times: (what, origin, destination, family begins with,
#: published days). The family names the through service: rail across the border, not a
#: train to the border and a truck beyond it.
PUBLISHED = (
    ("Chengdu -> Lodz by rail", "CNCTU-RLY", "PLLOD", "Rail freight via", (12, 16)),
    ("Chongqing -> Vientiane by rail", "CNCKG-RLY", "LAVTE", "Rail freight via Mohan", (4, 5)),
    ("Chongqing -> Hanoi by rail", "CNCKG-RLY", "VNHAN", "Rail freight via Pingxiang", (4, 5)),
    ("Chongqing -> Singapore by rail-sea", "CNCKG-RLY", "SGSIN", "Rail-sea intermodal", (7, 9)),
    ("Chongqing -> Istanbul by the Middle Corridor", "CNCKG-RLY", "TRIST", "Middle Corridor",
     (20, 25)),
)  # fmt: skip


def option_shape(network: Network, corridor_ids: Sequence[str | None], destination: str) -> Any:
    """The shape of a shown option, read from its corridors (road links to coordinates aside)."""
    nodes, corridors = network.nodes, network.corridors
    goal = nodes.loc[destination, ["lat", "lon"]]

    def km(node: str) -> float:
        return haversine_km(nodes.at[node, "lat"], nodes.at[node, "lon"], goal["lat"], goal["lon"])

    legs: list[quotable.Leg] = []
    remaining: list[float] = []
    start = (math.nan, math.nan)
    for corridor_id in corridor_ids:
        if corridor_id is None:
            continue
        row = corridors.loc[corridor_id]
        if not remaining:
            remaining.append(km(row["origin"]))
            start = (nodes.at[row["origin"], "lat"], nodes.at[row["origin"], "lon"])
        end = row["destination"]
        legs.append(
            quotable.Leg(row["mode"], float(row["distance_km"]), end,
                         nodes.at[end, "kind"] == "border_crossing", tuple(row["passages"]),
                         nodes.at[end, "lat"], nodes.at[end, "lon"])
        )  # fmt: skip
        remaining.append(km(end))
    table = network.products
    products = quotable.products_by_chain(
        table.index, table["name"], table["chain"], table["passages"]
    )
    shape = quotable.shape(legs, remaining, products, dict(network.nodes["name_en"]), start)
    # the planner looks for doubling back in products only; count it in every shown option
    return shape._replace(doubles_back_at=quotable.doubles_back(legs, remaining, start))


def read_options(
    network: Network, options: Sequence[dict[str, Any]], destination: str
) -> Counter[str]:
    """How many of a plan's shown options are not sold, double back or are barely different."""
    counts: Counter[str] = Counter()
    candidates = []
    for option in options:
        shape = option_shape(network, option["corridors"], destination)
        counts["shown"] += 1
        counts["not sold"] += shape.product is None
        counts["doubles back"] += shape.doubles_back_at is not None
        candidates.append(
            quotable.Candidate(option["cost_cny"], option["transit_h"], option["co2e_kg"])
        )
    similarity = quotable.Similarity()
    counts["barely different"] += sum(
        any(similarity.covers(other, candidate) for other in candidates if other is not candidate)
        for candidate in candidates
    )
    return counts


def _option_rows(plan: Any, ready: datetime) -> list[dict[str, Any]]:
    return [
        {
            "corridors": [leg.corridor_id for leg in option.legs],
            "cost_cny": option.cost_cny,
            "transit_h": (option.arrival - ready).total_seconds() / 3600,
            "co2e_kg": option.co2e_kg,
        }
        for option in plan.options
    ]


def warm_up(network: Network, rows: list[dict[str, Any]]) -> tuple[list[Shipment], list[Any]]:
    """Plan every row once (compiles, and fills the caches a long-running service has); the
    shipments and the options shown."""
    shipments = [_shipment(row) for row in rows]
    options = [_option_rows(plan_routes(network, s), s.ready_at) for s in shipments]
    return shipments, options


def timed_pass(network: Network, shipments: Sequence[Shipment]) -> list[float]:
    """Seconds to plan each shipment, once more."""
    seconds = []
    for shipment in shipments:
        start = time.perf_counter()
        plan_routes(network, shipment)
        seconds.append(time.perf_counter() - start)
    return seconds


def per_plan_fastest(rounds: Sequence[Sequence[float]]) -> list[float]:
    """Each plan's fastest seconds over the rounds: what the planner costs, less the moments
    the machine was busy with something else."""
    return [min(times) for times in zip(*rounds, strict=True)]


@contextlib.contextmanager
def baseline_tree() -> Iterator[Path | None]:
    """A git worktree of :data:`BASELINE_REV`, removed afterwards; None when there is none."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        yield None
        return
    tree = Path(tempfile.mkdtemp(prefix="shudao-baseline-"))
    added = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), BASELINE_REV],
        capture_output=True, text=True,
    )  # fmt: skip
    try:
        yield tree if added.returncode == 0 else None
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(tree, ignore_errors=True)


#: What the baseline's child process runs: :func:`warm_up` and :func:`timed_pass` written
#: against the baseline's own API (the child must not import anything of this tree). It
#: answers the options it shows, then one line of seconds for each "first last" it is sent
#: (the shipments ``first:last`` planned once more).
_BASELINE_CHILD = """
import json, sys, time
from datetime import datetime
from network_data import load_network
from optimizer.routing import Shipment, plan_routes
with open(sys.argv[2], encoding="utf-8") as rows_file:
    rows = json.load(rows_file)
network = load_network(sys.argv[1])
shipments = [
    Shipment(r["origin"], r["destination"], float(r["weight_kg"]), float(r["volume_m3"]),
             ready_at=datetime.fromisoformat(r["ready_at"]))
    for r in rows
]
options = []
for shipment in shipments:
    plan = plan_routes(network, shipment)
    options.append([
        {"corridors": [leg.corridor_id for leg in o.legs], "cost_cny": o.cost_cny,
         "transit_h": (o.arrival - shipment.ready_at).total_seconds() / 3600,
         "co2e_kg": o.co2e_kg}
        for o in plan.options
    ])
print(json.dumps(options), flush=True)
for command in sys.stdin:
    first, last = map(int, command.split())
    seconds = []
    for shipment in shipments[first:last]:
        start = time.perf_counter()
        plan_routes(network, shipment)
        seconds.append(time.perf_counter() - start)
    print(json.dumps(seconds), flush=True)
"""


#: Words of today's dataset the baseline's loader does not know, and what it reads instead.
_BASELINE_KINDS = {"express_hub": "industrial_park", "dry_port": "rail_terminal"}
_BASELINE_PARITIES = {"4-weekly": "odd"}


def baseline_dataset(network: Network, directory: Path) -> Path:
    """Today's bundled dataset as the baseline's loader reads it, written to ``directory``:
    only what operates (``network``'s rows), node kinds and week parities it knows, and only
    the freight rates (it had no per-booking or customs charges); files it does not read are
    left as they are."""
    import pandas as pd

    shutil.copytree(BUNDLED_DATA_DIR, directory, dirs_exist_ok=True)

    def rewrite(name: str, keep: Any) -> None:
        table = pd.read_csv(directory / name, dtype=str, keep_default_na=False)
        keep(table).to_csv(directory / name, index=False)

    rewrite("nodes.csv", lambda t: t[t["id"].isin(network.nodes.index)].replace(
        {"kind": _BASELINE_KINDS}))  # fmt: skip
    rewrite("corridors.csv", lambda t: t[t["id"].isin(network.corridors.index)])
    rewrite("services.csv", lambda t: t[t["service_id"].isin(network.services["service_id"])]
            .replace({"week_parity": _BASELINE_PARITIES}))  # fmt: skip
    rewrite("tariffs.csv", lambda t: t[t["unit"].isin(FREIGHT_UNITS) & (
        t["scope"].str.startswith("mode:") | t["scope"].isin(network.corridors.index))
    ])  # fmt: skip
    paths = json.loads((directory / PATHS_FILE).read_text(encoding="utf-8"))
    paths["features"] = [
        f for f in paths["features"] if f["properties"]["id"] in network.corridors.index
    ]
    (directory / PATHS_FILE).write_text(json.dumps(paths), encoding="utf-8")
    return directory


def compare_speed(
    tree: Path, network: Network, rows: list[dict[str, Any]], shipments: Sequence[Shipment]
) -> tuple[list[Any], list[float], list[float]]:
    """The baseline's planner on today's network (:func:`baseline_dataset`), in a child
    process in its tree, and ours, timed in turns of :data:`CHUNK` shipments over
    :data:`ROUNDS` passes, so that a machine that speeds up or slows down during the run moves
    both alike: the baseline's shown options, and each plan's fastest seconds, the baseline's
    and ours."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    data = baseline_dataset(network, tree / "today_data")
    rows_file = tree / "rows.json"
    rows_file.write_text(json.dumps(rows), encoding="utf-8")
    ours: list[list[float]] = []
    theirs: list[list[float]] = []
    with subprocess.Popen(
        [sys.executable, "-c", _BASELINE_CHILD, str(data), str(rows_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree, env=environment,
    ) as child:  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        options = json.loads(child.stdout.readline())
        for _ in range(ROUNDS):
            ours.append([])
            theirs.append([])
            for first in range(0, len(shipments), CHUNK):
                last = min(first + CHUNK, len(shipments))
                ours[-1] += timed_pass(network, shipments[first:last])
                child.stdin.write(f"{first} {last}\n")
                child.stdin.flush()
                theirs[-1] += json.loads(child.stdout.readline())
        child.stdin.close()
    if child.returncode != 0:
        raise RuntimeError(f"the baseline's planner stopped with exit code {child.returncode}")
    return options, per_plan_fastest(theirs), per_plan_fastest(ours)


def sweep(network: Network, rows: list[dict[str, Any]]) -> tuple[int, float, int, float]:
    """Lanes where a larger load costs less, and the largest such fall: on the plan's cheapest
    journey (its front), then on its cheapest shown option, which the similarity rule may
    replace by one up to 5 % dearer but better on time or CO2e."""
    falling = {"front": 0, "shown": 0}
    worst = {"front": 0.0, "shown": 0.0}
    for row in rows[:SWEEP_LANES]:
        base = _shipment(row)
        costs: dict[str, list[float]] = {"front": [], "shown": []}
        for m3 in SWEEP_M3:
            shipment = replace(base, weight_kg=m3 * DENSITY_KG_PER_M3, volume_m3=float(m3),
                               max_options=1)  # fmt: skip
            plan = plan_routes(network, shipment)
            costs["front"].append(min((j.cost_cny for j in plan.front), default=math.nan))
            costs["shown"].append(min((o.cost_cny for o in plan.options), default=math.nan))
        for what, series in costs.items():
            drops = [(a - b) / a for a, b in itertools.pairwise(series) if b < a]
            falling[what] += bool(drops)
            worst[what] = max([worst[what], *drops])
    return falling["front"], worst["front"], falling["shown"], worst["shown"]


def fastest_days(
    network: Network, origin: str, destination: str, family: str, step_h: int = 2
) -> float | None:
    """Door-to-door days of the fastest journey of a family, for cargo handed over at the best
    moment of the week of :data:`READY` (tried every ``step_h`` hours): published transit times
    are for cargo that meets the service, and a weekly train makes a badly timed shipment wait
    up to a week longer (its plan says so)."""
    best: float | None = None
    for k in range(0, 7 * 24, step_h):
        ready = READY.replace(hour=0) + timedelta(hours=k)
        shipment = Shipment(origin, destination, 2_000, 10, ready_at=ready)
        plan = plan_routes(network, shipment, every_journey=True)
        for option in plan.options:
            if option.family.startswith(family):
                days = (option.arrival - ready) / timedelta(days=1)
                best = days if best is None else min(best, days)
    return best


def published(network: Network) -> list[tuple[str, str, float | None]]:
    """Door-to-door days of the fastest journey of each published lane's family."""
    return [
        (f"{what} (published {low}-{high})", family,
         fastest_days(network, origin, destination, family))
        for what, origin, destination, family, (low, high) in PUBLISHED
    ]  # fmt: skip


def main() -> None:
    """Print the plan-quality table."""
    network = load_network()
    table = random_shipments(network, SHIPMENTS)
    rows = [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]
    shipments, options = warm_up(network, rows)
    ours: Counter[str] = Counter()
    for row, shown in zip(rows, options, strict=True):
        ours += read_options(network, shown, str(row["destination"]))
    header = (f"{'planner':<22} {'shown':>7} {'barely diff.':>13} {'not sold':>9} "
              f"{'doubles back':>13} {'p50 ms':>8}")  # fmt: skip

    def row_text(name: str, counts: Counter[str], p50_ms: float) -> str:
        return (f"{name:<22} {counts['shown']:>7} {counts['barely different']:>13} "
                f"{counts['not sold']:>9} {counts['doubles back']:>13} {p50_ms:>8.2f}")  # fmt: skip

    print(f"Plan quality, {SHIPMENTS:,} random shipments (options read again from their legs; "
          f"p50 of each plan's fastest of {ROUNDS} passes)")  # fmt: skip
    with baseline_tree() as tree:
        if tree is None:
            seconds = per_plan_fastest([timed_pass(network, shipments) for _ in range(ROUNDS)])
            print(header, row_text("now", ours, statistics.median(seconds) * 1000), sep="\n")
            print(f"baseline skipped: no git worktree of {BASELINE_REV}")
        else:
            their_options, their_seconds, seconds = compare_speed(tree, network, rows, shipments)
            theirs: Counter[str] = Counter()
            for row, shown in zip(rows, their_options, strict=True):
                theirs += read_options(network, shown, str(row["destination"]))
            p50_ms = statistics.median(seconds) * 1000
            base_ms = statistics.median(their_seconds) * 1000
            print(header, row_text("now", ours, p50_ms), sep="\n")
            print(row_text(f"before ({BASELINE_REV})", theirs, base_ms))
            ratio = p50_ms / base_ms
            verdict = "met" if ratio <= TARGET_SLOWDOWN else "not met"
            print(f"single-plan p50 now / before: {ratio:.2f} (target <= {TARGET_SLOWDOWN}: "
                  f"{verdict})")  # fmt: skip
    falling, worst, falling_shown, worst_shown = sweep(network, rows)
    print(f"load sweep, {SWEEP_LANES} lanes x {len(SWEEP_M3)} loads: {falling} lanes where a "
          f"larger load's cheapest journey costs less (target 0), largest fall {worst:.1%}; "
          f"on the cheapest shown option {falling_shown} lanes, largest fall "
          f"{worst_shown:.1%}")  # fmt: skip
    print(
        "published lanes: the fastest journey of the through service, door-to-door days, "
        "for cargo handed over at the best moment of the week"
    )
    for what, family, days in published(network):
        shown = f"{days:.1f}" if days is not None else "no option"
        print(f"  {what:<62} {family:<28} {shown:>9}")


if __name__ == "__main__":
    main()
