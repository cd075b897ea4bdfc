"""Demand of a scenario: a shipments file, or lots drawn from the pilot zones' industry profiles.

Each zone ships ``lots_per_week`` export lots (consolidated e-commerce and B2B consignments)
from its origin node; a lot's product is drawn by the zone's product shares, its market by the
product's market weights, its volume log-normally (median ``median_m3``, spread ``sigma``,
0.5-60 m3), its weight from the product's density and its value from the product's value per kg.
Every figure is an estimate sourced in ``SCENARIO-*`` rows of the sources file (keys below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import clipped, quoted
from optimizer.inputs import TableError, read_table
from scenarios.spec import MAX_LOTS, Demand, Generate, Scenario, ScenarioError


@dataclass(frozen=True)
class Product:
    """An export product: density, value, share of lots by cargo class, market weights."""

    name: str
    kg_per_m3: float
    value_cny_per_kg: float
    markets: dict[str, float]
    median_m3: float = 6.0
    sigma: float = 0.8
    battery_share: float = 0.0
    perishable_share: float = 0.0


@dataclass(frozen=True)
class Zone:
    """A pilot zone: where its lots start, how many a week, and its products with shares."""

    name: str
    origin: str
    lots_per_week: float
    products: dict[str, float] = field(default_factory=dict)


_EUROPE = {"MKT-DE": 4, "MKT-PL": 2, "MKT-FR": 2, "MKT-NL": 2, "MKT-HU": 1, "MKT-GB": 2}
_ASEAN = {"MKT-TH": 2, "MKT-VN-S": 2, "MKT-VN-N": 1, "MKT-MY": 1, "MKT-ID": 1, "MKT-SG": 1}
_SILK = {"MKT-RU": 2, "MKT-KZ": 2, "MKT-UZ": 1, "MKT-TR": 1, "MKT-AE": 1}

#: Products (``SCENARIO-PRODUCTS``): density and value per kg are typical unit values of the
#: HS chapters named, lots are consolidated consignments of a few m3.
PRODUCTS: dict[str, Product] = {
    "auto_moto_parts": Product("auto_moto_parts", 400, 45, {**_EUROPE, **_ASEAN, **_SILK}),
    "textiles": Product("textiles", 220, 100, {**_EUROPE, **_ASEAN, "MKT-RU": 2, "MKT-US-W": 3}),
    "chemicals": Product("chemicals", 850, 15, {**_ASEAN, "MKT-DE": 2, "MKT-NL": 2, "MKT-TR": 1}),
    "new_materials": Product("new_materials", 600, 35, {"MKT-DE": 2, "MKT-PL": 1, **_ASEAN}),
    "agri_food": Product(
        "agri_food",
        500,
        30,
        {**_ASEAN, "MKT-KZ": 1, "MKT-RU": 1, "MKT-AE": 1},
        perishable_share=0.2,
    ),
    "electronics": Product(
        "electronics",
        160,
        260,
        {**_EUROPE, "MKT-US-W": 4, **_ASEAN, "MKT-AE": 1, "MKT-RU": 1},
        median_m3=4.0,
        battery_share=0.15,
    ),
    "appliances": Product("appliances", 130, 25, {**_EUROPE, **_SILK, **_ASEAN}, median_m3=10.0),
    "autos_and_parts": Product(
        "autos_and_parts", 350, 60, {**_SILK, "MKT-DE": 1, "MKT-PL": 1, "MKT-US-W": 1, **_ASEAN}
    ),
}

#: Zones (``SCENARIO-ZONES``): lots per week scaled to each zone's cross-border e-commerce and
#: export volume; product shares from the zones' own industry descriptions.
ZONES: dict[str, Zone] = {
    "guangan": Zone("guangan", "CN-LINSHUI-PARK", 250, {"auto_moto_parts": 0.6, "textiles": 0.4}),
    "dazhou": Zone(
        "dazhou", "CNDAX", 150, {"chemicals": 0.4, "new_materials": 0.3, "agri_food": 0.3}
    ),
    "mianyang": Zone("mianyang", "CNMYG", 250, {"electronics": 0.6, "appliances": 0.4}),
    "wuhu": Zone("wuhu", "CNWHI", 350, {"autos_and_parts": 1.0}),
    "anqing": Zone("anqing", "CNAQG", 150, {"textiles": 0.6, "chemicals": 0.4}),
    "chengdu": Zone("chengdu", "CNCTU", 600, {"electronics": 1.0}),
    "chongqing": Zone("chongqing", "CNCKG", 600, {"electronics": 1.0}),
}
#: Guang'an textiles leave from the Qianfeng park, not Linshui.
_ORIGIN_OF = {("guangan", "textiles"): "CN-QIANFENG-PARK"}
_CST = timedelta(hours=8)


def growth_factor(demand: Demand) -> float:
    """``(1 + growth_per_year) ** years``.

    Examples
    --------
    >>> round(growth_factor(Demand(generate=Generate(), growth_per_year=0.15, years=5)), 3)
    2.011
    """
    return float((1 + demand.growth_per_year) ** demand.years)


def generate_demand(spec: Generate, growth: float = 1.0) -> pd.DataFrame:
    """Draw the lots of ``spec.weeks`` weeks (same seed, same lots).

    Examples
    --------
    >>> table = generate_demand(Generate(seed=1, weeks=1, zones=("guangan",)))
    >>> len(table), sorted(table["product"].unique())
    (250, ['auto_moto_parts', 'textiles'])
    >>> table.equals(generate_demand(Generate(seed=1, weeks=1, zones=("guangan",))))
    True
    """
    names = spec.zone_names
    rng = np.random.default_rng(spec.seed)
    start = datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=UTC) - _CST
    rows = []
    for zone_name in names:
        zone = ZONES[zone_name]
        count = round(zone.lots_per_week * spec.weeks * spec.scale * growth)
        product_names = list(zone.products)
        shares = np.array([zone.products[p] for p in product_names])
        chosen = rng.choice(len(product_names), size=count, p=shares / shares.sum())
        for i in range(count):
            product = PRODUCTS[product_names[int(chosen[i])]]
            markets = list(product.markets)
            weights = np.array([product.markets[m] for m in markets], dtype=float)
            market = markets[int(rng.choice(len(markets), p=weights / weights.sum()))]
            volume_m3 = float(
                np.clip(rng.lognormal(math.log(product.median_m3), product.sigma), 0.5, 60.0)
            )
            weight_kg = volume_m3 * product.kg_per_m3 * float(rng.uniform(0.8, 1.2))
            draw = float(rng.uniform())
            cargo_class = (
                "battery"
                if draw < product.battery_share
                else "perishable"
                if draw > 1 - product.perishable_share
                else "general"
            )
            ready = start + timedelta(hours=8 + 24 * int(rng.integers(0, 7 * spec.weeks)))
            rows.append(
                {
                    "id": f"{zone_name}-{i:05d}",
                    "zone": zone_name,
                    "product": product.name,
                    "origin": _ORIGIN_OF.get((zone_name, product.name), zone.origin),
                    "destination": market,
                    "weight_kg": round(weight_kg, 1),
                    "volume_m3": round(volume_m3, 2),
                    "value_cny": round(weight_kg * product.value_cny_per_kg, -1),
                    "cargo_class": cargo_class,
                    "ready_at": ready.isoformat(),
                }
            )
    return pd.DataFrame(rows)


def _check_amounts(table: pd.DataFrame, column: str, path: Path) -> None:
    """Every row's ``column`` is a finite number >= 0 (``value_cny`` may be blank: 0)."""
    text = table[column].str.strip()
    if column == "value_cny":
        text = text.replace("", "0")
    amounts = pd.to_numeric(text, errors="coerce")
    bad = ~(np.isfinite(amounts) & (amounts >= 0))
    if bad.any():
        ids, values = table["id"].astype(str).tolist(), table[column].tolist()
        shown = ", ".join(
            f"line {i + 2} (id {clipped(ids[i])}): {quoted(values[i])}"
            for i in np.flatnonzero(bad)[:5]
        )
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise ScenarioError(
            f"demand.file: {path.name} column {column} needs a number >= 0; got {shown}{more}"
        )


