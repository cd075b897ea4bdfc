"""The scenario report (scenarios/report.py): KPIs against the baseline with their change,
corridors by name, and a map that draws trans-Pacific lanes whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from network_data import Network, load_network
from network_data.schema import MODES
from scenarios.report import lines_around, report_html, utilisation_map
from scenarios.runner import ScenarioResult
from scenarios.spec import load_scenario

#: Corridors of a run: a train to the Beibu Gulf, the Shanghai - Los Angeles sea lane (stored
#: east of 180: longitudes 122.1 to 241.7) and the Los Angeles - Shanghai flight (stored west
#: of -180: -238.2 to -118.4).
RAIL = "RAIL-CNCKG-RLY-CNQZH"
PACIFIC_SEA = "SEA-CNSHA-YSN-USLAX"
PACIFIC_AIR = "AIR-USLAX-LAX-CNSHA-PVG"


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network()


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _kpis(**values: Any) -> dict[str, Any]:
    kpis: dict[str, Any] = {
        "total_cost": 1_000_000.0, "carbon_cost": 0.0, "cost_per_t": 2_000.0,
        "mean_days": 25.0, "p90_days": 30.0, "co2e_kg": 50_000.0, "unserved": 0.0,
        "shipments": 500, "planned": 50, "dataset_version": "test",
        "mode_split": dict.fromkeys(MODES, 0.0) | {"rail": 0.4, "sea": 0.6},
    }  # fmt: skip
    return kpis | values


def _run(
    network: Network, name: str, kpis: dict[str, Any], baseline: ScenarioResult | None = None
) -> ScenarioResult:
    corridors = pd.DataFrame(
        {
            "corridor": [RAIL, PACIFIC_SEA, PACIFIC_AIR],
            "mode": ["rail", "sea", "air"],
            "peak_week_teu": [30.0, 12.0, 1.0],
            "capacity_teu_per_week": [100.0, 400.0, 10.0],
            "utilisation": [0.3, 0.03, 0.1],
        }
    )
    shipments = pd.DataFrame({"status": ["served"] * 3, "days": [10.0, 12.0, 20.0]})
    return ScenarioResult(
        load_scenario(name), kpis, shipments, corridors, pd.DataFrame(), network, baseline
    )


def test_kpis_against_the_baseline_show_the_change_and_percent(network: Network) -> None:
    baseline = _run(network, "baseline", _kpis())
    scenario = _run(
        network,
        "carbon_price",
        _kpis(
            total_cost=1_150_000.0,  # +150,000 on 1,000,000: +15.0 %
            carbon_cost=42_000.0,  # from 0: no relative change
            mean_days=20.0,  # -5 on 25: -20.0 %
            p90_days=float("inf"),
            mode_split=dict.fromkeys(MODES, 0.0) | {"rail": 0.45, "sea": 0.55},
        ),
        baseline,
    )
    page = report_html(scenario)
    rows = [
        "<tr><th></th><th>carbon_price</th><th>baseline</th>",
        "<tr><th>Total cost (CNY)</th><td>1,150,000</td><td>1,000,000</td><td>+150,000</td>"
        "<td>+15.0%</td></tr>",
        "<tr><th>of which carbon charge (CNY)</th><td>42,000</td><td>0</td><td>+42,000</td>"
        "<td>n/a</td></tr>",
        "<tr><th>Mean door-to-door days</th><td>20.00</td><td>25.00</td><td>-5.00</td>"
        "<td>-20.0%</td></tr>",
        "<tr><th>p90 door-to-door days</th><td>∞</td><td>30.00</td><td>+∞</td><td>+∞</td></tr>",
        "<tr><th>Unserved shipments</th><td>0.0</td><td>0.0</td><td>0.0</td><td>n/a</td></tr>",
        # 45 % of tonne-km against 40 %: 5 percentage points, 12.5 % more
        "<tr><th>rail share of tonne-km</th><td>45.0%</td><td>40.0%</td><td>+5.0 pp</td>"
        "<td>+12.5%</td></tr>",
        "<tr><th>sea share of tonne-km</th><td>55.0%</td><td>60.0%</td><td>-5.0 pp</td>"
        "<td>-8.3%</td></tr>",
    ]
    for row in rows:
        assert row in page, row
    assert "<caption>change: carbon_price minus baseline;" in page

    alone = report_html(baseline)
    assert "<th>change</th>" not in alone and ">%</th>" not in alone
    assert "<tr><th>Total cost (CNY)</th><td>1,000,000</td></tr>" in alone


def test_busiest_corridors_are_named_with_their_ids_beside(network: Network) -> None:
    page = report_html(_run(network, "baseline", _kpis()))
    assert (
        '<td class="corridor">Chongqing Tuanjiecun Rail Hub → Qinzhou Port (rail-sea terminal)'
        f' by rail<br><small class="id">{RAIL}</small></td>'
    ) in page
    assert (
        "Shanghai Yangshan Deep-water Port → Los Angeles / Long Beach by sea"
        f'<br><small class="id">{PACIFIC_SEA}</small>'
    ) in page


def test_map_draws_pacific_lanes_whole_inside_the_frame(network: Network) -> None:
    figure = utilisation_map(_run(network, "baseline", _kpis()))
    ax = figure.axes[0]
    west, east = ax.get_xlim()
    drawn = [np.asarray(line.get_xdata(), dtype=float) for line in ax.get_lines()]
    assert len(drawn) == 3
    for xs in drawn:
        assert np.abs(np.diff(xs)).max() < 20  # no jump of a turn (360) across the map
        assert west < xs.min() and xs.max() < east  # inside the frame: not cut at its edge
    # In the order of the run's corridors. Los Angeles is drawn a turn east, for the ship
    # (-118.28 + 360 = 241.72) and for the plane (airport: -118.41 + 360 = 241.59), whose
    # stored line (-118.41 to -238.19) moves a turn east to end at Shanghai Pudong (121.81).
    rail, sea, air = ((round(float(xs[0]), 2), round(float(xs[-1]), 2)) for xs in drawn)
    assert rail == (106.42, 108.65) and sea == (122.07, 241.72) and air == (241.59, 121.8)
    # the countries are drawn again a turn east, so that North America is under the lanes' end
    assert max(c.get_datalim(ax.transData).x1 for c in ax.collections) > 240


def test_lines_around_crosses_the_antimeridian_once_in_small_steps() -> None:
    # Tokyo (139.8) - Honolulu (-157.9) - Los Angeles (-118.2), eastwards: steps of 62.3 and
    # 39.7 degrees, not a jump of -297.7 back across the map. Alone, the line goes where its
    # midpoint is nearest 0: a turn west, Tokyo at 139.8 - 360 = -220.2.
    (line,) = lines_around([[139.8, -157.9, -118.2]])
    assert np.diff(line).tolist() == pytest.approx([62.3, 39.7])
    assert line.tolist() == pytest.approx([-220.2, -157.9, -118.2])
    # Beside a train from Chengdu (104.1) to Duisburg (6.8), it stays east of Asia instead.
    line, _ = lines_around([[139.8, -157.9, -118.2], [104.1, 6.8]])
    assert line.tolist() == pytest.approx([139.8, 202.1, 241.8])
