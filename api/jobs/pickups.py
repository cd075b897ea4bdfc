"""The ``pickups`` job: truck routes that collect lots and unload them at the hub by the cut-off.

Input: ``pickups`` and ``fleet`` (lists, or ``pickups_csv`` and ``fleet_csv``: the columns of
``shudao pickups``), ``hub`` and ``cutoff`` (ISO time with offset); optionally ``start``,
``time_limit_s`` (<= 600, default 30), ``seed``, ``backend`` (``pyvrp`` or ``ortools``),
``terrain`` and ``drop_penalty_cny``. Result: the plan of :meth:`PickupResult.to_dict` with
its ``geojson``.
"""

from __future__ import annotations

from typing import Any

from api.jobs.records import number_field, rows_field, seed_field
from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.first_mile import (
    BACKENDS,
    fleet_from_records,
    problem_from_records,
    solve_pickups,
)
from optimizer.first_mile.problem import DROP_PENALTY_CNY, aware_moment, check_pickup_records
from optimizer.first_mile.travel import TERRAINS
from optimizer.jobs import Progress

MAX_SECONDS = 600.0
DEFAULT_SECONDS = 30.0


def _rows(job_input: dict[str, Any], name: str) -> list[dict[str, Any]]:
    rows = rows_field(job_input, name)
    if not rows:
        raise InvalidInputError(
            f"input.{name}", rows, f"'{name}' (a list) or '{name}_csv' (CSV)",
            message=f"expected '{name}' (a list) or '{name}_csv' (CSV)",
        )  # fmt: skip
    return rows


def _moment(job_input: dict[str, Any], name: str, required: bool) -> str | None:
    value = job_input.get(name)
    if value is None and not required:
        return None
    aware_moment(f"input.{name}", str(value))
    return str(value)


def _choice(job_input: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = job_input.get(name)
    if value is not None and value not in allowed:
        raise InvalidInputError(f"input.{name}", value, f"one of {', '.join(allowed)}")
    return value


def validate(job_input: dict[str, Any]) -> dict[str, Any]:
    """Check a ``pickups`` input before it is queued; return the solve options.

    Every number, time and window of the rows is checked here; places are resolved when the
    job runs, on the service's network.

    Examples
    --------
    >>> fleet = [{"name": "9.6 m truck", "capacity_kg": 18000, "capacity_m3": 55}]
    >>> job = {"pickups": [{"id": "P1", "place": "Linshui", "weight_kg": 800}],
    ...        "fleet": fleet, "hub": "CNCKG-RLY", "cutoff": "2026-12-03T18:00+08:00"}
    >>> validate(job)["time_limit_s"]
    30.0
    >>> validate({**job, "cutoff": "2026-12-03 18:00"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.cutoff: got '2026-12-03 18:00'; expected an ISO ...
    >>> validate({**job, "pickups": [{"id": "P1", "place": "Linshui", "weight_kg": "heavy"}]})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.pickups.0.weight_kg: got 'heavy'; expected a number
    """
    records = _rows(job_input, "pickups")
    for i, row in enumerate(_rows(job_input, "fleet")):
        try:
            fleet_from_records([row])
        except InvalidInputError as exc:
            column = exc.field.rsplit(".", 1)[-1]
            raise exc.at(f"input.fleet.{i}.{column}") from exc
    hub = job_input.get("hub")
    if not isinstance(hub, str) or not hub.strip():
        raise InvalidInputError("input.hub", hub, "a node id, name or 'lat,lon'")
    cutoff = str(_moment(job_input, "cutoff", required=True))
    start = _moment(job_input, "start", required=False)
    terrain = _choice(job_input, "terrain", TERRAINS) or "hilly"
    options = {
        "hub": hub,
        "cutoff": cutoff,
        "start": start,
        "time_limit_s": number_field(job_input, "time_limit_s", 0.1, MAX_SECONDS, DEFAULT_SECONDS),
        "drop_penalty_cny": number_field(job_input, "drop_penalty_cny", 0.0, 1e9, DROP_PENALTY_CNY),
        "seed": seed_field(job_input),
        "backend": _choice(job_input, "backend", BACKENDS),
        "terrain": terrain,
    }
    try:
        check_pickup_records(records, cutoff=cutoff, start=start, terrain=terrain)
    except InvalidInputError as exc:
        raise exc.at(_pickup_field(records, exc.field)) from exc
    return options


def _pickup_field(records: list[dict[str, Any]], field: str) -> str:
    """``P2.place`` as ``input.pickups.1.place`` when ``P2`` is a row's id (``row 2.place``
    when the row has none).

    >>> _pickup_field([{"id": "P1"}, {"id": "P2"}, {}], "P2.place")
    'input.pickups.1.place'
    >>> _pickup_field([{"id": "P1"}, {"id": "P2"}, {}], "row 3.weight_kg")
    'input.pickups.2.weight_kg'
    """
    owner, _, column = field.rpartition(".")
    for i, record in enumerate(records, start=1):
        if owner and owner in (str(record.get("id", "")).strip(), f"row {i}"):
            return f"input.pickups.{i - 1}.{column}"
    return f"input.{field}"


def run(job_input: dict[str, Any], network: Network, progress: Progress) -> dict[str, Any]:
    """Plan the routes on ``network``: the plan document with its ``geojson``."""
    options = validate(job_input)
    records = _rows(job_input, "pickups")
    try:
        problem = problem_from_records(
            records, fleet=fleet_from_records(_rows(job_input, "fleet")), hub=options["hub"],
            cutoff=options["cutoff"], network=network, start=options["start"],
            drop_penalty_cny=options["drop_penalty_cny"], terrain=options["terrain"],
        )  # fmt: skip
    except InvalidInputError as exc:
        raise exc.at(_pickup_field(records, exc.field)) from exc
    if not progress(0.05):
        raise InterruptedError("cancelled")
    result = solve_pickups(
        problem, time_limit_s=options["time_limit_s"], seed=options["seed"],
        backend=options["backend"],
    )  # fmt: skip
    return {**result.to_dict(), "geojson": result.to_geojson()}
