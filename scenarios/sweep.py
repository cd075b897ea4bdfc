"""Monte Carlo sweeps of a scenario's uncertain parameters on Dask, resumable.

Sample ``i`` draws every uncertain parameter from ``numpy.random.default_rng([seed, i])``, so
a sample's draws do not depend on how samples are chunked or which worker runs them, and every
sample plans the same demand sample (common random numbers: the spread comes from the
parameters). Samples run in chunks; each finished chunk is written to
``<output>/chunks/chunk-<first sample>.parquet`` (written to a temporary name, then renamed).
Running the sweep again with the same settings skips the chunks already on disk, so an
interrupted sweep continues where it stopped (:func:`optimizer.distributed.run_chunks`, which
the route batch of :func:`optimizer.routing.batch.plan_batch_to_parquet` uses too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from network_data.schema import MODES
from optimizer.distributed import OtherRunError, chunk_path, chunk_starts, run_chunks
from scenarios.runner import run_scenario
from scenarios.spec import KPI_COLUMNS, Scenario, ScenarioError, Uncertain, scenario_from_dict


def draw(parameter: Uncertain, rng: np.random.Generator) -> float:
    """One draw of ``parameter``'s distribution, clipped to its :attr:`~Uncertain.support`.

    Examples
    --------
    >>> p = Uncertain(name="x", path="a", distribution="uniform", low=1, high=2)
    >>> 1 <= draw(p, np.random.default_rng(0)) <= 2
    True
    """
    low, high = parameter.support
    given = {k: v for k, v in parameter.model_dump().items() if isinstance(v, float | int)}
    if parameter.distribution == "uniform":
        return float(rng.uniform(low, high))
    if parameter.distribution == "triangular":
        return float(rng.triangular(low, given["mode"], high))
    if parameter.distribution == "normal":
        return float(np.clip(rng.normal(given["mean"], given["sd"]), low, high))
    return float(np.clip(rng.lognormal(np.log(given["median"]), given["sigma"]), low, high))


def sample_values(scenario: Scenario, index: int, seed: int) -> dict[str, float]:
    """The draws of sample ``index``: parameter name -> value.

    Examples
    --------
    >>> from scenarios.spec import load_scenario
    >>> s = load_scenario("border_congestion")
    >>> sample_values(s, 3, seed=7) == sample_values(s, 3, seed=7) != sample_values(s, 4, seed=7)
    True
    """
    rng = np.random.default_rng([seed, index])
    return {p.name: scenario.snap(p, draw(p, rng)) for p in scenario.uncertain}


def run_samples(
    document: dict[str, Any], base_dir: str, indices: list[int], seed: int, shipments: int
) -> pd.DataFrame:
    """Run the samples ``indices`` of a scenario (its JSON form); one row per sample."""
    scenario = scenario_from_dict(document, base_dir=base_dir)
    paths = {p.name: p.path for p in scenario.uncertain}
    rows = []
    for index in indices:
        values = sample_values(scenario, index, seed)
        changed = scenario.with_values({paths[name]: value for name, value in values.items()})
        kpis = run_scenario(changed, sample=shipments, workers=1).kpis
        rows.append(
            {
                "sample": index,
                **values,
                **{name: kpis[name] for name in KPI_COLUMNS},
                **{f"share_{mode}": kpis["mode_split"][mode] for mode in MODES},
            }
        )
    return pd.DataFrame(rows)


def run_sweep(
    scenario: Scenario,
    output: str | Path,
    *,
    samples: int = 1000,
    shipments: int = 200,
    seed: int = 0,
    chunk_size: int = 10,
    scheduler: str | None = None,
    workers: int = 2,
    client: Any = None,
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run ``samples`` Monte Carlo samples of ``scenario`` on Dask; resume if interrupted.

    Parameters
    ----------
    scenario
        A scenario with ``uncertain`` parameters.
    output
        Directory for the manifest, one Parquet file per finished chunk and the results.
    samples, shipments
        Number of samples, and shipments of the demand planned in each.
    seed
        Seed of the draws; the same seed gives the same results.
    chunk_size
        Samples per Dask task and per Parquet file.
    scheduler, workers, client
        An existing cluster's address; else a LocalCluster of ``workers`` processes; or a
        ``distributed.Client`` to use as it is.
    progress
        Show a progress bar.
    on_chunk
        Called with the first sample index of every chunk written (in order of completion).

    Returns
    -------
    pandas.DataFrame
        One row per sample, by sample index: the draws and the KPIs.
    """
    if not scenario.uncertain:
        raise ScenarioError("uncertain: the scenario has no uncertain parameters to sweep")
    output = Path(output)
    manifest = {
        "scenario": scenario.name,
        "digest": scenario.digest(),
        "samples": samples,
        "shipments": shipments,
        "seed": seed,
        "chunk_size": chunk_size,
    }
    document = scenario.model_dump(mode="json", exclude_none=True)

    def submit(client: Any, start: int, stop: int) -> Any:
        return client.submit(
            run_samples, document, scenario.base_dir, list(range(start, stop)), seed, shipments,
            pure=False,
        )  # fmt: skip

    try:
        run_chunks(
            output, manifest, samples, chunk_size, submit, what="sweep",
            description=f"sweep {scenario.name}", scheduler=scheduler, workers=workers,
            client=client, progress=progress, on_chunk=on_chunk,
        )  # fmt: skip
    except OtherRunError as exc:
        raise ScenarioError(exc.message) from None
    results = pd.concat(
        [
            pd.read_parquet(chunk_path(output, s, samples))
            for s in chunk_starts(samples, chunk_size)
        ],
        ignore_index=True,
    )
    results.to_parquet(output / "samples.parquet", index=False)
    (output / "summary.json").write_text(
        json.dumps(summarise(results, scenario), indent=2), encoding="utf-8"
    )
    return results


