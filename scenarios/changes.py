"""Apply a scenario's changes to a copy of a :class:`network_data.Network`.

The dataset files are never touched: every change edits copies of the network's tables, then
the derived columns (weekly departures and capacity, emission intensity) are recomputed the way
:func:`network_data.load_network` computes them, and a new ``Network`` is made whose graph,
arrays and compiled routing data are rebuilt on first use. Its ``version`` is the base version
with the digest of the changes appended, so caches keyed by version never mix the two.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from network_data import Network
from network_data.load import with_derived_columns
from network_data.status import OPERATING, opening, split
from optimizer.inputs import YEARS
from scenarios.spec import (
    AddCorridor,
    AddNode,
    AddService,
    CarbonPrice,
    Change,
    Close,
    Delay,
    Fx,
    Open,
    Scale,
    ScenarioError,
    Selector,
    SetPassageStatus,
)

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ChangedNetwork:
    """A network with a scenario's changes, and the carbon price shippers pay (CNY per kg)."""

    network: Network
    carbon_cny_per_kg: float = 0.0


class _Tables:
    """Working copies of the tables a change may edit."""

    def __init__(self, network: Network) -> None:
        self.base = network
        self.nodes = network.nodes.copy()
        self.corridors = network.corridors.copy()
        self.services = network.services.copy()
        self.tariffs = network.tariffs.copy()
        self.fx = network.fx.copy()
        self.passages = network.passages.copy()
        self.passage_status = network.passage_status.copy()
        self.through_services = network.through_services
        self.planned = network.planned

    def network(self, version: str | None = None) -> Network:
        corridors = with_derived_columns(self.corridors, self.services, self.base.emission_factors)
        return replace(
            self.base,
            nodes=self.nodes,
            corridors=corridors,
            services=self.services.reset_index(drop=True),
            tariffs=self.tariffs.reset_index(drop=True),
            fx=self.fx,
            passages=self.passages,
            passage_status=self.passage_status.reset_index(drop=True),
            through_services=self.through_services,
            planned=self.planned,
            version=version or self.base.version,
        )


def _check_ids(where: str, ids: Sequence[str], known: pd.Index, what: str) -> None:
    for j, item in enumerate(ids):
        if item not in known:
            raise ScenarioError(f"{where}[{j}]: got {item!r}; expected {what} of the dataset")


def _corridors_of(tables: _Tables, where: str, selector: Selector) -> pd.Index:
    """Corridor ids picked by a selector's modes, corridors, nodes (touching) and passages."""
    corridors = tables.corridors
    _check_ids(f"{where}.corridors", selector.corridors, corridors.index, "a corridor id")
    _check_ids(f"{where}.nodes", selector.nodes, tables.nodes.index, "a node id")
    _check_ids(f"{where}.passages", selector.passages, tables.passages.index, "a passage id")
    picked = corridors["mode"].isin(selector.modes) | corridors.index.isin(selector.corridors)
    picked |= corridors["origin"].isin(selector.nodes) | corridors["destination"].isin(
        selector.nodes
    )
    if selector.passages:
        wanted = set(selector.passages)
        picked |= corridors["passages"].map(lambda names: bool(wanted & set(names))).astype(bool)
    chosen: pd.Index = corridors.index[picked]
    return chosen


def _close(tables: _Tables, where: str, change: Close) -> None:
    closed = _corridors_of(tables, where, change)
    tables.corridors = tables.corridors.drop(closed)
    tables.services = tables.services[~tables.services["corridor_id"].isin(closed)]


def _set_passage_status(tables: _Tables, where: str, change: SetPassageStatus) -> None:
    """One row per passage, from the planner's first year on, replacing the dated rows."""
    _check_ids(f"{where}.passages", change.passages, tables.passages.index, "a passage id")
    status = tables.passage_status
    kept = status[~status["passage"].isin(change.passages)]
    rows = pd.DataFrame(
        {
            "passage": list(change.passages),
            "valid_from": f"{YEARS[0]}-01-01",
            "valid_to": "",
            "status": change.status,
            "note": f"{change.status} in the scenario",
            "source": [["scenario"] for _ in change.passages],
        }
    )
    tables.passage_status = pd.concat([kept, rows], ignore_index=True)


