"""The ``parcel-batch`` job: a seller's day of parcels priced channel by channel, with the
cheapest channel per parcel that meets the delivery promise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, model_validator

from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.jobs import (
    JobInput,
    Parsed,
    Progress,
    Range,
    Row,
    input_errors,
    iso_day,
    require_columns,
    table,
    table_text,
)
from optimizer.parcels import (
    ParcelChannels,
    batch_result,
    cheapest_channels,
    parcels_table,
    price_parcels,
)
from optimizer.parcels.batch import PARCEL_COLUMNS


class ParcelBatchInput(JobInput):
    """Parcels to price, as a list of objects or CSV text with the columns of
    ``shudao parcels``: id, country, postcode (optional), weight_kg, length_cm, width_cm,
    height_cm, pieces (default 1), contents (optional: lithium_alone, lithium_in_equipment,
    liquids, powders, ``|`` between), origin (optional pilot-zone city, default Chengdu).
    Every row is checked at submission; a bad cell is refused naming its row and column.

    Examples
    --------
    >>> batch = ParcelBatchInput.model_validate({"csv": "id,country,postcode,weight_kg,"
    ...     "length_cm,width_cm,height_cm\\nA1,US,90001,2,30,20,15\\n", "ship_on": "2026-12-07",
    ...     "promise_days": 12})
    >>> result = batch.run(None, lambda share: True)
    >>> result["total_cny"], result["rows"][0]["channel"]
    (187.0, 'LINE-US')
    """

    TABLES: ClassVar[dict[str, str]] = {"parcels": "csv"}
    model_config = ConfigDict(
        title="parcel-batch input",
        json_schema_extra={
            "examples": [
                {"parcels": [{"id": "A1", "country": "US", "postcode": "90001", "weight_kg": 2,
                              "length_cm": 30, "width_cm": 20, "height_cm": 15}],
                 "promise_days": 12},
                {"csv": "id,country,weight_kg,length_cm,width_cm,height_cm\nB7,DE,0.4,20,15,5\n"},
            ]
        },
    )  # fmt: skip

    parcels: list[Row] | None = table(
        "Parcels, one object per row with the columns of `shudao parcels` (needs "
        f"{', '.join(PARCEL_COLUMNS)}). Or `csv`."
    )
    csv: str | None = table_text("parcels")
    promise_days: Annotated[float | None, Range(1, 365)] = Field(
        None,
        description="Delivery promise in days: a channel is chosen only if its slowest "
        "transit is within it. Empty: the cheapest channel, however slow.",
    )
    ship_on: Annotated[date | None, Parsed(iso_day)] = Field(
        None,
        description="Day the parcels are handed over (ISO date); rates must be valid on it. "
        "Empty: the day the job is submitted (UTC).",
    )

    @model_validator(mode="after")
    def _check(self) -> ParcelBatchInput:
        with input_errors():
            rows = require_columns(self.parcels, "parcels", PARCEL_COLUMNS, alternative="csv")
            parcels_table(rows, field="input.parcels")
        if self.ship_on is None:
            self.ship_on = datetime.now(UTC).date()
        return self

    def price(self, channels: ParcelChannels) -> dict[str, Any]:
        """Price every parcel on ``channels`` and pick the cheapest channel per parcel within
        the promise: :func:`optimizer.parcels.batch_result`."""
        ship_on = self.ship_on or datetime.now(UTC).date()
        priced = price_parcels(channels, self.parcels or [], ship_on=ship_on)
        return batch_result(priced, cheapest_channels(priced, self.promise_days))

    def run(
        self, network: Network | None, progress: Progress, context: Any = None
    ) -> dict[str, Any]:
        """Price the parcels on the channels of the service's dataset (the bundled ones when
        it runs without a network)."""
        if not progress(0.0):
            raise InterruptedError("cancelled")
        channels = ParcelChannels.bundled() if network is None else ParcelChannels.of(network)
        if channels is None:
            raise InvalidInputError(
                "kind", "parcel-batch", "a service whose dataset holds the parcel files"
            )
        return self.price(channels)
