"""Next scheduled departure whose booking cut-off is still ahead: the numba kernel.

Departures of corridor ``e`` are ``ptr[e]:ptr[e + 1]`` in arrays sorted by cut-off time (hours
since the Unix epoch, UTC). ``best_depart_h[i]`` is the earliest departure among positions
``i..end`` of that corridor and ``best_position[i]`` where it is, so one binary search answers
"the first departure I can still book" even when services have different cut-offs.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(cache=True)
def next_departure(
    ptr: IntArray,
    cutoff_h: FloatArray,
    best_depart_h: FloatArray,
    best_position: IntArray,
    corridor: int,
    ready_h: float,
) -> tuple[float, int]:
    """Earliest departure of ``corridor`` whose cut-off is at or after ``ready_h``.

    Returns ``(inf, -1)`` when the timetable window holds none.
    """
    start, end = ptr[corridor], ptr[corridor + 1]
    i = start + np.searchsorted(cutoff_h[start:end], ready_h)
    if i >= end:
        return math.inf, -1
    return best_depart_h[i], best_position[i]
