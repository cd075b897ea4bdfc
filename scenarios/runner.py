"""Run a scenario: change the network, plan every shipment, choose, load corridors, report KPIs.

Every shipment gets the planner's whole Pareto front on (cost, arrival, CO2e). The shipper
takes the option of least *generalised cost* = freight + carbon charge (price x CO2e) + value
of time (a share of the cargo value per day door to door). That sum weighs the three criteria
positively, so its minimum over all journeys lies on the front: the choice is exact, and a
carbon price or a slower corridor moves shipments to other options. Shipments are then loaded
first come, first served by ready time: an option whose corridor has no weekly capacity left
(TEU and tonnes, times ``choice.capacity_share``) gives way to the next best; a shipment with
no option that fits is unserved.

With ``sample``, N shipments of the demand are planned and every total is scaled by
demand/N, so totals estimate the whole demand and capacity is shared in proportion.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from network_data import Network, load_network
from network_data.schema import MODES
from optimizer.inputs import TableError, read_table
from optimizer.quotable import EXACT
from optimizer.routing import TEU_USABLE_M3, map_on_network, plan_routes, shipment_from_record
from optimizer.routing.problem import time_limit_from_record
from scenarios.changes import ChangedNetwork, apply_changes
from scenarios.demand import growth_factor, read_demand, sample_demand
from scenarios.spec import Scenario, ScenarioError, load_scenario

_REGIONS = {
    "europe": {"DE", "PL", "HU", "FR", "NL", "GB", "BE", "RO", "RU", "BY"},
    "central_asia": {"KZ", "UZ", "TR", "GE", "AZ"},
    "middle_east": {"AE"},
    "americas": {"US"},
}
_HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class ScenarioResult:
    """What one scenario run produced.

    ``shipments`` has one row per planned shipment (status, chosen option, cost, days, CO2e,
    tonne-km by mode); ``corridors`` one row per corridor used (peak weekly load against
    capacity); ``warehouses`` one row per warehouse and week of the allocation (when asked).
    """

    scenario: Scenario
    kpis: dict[str, Any]
    shipments: pd.DataFrame
    corridors: pd.DataFrame
    warehouses: pd.DataFrame
    network: Network = field(repr=False)
    baseline: ScenarioResult | None = None


@cache
def _base_network(data: str | None, tariffs: str | None) -> Network:
    return load_network(data, tariffs=tariffs)


def scenario_network(scenario: Scenario, network: Network | None = None) -> ChangedNetwork:
    """The scenario's base network (``network`` if given) with its changes applied."""
    spec = scenario.network
    if network is None:
        data = str(scenario.resolve(spec.data)) if spec.data else None
        tariffs = str(scenario.resolve(spec.tariffs)) if spec.tariffs else None
        network = _base_network(data, tariffs)
    if spec.version is not None and spec.version != network.version:
        raise ScenarioError(
            f"network.version: got {spec.version!r}; the dataset is {network.version!r}"
        )
    return apply_changes(network, scenario.changes)


def _region(country: str) -> str:
    return next((name for name, codes in _REGIONS.items() if country in codes), "asia")


def plan_options(network: Network, record: dict[str, Any]) -> dict[str, Any]:
    """The whole Pareto front of one shipment row, reduced to what the choice needs, planned
    within the row's time limit (column ``time_limit_s``, 10 s by default:
    :func:`~optimizer.routing.problem.time_limit_from_record`); ``stopped`` says the plan
    stopped at it, with the options it had found."""
    try:
        shipment = shipment_from_record(record)
        plan = plan_routes(
            network, replace(shipment, similar_within=EXACT), max_options=None,
            time_limit_s=time_limit_from_record(record),
        )  # fmt: skip
    except ValueError as exc:
        return {"status": "invalid", "reason": str(exc), "options": [], "stopped": False}
    ready = shipment.ready_at
    options = []
    for option in plan.options:
        options.append(
            {
                "cost_cny": option.cost_cny,
                "co2e_kg": option.co2e_kg,
                "days": (option.arrival - ready).total_seconds() / 86400,
                "days_p90": (option.arrival_p90 - ready).total_seconds() / 86400,
                "summary": option.summary,
                "legs": [
                    (leg.corridor_id, leg.mode, leg.distance_km, leg.depart.timestamp() / 3600)
                    for leg in option.legs
                ],
            }
        )
    return {"status": "no_option" if not options else "planned",
            "reason": plan.infeasible_reason or "", "options": options,
            "stopped": plan.unexplored is not None}  # fmt: skip


