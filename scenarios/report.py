"""Write a scenario run as one self-contained HTML report and Parquet tables.

The report needs no network: plots are PNGs inlined as base64, the map is drawn with
matplotlib over the bundled country outlines (``countries_110m.geojson``).
"""

from __future__ import annotations

import base64
import html
import io
import os
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

# Files are drawn without a screen (and from worker threads) on the Agg backend; a notebook
# keeps its own (inline) backend so that the figures show in it.
if "ipykernel" not in sys.modules and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from network_data.load import BUNDLED_DATA_DIR
from scenarios.runner import MODES, ScenarioResult

MODE_COLOURS = {
    "road": "#7f7f7f",
    "rail": "#d62728",
    "inland_water": "#1f77b4",
    "sea": "#17becf",
    "air": "#9467bd",
}
_ROWS = (
    ("total_cost", "Total cost (CNY)", "{:,.0f}"),
    ("carbon_cost", "of which carbon charge (CNY)", "{:,.0f}"),
    ("cost_per_t", "Cost per tonne served (CNY)", "{:,.2f}"),
    ("mean_days", "Mean door-to-door days", "{:.2f}"),
    ("p90_days", "p90 door-to-door days", "{:.2f}"),
    ("co2e_kg", "CO2e (kg)", "{:,.0f}"),
    ("unserved", "Unserved shipments", "{:,.1f}"),
    ("shipments", "Shipments in the demand", "{:,}"),
    ("planned", "Shipments planned", "{:,}"),
)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def mode_split_figure(results: list[ScenarioResult]) -> Figure:
    """Stacked bars of the share of tonne-km by mode, one bar per run."""
    figure, ax = plt.subplots(figsize=(6, 0.8 + 0.6 * len(results)))
    for row, result in enumerate(results):
        left = 0.0
        for mode in MODES:
            share = result.kpis["mode_split"][mode]
            ax.barh(row, share, left=left, color=MODE_COLOURS[mode],
                    label=mode if row == 0 else None)  # fmt: skip
            left += share
    ax.set_yticks(range(len(results)), [r.scenario.name for r in results])
    ax.set_xlabel("share of tonne-km")
    ax.set_xlim(0, 1)
    ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return figure


def days_figure(results: list[ScenarioResult]) -> Figure:
    """Histogram of door-to-door days of served shipments, one outline per run."""
    figure, ax = plt.subplots(figsize=(6, 3))
    for result in results:
        days = result.shipments.loc[result.shipments["status"] == "served", "days"]
        ax.hist(days, bins=30, histtype="step", linewidth=1.5, label=result.scenario.name)
    ax.set_xlabel("door-to-door days")
    ax.set_ylabel("shipments")
    ax.legend(frameon=False)
    return figure


def utilisation_map(result: ScenarioResult) -> Figure:
    """The corridors the run used, width by peak weekly TEU, colour by mode, over countries."""
    outlines = gpd.read_file(BUNDLED_DATA_DIR / "countries_110m.geojson")
    figure, ax = plt.subplots(figsize=(10, 5.5))
    outlines.plot(ax=ax, color="#f2efe9", edgecolor="#c8c2b8", linewidth=0.4)
    used = result.corridors.set_index("corridor")
    corridors = result.network.corridors.loc[list(used.index)]
    if len(used):
        peak = used["peak_week_teu"].to_numpy(float)
        widths = 0.6 + 5.0 * peak / max(float(peak.max()), 1e-9)
        for (cid, row), width in zip(corridors.iterrows(), widths, strict=True):
            xs, ys = row.geometry.xy
            ax.plot(xs, ys, color=MODE_COLOURS[str(row["mode"])], linewidth=width, alpha=0.8,
                    solid_capstyle="round", label=str(row["mode"]))  # fmt: skip
            del cid
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower left", frameon=False)
    bounds = corridors.total_bounds if len(used) else (-20, -10, 130, 60)
    ax.set_xlim(max(bounds[0] - 5, -180), min(bounds[2] + 5, 180))
    ax.set_ylim(max(bounds[1] - 5, -90), min(bounds[3] + 5, 90))
    ax.set_title(f"{result.scenario.name}: corridors used (width = peak weekly TEU)")
    ax.set_axis_off()
    return figure


