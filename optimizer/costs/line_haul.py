"""Line-haul charge of one shipment on every corridor: the numba kernel and its reference twin.

Tariff arrays (all in CNY, NaN where a corridor has no such rate) are built by
:mod:`optimizer._compile`. The kernel picks, per corridor, the cheapest product the tariff offers:

- ``LCL``: per revenue tonne (W/M, 1 m3 = 1000 kg);
- ``FCL``: full containers, the cheapest mix of 20GP, 40GP and 40HQ that fits the volume and
  the payload (exact up to :data:`EXACT_MIX_PAIRS` pairs of 40' counts);
- ``FTL``: whole trucks; ``LTL``: road groupage per chargeable tonne (1:3000);
- ``AIR``: per chargeable kg (1:6000), ``EXPRESS`` per chargeable kg (1:5000), each with weight
  breaks: the charge is the lowest of ``max(chargeable, break) x rate`` over the breaks, and at
  least the minimum charge; air adds its per-kg surcharges (fuel, security) on the chargeable kg.

Which products a search may use is decided by the caller masking the tariff arrays (NaN): a
journey is priced either loose (LCL, groupage, air) or boxed (FCL) over the whole move. Each
corridor gets two prices: the line haul alone (the cargo stays on the vehicle at the corridor's
origin) and the line haul plus what a transfer there costs (handling per box or per loose unit,
and the booking's documents), each the cheapest over the products for what it includes, so a
larger or heavier load never costs less.
"""

from __future__ import annotations

import math
from typing import NamedTuple

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
def chargeable_kg(weight_kg: float, volume_m3: float, kg_per_m3: float) -> float:
    """The greater of weight and volume at ``kg_per_m3``, rounded up to the next 0.5 kg.

    Examples
    --------
    >>> chargeable_kg(800, 12, AIR_KG_PER_M3)  # 12 m3 at 1:6000 (166.7 kg/m3)
    2000.0
    """
    return math.ceil(max(weight_kg, volume_m3 * kg_per_m3) * 2 - 1e-9) / 2


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
               box_payload_kg: FloatArray, per_box: float) -> tuple[float, int]:  # fmt: skip
    """Cost and count of 20GP boxes for what the 40' boxes leave (inf if 20GP is unpriced)."""
    if volume_m3 <= 1e-9 and weight_kg <= 1e-9:
        return 0.0, 0
    if math.isnan(price[U20]):
        return math.inf, 0
    n20 = _boxes_needed(
        max(volume_m3, 0.0), max(weight_kg, 0.0), box_volume_m3[0], box_payload_kg[0]
    )
    return n20 * (price[U20] + per_box), n20


@njit(cache=True)
def _container_mix(
    volume_m3: float, weight_kg: float, price: FloatArray, box_volume_m3: FloatArray,
    box_payload_kg: FloatArray, per_box: float,
) -> tuple[float, int, int, int]:  # fmt: skip
    """Cheapest (cost, n20, n40, nhq) that holds the volume and the payload, each box also
    paying ``per_box`` (its handling)."""
    limit40 = limit_hq = 0
    if not math.isnan(price[U40]):
        limit40 = _boxes_needed(volume_m3, weight_kg, box_volume_m3[U40], box_payload_kg[U40])
    if not math.isnan(price[UHQ]):
        limit_hq = _boxes_needed(volume_m3, weight_kg, box_volume_m3[UHQ], box_payload_kg[UHQ])
    exact = (limit40 + 1) * (limit_hq + 1) <= EXACT_MIX_PAIRS
    best, best20, best40, besthq = math.inf, 0, 0, 0
    # 40HQ in the outer loop: where a tariff prices 40GP and 40HQ alike, the 40GP (the box the
    # legs charging more for a 40HQ choose) is found first and kept, so the box stays the same.
    for nhq in range(limit_hq + 1):
        for n40 in range(limit40 + 1):
            if not exact and n40 > 1 and nhq > 1:
                continue
            rest_volume = volume_m3 - n40 * box_volume_m3[1] - nhq * box_volume_m3[2]
            rest_weight = weight_kg - n40 * box_payload_kg[1] - nhq * box_payload_kg[2]
            fill, n20 = _fill_20gp(
                rest_volume, rest_weight, price, box_volume_m3, box_payload_kg, per_box
            )
            big_cost = (n40 * (price[1] + per_box) if n40 else 0.0) + (
                nhq * (price[2] + per_box) if nhq else 0.0
            )
            if big_cost + fill < best:
                best, best20, best40, besthq = big_cost + fill, n20, n40, nhq
    return best, best20, best40, besthq


