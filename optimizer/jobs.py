"""The contract between the job runner and a job's body: progress reports and bad input.

It lives in ``optimizer`` because both job runners import this package and neither imports
the other: the service's worker (``api.jobs``) and the what-if runs (``scenarios``, which run
without a server). A job body is a solver call, and the solvers already report progress and
name bad input, so the contract sits beside them; ``optimizer`` imports neither runner.
"""

from __future__ import annotations

from collections.abc import Callable

from optimizer.errors import InvalidInputError

#: Called by a running job with its progress in [0, 1]; False means cancel.
Progress = Callable[[float], bool]


class JobInputError(ValueError):
    """A job input is invalid; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field

    @classmethod
    def of(cls, exc: InvalidInputError, field: str | None = None) -> JobInputError:
        """The same problem on ``field`` (default: the error's own field).

        Examples
        --------
        >>> str(JobInputError.of(InvalidInputError("start", "x", "a time"), "input.start"))
        "input.start: got 'x'; expected a time"
        """
        return cls(field or exc.field, str(exc).removeprefix(f"{exc.field}: "))