def _kpi_table(results: list[ScenarioResult]) -> str:
    head = "".join(f"<th>{html.escape(r.scenario.name)}</th>" for r in results)
    rows = []
    for key, label, fmt in _ROWS:
        cells = "".join(
            f"<td>{fmt.format(r.kpis[key]) if r.kpis.get(key) is not None else '-'}</td>"
            for r in results
        )
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    for mode in MODES:
        cells = "".join(f"<td>{r.kpis['mode_split'][mode]:.1%}</td>" for r in results)
        rows.append(f"<tr><th>{mode} share of tonne-km</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _utilisation_table(result: ScenarioResult, top: int = 15) -> str:
    frame = result.corridors.sort_values("utilisation", ascending=False).head(top)
    rows = "".join(
        f"<tr><td>{html.escape(str(r.corridor))}</td><td>{r.mode}</td>"
        f"<td>{r.peak_week_teu:,.1f}</td><td>{r.capacity_teu_per_week:,.0f}</td>"
        f"<td>{r.utilisation:.1%}</td></tr>"
        for r in frame.itertuples()
    )
    warehouses = "".join(
        f"<tr><td>{html.escape(str(w))}</td><td>{u:.1%}</td></tr>"
        for w, u in result.kpis.get("warehouse_utilisation", {}).items()
    )
    text = (
        "<table><tr><th>corridor</th><th>mode</th><th>peak week TEU</th>"
        f"<th>capacity TEU/week</th><th>utilisation</th></tr>{rows}</table>"
    )
    if warehouses:
        text += f"<h3>Warehouses (peak week)</h3><table>{warehouses}</table>"
    return text


def report_html(result: ScenarioResult) -> str:
    """The report of ``result`` (and its baseline) as one HTML document."""
    results = [result] + ([result.baseline] if result.baseline is not None else [])
    images = {
        "Mode split": _png(mode_split_figure(results)),
        "Door-to-door days": _png(days_figure(results)),
        "Corridor use": _png(utilisation_map(result)),
    }
    figures = "".join(
        f'<h2>{title}</h2><img alt="{title}" src="data:image/png;base64,{data}">'
        for title, data in images.items()
    )
    extra: dict[str, Any] = {k: result.kpis.get(k) for k in ("consolidation", "allocation")}
    analyses = "".join(
        f"<h3>{name}</h3><pre>{html.escape(str(value))}</pre>"
        for name, value in extra.items()
        if value is not None
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Scenario {html.escape(result.scenario.name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;
text-align:right}}img{{max-width:100%}}</style></head><body>
<h1>Scenario {html.escape(result.scenario.name)}</h1>
<p>{html.escape(result.scenario.description)}</p>
<p>Dataset {html.escape(str(result.kpis["dataset_version"]))}.</p>
<h2>KPIs</h2>{_kpi_table(results)}
{figures}
<h2>Busiest corridors</h2>{_utilisation_table(result)}
{analyses}
</body></html>
"""


def write_report(result: ScenarioResult, directory: str | Path) -> list[Path]:
    """Write ``report.html``, ``shipments.parquet``, ``corridors.parquet`` (and the baseline's).

    Returns the paths written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "report.html"]
    written[0].write_text(report_html(result), encoding="utf-8")
    for prefix, run in (("", result), ("baseline_", result.baseline)):
        if run is None:
            continue
        for name, frame in (("shipments", run.shipments), ("corridors", run.corridors)):
            path = directory / f"{prefix}{name}.parquet"
            frame.to_parquet(path, index=False)
            written.append(path)
    return written
