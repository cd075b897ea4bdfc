"""The ``consolidation`` job: pool a hub's lots into boxes on its departures, at least cost."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, ConfigDict, Field, WithJsonSchema, model_validator

from network_data import Network
from optimizer.consolidation import ConsolidationProblem, problem_from_records, solve_consolidation
from optimizer.consolidation.problem import (
    LATENESS_SHARE_PER_DAY,
    MAX_WAIT_DAYS,
    MAX_WINDOW_DAYS,
    STORAGE_CNY_PER_M3_DAY,
)
from optimizer.consolidation.solve import TIME_LIMIT_S
from optimizer.errors import InvalidInputError
from optimizer.jobs import (
    JobInput,
    Parsed,
    Progress,
    Range,
    Row,
    Seed,
    TimeLimit,
    input_errors,
    iso_day,
    require_columns,
    table,
    table_text,
)

#: The largest TEU allotment per departure: more than any train or ship out of the pilot
#: zones carries (a block train is 100 TEU, a Yangtze liner 1,000).
MAX_SLOTS_TEU = 10_000.0
#: The most days a lot may arrive after its deadline: a quarter of a year.
MAX_LATE_DAYS = 90.0


#: ``hubs`` as the client may write it: one hub, or a list of them.
HUBS_SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ]
}


def _hub_list(value: object) -> object:
    """One hub as a list of one; anything but text or a list of text is refused."""
    hubs = [value] if isinstance(value, str) else value
    if not isinstance(hubs, list) or not hubs or not all(isinstance(h, str) for h in hubs):
        raise InvalidInputError("hubs", value, "a hub name or id, or a list of them")
    return hubs


class ConsolidationInput(JobInput):
    """Lots waiting at a hub (the columns of ``shudao consolidate``), the hubs and the days of
    the departures to fill; the result is the loading plan.

    Examples
    --------
    >>> lots = ConsolidationInput.model_validate({
    ...     "csv": "id,origin,destination,deadline,weight_kg,volume_m3\\n"
    ...            "A,Chengdu,Duisburg,2026-12-31,1,1\\n",
    ...     "hub": "Chengdu", "from": "2026-12-02", "to": "2026-12-02"})
    >>> lots.hubs, lots.time_limit_s, lots.stored()["from"]
    (['Chengdu'], 60.0, '2026-12-02')
    """

    TABLES: ClassVar[dict[str, str]] = {"shipments": "csv"}
    REQUIRED: ClassVar[tuple[str, ...]] = (
        "id", "origin", "destination", "deadline", "weight_kg", "volume_m3",
    )  # fmt: skip
    model_config = ConfigDict(
        title="consolidation input",
        json_schema_extra={
            "examples": [
                {"shipments": [{"id": "L1", "seller": "acme", "origin": "Chengdu",
                                "destination": "Duisburg", "ready_date": "2026-11-29",
                                "deadline": "2026-12-31", "weight_kg": 2000, "volume_m3": 10}],
                 "hubs": ["CNCTU-RLY"], "from": "2026-12-02", "to": "2026-12-02",
                 "time_limit_s": 30, "seed": 1},
            ]
        },
    )  # fmt: skip

    shipments: list[Row] | None = table(
        "Lots, one object per row with the columns of `shudao consolidate` (needs "
        f"{', '.join(REQUIRED)}). Or `csv`."
    )
    csv: str | None = table_text("shipments")
    hubs: Annotated[list[str], Parsed(_hub_list), WithJsonSchema(HUBS_SCHEMA)] = Field(
        validation_alias=AliasChoices("hubs", "hub"),
        description="Hub names or ids (or `hub`, one); a city stands for its rail port and "
        "airports.",
    )
    first_day: Annotated[date, Parsed(iso_day)] = Field(
        alias="from", description="First departure day, a date such as 2026-12-01."
    )
    last_day: Annotated[date, Parsed(iso_day)] = Field(
        alias="to",
        description=f"Last departure day (inclusive), 0 to {MAX_WINDOW_DAYS} days after `from`.",
    )
    time_limit_s: TimeLimit = TIME_LIMIT_S
    seed: Seed = 0
    slots_teu: Annotated[float | None, Range(0.0, MAX_SLOTS_TEU)] = Field(
        None, description="TEU allotment per departure (default: the departure's capacity)."
    )
    max_late_days: Annotated[float, Range(0.0, MAX_LATE_DAYS)] = Field(
        0.0, description="Days a lot may arrive after its deadline, at a penalty."
    )
    max_wait_days: Annotated[float, Range(0.0, float(MAX_WINDOW_DAYS))] = Field(
        MAX_WAIT_DAYS, description="Longest wait of a lot at the hub, days."
    )
    storage_cny_per_m3_day: Annotated[float, Range(0.0, 1e6)] = Field(
        STORAGE_CNY_PER_M3_DAY, description="Hub storage while a lot waits, CNY per m3 a day."
    )
    lateness_share_per_day: Annotated[float, Range(0.0, 1.0)] = Field(
        LATENESS_SHARE_PER_DAY,
        description="Lateness penalty: this share of a lot's declared value a day.",
    )

    @model_validator(mode="after")
    def _check(self) -> ConsolidationInput:
        with input_errors():
            require_columns(self.shipments, "shipments", self.REQUIRED, alternative="csv")
            window = f"a day 0 to {MAX_WINDOW_DAYS} days after {self.first_day}"
            if not 0 <= (self.last_day - self.first_day).days <= MAX_WINDOW_DAYS:
                raise InvalidInputError(
                    "input.to", self.last_day, window,
                    message=f"got {self.last_day}; expected {window}",
                )  # fmt: skip
        return self

    def problem(self, network: Network) -> ConsolidationProblem:
        """The consolidation problem on ``network``: lots priced, bad rows set aside.

        Raises
        ------
        optimizer.errors.InvalidInputError
            For an unknown hub, on the problem's own field (``hubs``).
        """
        return problem_from_records(
            network, self.shipments or [], hubs=self.hubs, first_day=self.first_day,
            last_day=self.last_day, slots_teu=self.slots_teu, max_late_days=self.max_late_days,
            max_wait_days=self.max_wait_days, storage_cny_per_m3_day=self.storage_cny_per_m3_day,
            lateness_share_per_day=self.lateness_share_per_day,
        )  # fmt: skip

    def run(self, network: Network, progress: Progress, context: None = None) -> dict[str, Any]:
        """Solve on ``network`` in this process; the loading plan."""
        try:
            problem = self.problem(network)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"input.{exc.field}", exc.value, exc.allowed, message=str(exc)
            ) from exc
        if not progress(0.05):
            raise InterruptedError("cancelled")
        # One process: forking a threaded server is unsafe.
        result = solve_consolidation(
            problem, time_limit_s=self.time_limit_s, seed=self.seed, workers=1
        )
        return result.to_dict()
