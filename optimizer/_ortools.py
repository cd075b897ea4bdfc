"""The one place that knows OR-Tools status codes; solvers report
:class:`~optimizer.results.SolveStatus`."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from optimizer.errors import InvalidInputError
from optimizer.inputs import MAX_SEED
from optimizer.results import SolveStatus, check_time_limit

_T = TypeVar("_T")


def check_run_limits(time_limit_s: object, seed: object) -> None:
    """Raise :class:`~optimizer.errors.InvalidInputError` for a bad time limit or seed.

    Examples
    --------
    >>> check_run_limits(10, 0)
    >>> check_run_limits(0, 0)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: time_limit_s: got 0; expected a number of seconds > 0
    >>> try:
    ...     check_run_limits(10, 2**31)
    ... except ValueError as error:
    ...     print(error.field, error.allowed)
    seed an integer in [0, 2,147,483,647]
    """
    check_time_limit(time_limit_s)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError("seed", seed, f"an integer in [0, {MAX_SEED:,}]")


def cp_sat_status(code: int) -> SolveStatus:
    """Map a CP-SAT ``CpSolverStatus`` to :class:`SolveStatus`.

    Examples
    --------
    >>> cp_sat_status(cp_model.OPTIMAL)
    <SolveStatus.OPTIMAL: 'optimal'>
    """
    if code == cp_model.OPTIMAL:
        return SolveStatus.OPTIMAL
    if code == cp_model.FEASIBLE:
        return SolveStatus.FEASIBLE
    if code == cp_model.INFEASIBLE:
        return SolveStatus.INFEASIBLE
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the model as invalid")
    return SolveStatus.TIMED_OUT


def mathopt_status(result: mathopt.SolveResult) -> SolveStatus:
    """Map a MathOpt termination to :class:`SolveStatus`.

    Examples
    --------
    >>> model = mathopt.Model()
    >>> x = model.add_variable(lb=0, ub=3, is_integer=True)
    >>> model.maximize(x)
    >>> result = mathopt.solve(model, mathopt.SolverType.HIGHS)
    >>> mathopt_status(result)
    <SolveStatus.OPTIMAL: 'optimal'>
    """
    reason = result.termination.reason
    if reason == mathopt.TerminationReason.OPTIMAL:
        return SolveStatus.OPTIMAL
    if reason in (
        mathopt.TerminationReason.INFEASIBLE,
        mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    ):
        return SolveStatus.INFEASIBLE
    if result.has_primal_feasible_solution():
        return SolveStatus.FEASIBLE
    return SolveStatus.TIMED_OUT


@contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """Send what native code prints to file descriptor 1 to ``/dev/null`` meanwhile.

    HiGHS prints stray debugging lines to stdout that no option turns off; commands that own
    their process (the CLI, benchmarks) wrap solves in this. Not for servers: it silences every
    thread.

    Examples
    --------
    >>> with native_stdout_silenced():
    ...     _ = os.write(1, b"unseen")
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _child(function: Callable[[], _T], sender: multiprocessing.connection.Connection) -> None:
    sender.send(function())
    sender.close()


def run_with_deadline(function: Callable[[], _T], seconds: float, fallback: _T) -> _T:
    """``function()`` in a forked process, or ``fallback`` if it has not returned in ``seconds``.

    HiGHS checks its time limit between phases, not inside a long root LP, so a solve can
    overrun it; here the solve runs in a child that is killed at the deadline. ``function``'s
    result must pickle. Where fork does not exist the call runs inline, unguarded.

    Examples
    --------
    >>> run_with_deadline(lambda: 6 * 7, 5.0, None)
    42
    >>> import time
    >>> run_with_deadline(lambda: time.sleep(10), 0.2, "too slow")
    'too slow'
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return function()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(function, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(max(seconds, 0.0)):
            try:
                result: _T = receiver.recv()
            except EOFError:  # the child died without an answer
                return fallback
            return result
        return fallback
    finally:
        receiver.close()
        child.kill()
        child.join()
