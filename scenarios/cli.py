"""``shudao scenario``: run a scenario against a baseline, or sweep its uncertain parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from network_data.schema import MODES
from scenarios.spec import Scenario, ScenarioError, load_scenario

scenario_app = typer.Typer(
    help="What-if scenarios: runs against a baseline and Monte Carlo sweeps.",
    no_args_is_help=True,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _scenario(source: str) -> Scenario:
    try:
        return load_scenario(source)
    except ScenarioError as exc:
        _fail(str(exc))


@scenario_app.command("run")
def run(
    file: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario name.")],
    baseline: Annotated[
        str | None, typer.Option(help="Baseline scenario file or name to compare with.")
    ] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Plan this many shipments of the demand (seeded).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"scenario": KPIS, "baseline": KPIS}.')
    ] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Directory for report.html and Parquet.")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes (default: all).")] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar (none either off a terminal).")
    ] = False,
) -> None:
    """Run a scenario: KPIs (against the baseline), an HTML report and per-shipment Parquet."""
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from scenarios.report import write_report
    from scenarios.runner import kpi_document, run_scenario

    spec = _scenario(file)
    base = _scenario(baseline) if baseline is not None else None
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=quiet or not console.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def planning(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"planning {name}", total=total)
            bar.update(tasks[name], completed=done)

        try:
            result = run_scenario(
                spec, baseline=base, sample=sample, workers=workers, progress=planning
            )
        except ScenarioError as exc:
            _fail(str(exc))
    document = kpi_document(result)
    if output is not None:
        written = write_report(result, output)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo(_kpi_text(document))
        if output is not None:
            typer.echo(f"wrote {', '.join(str(p) for p in written)}")


def _kpi_text(document: dict[str, object]) -> str:
    runs = [d for d in (document["scenario"], document["baseline"]) if isinstance(d, dict)]
    lines = ["".join(f"{r['name']!s:>22}" for r in runs).rjust(26 + 22 * len(runs))]
    keys = ("total_cost", "cost_per_t", "carbon_cost", "mean_days", "p90_days", "co2e_kg")
    for key in (*keys, "unserved"):
        cells = "".join(
            f"{r[key]:>22,.2f}" if isinstance(r.get(key), int | float) else f"{'-':>22}"
            for r in runs
        )
        lines.append(f"{key:<26}{cells}")
    for mode in MODES:
        cells = "".join(f"{r['mode_split'][mode]:>22.1%}" for r in runs)
        lines.append(f"{'share ' + mode:<26}{cells}")
    same = document.get("like_with_like")
    if isinstance(same, dict) and len(runs) == 2:
        names = [str(r["name"]) for r in runs]
        lines += [
            "",
            f"like with like: the {same['shipments']:,} sampled shipments both runs serve",
        ]
        for key in ("total_cost", "mean_days", "co2e_kg"):
            values = [same["scenario"][key], same["baseline"][key]]
            cells = "".join(
                f"{v:>22,.2f}" if isinstance(v, int | float) else f"{'-':>22}" for v in values
            )
            lines.append(f"{key:<26}{cells}")
        lines.append(
            f"served by {names[0]} only: {same['only_scenario']:,}; by {names[1]} only: "
            f"{same['only_baseline']:,} (the totals above leave out what a run does not serve)"
        )
    return "\n".join(lines)


@scenario_app.command("sweep")
def sweep(
    file: Annotated[str, typer.Argument(help="Scenario YAML file, or a bundled scenario name.")],
    samples: Annotated[int, typer.Option(min=1, help="Monte Carlo samples.")] = 1000,
    shipments: Annotated[int, typer.Option(min=1, help="Shipments planned per sample.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the draws.")] = 0,
    chunk_size: Annotated[int, typer.Option(min=1, help="Samples per task and file.")] = 10,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local Dask worker processes.")] = 2,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Directory (default: sweep-<name>).")
    ] = None,
) -> None:
    """Monte Carlo over the scenario's uncertain parameters on Dask; rerun to resume."""
    from scenarios.sweep import run_sweep, summarise

    spec = _scenario(file)
    directory = output or Path(f"sweep-{spec.name}")
    try:
        results = run_sweep(
            spec, directory, samples=samples, shipments=shipments, seed=seed,
            chunk_size=chunk_size, scheduler=scheduler, workers=workers, progress=True,
        )  # fmt: skip
    except ScenarioError as exc:
        _fail(str(exc))
    summary = summarise(results, spec)
    for kpi, figures in summary["kpis"].items():
        top = summary["drivers"][kpi][0]
        typer.echo(
            f"{kpi:<12} p10 {figures['p10']:>16,.2f}  p50 {figures['p50']:>16,.2f}  "
            f"p90 {figures['p90']:>16,.2f}   driver {top['parameter']} "
            f"(rank corr. {top['spearman']:+.2f})"
        )
    typer.echo(f"wrote {directory / 'samples.parquet'} and {directory / 'summary.json'}")
