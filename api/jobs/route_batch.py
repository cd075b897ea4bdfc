"""The ``route-batch`` job: plan each row of a shipments table, one plan summary per row."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from pydantic import ConfigDict, model_validator

from api.schemas.route_plans import MAX_PLAN_TIME_LIMIT_S
from network_data import Network
from optimizer.jobs import (
    JobInput,
    Progress,
    Row,
    input_errors,
    require_columns,
    table,
    table_text,
)
from optimizer.routing import plan_record

#: Rows between two progress reports.
PROGRESS_ROWS = 25


class RouteBatchInput(JobInput):
    """Shipments to plan, as a list of objects or CSV text with the columns of
    ``shudao plan-batch``; a row that cannot be planned is answered with its reason, the others
    are planned.

    Examples
    --------
    >>> batch = RouteBatchInput.model_validate(
    ...     {"csv": "origin,destination,weight_kg,volume_m3\\nWuhu,Rotterdam,500,2\\n"})
    >>> batch.stored()
    {'shipments': [{'origin': 'Wuhu', 'destination': 'Rotterdam', 'weight_kg': '500', \
'volume_m3': '2'}]}
    """

    TABLES: ClassVar[dict[str, str]] = {"shipments": "csv"}
    #: Columns every row needs; the others (ready_at, cargo_class, modes, ...) are optional.
    REQUIRED: ClassVar[tuple[str, ...]] = ("origin", "destination", "weight_kg", "volume_m3")
    model_config = ConfigDict(
        title="route-batch input",
        json_schema_extra={
            "examples": [
                {"shipments": [{"origin": "Linshui", "destination": "Duisburg",
                                "weight_kg": 800, "volume_m3": 4.2}]},
                {"csv": "origin,destination,weight_kg,volume_m3\nWuhu,Rotterdam,500,2\n"},
            ]
        },
    )  # fmt: skip

    shipments: list[Row] | None = table(
        "Shipments, one object per row with the columns of `shudao plan-batch` (needs "
        f"{', '.join(REQUIRED)}). Or `csv`."
    )
    csv: str | None = table_text("shipments")

    @model_validator(mode="after")
    def _check(self) -> RouteBatchInput:
        with input_errors():
            require_columns(self.shipments, "shipments", self.REQUIRED, alternative="csv")
        return self

    def run(self, network: Network, progress: Progress, context: None = None) -> dict[str, Any]:
        """Plan every row on ``network``: counts by status and one summary row per shipment."""
        records = self.shipments or []
        rows = []
        for i, record in enumerate(records):
            # as the API's own route plans: seconds, at most a minute a row
            rows.append(plan_record(network, record, MAX_PLAN_TIME_LIMIT_S))
            if (i + 1) % PROGRESS_ROWS == 0 and not progress((i + 1) / len(records)):
                raise InterruptedError("cancelled")
        counts = dict(Counter(r["status"] for r in rows).most_common())
        return {"shipments": len(rows), "by_status": counts, "rows": rows}
