"""The ``scenario`` job kind: validate an input at submission, run it in a worker.

Input: ``scenario`` (YAML text) or ``name`` (a bundled scenario); optional ``sample``
(shipments planned, 1 to 2,000; default 200) and ``baseline`` (a bundled name, or true for
``baseline``). A scenario sent as text runs on the service's network (it may not name a
dataset or tariffs) and may name only the bundled data files (``data/warehouses.csv``), as the
bundled scenarios do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.jobs import Progress
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
class ScenarioInput:
    """A checked ``scenario`` job input."""

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


def validate(job_input: dict[str, Any]) -> ScenarioInput:
    """Check a job input; raise :class:`~optimizer.errors.InvalidInputError` naming the
    field.

    Examples
    --------
    >>> validate({"name": "carbon_price", "sample": 50}).sample
    50
    >>> validate({"scenario": "name: x\\ndescription: y\\ndemand: {}\\n"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.scenario.demand: exactly one of file, generate
    """
    if "scenario" in job_input:
        text = job_input["scenario"]
        if not isinstance(text, str):
            raise InvalidInputError(
                "input.scenario", text, "the scenario YAML as a string",
                message="expected the scenario YAML as a string",
            )  # fmt: skip
        try:
            scenario = parse_scenario(text, base_dir=BUNDLED_DIR)
        except ScenarioError as exc:
            if exc.key is None:
                raise InvalidInputError(
                    "input.scenario", text, "a scenario", message=str(exc)
                ) from exc
            message = str(exc).removeprefix(f"{exc.key}: ")
            raise InvalidInputError(
                f"input.scenario.{exc.key}", text, "a scenario", message=message
            ) from exc
        _check_files(scenario)
    elif "name" in job_input:
        scenario = _bundled("name", job_input["name"])
    else:
        raise InvalidInputError(
            "input", job_input, "'scenario' (YAML text) or 'name' (a bundled scenario)",
            message="expected 'scenario' (YAML text) or 'name' (a bundled scenario)",
        )  # fmt: skip
    baseline_field = job_input.get("baseline")
    baseline = None
    if baseline_field is True:
        baseline = load_scenario("baseline")
    elif baseline_field not in (None, False):
        baseline = _bundled("baseline", baseline_field)
    sample = job_input.get("sample", DEFAULT_SAMPLE)
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE:
        raise InvalidInputError("input.sample", sample, f"an integer in [1, {MAX_SAMPLE}]")
    return ScenarioInput(scenario, baseline, sample)


def run(job_input: dict[str, Any], network: Network, progress: Progress) -> dict[str, Any]:
    """Run a checked input on ``network``: ``{"scenario": KPIS, "baseline": KPIS or None}``."""
    checked = validate(job_input)
    if not progress(0.05):
        raise InterruptedError("cancelled")
    try:
        # One process: forking a threaded server is unsafe.
        result = run_scenario(
            checked.scenario, baseline=checked.baseline, sample=checked.sample, workers=1,
            network=network,
        )  # fmt: skip
    except ScenarioError as exc:
        raise InvalidInputError("input.scenario", None, "a scenario", message=str(exc)) from exc
    return kpi_document(result)
