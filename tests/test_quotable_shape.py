"""The compiled shape of a journey (:func:`optimizer.quotable.shape_codes`) against the rules
written out again, plainly, on random journeys: chain, product, family and doubling back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from network_data.validate import haversine_km
from optimizer import quotable
from optimizer.quotable import (
    DETOUR_FACTOR,
    DETOUR_KM,
    DOUBLE_BACK_KM,
    DOUBLE_BACK_SHARE,
    DRAYAGE_KM,
    FAMILY_PASSAGES,
    Leg,
    Product,
    Shape,
)

PRODUCTS = quotable.products_by_chain(
    ["RAIL", "SEA", "AIR", "RS", "MC", "RSR", "RW", "ROAD"],
    ["Rail", "Ocean", "Air", "Rail-sea", "Middle Corridor", "Rail-sea-rail", "Rail-water", "Road"],
    [["rail"], ["sea"], ["air"], ["rail", "sea"], ["rail", "sea", "rail"],
     ["rail", "sea", "rail"], ["rail", "inland_water"], ["road"]],
    [[], [], [], [], ["caspian"], [], [], []],
)  # fmt: skip
NAMES = {"N1": "Alashankou", "N3": "Qinzhou"}


def reference_shape(
    legs: Sequence[Leg],
    remaining_km: Sequence[float],
    products: Mapping[tuple[str, ...], Sequence[Product]],
    names: Mapping[str, str],
    start: tuple[float, float],
) -> Shape:
    """quotable.shape's rules, one step at a time."""
    segments: list[list] = []  # mode, km, first leg, last leg
    for i, leg in enumerate(legs):
        if segments and segments[-1][0] == leg.mode:
            segments[-1][1] += leg.distance_km
            segments[-1][3] = i
        else:
            segments.append([leg.mode, leg.distance_km, i, i])
    main = [list(s) for s in segments]
    pre = main.pop(0) if len(main) > 1 and main[0][0] == "road" else None
    on = main.pop() if len(main) > 1 and main[-1][0] == "road" else None
    haul_km = sum(s[1] for s in main)
    if pre is not None and pre[1] > haul_km:
        main.insert(0, pre)
    if on is not None and on[1] > haul_km:
        main.append(on)
    kept: list[list] = []
    for mode, km, first, last in main:
        if mode == "road" and len(main) > 1 and km <= DRAYAGE_KM:
            continue
        if kept and kept[-1][0] == mode:
            kept[-1][3] = last
        else:
            kept.append([mode, km, first, last])
    chain = tuple(k[0] for k in kept)
    main_legs = [legs[i] for k in kept for i in range(k[2], k[3] + 1)]
    passed = {p for leg in main_legs for p in leg.passages}
    product = next(
        (p for p in products.get(chain, ()) if not p.passages or p.passages & passed), None
    )
    family = product.name if product else "+".join(chain)
    via = next((FAMILY_PASSAGES[p] for leg in main_legs for p in leg.passages
                if p in FAMILY_PASSAGES), None)  # fmt: skip
    if via is None:
        via = next((names.get(leg.destination, leg.destination)
                    for leg in main_legs if leg.border), None)  # fmt: skip
    if via is None and len(kept) > 1:
        via = names.get(legs[kept[0][3]].destination, legs[kept[0][3]].destination)
    if via is not None:
        family = f"{family} via {via}"
    back = None
    if product is not None:
        nearest = remaining_km[0]
        for leg, km in zip(legs, remaining_km[1:], strict=True):
            if km > nearest + max(DOUBLE_BACK_KM, DOUBLE_BACK_SHARE * nearest):
                back = leg.destination
                break
            nearest = min(nearest, km)
        if back is None:
            (lat, lon), run_km, travelled = start, remaining_km[0], 0.0
            for leg, left in zip(legs, remaining_km[1:], strict=True):
                if leg.mode in ("sea", "air"):
                    lat, lon, run_km, travelled = leg.lat, leg.lon, left, 0.0
                    continue
                travelled += leg.distance_km
                # no farther than the fall in distance to the destination allows: no detour
                if travelled <= DETOUR_FACTOR * abs(run_km - left) + DETOUR_KM:
                    continue
                if travelled > DETOUR_FACTOR * haversine_km(lat, lon, leg.lat, leg.lon) + DETOUR_KM:
                    back = leg.destination
                    break
        if back is None:  # back where it has been, not counting the place just left
            been = [start] + [(leg.lat, leg.lon) for leg in legs]
            back = next((legs[i].destination for i in range(1, len(legs))
                         if legs[i].distance_km > 0
                         and any(legs[i].lat == lat and legs[i].lon == lon
                                 for lat, lon in been[:i])), None)  # fmt: skip
    return Shape(chain, product.id if product else None, family, back)


legs_strategy = st.lists(
    st.builds(
        Leg,
        st.sampled_from(["road", "road", "rail", "rail", "sea", "air", "inland_water"]),
        st.one_of(st.floats(1, DRAYAGE_KM), st.floats(DRAYAGE_KM, 9_000)),
        st.sampled_from(["N0", "N1", "N2", "N3", "N4"]),
        st.booleans(),
        st.lists(st.sampled_from(["suez", "cape", "caspian", "malacca", "bosporus"]),
                 max_size=2, unique=True).map(tuple),
        st.one_of(st.sampled_from([30.7, 52.0]), st.floats(-60, 70)),
        st.one_of(st.sampled_from([104.1, 23.5]), st.floats(-180, 180)),
    ),
    max_size=9,
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(legs_strategy, st.data())
def test_shape_follows_the_rules(legs: list[Leg], data: st.DataObject) -> None:
    remaining = data.draw(st.lists(st.floats(0, 12_000), min_size=len(legs) + 1,
                                   max_size=len(legs) + 1))  # fmt: skip
    start = data.draw(st.sampled_from([(math.nan, math.nan), (30.7, 104.1), (52.0, 23.5)]))
    expected = reference_shape(legs, remaining, PRODUCTS, NAMES, start)
    assert quotable.shape(legs, remaining, PRODUCTS, NAMES, start) == expected
