"""Line-haul charge of one shipment on every corridor: the numba kernel and its reference twin.

Tariff arrays (all in CNY, NaN where a corridor has no such rate) are built by
:mod:`optimizer._compile`. The kernel picks, per corridor, the cheapest product the tariff offers:

- ``LCL``: per revenue tonne (W/M, 1 m3 = 1000 kg);
- ``FCL``: full containers, the cheapest mix of 20GP, 40GP and 40HQ that fits the volume and
  the payload (exact up to :data:`EXACT_MIX_PAIRS` pairs of 40' counts);
- ``FTL``: whole trucks; ``LTL``: road groupage per chargeable tonne (1:3000);
- ``AIR``: per chargeable kg (1:6000), ``EXPRESS`` per chargeable kg (1:5000), each with weight
  breaks: the charge is the lowest of ``max(chargeable, break) x rate`` over the breaks, and at
  least the minimum charge.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Unit columns of the per-unit tariff arrays.
UNIT_COLUMNS = ("container:20GP", "container:40GP", "container:40HQ", "wm", "truck", "ltl_t")
U20, U40, UHQ, UWM, UTRUCK, ULTL = range(6)
#: Product codes returned by the kernel.
PRODUCTS = ("none", "LCL", "FCL", "FTL", "LTL", "AIR", "EXPRESS")
NONE, LCL, FCL, FTL, LTL, AIR, EXPRESS = range(7)

AIR_KG_PER_M3 = 1e6 / 6000
EXPRESS_KG_PER_M3 = 1e6 / 5000
ROAD_KG_PER_M3 = 1e6 / 3000
WM_KG_PER_M3 = 1000.0


@njit(cache=True)
def _boxes_needed(volume_m3: float, weight_kg: float, box_volume: float, box_payload: float) -> int:
    if volume_m3 <= 0 and weight_kg <= 0:
        return 0
    return max(math.ceil(volume_m3 / box_volume - 1e-9), math.ceil(weight_kg / box_payload - 1e-9))


@njit(cache=True)
def _half_kg_up(kg: float) -> float:
    return math.ceil(kg * 2 - 1e-9) / 2


@njit(cache=True)
def _break_charge(
    chargeable_kg: float, breaks: FloatArray, rates: FloatArray, minimum: float
) -> float:
    best = math.inf
    for b in range(breaks.shape[0]):
        if math.isnan(rates[b]):
            continue
        best = min(best, max(chargeable_kg, breaks[b]) * rates[b])
    if best == math.inf:
        return best
    return max(best, minimum)


#: Above this many (40GP x 40HQ) pairs the mix search keeps one 40' type plus at most one of
#: the other (a few thousand m3); below it every pair is tried, so the mix is the cheapest.
EXACT_MIX_PAIRS = 400


@njit(cache=True)
def _fill_20gp(volume_m3: float, weight_kg: float, price: FloatArray, box_volume_m3: FloatArray,
               box_payload_kg: FloatArray) -> tuple[float, int]:  # fmt: skip
    """Cost and count of 20GP boxes for what the 40' boxes leave (inf if 20GP is unpriced)."""
    if volume_m3 <= 1e-9 and weight_kg <= 1e-9:
        return 0.0, 0
    if math.isnan(price[U20]):
        return math.inf, 0
    n20 = _boxes_needed(
        max(volume_m3, 0.0), max(weight_kg, 0.0), box_volume_m3[0], box_payload_kg[0]
    )
    return n20 * price[U20], n20


@njit(cache=True)
def _container_mix(
    volume_m3: float, weight_kg: float, price: FloatArray, box_volume_m3: FloatArray,
    box_payload_kg: FloatArray,
) -> tuple[float, int, int, int]:  # fmt: skip
    """Cheapest (cost, n20, n40, nhq) that holds the volume and the payload."""
    limit40 = limit_hq = 0
    if not math.isnan(price[U40]):
        limit40 = _boxes_needed(volume_m3, weight_kg, box_volume_m3[U40], box_payload_kg[U40])
    if not math.isnan(price[UHQ]):
        limit_hq = _boxes_needed(volume_m3, weight_kg, box_volume_m3[UHQ], box_payload_kg[UHQ])
    exact = (limit40 + 1) * (limit_hq + 1) <= EXACT_MIX_PAIRS
    best, best20, best40, besthq = math.inf, 0, 0, 0
    for n40 in range(limit40 + 1):
        for nhq in range(limit_hq + 1):
            if not exact and n40 > 1 and nhq > 1:
                continue
            rest_volume = volume_m3 - n40 * box_volume_m3[1] - nhq * box_volume_m3[2]
            rest_weight = weight_kg - n40 * box_payload_kg[1] - nhq * box_payload_kg[2]
            fill, n20 = _fill_20gp(rest_volume, rest_weight, price, box_volume_m3, box_payload_kg)
            big_cost = (n40 * price[1] if n40 else 0.0) + (nhq * price[2] if nhq else 0.0)
            if big_cost + fill < best:
                best, best20, best40, besthq = big_cost + fill, n20, n40, nhq
    return best, best20, best40, besthq