def _capacities(network: Network, share: float) -> tuple[dict[str, float], dict[str, float]]:
    corridors = network.corridors
    teu = corridors["capacity_teu_per_week"].fillna(0.0) * share
    tonnes = corridors["capacity_t_per_departure"] * corridors["departures_per_week"] * share
    return teu.to_dict(), tonnes.to_dict()


def _choose(
    scenario: Scenario,
    demand: pd.DataFrame,
    plans: list[dict[str, Any]],
    network: Network,
    carbon_cny_per_kg: float,
    scale: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick each shipment's option in ready order within weekly corridor capacity."""
    capacity_teu, capacity_t = _capacities(network, scenario.choice.capacity_share)
    used_teu: dict[tuple[str, int], float] = defaultdict(float)
    used_t: dict[tuple[str, int], float] = defaultdict(float)
    time_value = scenario.choice.value_of_time_per_day
    country = network.nodes["country"].to_dict()
    ready = pd.to_datetime(demand["ready_at"], utc=True, errors="coerce", format="ISO8601")
    order = np.lexsort((demand["id"].astype(str).to_numpy(), ready.to_numpy()))  # NaT last
    rows: list[dict[str, Any]] = [{} for _ in range(len(demand))]
    for i in order:
        record, plan = demand.iloc[i], plans[i]
        weight_kg = float(record["weight_kg"])
        volume_m3 = float(record["volume_m3"])
        value_cny = float(record.get("value_cny") or 0.0)
        need_teu = volume_m3 / TEU_USABLE_M3 * scale
        need_t = weight_kg / 1000 * scale
        row: dict[str, Any] = {
            "id": str(record["id"]),
            "zone": str(record.get("zone", "")),
            "product": str(record.get("product", "")),
            "origin": str(record["origin"]),
            "destination": str(record["destination"]),
            "region": _region(country.get(str(record["destination"]), "")),
            "weight_kg": weight_kg,
            "volume_m3": volume_m3,
            "value_cny": value_cny,
            "status": plan["status"],
            "reason": plan["reason"],
            "options": len(plan["options"]),
            "plan_stopped": plan["stopped"],
        }

        def score(option: dict[str, Any], value_cny: float = value_cny) -> float:
            return float(
                option["cost_cny"]
                + carbon_cny_per_kg * option["co2e_kg"]
                + time_value * value_cny * option["days"]
            )

        chosen = None
        for option in sorted(plan["options"], key=score):
            loads = [
                (cid, int(depart_h // _HOURS_PER_WEEK))
                for cid, _, _, depart_h in option["legs"]
                if cid is not None
            ]
            # .get: looking at an option must not record a use of its corridors
            if all(
                used_teu.get(key, 0.0) + need_teu <= capacity_teu[key[0]] + 1e-9
                or capacity_teu[key[0]] == 0
                for key in loads
            ) and all(used_t.get(key, 0.0) + need_t <= capacity_t[key[0]] + 1e-9 for key in loads):
                chosen = option
                for key in loads:
                    used_teu[key] += need_teu
                    used_t[key] += need_t
                break
        if chosen is None and plan["options"]:
            row.update(status="no_capacity", reason="every option's corridors are full that week")
        if chosen is not None:
            tkm = dict.fromkeys(MODES, 0.0)
            for _, mode, distance_km, _ in chosen["legs"]:
                tkm[mode] += weight_kg / 1000 * distance_km
            main_mode = max(tkm, key=lambda m: tkm[m])
            row.update(
                status="served",
                freight_cny=chosen["cost_cny"],
                carbon_cny=carbon_cny_per_kg * chosen["co2e_kg"],
                cost_cny=chosen["cost_cny"] + carbon_cny_per_kg * chosen["co2e_kg"],
                co2e_kg=chosen["co2e_kg"],
                days=chosen["days"],
                days_p90=chosen["days_p90"],
                main_mode=main_mode,
                summary=chosen["summary"],
                corridors="|".join(cid for cid, _, _, _ in chosen["legs"] if cid),
                **{f"tkm_{mode}": tkm[mode] for mode in MODES},
            )
        rows[i] = row
    shipments = pd.DataFrame(rows)
    for column in ("freight_cny", "carbon_cny", "cost_cny", "co2e_kg", "days", "days_p90",
                   *(f"tkm_{m}" for m in MODES)):  # fmt: skip
        if column not in shipments:
            shipments[column] = np.nan
    for column in ("main_mode", "summary", "corridors"):
        if column not in shipments:
            shipments[column] = ""
    shipments[["main_mode", "summary", "corridors"]] = shipments[
        ["main_mode", "summary", "corridors"]
    ].fillna("")
    return shipments, _corridor_use(network, used_teu, used_t, capacity_teu, capacity_t)


def _corridor_use(
    network: Network,
    used_teu: dict[tuple[str, int], float],
    used_t: dict[tuple[str, int], float],
    capacity_teu: dict[str, float],
    capacity_t: dict[str, float],
) -> pd.DataFrame:
    peak: dict[str, list[float]] = {}
    for (cid, _), teu in used_teu.items():
        load = peak.setdefault(cid, [0.0, 0.0])
        load[0] = max(load[0], teu)
    for (cid, _), tonnes in used_t.items():
        load = peak.setdefault(cid, [0.0, 0.0])
        load[1] = max(load[1], tonnes)
    rows = []
    for cid, (teu, tonnes) in sorted(peak.items()):
        shares = [tonnes / capacity_t[cid] if capacity_t[cid] else 0.0]
        if capacity_teu[cid]:
            shares.append(teu / capacity_teu[cid])
        rows.append(
            {"corridor": cid, "mode": str(network.corridors.at[cid, "mode"]),
             "peak_week_teu": teu, "capacity_teu_per_week": capacity_teu[cid],
             "peak_week_t": tonnes, "capacity_t_per_week": capacity_t[cid],
             "utilisation": max(shares)}
        )  # fmt: skip
    columns = ["corridor", "mode", "peak_week_teu", "capacity_teu_per_week", "peak_week_t",
               "capacity_t_per_week", "utilisation"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]


def _start_day(scenario: Scenario, network: Network) -> date:
    generate = scenario.demand.generate
    return generate.start if generate is not None else date.fromisoformat(network.date)


def _consolidation(
    scenario: Scenario, network: Network, demand: pd.DataFrame
) -> dict[str, Any] | None:
    spec = scenario.analyses.consolidation
    if spec is None:
        return None
    from optimizer._ortools import native_stdout_silenced
    from optimizer.consolidation import problem_from_records, solve_consolidation

    first = _start_day(scenario, network)
    last = first + timedelta(days=spec.days - 1)
    picked = demand[demand["zone"].isin(spec.origins) | demand["origin"].isin(spec.origins)]
    records = []
    for record in _records(picked):
        ready = datetime.fromisoformat(str(record["ready_at"])) if record.get("ready_at") else None
        if ready is None or not first <= ready.date() <= last:
            continue
        records.append(
            {**record, "origin": spec.hubs[0], "seller": record.get("zone", ""),
             "deadline": (ready + timedelta(days=45)).isoformat()}
        )  # fmt: skip
    if not records:
        return {"lots": 0, "savings_cny": 0.0, "savings_pct": 0.0, "boxes": 0}
    try:
        problem = problem_from_records(
            network, records, hubs=list(spec.hubs), first_day=first, last_day=last
        )
    except ValueError as exc:
        raise ScenarioError(f"analyses.consolidation.hubs: {exc}") from exc
    with native_stdout_silenced():
        result = solve_consolidation(problem, time_limit_s=spec.time_limit_s, seed=0, workers=1)
    return {
        "lots": len(problem.shipments),
        "status": result.status.value,
        "cost_cny": round(result.objective_cny, 2),
        "alone_cny": round(result.baseline_cny, 2),
        "savings_cny": round(result.savings_cny, 2),
        "savings_pct": round(result.savings_pct, 2),
        "boxes": len(result.units),
        "co2e_kg": round(result.co2e_kg, 1),
    }


def _allocation(scenario: Scenario, network: Network) -> tuple[dict[str, Any] | None, pd.DataFrame]:
    spec = scenario.analyses.allocation
    empty = pd.DataFrame(columns=["warehouse", "week", "capacity", "used", "utilisation"])
    if spec is None:
        return None, empty
    from optimizer._ortools import native_stdout_silenced
    from optimizer.allocation import (
        allocation_problem,
        sellers_from_records,
        solve_allocation,
        warehouses_from_records,
    )

    tables = {}
    for name in ("sellers", "warehouses"):
        path = scenario.resolve(getattr(spec, name))
        if not path.is_file():
            raise ScenarioError(f"analyses.allocation.{name}: no such file {path}")
        try:
            tables[name] = read_table(path).frame()
        except TableError as exc:
            raise ScenarioError(f"analyses.allocation.{name}: {exc}") from exc
    growth = growth_factor(scenario.demand)
    try:
        if "orders_per_week" in tables["sellers"]:
            tables["sellers"]["orders_per_week"] = tables["sellers"]["orders_per_week"].map(
                lambda text: ";".join(f"{float(x) * growth:g}" for x in str(text).split(";"))
            )
        problem = allocation_problem(
            network,
            sellers_from_records(_records(tables["sellers"])),
            warehouses_from_records(_records(tables["warehouses"])),
            weeks=spec.weeks, start=_start_day(scenario, network),
            service_days=spec.service_days, workers=1,
        )  # fmt: skip
        with native_stdout_silenced():
            result = solve_allocation(problem, time_limit_s=spec.time_limit_s, seed=0)
    except ValueError as exc:
        raise ScenarioError(f"analyses.allocation: {exc}") from exc
    rows = []
    for load in result.loads:
        shares = [
            (b + p) / c for c, b, p in zip(load.capacity, load.booked, load.planned, strict=True)
            if c > 0
        ]  # fmt: skip
        rows.append(
            {"warehouse": load.warehouse_id, "week": load.week, "capacity": load.capacity[0],
             "used": load.booked[0] + load.planned[0], "utilisation": max(shares, default=0.0)}
        )  # fmt: skip
    summary = {
        "status": result.status.value,
        "cost_cny": round(result.objective, 2),
        "served_orders": round(result.served, 1),
        "unserved_orders": round(result.unserved_quantity, 1),
    }
    return summary, pd.DataFrame(rows) if rows else empty


def compute_kpis(shipments: pd.DataFrame, corridors: pd.DataFrame, scale: float) -> dict[str, Any]:
    """Scenario KPIs from per-shipment results (totals scaled by ``scale`` = demand/sample).

    Examples
    --------
    >>> rows = pd.DataFrame({"status": ["served", "no_option"], "cost_cny": [100.0, None],
    ...     "weight_kg": [500.0, 800.0],
    ...     "co2e_kg": [5.0, None], "days": [10.0, None], "main_mode": ["rail", ""],
    ...     "region": ["europe", "europe"], **{f"tkm_{m}": [1.0 if m == "rail" else 0.0, None]
    ...     for m in MODES}})
    >>> k = compute_kpis(rows, pd.DataFrame({"corridor": [], "utilisation": []}), 10.0)
    >>> k["total_cost"], k["cost_per_t"], k["unserved"], k["mode_split"]["rail"]
    (1000.0, 200.0, 10.0, 1.0)
    """
    served = shipments[shipments["status"] == "served"]
    tkm = {mode: float(served[f"tkm_{mode}"].sum()) for mode in MODES}
    total_tkm = sum(tkm.values())
    days = served["days"].to_numpy(float)
    served_t = float(served["weight_kg"].sum()) / 1000.0
    by_mode = served.groupby("main_mode")["days"].mean()
    europe = served[served["region"] == "europe"].groupby("main_mode")["days"].mean()
    return {
        "shipments": round(len(shipments) * scale),
        "planned": len(shipments),
        "total_cost": round(float(served["cost_cny"].sum()) * scale, 2),
        # Comparable when runs leave different shipments unserved.
        "cost_per_t": round(float(served["cost_cny"].sum() / served_t), 2) if served_t else None,
        "mean_days": round(float(days.mean()), 3) if len(days) else None,
        "p90_days": round(float(np.percentile(days, 90)), 3) if len(days) else None,
        "co2e_kg": round(float(served["co2e_kg"].sum()) * scale, 1),
        "unserved": round(float((shipments["status"] != "served").sum()) * scale, 1),
        # plans stopped at their time limit choose among the options they had found
        "plans_stopped": int(shipments.get("plan_stopped", pd.Series(dtype=bool)).sum()),
        "mode_split": {m: round(v / total_tkm, 4) if total_tkm else 0.0 for m, v in tkm.items()},
        "mean_days_by_main_mode": {str(m): round(float(d), 3) for m, d in by_mode.items()},
        "europe_days_by_main_mode": {str(m): round(float(d), 3) for m, d in europe.items()},
        "corridor_utilisation": {
            # significant digits: a few kilograms on a freighter is used, not 0.0
            str(c): float(f"{float(u):.4g}")
            for c, u in zip(corridors["corridor"], corridors["utilisation"], strict=True)
        },
    }


def run_scenario(
    scenario: Scenario | str,
    *,
    baseline: Scenario | str | None = None,
    sample: int | None = None,
    workers: int | None = 1,
    network: Network | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ScenarioResult:
    """Run ``scenario`` (and ``baseline`` on the same sample) and compute its KPIs.

    Parameters
    ----------
    scenario, baseline
        Validated scenarios, or a file path or bundled name for :func:`load_scenario`.
    sample
        Plan this many shipments of the demand (seeded by the demand's seed) and scale totals.
    workers
        Processes that plan shipments (None: every core).
    network
        The base network to use instead of the one the scenario names (already loaded).
    progress
        Told ``(scenario name, shipments planned, shipments to plan)`` as planning goes on,
        for each run (the baseline's too).

    Returns
    -------
    ScenarioResult
        KPIs: ``total_cost`` (CNY, with the carbon charge, of the shipments served),
        ``cost_per_t`` (that over the tonnes served), ``mean_days``, ``p90_days``,
        ``co2e_kg``, ``unserved`` (shipments), ``mode_split`` (share of tonne-km by mode),
        ``corridor_utilisation`` and ``warehouse_utilisation`` (peak week against capacity),
        ``consolidation`` and ``allocation`` summaries when asked for.

    Examples
    --------
    >>> result = run_scenario("baseline", sample=5)
    >>> result.kpis["planned"], sorted(result.kpis["mode_split"]) == sorted(MODES)
    (5, True)
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    changed = scenario_network(spec, network)
    demand = read_demand(spec)
    seed = spec.demand.generate.seed if spec.demand.generate is not None else 0
    planned = sample_demand(demand, sample, seed)
    scale = len(demand) / len(planned) if len(planned) else 1.0
    records = _records(planned)
    done = [0]

    def planned_more(count: int) -> None:
        done[0] += count
        if progress is not None:
            progress(spec.name, done[0], len(records))

    if progress is not None:
        progress(spec.name, 0, len(records))
    plans = map_on_network(
        changed.network, plan_options, records,
        workers=(os.cpu_count() or 1) if workers is None else workers, on_done=planned_more,
    )  # fmt: skip
    shipments, corridors = _choose(
        spec, planned, plans, changed.network, changed.carbon_cny_per_kg, scale
    )
    kpis = compute_kpis(shipments, corridors, scale)
    kpis["carbon_cost"] = round(float(shipments["carbon_cny"].sum()) * scale, 2)
    kpis["consolidation"] = _consolidation(spec, changed.network, planned)
    allocation, warehouses = _allocation(spec, changed.network)
    kpis["allocation"] = allocation
    kpis["warehouse_utilisation"] = (
        {
            str(w): round(float(u), 4)
            for w, u in warehouses.groupby("warehouse")["utilisation"].max().items()
        }
        if len(warehouses)
        else {}
    )
    kpis["dataset_version"] = changed.network.version
    base = None
    if baseline is not None:
        base = run_scenario(
            baseline, sample=sample, workers=workers, network=network, progress=progress
        )
    return ScenarioResult(spec, kpis, shipments, corridors, warehouses, changed.network, base)


def like_with_like(result: ScenarioResult) -> dict[str, Any] | None:
    """The two runs on the shipments both served (None without a baseline): each run's KPI
    totals leave out what it did not serve, so a run that serves less can look cheaper.

    Totals are scaled to the whole demand as the KPIs are; ``only_scenario`` and
    ``only_baseline`` count the sampled shipments one run served and the other did not.
    """
    if result.baseline is None:
        return None
    runs = {"scenario": result.shipments, "baseline": result.baseline.shipments}
    served = {
        name: frame[frame["status"] == "served"].set_index("id") for name, frame in runs.items()
    }
    common = served["scenario"].index.intersection(served["baseline"].index)
    kpis = result.kpis
    scale = kpis["shipments"] / kpis["planned"] if kpis["planned"] else 1.0
    document: dict[str, Any] = {
        "shipments": len(common),
        "only_scenario": len(served["scenario"].index.difference(common)),
        "only_baseline": len(served["baseline"].index.difference(common)),
    }
    for name, frame in served.items():
        rows = frame.loc[common]
        document[name] = {
            "total_cost": round(float(rows["cost_cny"].sum()) * scale, 2),
            "mean_days": round(float(rows["days"].mean()), 3) if len(rows) else None,
            "co2e_kg": round(float(rows["co2e_kg"].sum()) * scale, 1),
        }
    return document


def kpi_document(result: ScenarioResult) -> dict[str, Any]:
    """``{"scenario": KPIS, "baseline": KPIS or None, "like_with_like": ... or None}``, ready
    for JSON (:func:`like_with_like`)."""
    return {
        "scenario": {"name": result.scenario.name, **result.kpis},
        "baseline": (
            {"name": result.baseline.scenario.name, **result.baseline.kpis}
            if result.baseline is not None
            else None
        ),
        "like_with_like": like_with_like(result),
    }
