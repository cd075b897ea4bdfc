"""The ``pickups`` job: truck routes that collect lots and unload them at the hub by the cut-off.

The result is the plan of :meth:`PickupResult.to_dict` with its ``geojson``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, model_validator

from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.first_mile import (
    BACKENDS,
    PickupProblem,
    fleet_from_records,
    problem_from_records,
    solve_pickups,
)
from optimizer.first_mile.problem import DROP_PENALTY_CNY, aware_moment, check_pickup_records
from optimizer.first_mile.solve import TIME_LIMIT_S
from optimizer.first_mile.travel import TERRAIN, TERRAINS
from optimizer.jobs import (
    JobInput,
    OneOf,
    Parsed,
    Progress,
    Range,
    Row,
    Seed,
    TimeLimit,
    input_errors,
    require_columns,
    table,
    table_text,
)

#: The largest penalty per pickup left unserved, CNY: far above any truck's day.
MAX_DROP_PENALTY_CNY = 1e9


def _moment(value: object) -> str:
    """An ISO time with its offset, kept as written."""
    aware_moment("moment", str(value))
    return str(value)


def _hub(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("hub", value, "a node id, name or 'lat,lon'")
    return value


def _pickup_field(records: list[Row], field: str) -> str:
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


class PickupsInput(JobInput):
    """Lots to collect and the trucks to collect them with (the columns of ``shudao pickups``),
    the hub they go to and its cut-off. Every number, time and window of the rows is checked at
    submission; places are resolved when the job runs, on the service's network.

    Examples
    --------
    >>> fleet = [{"name": "9.6 m truck", "capacity_kg": 18000, "capacity_m3": 55}]
    >>> job = {"pickups": [{"id": "P1", "place": "Linshui", "weight_kg": 800}],
    ...        "fleet": fleet, "hub": "CNCKG-RLY", "cutoff": "2026-12-03T18:00+08:00"}
    >>> PickupsInput.model_validate(job).time_limit_s
    30.0
    >>> from optimizer.jobs import checked
    >>> checked(PickupsInput, {**job, "cutoff": "2026-12-03 18:00"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.cutoff: got '2026-12-03 18:00'; expected an ISO ...
    >>> checked(PickupsInput,
    ...         {**job, "pickups": [{"id": "P1", "place": "Linshui", "weight_kg": "heavy"}]})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.pickups.0.weight_kg: got 'heavy'; expected a number
    """

    TABLES: ClassVar[dict[str, str]] = {"pickups": "pickups_csv", "fleet": "fleet_csv"}
    model_config = ConfigDict(
        title="pickups input",
        json_schema_extra={
            "examples": [
                {"pickups": [{"id": "P1", "place": "Linshui", "weight_kg": 800,
                              "volume_m3": 4.2}],
                 "fleet": [{"name": "9.6 m truck", "capacity_kg": 18000, "capacity_m3": 55,
                            "count": 2}],
                 "hub": "CNCKG-RLY", "cutoff": "2026-12-03T18:00+08:00", "time_limit_s": 5},
            ]
        },
    )  # fmt: skip

    pickups: list[Row] | None = table(
        "Lots, one object per row with the columns of `shudao pickups` (id, place, weight_kg, "
        "volume_m3, windows, ...). Or `pickups_csv`."
    )
    pickups_csv: str | None = table_text("pickups")
    fleet: list[Row] | None = table(
        "Truck types, one object per row (name, capacity_kg, capacity_m3, count, costs, "
        "shift_h, depots, cargo_classes). Or `fleet_csv`."
    )
    fleet_csv: str | None = table_text("fleet")
    hub: Annotated[str, Parsed(_hub)] = Field(
        description="Where the lots go: a node id, name or 'lat,lon'."
    )
    cutoff: Annotated[str, Parsed(_moment)] = Field(
        description="Cut-off at the hub, an ISO time with its offset: 2026-12-03T18:00+08:00."
    )
    start: Annotated[str | None, Parsed(_moment)] = Field(
        None, description="Earliest truck departure (default: 24 h before the cut-off)."
    )
    time_limit_s: TimeLimit = TIME_LIMIT_S
    drop_penalty_cny: Annotated[float, Range(0.0, MAX_DROP_PENALTY_CNY)] = Field(
        DROP_PENALTY_CNY, description="Penalty per lot left unserved, CNY."
    )
    seed: Seed = 0
    backend: Annotated[str | None, OneOf(BACKENDS)] = Field(
        None, description="The solver: pyvrp (default) or ortools."
    )
    terrain: Annotated[str, OneOf(TERRAINS)] = Field(
        TERRAIN, description="Terrain where a row gives none (it sets road speeds)."
    )

    @model_validator(mode="after")
    def _check(self) -> PickupsInput:
        with input_errors():
            records = require_columns(self.pickups, "pickups", (), alternative="pickups_csv")
            fleet = require_columns(self.fleet, "fleet", (), alternative="fleet_csv")
            for i, row in enumerate(fleet):
                try:
                    fleet_from_records([row])
                except InvalidInputError as exc:
                    raise exc.at(f"input.fleet.{i}.{exc.field.rsplit('.', 1)[-1]}") from exc
            try:
                check_pickup_records(
                    records, cutoff=self.cutoff, start=self.start, terrain=self.terrain
                )
            except InvalidInputError as exc:
                raise exc.at(_pickup_field(records, exc.field)) from exc
        return self

    def problem(self, network: Network) -> PickupProblem:
        """The pickup problem on ``network``: places resolved, travel times computed."""
        return problem_from_records(
            self.pickups or [], fleet=fleet_from_records(self.fleet or []), hub=self.hub,
            cutoff=self.cutoff, network=network, start=self.start,
            drop_penalty_cny=self.drop_penalty_cny, terrain=self.terrain,
        )  # fmt: skip

    def run(self, network: Network, progress: Progress, context: None = None) -> dict[str, Any]:
        """Plan the routes on ``network``: the plan document with its ``geojson``."""
        try:
            problem = self.problem(network)
        except InvalidInputError as exc:
            raise exc.at(_pickup_field(self.pickups or [], exc.field)) from exc
        if not progress(0.05):
            raise InterruptedError("cancelled")
        result = solve_pickups(
            problem, time_limit_s=self.time_limit_s, seed=self.seed, backend=self.backend
        )
        return {**result.to_dict(), "geojson": result.to_geojson()}