def _open(tables: _Tables, where: str, change: Open) -> None:
    """Bring planned rows into service, then sort every row again into running and waiting."""
    planned = tables.planned
    known = {*planned.nodes.index, *planned.corridors.index, *planned.services["service_id"]}
    for j, item in enumerate(change.ids):
        if item not in known:
            running = item in tables.nodes.index or item in tables.corridors.index
            raise ScenarioError(
                f"{where}.ids[{j}]: got {item!r}; expected "
                + ("an id that is not operating yet (it operates already)" if running else
                   "the id of a planned or under-construction node, corridor or service "
                   "(`shudao network summary` lists them)")
            )  # fmt: skip
    opened = opening(planned, change.ids, change.opening_by)
    nodes = planned.nodes.copy()
    nodes.loc[opened.nodes, "status"] = OPERATING
    corridors = planned.corridors.copy()
    corridors.loc[opened.corridors, "status"] = OPERATING
    services = planned.services.copy()
    services.loc[services["service_id"].isin(opened.services), "status"] = OPERATING
    parts = split(
        gpd.GeoDataFrame(pd.concat([tables.nodes, nodes]), crs=tables.nodes.crs),
        gpd.GeoDataFrame(pd.concat([tables.corridors, corridors]), crs=tables.corridors.crs),
        pd.concat([tables.services, services], ignore_index=True),
        pd.concat([tables.through_services, planned.through_services]),
    )
    tables.nodes, tables.corridors, tables.services = parts.nodes, parts.corridors, parts.services
    tables.through_services, tables.planned = parts.through_services, parts.planned


def _thin_weekdays(weekdays: Sequence[str], factor: float) -> list[str]:
    """``factor`` times as many weekdays (1 to 7), evenly spread from the first one."""
    count = int(min(7, max(1, round(len(weekdays) * factor))))
    first = _WEEKDAYS.index(weekdays[0])
    return sorted(
        {_WEEKDAYS[(first + round(i * 7 / count)) % 7] for i in range(count)},
        key=_WEEKDAYS.index,
    )


def _scale(tables: _Tables, where: str, change: Scale) -> None:
    factor = change.factor
    if change.what == "dwell":
        if change.modes or change.corridors:
            raise ScenarioError(f"{where}: dwell is scaled at nodes and passages only")
        _check_ids(f"{where}.nodes", change.nodes, tables.nodes.index, "a node id")
        _check_ids(f"{where}.passages", change.passages, tables.passages.index, "a passage id")
        for column in ("dwell_median_h", "dwell_p90_h"):
            tables.nodes.loc[list(change.nodes), column] *= factor
            tables.passages.loc[list(change.passages), column] *= factor
        return
    picked = _corridors_of(tables, where, change)
    if change.what == "capacity":
        for column in ("capacity_teu_per_departure", "capacity_t_per_departure"):
            tables.corridors.loc[picked, column] *= factor
    elif change.what == "frequency":
        tables.corridors.loc[picked, "departures_per_week"] *= factor
        on_picked = tables.services["corridor_id"].isin(picked)
        tables.services.loc[on_picked, "weekdays"] = tables.services.loc[on_picked, "weekdays"].map(
            lambda days: _thin_weekdays(days, factor)
        )
    else:
        current = tables.network()
        rows = [
            current.tariffs_for(corridor_id).assign(scope=corridor_id) for corridor_id in picked
        ]
        if rows:
            scaled = pd.concat(rows, ignore_index=True)
            for column in ("rate", "rate_per_km", "min_charge"):
                scaled[column] *= factor
            kept = tables.tariffs[~tables.tariffs["scope"].isin(picked)]
            tables.tariffs = pd.concat([kept, scaled], ignore_index=True)
        for column in ("handling_cost_cny_per_container", "handling_cost_cny_per_t"):
            tables.nodes.loc[list(change.nodes), column] *= factor


def _delay(tables: _Tables, where: str, change: Delay) -> None:
    hours = change.hours
    p90 = change.p90_hours if change.p90_hours is not None else hours
    _check_ids(f"{where}.nodes", change.nodes, tables.nodes.index, "a node id")
    _check_ids(f"{where}.passages", change.passages, tables.passages.index, "a passage id")
    for table, ids in (
        (tables.nodes, list(change.nodes)),
        (tables.passages, list(change.passages)),
    ):
        for column, extra in (("dwell_median_h", hours), ("dwell_p90_h", p90)):
            table.loc[ids, column] = table.loc[ids, column].fillna(0.0) + extra
    if change.modes or change.corridors:
        picked = _corridors_of(
            tables, where, Selector(modes=change.modes, corridors=change.corridors)
        )
        for column, extra in (
            ("duration_min_h", hours),
            ("duration_h", hours),
            ("duration_p90_h", p90),
        ):
            tables.corridors.loc[picked, column] += extra