def read_demand(scenario: Scenario) -> pd.DataFrame:
    """The full demand of ``scenario``: its file (grown), or generated lots.

    A file (read by :func:`optimizer.inputs.read_table`: UTF-8, GBK or UTF-16) has the
    columns of ``shudao plan-batch`` and optionally ``value_cny``, ``zone`` and ``product``;
    growth repeats rows (the fractional part by a seeded draw), up to :data:`MAX_LOTS` rows.
    """
    demand = scenario.demand
    growth = growth_factor(demand)
    if demand.generate is not None:
        return generate_demand(demand.generate, growth)
    assert demand.file is not None
    path = scenario.resolve(demand.file)
    if not path.is_file():
        raise ScenarioError(f"demand.file: got {quoted(demand.file)}; expected a CSV file ({path})")
    try:
        table = read_table(path, max_rows=int(MAX_LOTS / growth)).frame()
    except TableError as exc:
        raise ScenarioError(f"demand.file: {exc}") from None
    if table.empty:
        raise ScenarioError(f"demand.file: {path.name}: got no rows; expected shipments")
    missing = {"origin", "destination", "weight_kg", "volume_m3"} - set(table.columns)
    if missing:
        raise ScenarioError(f"demand.file: {path} lacks the columns {', '.join(sorted(missing))}")
    if "id" not in table.columns:
        table["id"] = [f"row-{i + 1}" for i in range(len(table))]
    for column, default in (("zone", ""), ("product", ""), ("value_cny", "0")):
        if column not in table.columns:
            table[column] = default
    for column in ("weight_kg", "volume_m3", "value_cny"):
        _check_amounts(table, column, path)
    if growth != 1.0:
        whole, part = divmod(growth, 1.0)
        rng = np.random.default_rng(0)
        copies = np.full(len(table), int(whole)) + (rng.uniform(size=len(table)) < part)
        table = table.loc[table.index.repeat(copies)].reset_index(drop=True)
        table["id"] = table["id"] + "-" + table.groupby("id").cumcount().astype(str)
    return table


def sample_demand(table: pd.DataFrame, sample: int | None, seed: int = 0) -> pd.DataFrame:
    """``sample`` rows drawn without replacement (seeded), in their original order.

    Examples
    --------
    >>> table = pd.DataFrame({"id": range(10)})
    >>> list(sample_demand(table, 3, seed=2)["id"]) == list(sample_demand(table, 3, seed=2)["id"])
    True
    """
    if sample is None or sample >= len(table):
        return table
    picked = np.sort(np.random.default_rng(seed).choice(len(table), size=sample, replace=False))
    return table.iloc[picked].reset_index(drop=True)
