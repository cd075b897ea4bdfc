"""What every solver's result says about its run, whatever it solved.

Each solver returns its own result class (allocation, consolidation, bin packing, pickups), with
the fields its problem needs; all of them also answer :class:`SolverResult`, so a caller (a job,
a benchmark, the CLI) reads status, objective, bound and gap the same way everywhere, and
``to_dict()`` is presentation only (rounded, JSON-ready), never the source of further figures.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from optimizer.errors import InvalidInputError


class SolveStatus(StrEnum):
    """How a solver run ended.

    ``optimal``: proven optimal. ``feasible``: a solution, not proven optimal (time limit).
    ``infeasible``: proven to have no solution. ``timed_out``: no solution within the time limit.

    Examples
    --------
    >>> SolveStatus.OPTIMAL.value
    'optimal'
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIMED_OUT = "timed_out"


@runtime_checkable
class SolverResult(Protocol):
    """The run of a solver: how it ended, what it found and what it proved.

    ``objective`` is the value of the solution found (``inf`` without one); ``bound`` a proven
    lower bound on the objective of any solution (None where the solver proves none); ``gap``
    their relative difference (:func:`relative_gap`); ``runtime_s`` wall-clock seconds and
    ``seed`` the seed the run used, so the same seed gives the same result.

    Examples
    --------
    >>> from optimizer.consolidation.bin_packing import solve_bin_packing
    >>> result = solve_bin_packing([4, 4, 3, 3, 2], 8, time_limit_s=5, seed=0)
    >>> isinstance(result, SolverResult)
    True
    >>> result.status, result.objective, result.bound, result.gap
    (<SolveStatus.OPTIMAL: 'optimal'>, 2.0, 2.0, 0.0)
    """

    @property
    def status(self) -> SolveStatus: ...

    @property
    def objective(self) -> float: ...

    @property
    def bound(self) -> float | None: ...

    @property
    def gap(self) -> float | None: ...

    @property
    def runtime_s(self) -> float: ...

    @property
    def seed(self) -> int: ...

    def to_dict(self) -> dict[str, Any]: ...


def check_time_limit(time_limit_s: object, *, unlimited: bool = False) -> None:
    """Raise :class:`~optimizer.errors.InvalidInputError` unless ``time_limit_s`` is a number
    of seconds > 0; with ``unlimited``, also None or inf (no limit).

    Examples
    --------
    >>> check_time_limit(10)
    >>> check_time_limit(None, unlimited=True)
    >>> check_time_limit(float("inf"))
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: time_limit_s: got inf; expected a number of seconds > 0
    """
    if unlimited and time_limit_s is None:
        return
    if (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, int | float)
        or not (time_limit_s > 0 and (unlimited or math.isfinite(time_limit_s)))
    ):
        allowed = "seconds > 0 (inf or None: no limit)" if unlimited else "a number of seconds > 0"
        raise InvalidInputError("time_limit_s", time_limit_s, allowed)


def relative_gap(objective: float, bound: float | None) -> float | None:
    """``(objective - bound) / |objective|``: 0 when the objective is 0, ``inf`` without a
    solution, None without a bound.

    Examples
    --------
    >>> relative_gap(110.0, 99.0)
    0.1
    >>> relative_gap(0.0, 0.0), relative_gap(float("inf"), 5.0), relative_gap(7.0, None)
    (0.0, inf, None)
    """
    if bound is None:
        return None
    if not math.isfinite(objective):
        return math.inf
    if objective == 0:
        return 0.0
    return (objective - bound) / abs(objective)