def _add_node(tables: _Tables, where: str, change: AddNode) -> None:
    if change.id in tables.planned.nodes.index:
        raise ScenarioError(
            f"{where}.id: got {change.id!r}, a node the dataset plans; expected an id not yet "
            "in use (an `open` change switches that node on)"
        )
    if change.id in tables.nodes.index:
        raise ScenarioError(f"{where}.id: got {change.id!r}; expected an id not yet in use")
    row: dict[str, Any] = {
        **change.model_dump(),
        "modes": list(change.modes),
        "regimes": list(change.regimes),
        "dwell_median_h": np.nan,
        "dwell_p90_h": np.nan,
        "gauge_change": False,
        "unlocode": "",
        "iata": "",
        "city": "",
        "aliases": [],
        "status": OPERATING,
        "opens_year": np.nan,
        "source": ["SCENARIO"],
    }
    new = gpd.GeoDataFrame(
        [row], index=[change.id], geometry=[shapely.Point(change.lon, change.lat)],
        crs=tables.nodes.crs,
    )  # fmt: skip
    tables.nodes = gpd.GeoDataFrame(pd.concat([tables.nodes, new[tables.nodes.columns]]))


def _add_corridor(tables: _Tables, where: str, change: AddCorridor) -> None:
    corridors, nodes = tables.corridors, tables.nodes
    ids = [change.id, f"{change.id}-RETURN"] if change.both_ways else [change.id]
    for corridor_id in ids:
        if corridor_id in tables.planned.corridors.index:
            raise ScenarioError(
                f"{where}.id: got {corridor_id!r}, a corridor the dataset plans; expected an id "
                "not yet in use (an `open` change switches that corridor on)"
            )
        if corridor_id in corridors.index:
            raise ScenarioError(f"{where}.id: got {corridor_id!r}; expected an id not yet in use")
    for end in ("origin", "destination"):
        node = getattr(change, end)
        if node not in nodes.index:
            raise ScenarioError(f"{where}.{end}: got {node!r}; expected a node id of the dataset")
        if change.mode not in nodes.at[node, "modes"]:
            raise ScenarioError(
                f"{where}.{end}: got {node!r}; expected a node handling {change.mode} "
                f"(add it to the node's modes)"
            )
    _check_ids(f"{where}.passages", change.passages, tables.passages.index, "a passage id")
    same_mode = corridors[corridors["mode"] == change.mode]
    emission = tables.base.emission_factors
    vehicle = change.vehicle or str(same_mode["vehicle"].mode().iloc[0])
    if vehicle not in emission.index or emission.at[vehicle, "mode"] != change.mode:
        known = ", ".join(emission.index[emission["mode"] == change.mode])
        raise ScenarioError(f"{where}.vehicle: got {vehicle!r}; expected one of {known}")
    template = {
        "mode": change.mode,
        "vehicle": vehicle,
        "service_name": change.service_name,
        "scheduled": False,
        "distance_km": change.distance_km,
        "duration_min_h": change.duration_h,
        "duration_h": change.duration_h,
        "duration_p90_h": change.duration_p90_h or 1.25 * change.duration_h,
        "capacity_teu_per_departure": (
            change.capacity_teu_per_departure
            if change.capacity_teu_per_departure is not None
            else float(same_mode["capacity_teu_per_departure"].median())
        ),
        "capacity_t_per_departure": change.capacity_t_per_departure
        or float(same_mode["capacity_t_per_departure"].median()),
        "departures_per_week": change.departures_per_week,
        "reefer": change.reefer,
        "lithium_batteries": "allowed",
        "passages": list(change.passages),
        "via": [],
        "reverse_id": "",
        "reverse_of": "",
        "status": OPERATING,
        "opens_year": np.nan,
        "source": ["SCENARIO"],
    }
    ends = [(change.origin, change.destination), (change.destination, change.origin)]
    rows = []
    for corridor_id, (origin, destination) in zip(ids, ends, strict=False):
        a, b = nodes.loc[origin], nodes.loc[destination]
        rows.append(
            {**template, "id": corridor_id, "origin": origin, "destination": destination,
             "geometry": shapely.LineString([(a["lon"], a["lat"]), (b["lon"], b["lat"])])}
        )  # fmt: skip
    new = gpd.GeoDataFrame(rows, index=ids, geometry="geometry", crs=corridors.crs)
    tables.corridors = gpd.GeoDataFrame(
        pd.concat([corridors, new[[c for c in corridors.columns if c in new.columns]]])
    )
    current = tables.network()
    for corridor_id in ids:
        if current.tariffs_for(corridor_id).empty:
            country = nodes.at[current.corridors.at[corridor_id, "origin"], "country"]
            raise ScenarioError(
                f"{where}.mode: no tariff prices {change.mode} from {country}; "
                "expected a mode with a default tariff there"
            )


