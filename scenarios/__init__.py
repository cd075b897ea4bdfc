"""What-if scenarios on the Shudao network: files, runs, reports and Monte Carlo sweeps.

>>> from scenarios import load_scenario
>>> load_scenario("carbon_price").changes[0].carbon_price.per_t_co2e
100.0
"""

from scenarios.changes import ChangedNetwork, apply_changes
from scenarios.demand import generate_demand, read_demand
from scenarios.runner import ScenarioResult, compute_kpis, kpi_document, run_scenario
from scenarios.spec import (
    Scenario,
    ScenarioError,
    bundled_names,
    load_scenario,
    parse_scenario,
    scenario_from_dict,
)
from scenarios.sweep import run_sweep, summarise

__all__ = [
    "ChangedNetwork",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "apply_changes",
    "bundled_names",
    "compute_kpis",
    "generate_demand",
    "kpi_document",
    "load_scenario",
    "parse_scenario",
    "read_demand",
    "run_scenario",
    "run_sweep",
    "scenario_from_dict",
    "summarise",
]
