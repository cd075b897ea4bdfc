"""Request and response models of ``/v1/jobs``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.jobs.kinds import LIMITS


class JobIn(BaseModel):
    """A job to run.

    ``route-batch`` takes ``{"shipments": [...]}`` or ``{"csv": "..."}``. ``consolidation``
    takes the lots the same way (columns of ``shudao consolidate``) plus ``hubs``, ``from`` and
    ``to`` (departure days), and optionally ``time_limit_s`` (<= 600), ``seed``, ``slots_teu``,
    ``max_late_days``, ``max_wait_days``, ``storage_cny_per_m3_day`` and
    ``lateness_share_per_day``; its result is the loading plan. ``allocation`` (coordinators
    and admins) takes ``sellers`` and ``warehouses`` (lists, or ``sellers_csv`` and
    ``warehouses_csv``: the columns of ``shudao allocate``, a warehouse named by the id or name
    of one your organisation runs in the ledger, its capacity and bookings read from there),
    ``first_week`` (``2026-W49``), and optionally ``weeks`` (<= 26), ``service_days``,
    ``service_level``, ``fairness``, ``single_sourcing``, ``lead_time_limit_days``,
    ``unserved_penalty_cny``, ``time_limit_s`` and ``seed``; its result is the allocation and
    the ``proposed`` bookings it wrote to the ledger for a coordinator to confirm.
    ``pickups`` takes ``pickups`` and ``fleet`` (lists, or ``pickups_csv`` and ``fleet_csv``:
    the columns of ``shudao pickups``), ``hub`` and ``cutoff`` (ISO time with offset), and
    optionally ``start``, ``time_limit_s`` (<= 600, default 30), ``seed``, ``backend``
    (``pyvrp`` or ``ortools``), ``terrain`` and ``drop_penalty_cny``; its result is the routes
    with stops, times, loads, costs and CO2e, the unserved pickups with reasons, and ``geojson``.
    ``scenario`` (planners and admins) takes ``name`` (a bundled scenario such as
    ``red_sea_closure``) or ``scenario`` (the YAML text, naming no files), and optionally
    ``sample`` (shipments planned, 1 to 2,000; default 200) and ``baseline`` (a bundled name, or
    true for ``baseline``); its result is ``{"scenario": KPIS, "baseline": KPIS}`` as
    ``shudao scenario run --json`` prints.

    Limits per kind (``x-limits`` of this schema holds them as JSON): at most 10,000 rows in
    every table (``shipments``, ``sellers``, ``warehouses``, ``pickups``, ``fleet``, as a list
    or CSV text); ``time_limit_s`` from 0.1 to 600 s (default 60 for ``consolidation`` and
    ``allocation``, 30 for ``pickups``); ``weeks`` 1 to 26; ``sample`` 1 to 2,000. Beyond
    them a job is answered 422 naming the field and the limit, a body over the server's size
    limit 413. Per organisation, the server also bounds the jobs queued or running at once
    and the seconds its jobs ran in the last hour (429 with the limit, and ``Retry-After``
    when the hour's budget is spent).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"x-limits": LIMITS})  # type: ignore[dict-item]
    kind: Literal["route-batch", "consolidation", "allocation", "pickups", "scenario"]
    input: dict[str, Any] = Field(
        examples=[
            {
                "shipments": [
                    {
                        "origin": "Linshui",
                        "destination": "Duisburg",
                        "weight_kg": 800,
                        "volume_m3": 4.2,
                    }
                ]
            }
        ]
    )


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