def summarise(results: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """Percentiles of every KPI and the parameters that drive each KPI's spread.

    Drivers are the Spearman rank correlations of each drawn parameter with the KPI, largest
    magnitude first.

    Examples
    --------
    >>> from scenarios.spec import load_scenario
    >>> frame = pd.DataFrame({"sample": range(4), "border_dwell_h": [1.0, 2, 3, 4],
    ...     "demand_scale": [1.0, 1, 1, 1.1], "total_cost": [10.0, 20, 30, 40],
    ...     "cost_per_t": [1.0, 2, 3, 4],
    ...     "mean_days": [1.0, 1, 1, 1], "p90_days": [1.0, 1, 1, 1], "co2e_kg": [1.0, 2, 3, 4],
    ...     "unserved": [0.0, 0, 0, 0]})
    >>> summary = summarise(frame, load_scenario("border_congestion"))
    >>> summary["kpis"]["total_cost"]["p50"], summary["drivers"]["total_cost"][0]
    (25.0, {'parameter': 'border_dwell_h', 'spearman': 1.0})
    """
    names = [p.name for p in scenario.uncertain]
    kpis: dict[str, Any] = {}
    drivers: dict[str, Any] = {}
    for column in KPI_COLUMNS:
        values = results[column].astype(float)
        kpis[column] = {
            f"p{q}": round(float(values.quantile(q / 100)), 4) for q in (5, 10, 50, 90, 95)
        } | {"mean": round(float(values.mean()), 4)}
        ranked = []
        for name in names:
            constant = bool((values == values.iloc[0]).all())
            rho = np.nan if constant else results[name].rank().corr(values.rank())
            ranked.append(
                {"parameter": name, "spearman": round(float(rho), 4) if rho == rho else 0.0}
            )
        drivers[column] = sorted(ranked, key=lambda d: -abs(d["spearman"]))
    return {"samples": len(results), "kpis": kpis, "drivers": drivers}
