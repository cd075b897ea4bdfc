"""Option selection: the plain-Python ``_select`` picks what a numpy formulation picks.

The reference spreads picks the same way (cheapest, fastest, greenest, then the option
farthest from all picks on min-max scaled criteria) with numpy's norm; fronts drawn from a
small grid of values make ties common, where rounding differences would show.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.routing import _Journey, _select


def reference(front: list[_Journey], max_options: int) -> list[_Journey]:
    if len(front) <= max_options:
        return front
    criteria = [(j.cost_cny, j.arrival_h, j.co2e_kg) for j in front]
    picked: list[int] = []
    for order in ((0, 1, 2), (1, 0, 2), (2, 0, 1)):
        keys = [tuple(values[i] for i in order) for values in criteria]
        best = keys.index(min(keys))
        if best not in picked:
            picked.append(best)
    values = np.array(criteria)
    span = np.where(np.ptp(values, axis=0) > 0, np.ptp(values, axis=0), 1.0)
    scaled = (values - values.min(axis=0)) / span
    gaps = np.min(np.linalg.norm(scaled[:, None, :] - scaled[None, picked, :], axis=2), axis=1)
    while len(picked) < max_options:
        gaps[picked] = -1.0
        farthest = int(np.argmax(gaps))
        picked.append(farthest)
        gaps = np.minimum(gaps, np.linalg.norm(scaled - scaled[farthest], axis=1))
    return [front[i] for i in sorted(picked[:max_options])]


grid = st.sampled_from([0.0, 1.0, 2.0, 3.0, 7.5, 10.0])
journey_values = st.tuples(grid, grid, grid)


@settings(max_examples=400, deadline=None)
@given(st.lists(journey_values, min_size=1, max_size=40), st.integers(1, 12))
def test_select_matches_the_numpy_formulation(values: list, max_options: int) -> None:
    front = sorted(
        (_Journey(arrival, cost, co2e, i) for i, (cost, arrival, co2e) in enumerate(values)),
        key=lambda j: (j.cost_cny, j.arrival_h, j.co2e_kg),
    )
    chosen = _select(front, max_options)
    assert chosen == reference(front, max_options)
    assert chosen[0] == front[0]  # the cheapest is always kept


def test_one_option_is_the_cheapest() -> None:
    front = [_Journey(30.0, 100.0, 9.0, 0), _Journey(10.0, 120.0, 5.0, 1)]
    assert _select(front, 1) == [front[0]]
    assert _select(front, None) == front
