"""Write a scenario run as one self-contained HTML report and Parquet tables.

The report needs no network: plots are PNGs inlined as base64, the map is drawn with
matplotlib over the bundled country outlines (``countries_110m.geojson``).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np

# Files are drawn without a screen (and from worker threads) on the Agg backend; a notebook
# keeps its own (inline) backend so that the figures show in it.
if "ipykernel" not in sys.modules and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from network_data import Network
from network_data.load import BUNDLED_DATA_DIR
from network_data.schema import MODES
from optimizer.model import MODE_WORDS
from optimizer.quotable import FAMILY_PASSAGES
from scenarios.runner import ScenarioResult

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
    ("plans_stopped", "of which plans stopped at their time limit", "{:,}"),
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


def lines_around(longitudes: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Lines' longitudes made continuous and placed side by side on one map.

    Each line's longitudes are unwrapped (a step of more than 180 degrees between vertices is
    undone by a whole turn of 360), then the line is moved by whole turns so that its midpoint
    lies within 180 degrees of the lines' centre (the circular mean of their midpoints): a
    trans-Pacific lane runs on east of 180 instead of being cut at the edge of the map or
    drawn across the world.

    Parameters
    ----------
    longitudes
        Each line's longitudes in degrees, in the order of its vertices.

    Returns
    -------
    list of numpy.ndarray
        The lines' new longitudes.

    Examples
    --------
    Shanghai (121.5) to Los Angeles (-118.2) given across the antimeridian, beside a train
    from Chengdu (104.1) to Duisburg (6.8), and the Los Angeles - Shanghai flight given west of
    -180: all three end up in one frame, the Pacific crossed once, eastwards.

    >>> lines = lines_around([[121.5, 179.0, -178.0, -118.2], [104.1, 6.8], [-118.2, -238.5]])
    >>> [line.tolist() for line in lines]
    [[121.5, 179.0, 182.0, 241.8], [104.1, 6.8], [241.8, 121.5]]
    """
    unwrapped = [np.unwrap(np.asarray(xs, dtype=float), period=360.0) for xs in longitudes]
    middles = [(float(xs.min()) + float(xs.max())) / 2 for xs in unwrapped if len(xs)]
    if not middles:
        return unwrapped
    angles = np.radians(middles)
    centre = math.degrees(math.atan2(np.sin(angles).sum(), np.cos(angles).sum()))
    placed = []
    for xs in unwrapped:
        middle = (float(xs.min()) + float(xs.max())) / 2 if len(xs) else centre
        placed.append(xs + 360.0 * round((centre - middle) / 360.0))
    return placed


def utilisation_map(result: ScenarioResult) -> Figure:
    """The corridors the run used, width by peak weekly TEU, colour by mode, over countries.

    Longitudes are those of :func:`lines_around`: lanes across the antimeridian are drawn
    whole, over the country outlines repeated a turn east or west where the map reaches there.
    """
    outlines = gpd.read_file(BUNDLED_DATA_DIR / "countries_110m.geojson")
    figure, ax = plt.subplots(figsize=(10, 5.5))
    used = result.corridors.set_index("corridor")
    corridors = result.network.corridors.loc[list(used.index)]
    lons = lines_around([row.geometry.xy[0] for row in corridors.itertuples()])
    lats = [np.asarray(row.geometry.xy[1], dtype=float) for row in corridors.itertuples()]
    if len(used):
        west = min(float(xs.min()) for xs in lons) - 5
        east = max(float(xs.max()) for xs in lons) + 5
        south = max(min(float(ys.min()) for ys in lats) - 5, -90)
        north = min(max(float(ys.max()) for ys in lats) + 5, 90)
    else:
        west, east, south, north = -25.0, 135.0, -15.0, 65.0
    for turns in (-1, 0, 1):  # the countries again a turn away, where the map reaches them
        if west < 180 + 360 * turns and east > -180 + 360 * turns:
            shifted = outlines.set_geometry(outlines.geometry.translate(xoff=360.0 * turns))
            shifted.plot(ax=ax, color="#f2efe9", edgecolor="#c8c2b8", linewidth=0.4)
    if len(used):
        peak = used["peak_week_teu"].to_numpy(float)
        widths = 0.6 + 5.0 * peak / max(float(peak.max()), 1e-9)
        modes = corridors["mode"].astype(str)
        for xs, ys, mode, width in zip(lons, lats, modes, widths, strict=True):
            ax.plot(xs, ys, color=MODE_COLOURS[mode], linewidth=width, alpha=0.8,
                    solid_capstyle="round", label=mode)  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower left", frameon=False)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_title(f"{result.scenario.name}: corridors used (width = peak weekly TEU)")
    ax.set_axis_off()
    return figure


