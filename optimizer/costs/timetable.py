"""Next scheduled departure whose booking cut-off is still ahead: the numba kernel.

Departures of corridor ``e`` are ``ptr[e]:ptr[e + 1]`` in arrays sorted by cut-off time (hours
since the Unix epoch, UTC). ``best_depart_h[i]`` is the earliest departure among positions
``i..end`` of that corridor and ``best_position[i]`` where it is, so one binary search answers
"the first departure I can still book" even when services have different cut-offs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Departures(NamedTuple):
    """Every corridor's departures by cut-off, as :func:`next_departure` searches them."""

    ptr: IntArray
    cutoff_h: FloatArray
    best_depart_h: FloatArray
    best_position: IntArray


def departures_by_cutoff(
    edge: IntArray, cutoff_h: FloatArray, depart_h: FloatArray, position: IntArray, n_edges: int
) -> Departures:
    """Index departures given as rows sorted by corridor (``edge``) and, within one, by
    cut-off.

    ``position`` is what :func:`next_departure` answers for a row: its place in another index
    the rows were taken from, or -1 for its place in this one.

    Examples
    --------
    Corridor 0 has a departure at 50 h (cut-off 10 h) and one at 40 h (cut-off 30 h):

    >>> index = departures_by_cutoff(np.array([0, 0]), np.array([10.0, 30.0]),
    ...                              np.array([50.0, 40.0]), np.array([-1, -1]), 2)
    >>> [(float(h), int(i)) for h, i in (next_departure(index, 0, 20.0),
    ...                                  next_departure(index, 0, 5.0))], index.ptr.tolist()
    ([(40.0, 1), (40.0, 1)], [0, 2, 2])
    """
    ptr = np.zeros(n_edges + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(edge, minlength=n_edges))
    best_depart_h = np.asarray(depart_h, dtype=np.float64).copy()
    best_position = np.where(position < 0, np.arange(len(edge)), position).astype(np.int64)
    _earliest_from_here(ptr, best_depart_h, best_position)
    return Departures(ptr, np.asarray(cutoff_h, dtype=np.float64), best_depart_h, best_position)


@njit(cache=True)
def _earliest_from_here(ptr: IntArray, depart_h: FloatArray, position: IntArray) -> None:
    """In place, per corridor: each row's departure becomes the earliest among it and the
    rows after it (and its position that one's)."""
    for e in range(ptr.shape[0] - 1):
        for i in range(ptr[e + 1] - 2, ptr[e] - 1, -1):
            if depart_h[i + 1] < depart_h[i]:
                depart_h[i] = depart_h[i + 1]
                position[i] = position[i + 1]


@njit(cache=True)
def next_departure(departures: Departures, corridor: int, ready_h: float) -> tuple[float, int]:
    """Earliest departure of ``corridor`` whose cut-off is at or after ``ready_h``.

    Returns ``(inf, -1)`` when the timetable window holds none.
    """
    start, end = departures.ptr[corridor], departures.ptr[corridor + 1]
    i = start + np.searchsorted(departures.cutoff_h[start:end], ready_h)
    if i >= end:
        return math.inf, -1
    return departures.best_depart_h[i], departures.best_position[i]


@njit(cache=True)
def next_departure_off_a_train(
    departures: Departures, rail_departures: Departures, corridor: int, ready_h: float
) -> tuple[float, int]:
    """:func:`next_departure` for a box that arrives on a booked train: services that take
    one at a later cut-off (``rail_departures``, rail-sea through booking) count from it."""
    depart_h, position = next_departure(departures, corridor, ready_h)
    by_rail_h, by_rail_position = next_departure(rail_departures, corridor, ready_h)
    if by_rail_h < depart_h:
        return by_rail_h, by_rail_position
    return depart_h, position
