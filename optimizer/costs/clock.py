"""A monotonic clock that numba kernels can read cheaply, to stop at a time limit.

Inside a kernel, ``with numba.objmode(): time.perf_counter()`` cost about 35 us a read in the
label search (0.3 ms a route plan), because the kernel's state goes through object mode. Where
the C library has ``clock_gettime`` (Linux, macOS, the BSDs) the kernel calls it directly, for
a few tens of nanoseconds; elsewhere, and with ``NUMBA_DISABLE_JIT=1``, it falls back to
Python's ``time.monotonic`` through object mode. A kernel only compares readings it took
itself, so which clock it reads does not matter as long as it is monotonic.

Examples
--------
>>> import time
>>> started = monotonic_s()
>>> time.sleep(0.01)
>>> 0.01 <= monotonic_s() - started < 1
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from numba import config, njit, objmode

_CLOCK_ID = getattr(time, "CLOCK_MONOTONIC", None)


def _fallback() -> float:
    with objmode(now="float64"):
        now = time.monotonic()
    return now


def _direct_clock() -> Callable[[], float]:
    """``monotonic_s`` calling ``clock_gettime(CLOCK_MONOTONIC)`` from compiled code."""
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    llvm: Any = cgutils  # numba's code generation helpers are untyped

    @intrinsic
    def _clock_gettime_s(typingctx: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i32, i64, double = ir.IntType(32), ir.IntType(64), ir.DoubleType()
            timespec = ir.LiteralStructType([i64, i64])
            function = llvm.get_or_insert_function(
                builder.module, ir.FunctionType(i32, [i32, timespec.as_pointer()]),
                "clock_gettime",
            )  # fmt: skip
            reading = llvm.alloca_once(builder, timespec)
            builder.call(function, [ir.Constant(i32, _CLOCK_ID), reading])
            seconds, nanoseconds = (
                builder.sitofp(builder.load(llvm.gep_inbounds(builder, reading, 0, k)), double)
                for k in (0, 1)
            )
            return builder.fadd(seconds, builder.fmul(nanoseconds, ir.Constant(double, 1e-9)))

        return types.float64(), codegen

    def read() -> float:
        return _clock_gettime_s()  # type: ignore[call-arg]

    return read


#: Seconds on a monotonic clock, for kernels: ``monotonic_s()`` (see the module's docstring).
_numba_config: Any = config
monotonic_s = njit(cache=True)(
    _fallback if _numba_config.DISABLE_JIT or _CLOCK_ID is None else _direct_clock()
)
