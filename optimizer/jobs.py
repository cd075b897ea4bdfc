"""The contract between the job runner and a job's body: progress reports and bad input.

A job body reports its progress through :data:`Progress` and refuses a bad input with
:class:`~optimizer.errors.InvalidInputError` whose field is the path into the job's input
(``input.shipments.3.weight_kg``); the runner stores that error's words as the job's error.

It lives in ``optimizer`` because both job runners import this package and neither imports
the other: the service's worker (``api.jobs``) and the what-if runs (``scenarios``, which run
without a server). A job body is a solver call, and the solvers already report progress and
name bad input, so the contract sits beside them; ``optimizer`` imports neither runner.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

#: Called by a running job with its progress in [0, 1]; False means cancel.
Progress = Callable[[float], bool]