def corridor_name(network: Network, corridor_id: str) -> str:
    """A corridor in words: its two nodes' names, its mode and the passages that tell parallel
    corridors apart (Suez, the Cape, the Caspian).

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> corridor_name(network, "RAIL-CNCKG-RLY-CNQZH")
    'Chongqing Tuanjiecun Rail Hub → Qinzhou Port (rail-sea terminal) by rail'
    >>> corridor_name(network, "SEA-CNSHA-YSN-NLRTM-CAPE")
    'Shanghai Yangshan Deep-water Port → Rotterdam by sea via the Cape'
    """
    row = network.corridors.loc[corridor_id]
    names = network.nodes["name_en"]
    words = f"{names[row['origin']]} → {names[row['destination']]} by {MODE_WORDS[row['mode']]}"
    via = [FAMILY_PASSAGES[p] for p in row["passages"] if p in FAMILY_PASSAGES]
    return f"{words} via {', '.join(via)}" if via else words


def kpi_change(scenario: float | None, baseline: float | None) -> tuple[float | None, float | None]:
    """How a KPI moved from the baseline: the change (scenario minus baseline) and the relative
    change (that over the baseline's magnitude).

    The relative change is None (not a number) from a baseline of zero or one that is not
    finite; either is None where a value is missing or the change is not a number (infinity
    minus infinity). An infinite scenario value gives an infinite change.

    Examples
    --------
    >>> kpi_change(1_150_000, 1_000_000)
    (150000, 0.15)
    >>> kpi_change(-3.0, -4.0)  # up by 1 from -4: +25 %
    (1.0, 0.25)
    >>> kpi_change(12.5, 0)
    (12.5, None)
    >>> kpi_change(float("inf"), 10.0)
    (inf, inf)
    >>> kpi_change(float("inf"), float("inf")), kpi_change(None, 3.0)
    ((None, None), (None, None))
    """
    if scenario is None or baseline is None:
        return None, None
    change = scenario - baseline
    if isinstance(change, float) and math.isnan(change):
        return None, None
    if baseline == 0 or not math.isfinite(baseline):
        return change, None
    return change, change / abs(baseline)


def _number(value: float | None, fmt: str, *, signed: bool = False) -> str:
    """``value`` in ``fmt`` ("{:,.0f}"), with its sign when ``signed``; "-" when missing,
    "∞" for infinity."""
    if value is None:
        return "-"
    if math.isinf(value):
        return ("+∞" if signed else "∞") if value > 0 else "-∞"
    if signed and value == 0:
        return fmt.format(0)
    return (fmt.replace("{:", "{:+", 1) if signed else fmt).format(value)


def _kpi_table(results: list[ScenarioResult]) -> str:
    """The KPIs of each run; with a baseline (the second run), the change from it and the
    relative change (:func:`kpi_change`; a share's change in percentage points)."""
    compared = len(results) == 2
    head = "".join(f"<th>{html.escape(r.scenario.name)}</th>" for r in results)
    if compared:
        head += '<th title="scenario minus baseline">change</th>'
        head += '<th title="change over the baseline; n/a from a baseline of zero">%</th>'
    rows = []
    table: list[tuple[str, list[float | None], str, str]] = [
        (label, [r.kpis.get(key) for r in results], fmt, fmt) for key, label, fmt in _ROWS
    ]
    for mode in MODES:
        shares = [r.kpis["mode_split"][mode] for r in results]
        table.append((f"{mode} share of tonne-km", shares, "{:.1%}", "{:.1f} pp"))
    for label, values, fmt, change_fmt in table:
        cells = "".join(f"<td>{_number(v, fmt)}</td>" for v in values)
        if compared:
            change, relative = kpi_change(values[0], values[1])
            points = change * 100 if change is not None and "pp" in change_fmt else change
            cells += f"<td>{_number(points, change_fmt, signed=True)}</td>"
            percent = "n/a" if relative is None else _number(relative, "{:.1%}", signed=True)
            cells += f"<td>{percent}</td>"
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    caption = ""
    if compared:
        caption = (
            f"<caption>change: {html.escape(results[0].scenario.name)} minus "
            f"{html.escape(results[1].scenario.name)}; %: the change over the baseline"
            "</caption>"
        )
    return f"<table>{caption}<tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _utilisation_table(result: ScenarioResult, top: int = 15) -> str:
    frame = result.corridors.sort_values("utilisation", ascending=False).head(top)
    rows = "".join(
        f'<tr><td class="corridor">{html.escape(corridor_name(result.network, str(r.corridor)))}'
        f'<br><small class="id">{html.escape(str(r.corridor))}</small></td><td>{r.mode}</td>'
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
text-align:right}}img{{max-width:100%}}td.corridor{{text-align:left}}
small.id{{color:#777}}caption{{caption-side:bottom;color:#555;text-align:left}}</style></head><body>
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
