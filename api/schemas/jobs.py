"""Request and response models of ``/v1/jobs``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from api.jobs.allocation import AllocationInput
from api.jobs.consolidation import ConsolidationInput
from api.jobs.kinds import LIMITS
from api.jobs.parcel_batch import ParcelBatchInput
from api.jobs.pickups import PickupsInput
from api.jobs.route_batch import RouteBatchInput
from optimizer.jobs import JobInput
from scenarios.jobs import ScenarioJobInput


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    input: JobInput


class RouteBatchJob(_Job):
    """Plan each shipment of a table; the result counts rows by status and summarises each
    row's plan (or says why it could not be planned)."""

    kind: Literal["route-batch"]
    input: RouteBatchInput


class ConsolidationJob(_Job):
    """Pool a hub's lots into boxes on its departures; the result is the loading plan."""

    kind: Literal["consolidation"]
    input: ConsolidationInput


class AllocationJob(_Job):
    """(Coordinators and admins.) Allocate sellers' stock to your organisation's warehouses;
    the result is the allocation and the ``proposed`` bookings it wrote to the ledger for a
    coordinator to confirm."""

    kind: Literal["allocation"]
    input: AllocationInput


class PickupsJob(_Job):
    """Route trucks to collect lots and unload them at the hub by the cut-off; the result is
    the routes with stops, times, loads, costs and CO2e, the unserved pickups with reasons, and
    ``geojson``."""

    kind: Literal["pickups"]
    input: PickupsInput


class ScenarioJob(_Job):
    """(Planners and admins.) Run a what-if scenario; the result is ``{"scenario": KPIS,
    "baseline": KPIS}`` as ``shudao scenario run --json`` prints."""

    kind: Literal["scenario"]
    input: ScenarioJobInput


class ParcelBatchJob(_Job):
    """Price a day of parcels on every parcel channel (express, postal, e-commerce lines,
    rail parcels); the result holds per channel the parcels it carries and their cost, the
    cheapest channel per parcel within ``promise_days`` (or why none), and the total, as
    ``shudao parcels`` prints."""

    kind: Literal["parcel-batch"]
    input: ParcelBatchInput


AnyJob = Annotated[
    RouteBatchJob | ConsolidationJob | AllocationJob | PickupsJob | ScenarioJob | ParcelBatchJob,
    Field(discriminator="kind"),
]


class JobIn(RootModel[AnyJob]):
    """A job to run: its ``kind`` and the ``input`` that kind takes (each kind's schema gives
    its fields with their types, bounds, defaults and an example).

    Limits per kind (``x-limits`` of this schema holds them as JSON): at most 10,000 rows in
    every table (as a list or CSV text), ``time_limit_s``, ``weeks`` and ``sample`` within
    their bounds. Beyond them a job is answered 422 naming the field and the limit, a body
    over the server's size limit 413. Per organisation, the server also bounds the jobs
    queued or running at once and the seconds its jobs ran in the last hour (429 with the
    limit, and ``Retry-After`` when the hour's budget is spent).
    """

    model_config = ConfigDict(json_schema_extra={"x-limits": LIMITS})  # type: ignore[dict-item]


class JobOut(BaseModel):
    """A job's state; ``result`` once it has succeeded, ``error`` once it has failed.

    ``cancel_requested``: a ``DELETE`` asked a running job to stop; it ends ``cancelled``
    within a second.
    """

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
    cancel_requested: bool = False