@njit(cache=True, inline="always")
def _cheapest_unit(
    weight_kg: float, volume_m3: float, price: FloatArray, minimum: FloatArray,
    box_volume_m3: FloatArray, box_payload_kg: FloatArray, per_box: float, per_loose: float,
) -> tuple[float, int, float, int, int, int]:  # fmt: skip
    """Cheapest per-unit product of one corridor: (cost, product, chargeable kg, boxes).

    Each box or truck also pays ``per_box`` and each consignment ``per_loose`` (the handling of
    a transfer, per box when priced boxed and per consignment when loose; zero for the line
    haul alone).
    """
    best, product, chargeable, n20, n40, nhq = math.inf, NONE, 0.0, 0, 0, 0
    revenue_t = max(weight_kg / 1000.0, volume_m3 * WM_KG_PER_M3 / 1000.0)
    if not math.isnan(price[UWM]):
        c = max(revenue_t * price[UWM], minimum[UWM]) + per_loose
        if c < best:
            best, product, chargeable = c, LCL, revenue_t * 1000.0
    # Full containers cost at least one box: skip the mix search when that already loses.
    one_box = math.inf
    for unit in (U20, U40, UHQ):
        if price[unit] + per_box < one_box:  # False for an unpriced (NaN) box
            one_box = price[unit] + per_box
    containers = one_box < best or (volume_m3 <= 1e-9 and weight_kg <= 1e-9)
    if containers and not math.isnan(price[U20]):
        c, boxes20 = _fill_20gp(volume_m3, weight_kg, price, box_volume_m3, box_payload_kg, per_box)
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, FCL, weight_kg, boxes20, 0, 0
    if containers and not (math.isnan(price[U40]) and math.isnan(price[UHQ])):
        c, boxes20, boxes40, boxes_hq = _container_mix(
            volume_m3, weight_kg, price, box_volume_m3, box_payload_kg, per_box
        )
        if c < best:
            best, product, chargeable = c, FCL, weight_kg
            n20, n40, nhq = boxes20, boxes40, boxes_hq
    if not math.isnan(price[UTRUCK]):
        trucks = _boxes_needed(volume_m3, weight_kg, box_volume_m3[2], box_payload_kg[2])
        c = max(trucks * price[UTRUCK], minimum[UTRUCK]) + trucks * per_box + per_loose
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, FTL, weight_kg, 0, 0, trucks
    if not math.isnan(price[ULTL]):
        ltl_t = max(weight_kg, volume_m3 * ROAD_KG_PER_M3) / 1000.0
        c = max(ltl_t * price[ULTL], minimum[ULTL]) + per_loose
        if c < best:
            best, product, chargeable, n20, n40, nhq = c, LTL, ltl_t * 1000.0, 0, 0, 0
    return best, product, chargeable, n20, n40, nhq


class Tariffs(NamedTuple):
    """Every corridor's tariff in CNY, one row per corridor (NaN where there is no such rate).

    ``unit_price[e, u]`` is ``rate + rate_per_km x distance`` per unit ``u`` (see
    :data:`UNIT_COLUMNS`) and ``unit_min[e, u]`` its minimum charge; ``kg_*`` are the air
    weight breaks (``kg_surcharge[e]``: fuel and security per chargeable kg), ``express_*`` the
    express ones; box arrays are ordered 20GP, 40GP, 40HQ, and a truck takes one 40HQ load.
    """

    unit_price: FloatArray
    unit_min: FloatArray
    kg_break: FloatArray
    kg_rate: FloatArray
    kg_min: FloatArray
    kg_surcharge: FloatArray
    express_break: FloatArray
    express_rate: FloatArray
    express_min: FloatArray
    box_volume_m3: FloatArray
    box_payload_kg: FloatArray


