"""What every solver's result says about its run, whatever else it holds.

:class:`SolverResult` is the protocol the solvers' results share (:func:`solve_allocation`,
:func:`solve_consolidation`, :func:`solve_pickups`, :func:`solve_bin_packing`): how the run
ended, the objective, the proven bound and the gap between them, the run time and the seed.
Each result's ``to_dict`` is presentation only: rounded for people and JSON, never read back
into a computation (compute from the result's own fields).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from optimizer._ortools import SolveStatus

__all__ = ["SolverResult"]


@runtime_checkable
class SolverResult(Protocol):
    """A solver's result: status, objective, bound, gap, runtime and seed, and a document.

    ``bound`` is a proven lower bound on the objective of any solution (None when the solver
    proves none); ``gap`` = (objective - bound) / objective (None without a bound).

    Examples
    --------
    >>> from optimizer.consolidation.bin_packing import solve_bin_packing
    >>> result = solve_bin_packing([3, 3, 2], 5, seed=0)
    >>> isinstance(result, SolverResult)
    True
    >>> result.status.value, result.objective, result.bound, result.gap
    ('optimal', 2, 2, 0.0)
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

    def to_dict(self) -> dict[str, Any]:
        """The result for people and JSON, rounded: presentation only."""
        ...