def _add_service(tables: _Tables, where: str, change: AddService, number: int) -> None:
    if change.corridor not in tables.corridors.index:
        raise ScenarioError(f"{where}.corridor: got {change.corridor!r}; expected a corridor id")
    service = {
        "service_id": f"S-{change.corridor}-SCENARIO-{number}",
        "corridor_id": change.corridor,
        "service_name": change.service_name,
        "weekdays": list(change.weekdays),
        "departure_local": change.departure_local,
        "cutoff_h": change.cutoff_h,
        "rail_cutoff_h": math.nan if change.rail_cutoff_h is None else change.rail_cutoff_h,
        "week_parity": "all",
        "status": OPERATING,
        "opens_year": math.nan,
        "source": ["SCENARIO"],
    }
    was_scheduled = bool(tables.corridors.at[change.corridor, "scheduled"])
    if not was_scheduled:  # a timetable replaces the continuous service
        tables.services = tables.services[tables.services["corridor_id"] != change.corridor]
    tables.corridors.loc[change.corridor, "scheduled"] = True
    tables.services = pd.concat(
        [tables.services, pd.DataFrame([service]).astype(tables.services.dtypes.to_dict())],
        ignore_index=True,
    )


def _fx(tables: _Tables, change: Fx) -> None:
    if change.currency in tables.fx.index:
        tables.fx.loc[
            change.currency, ["cny_per_unit", "cny_per_unit_low", "cny_per_unit_high"]
        ] = change.cny_per_unit
    else:
        row = {column: tables.fx.iloc[0][column] for column in tables.fx.columns}
        row.update(cny_per_unit=change.cny_per_unit, cny_per_unit_low=change.cny_per_unit,
                   cny_per_unit_high=change.cny_per_unit, source=["SCENARIO"])  # fmt: skip
        tables.fx.loc[change.currency] = pd.Series(row)


def changes_digest(changes: Sequence[Change]) -> str:
    """12 hex digits identifying a list of changes."""
    text = json.dumps(
        [c.model_dump(mode="json", exclude_none=True) for c in changes], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def apply_changes(network: Network, changes: Sequence[Change]) -> ChangedNetwork:
    """A copy of ``network`` with ``changes`` applied in order.

    Raises
    ------
    ScenarioError
        For ids the network does not know, named by key path (``changes[1].close.nodes[0]``).

    Examples
    --------
    >>> from network_data import load_network
    >>> from scenarios.spec import load_scenario
    >>> network = load_network()
    >>> changed = apply_changes(network, load_scenario("red_sea_closure").changes).network
    >>> suez = "SEA-CNSHA-YSN-NLRTM"
    >>> suez in changed.corridors.index, suez in network.corridors.index
    (False, True)
    >>> changed.version.startswith(network.version + "+scenario.")
    True
    """
    if not changes:
        return ChangedNetwork(network)
    tables = _Tables(network)
    carbon: CarbonPrice | None = None
    for i, change in enumerate(changes):
        where = f"changes[{i}].{change.kind}"
        body = change.body
        if isinstance(body, Close):
            _close(tables, where, body)
        elif isinstance(body, Scale):
            _scale(tables, where, body)
        elif isinstance(body, Delay):
            _delay(tables, where, body)
        elif isinstance(body, AddNode):
            _add_node(tables, where, body)
        elif isinstance(body, AddCorridor):
            _add_corridor(tables, where, body)
        elif isinstance(body, AddService):
            _add_service(tables, where, body, i)
        elif isinstance(body, Fx):
            _fx(tables, body)
        elif isinstance(body, CarbonPrice):
            carbon = body
        elif isinstance(body, SetPassageStatus):
            _set_passage_status(tables, where, body)
        elif isinstance(body, Open):
            _open(tables, where, body)
    changed = tables.network(f"{network.version}+scenario.{changes_digest(changes)}")
    carbon_cny_per_kg = 0.0
    if carbon is not None:
        if carbon.currency not in changed.fx.index:
            raise ScenarioError(
                f"changes: carbon_price.currency: got {carbon.currency!r}; expected one of "
                f"{', '.join(changed.fx.index)}"
            )
        carbon_cny_per_kg = changed.to_cny(carbon.per_t_co2e, carbon.currency) / 1000.0
    return ChangedNetwork(changed, carbon_cny_per_kg)
