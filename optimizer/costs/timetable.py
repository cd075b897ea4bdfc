"""Next scheduled departure whose booking cut-off is still ahead: the numba kernel.

Departures of corridor ``e`` are ``ptr[e]:ptr[e + 1]`` in arrays sorted by cut-off time (hours
since the Unix epoch, UTC). ``best_depart_h[i]`` is the earliest departure among positions
``i..end`` of that corridor and ``best_position[i]`` where it is, so one binary search answers
"the first departure I can still book" even when services have different cut-offs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    per_corridor: Sequence[Sequence[tuple[float, float, int]]],
) -> tuple[Departures, FloatArray]:
    """Index ``(cutoff_h, depart_h, position)`` rows of each corridor, and the departure times
    in cut-off order.

    ``position`` is what :func:`next_departure` answers for the row: its place in this index,
    or in another one the rows were taken from (-1: here).

    Examples
    --------
    >>> index, depart_h = departures_by_cutoff([[(30.0, 40.0, -1), (10.0, 50.0, -1)], []])
    >>> next_departure(index, 0, 20.0), next_departure(index, 0, 5.0), depart_h.tolist()
    ((40.0, 1), (40.0, 1), [50.0, 40.0])
    """
    ptr = np.zeros(len(per_corridor) + 1, dtype=np.int64)
    rows: list[tuple[float, float, int]] = []
    for e, departures in enumerate(per_corridor):
        ordered = sorted(departures)
        ptr[e + 1] = ptr[e] + len(ordered)
        rows.extend(ordered)
    cutoff_h = np.array([row[0] for row in rows], dtype=np.float64)
    depart_h = np.array([row[1] for row in rows], dtype=np.float64)
    best_depart_h = depart_h.copy()
    best_position = np.array(
        [i if row[2] < 0 else row[2] for i, row in enumerate(rows)], dtype=np.int64
    )
    for e in range(len(per_corridor)):
        for i in range(ptr[e + 1] - 2, ptr[e] - 1, -1):
            if best_depart_h[i + 1] < best_depart_h[i]:
                best_depart_h[i] = best_depart_h[i + 1]
                best_position[i] = best_position[i + 1]
    return Departures(ptr, cutoff_h, best_depart_h, best_position), depart_h


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
