"""Every job kind: its input model, how it runs, what it reads from and writes to the database.

A kind's input is a :class:`~optimizer.jobs.JobInput` model: validated once when the job is
submitted, stored as :meth:`~optimizer.jobs.JobInput.stored`, restored in the worker with
``model_validate``, and run by its own ``run`` method, which builds the solver's problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.db.models import JobRecord
from api.db.repositories import MANAGER_ROLES
from api.jobs import allocation
from api.jobs.allocation import AllocationInput
from api.jobs.consolidation import ConsolidationInput
from api.jobs.parcel_batch import ParcelBatchInput
from api.jobs.pickups import PickupsInput
from api.jobs.route_batch import RouteBatchInput
from optimizer.jobs import MAX_ROWS, JobInput, Range
from scenarios.jobs import ScenarioJobInput


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its input ``model`` (whose ``run(network, progress, context)`` is the
    job's body), and optionally what the worker reads for it from the database before it runs
    (``prepare``: its result is the ``context`` handed to ``run`` beside the input, so that
    ``run`` itself needs no database and may run on a Dask cluster) and what the result means
    for the database (``record``, which returns the result as stored). ``roles`` may submit
    the kind (None: any).
    """

    model: type[JobInput]
    prepare: Callable[[Session, JobRecord], Any] | None = None
    record: Callable[[Session, JobRecord, dict[str, Any]], dict[str, Any]] | None = None
    roles: tuple[str, ...] | None = None


KINDS: dict[str, JobKind] = {
    "route-batch": JobKind(RouteBatchInput),
    "consolidation": JobKind(ConsolidationInput),
    "allocation": JobKind(
        AllocationInput, prepare=allocation.prepare, record=allocation.record, roles=MANAGER_ROLES
    ),
    "pickups": JobKind(PickupsInput),
    "scenario": JobKind(ScenarioJobInput, roles=("planner", "admin")),
    "parcel-batch": JobKind(ParcelBatchInput),
}

#: The fields whose bounds a kind's ``x-limits`` repeats, beside its tables' rows.
LIMITED_FIELDS = ("weeks", "time_limit_s", "sample")


def limits(model: type[JobInput]) -> dict[str, Any]:
    """What a kind accepts at most, read from its model: rows per table field (a list or its
    CSV text) and the bounds and default of its bounded sizes.

    Examples
    --------
    >>> limits(RouteBatchInput)
    {'rows': {'shipments': 10000}}
    >>> limits(AllocationInput)["weeks"]["minimum"]
    1
    """
    found: dict[str, Any] = {}
    if model.TABLES:
        found["rows"] = dict.fromkeys(model.TABLES, MAX_ROWS)
    for name in LIMITED_FIELDS:
        field = model.model_fields.get(name)
        if field is None:
            continue
        bounds = next(m for m in field.metadata if isinstance(m, Range))
        found[name] = {"minimum": bounds.low, "maximum": bounds.high, "default": field.default}
    return found


#: What each kind accepts at most, as JobIn's OpenAPI shows it (``x-limits``). Larger inputs
#: are answered 422 naming the field and the limit; a body over ``SHUDAO_MAX_BODY_BYTES`` 413.
LIMITS: dict[str, dict[str, Any]] = {kind: limits(k.model) for kind, k in KINDS.items()}
