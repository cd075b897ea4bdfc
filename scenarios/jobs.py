"""The ``scenario`` job kind: a bundled scenario or its YAML, run on the service's network.

A scenario sent as text runs on the service's network (it may not name a dataset or tariffs)
and may name only the bundled data files (``data/warehouses.csv``), as the bundled scenarios
do. The result is ``{"scenario": KPIS, "baseline": KPIS or None}`` as ``shudao scenario run
--json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.jobs import JobInput, Parsed, Progress, Range, checked, input_errors
from scenarios.runner import kpi_document, run_scenario
from scenarios.spec import (
    BUNDLED_DATA_DIR,
    BUNDLED_DIR,
    Scenario,
    ScenarioError,
    bundled_names,
    load_scenario,
    parse_scenario,
)

MAX_SAMPLE = 2_000
DEFAULT_SAMPLE = 200


@dataclass(frozen=True)
class ScenarioRun:
    """What a ``scenario`` job runs: the scenario, its baseline (or none) and the sample."""

    scenario: Scenario
    baseline: Scenario | None
    sample: int


def _bundled(field: str, name: object) -> Scenario:
    if not isinstance(name, str) or name not in bundled_names():
        raise InvalidInputError(f"input.{field}", name, f"one of {', '.join(bundled_names())}")
    return load_scenario(name)


def _check_files(scenario: Scenario) -> None:
    """A job's own scenario names no dataset and only bundled data files."""
    allocation = scenario.analyses.allocation
    named = {
        "network.data": scenario.network.data,
        "network.tariffs": scenario.network.tariffs,
        "demand.file": scenario.demand.file,
        "analyses.allocation.sellers": allocation.sellers if allocation else None,
        "analyses.allocation.warehouses": allocation.warehouses if allocation else None,
    }
    bundled = sorted(f"data/{p.name}" for p in BUNDLED_DATA_DIR.glob("*.csv"))
    for key, relative in named.items():
        if relative is None:
            continue
        path = scenario.resolve(relative)
        if key.startswith("network.") or not (
            path.resolve().parent == BUNDLED_DATA_DIR.resolve() and path.is_file()
        ):
            raise InvalidInputError(
                f"input.scenario.{key}", relative,
                f"no dataset and only bundled data files in a job ({', '.join(bundled)}), or a "
                "bundled scenario by name",
            )  # fmt: skip


def _baseline(value: object) -> object:
    # before the union, so that a wrong type is named on the field, not on a member of it
    if value is not None and not isinstance(value, bool | str):
        raise InvalidInputError("baseline", value, "a bundled scenario's name, or true")
    return value


class ScenarioJobInput(JobInput):
    """A scenario to run: ``name`` (a bundled one) or ``scenario`` (its YAML text, naming no
    files but the bundled data), the shipments to plan and the baseline to compare with.

    Examples
    --------
    >>> ScenarioJobInput.model_validate({"name": "carbon_price", "sample": 50}).problem().sample
    50
    >>> checked(ScenarioJobInput, {"scenario": "name: x\\ndescription: y\\ndemand: {}\\n"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.scenario.demand: exactly one of file, generate
    """

    model_config = ConfigDict(
        title="scenario input",
        json_schema_extra={
            "examples": [
                {"name": "red_sea_closure", "sample": 20, "baseline": True},
                {"scenario": "name: carbon_eur_100\ndescription: EUR 100 a tonne of CO2e\n"
                             "demand: {generate: {weeks: 1}}\n"
                             "changes: [{carbon_price: {per_t_co2e: 100, currency: EUR}}]\n",
                 "sample": 20},
            ]
        },
    )  # fmt: skip

    scenario: str | None = Field(
        None, description="The scenario's YAML (see scenarios/*.yaml), instead of `name`."
    )
    name: str | None = Field(None, description=f"A bundled scenario: {', '.join(bundled_names())}.")
    sample: Annotated[int, Range(1, MAX_SAMPLE, f"an integer in [1, {MAX_SAMPLE}]")] = Field(
        DEFAULT_SAMPLE, description="Shipments planned."
    )
    baseline: Annotated[bool | str | None, Parsed(_baseline)] = Field(
        None, description="A bundled scenario to compare with, or true for `baseline`."
    )
    _run: ScenarioRun = PrivateAttr()

    @model_validator(mode="after")
    def _check(self) -> ScenarioJobInput:
        with input_errors():
            if self.scenario is not None:
                scenario = _parsed(self.scenario)
            elif self.name is not None:
                scenario = _bundled("name", self.name)
            else:
                raise InvalidInputError(
                    "input", None, "'scenario' (YAML text) or 'name' (a bundled scenario)",
                    message="expected 'scenario' (YAML text) or 'name' (a bundled scenario)",
                )  # fmt: skip
            baseline = None
            if self.baseline is True:
                baseline = load_scenario("baseline")
            elif self.baseline not in (None, False):
                baseline = _bundled("baseline", self.baseline)
        self._run = ScenarioRun(scenario, baseline, self.sample)
        return self

    def problem(self) -> ScenarioRun:
        """The scenario and baseline read once, at validation."""
        return self._run

    def run(self, network: Network, progress: Progress, context: None = None) -> dict[str, Any]:
        """Run on ``network``: ``{"scenario": KPIS, "baseline": KPIS or None}``."""
        planned = self.problem()
        if not progress(0.05):
            raise InterruptedError("cancelled")
        try:
            # One process: forking a threaded server is unsafe.
            result = run_scenario(
                planned.scenario, baseline=planned.baseline, sample=planned.sample, workers=1,
                network=network,
            )  # fmt: skip
        except ScenarioError as exc:
            raise InvalidInputError("input.scenario", None, "a scenario", message=str(exc)) from exc
        return kpi_document(result)


def _parsed(text: str) -> Scenario:
    try:
        scenario = parse_scenario(text, base_dir=BUNDLED_DIR)
    except ScenarioError as exc:
        if exc.key is None:
            raise InvalidInputError("input.scenario", text, "a scenario", message=str(exc)) from exc
        message = str(exc).removeprefix(f"{exc.key}: ")
        raise InvalidInputError(
            f"input.scenario.{exc.key}", text, "a scenario", message=message
        ) from exc
    _check_files(scenario)
    return scenario


def validate(job_input: dict[str, Any]) -> ScenarioRun:
    """Check a job input as the service does; raise
    :class:`~optimizer.errors.InvalidInputError` naming the field.

    Examples
    --------
    >>> validate({"name": "carbon_price", "sample": 50}).sample
    50
    """
    return checked(ScenarioJobInput, job_input).problem()


def run(job_input: dict[str, Any], network: Network, progress: Progress) -> dict[str, Any]:
    """Run an input on ``network``: ``{"scenario": KPIS, "baseline": KPIS or None}``."""
    return checked(ScenarioJobInput, job_input).run(network, progress)