class Prices(NamedTuple):
    """One shipment's price on every corridor, alone and with a transfer at its origin."""

    #: The line haul alone, the product it uses, its chargeable kg and boxes (20GP, 40GP,
    #: 40HQ for FCL; trucks in column 2 for FTL).
    cost_cny: FloatArray
    product: IntArray
    chargeable_kg: FloatArray
    boxes: IntArray
    #: What a transfer at the corridor's origin adds (handling and the booking's documents),
    #: with the product and boxes then cheapest.
    transfer_cny: FloatArray
    transfer_product: IntArray
    transfer_boxes: IntArray


@njit(cache=True, nogil=True)
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
            weight_kg, volume_m3, unit_price[e], unit_min[e], box_volume_m3, box_payload_kg,
            0.0, 0.0,
        )[0]  # fmt: skip
    return cost


@njit(cache=True, nogil=True)
def line_haul_costs(
    weight_kg: float,
    volume_m3: float,
    tariffs: Tariffs,
    per_box_cny: FloatArray,
    per_loose_cny: FloatArray,
    booking_cny: FloatArray,
) -> Prices:
    """Cheapest charge per corridor, for the line haul alone and with a transfer at its origin.

    A transfer adds ``per_box_cny[e]`` per box or truck (zero when priced loose),
    ``per_loose_cny[e]`` per consignment (zero when priced boxed) and ``booking_cny[e]``; the
    product and boxes are chosen again with them, so each price is the cheapest for what it
    includes and neither falls as the load grows.
    """
    n = tariffs.unit_price.shape[0]
    cost = np.empty(n)
    product = np.empty(n, dtype=np.int64)
    chargeable = np.empty(n)
    boxes = np.empty((n, 3), dtype=np.int64)
    transfer = np.empty(n)
    transfer_product = np.empty(n, dtype=np.int64)
    transfer_boxes = np.empty((n, 3), dtype=np.int64)
    air_kg = chargeable_kg(weight_kg, volume_m3, AIR_KG_PER_M3)
    express_kg = chargeable_kg(weight_kg, volume_m3, EXPRESS_KG_PER_M3)
    for e in range(n):
        air = _break_charge(air_kg, tariffs.kg_break[e], tariffs.kg_rate[e], tariffs.kg_min[e])
        air += tariffs.kg_surcharge[e] * air_kg
        express = _break_charge(
            express_kg, tariffs.express_break[e], tariffs.express_rate[e], tariffs.express_min[e]
        )
        for with_transfer in (False, True):
            if with_transfer and per_box_cny[e] == 0.0:
                # Handling per consignment only: every product pays the same, so the choice
                # stays and the transfer adds that handling and the booking.
                transfer[e] = per_loose_cny[e] + booking_cny[e] if cost[e] < math.inf else 0.0
                transfer_product[e] = product[e]
                transfer_boxes[e] = boxes[e]
                continue
            per_box = per_box_cny[e] if with_transfer else 0.0
            per_loose = per_loose_cny[e] if with_transfer else 0.0
            c, p, kg, n20, n40, nhq = _cheapest_unit(
                weight_kg, volume_m3, tariffs.unit_price[e], tariffs.unit_min[e],
                tariffs.box_volume_m3, tariffs.box_payload_kg, per_box, per_loose,
            )  # fmt: skip
            if air + per_loose < c:
                c, p, kg, n20, n40, nhq = air + per_loose, AIR, air_kg, 0, 0, 0
            if express + per_loose < c:
                c, p, kg, n20, n40, nhq = express + per_loose, EXPRESS, express_kg, 0, 0, 0
            if with_transfer:
                transfer[e] = c + booking_cny[e] - cost[e] if c < math.inf else 0.0
                transfer_product[e] = p
                transfer_boxes[e, 0], transfer_boxes[e, 1], transfer_boxes[e, 2] = n20, n40, nhq
            else:
                cost[e], product[e], chargeable[e] = c, p, kg
                boxes[e, 0], boxes[e, 1], boxes[e, 2] = n20, n40, nhq
    return Prices(cost, product, chargeable, boxes, transfer, transfer_product, transfer_boxes)