@njit(cache=True, inline="always")
def _cheapest_unit(
    weight_kg: float, volume_m3: float, price: FloatArray, minimum: FloatArray,
    box_volume_m3: FloatArray, box_payload_kg: FloatArray,
) -> tuple[float, int, float, int, int, int]:  # fmt: skip
    """Cheapest per-unit product of one corridor: (cost, product, chargeable kg, boxes)."""
    best, product, chargeable, n20, n40, nhq = math.inf, NONE, 0.0, 0, 0, 0
    revenue_t = max(weight_kg / 1000.0, volume_m3 * WM_KG_PER_M3 / 1000.0)
    if not math.isnan(price[UWM]):
        c = max(revenue_t * price[UWM], minimum[UWM])
        if c < best:
            best, product, chargeable = c, LCL, revenue_t * 1000.0
    # Full containers cost at least one box: skip the mix search when that already loses.
    one_box = math.inf
    for unit in (U20, U40, UHQ):
        if price[unit] < one_box:  # False for an unpriced (NaN) box
            one_box = price[unit]
    containers = one_box < best or (volume_m3 <= 1e-9 and weight_kg <= 1e-9)
    if containers and not math.isnan(price[U20]):
        c, boxes20 = _fill_20gp(volume_m3, weight_kg, price, box_volume_m3, box_payload_kg)
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, FCL, weight_kg, boxes20, 0, 0
    if containers and not (math.isnan(price[U40]) and math.isnan(price[UHQ])):
        c, boxes20, boxes40, boxes_hq = _container_mix(
            volume_m3, weight_kg, price, box_volume_m3, box_payload_kg
        )
        if c < best:
            best, product, chargeable = c, FCL, weight_kg
            n20, n40, nhq = boxes20, boxes40, boxes_hq
    if not math.isnan(price[UTRUCK]):
        trucks = _boxes_needed(volume_m3, weight_kg, box_volume_m3[2], box_payload_kg[2])
        c = max(trucks * price[UTRUCK], minimum[UTRUCK])
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, FTL, weight_kg, 0, 0, trucks
    if not math.isnan(price[ULTL]):
        ltl_t = max(weight_kg, volume_m3 * ROAD_KG_PER_M3) / 1000.0
        c = max(ltl_t * price[ULTL], minimum[ULTL])
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, LTL, ltl_t * 1000.0, 0, 0, 0
    return best, product, chargeable, n20, n40, nhq


@njit(cache=True)
def unit_costs(
    weight_kg: float,
    volume_m3: float,
    unit_price: FloatArray,
    unit_min: FloatArray,
    box_volume_m3: FloatArray,
    box_payload_kg: FloatArray,
) -> FloatArray:
    """Cheapest charge per row of per-unit prices alone (no per-kg air or express tariffs).

    Used for a truck driving on, whose per-unit prices leave out the fixed part.
    """
    n = unit_price.shape[0]
    cost = np.empty(n)
    for e in range(n):
        cost[e] = _cheapest_unit(
            weight_kg, volume_m3, unit_price[e], unit_min[e], box_volume_m3, box_payload_kg
        )[0]
    return cost


@njit(cache=True)
def line_haul_costs(
    weight_kg: float,
    volume_m3: float,
    unit_price: FloatArray,
    unit_min: FloatArray,
    kg_break: FloatArray,
    kg_rate: FloatArray,
    kg_min: FloatArray,
    express_break: FloatArray,
    express_rate: FloatArray,
    express_min: FloatArray,
    box_volume_m3: FloatArray,
    box_payload_kg: FloatArray,
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    """Cheapest line-haul charge per corridor.

    ``unit_price[e, u]`` is ``rate + rate_per_km x distance`` per unit ``u`` (see
    :data:`UNIT_COLUMNS`) and ``unit_min[e, u]`` its minimum charge; box arrays are ordered
    20GP, 40GP, 40HQ, and the truck takes one 40HQ load.

    Returns
    -------
    cost_cny, product, chargeable_kg, boxes
        ``boxes[e]`` holds the number of 20GP, 40GP and 40HQ (FCL) or trucks in column 2 (FTL).
    """
    n = unit_price.shape[0]
    cost = np.empty(n)
    product = np.empty(n, dtype=np.int64)
    chargeable = np.empty(n)
    boxes = np.empty((n, 3), dtype=np.int64)
    air_kg = _half_kg_up(max(weight_kg, volume_m3 * AIR_KG_PER_M3))
    express_kg = _half_kg_up(max(weight_kg, volume_m3 * EXPRESS_KG_PER_M3))
    for e in range(n):
        c, p, kg, n20, n40, nhq = _cheapest_unit(
            weight_kg, volume_m3, unit_price[e], unit_min[e], box_volume_m3, box_payload_kg
        )
        boxes[e, 0], boxes[e, 1], boxes[e, 2] = n20, n40, nhq
        air = _break_charge(air_kg, kg_break[e], kg_rate[e], kg_min[e])
        if air < c:
            c, p, kg = air, AIR, air_kg
        express = _break_charge(express_kg, express_break[e], express_rate[e], express_min[e])
        if express < c:
            c, p, kg = express, EXPRESS, express_kg
        cost[e], product[e], chargeable[e] = c, p, kg
    return cost, product, chargeable, boxes
