"""The numba kernel that prices N parcels on C channels, and the scalar rules it shares with
:func:`optimizer.parcels.quote_parcel` (rounding, chargeable weight, weight steps).

The kernel runs its parcels in parallel (``prange``) on every core numba is given
(``NUMBA_NUM_THREADS``); under ``NUMBA_DISABLE_JIT=1`` it is plain Python, as every kernel of
Shudao is. Its inputs are three matrices and two index tables, built once per batch by
:func:`optimizer.parcels.batch.price_parcels`.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Why a channel refuses a parcel (0: offered). Shared with the plain-Python quote.
OFFERED: Final = 0
NOT_SERVED: Final = 1
POSTCODE_NEEDED: Final = 2
GOODS_REFUSED: Final = 3
OVER_WEIGHT: Final = 4
OVER_LONGEST: Final = 5
OVER_SUM_SIDES: Final = 6
OVER_LENGTH_GIRTH: Final = 7
RATE_NOT_VALID: Final = 8
BEYOND_RATE_CARD: Final = 9
#: ``zone_ids`` values for a channel that does not serve the country, or zones it by a
#: postcode the parcel does not have.
ZONE_NOT_SERVED: Final = -1
ZONE_POSTCODE_NEEDED: Final = -2
#: Tolerance when counting weight steps, so that 1.9 / 0.1 counts 19 steps, not 20.
STEP_TOLERANCE: Final = 1e-9

# Columns of the parcel matrix: actual kg, sides longest first, pieces, contents bits, origin.
P_WEIGHT, P_LONG, P_MID, P_SHORT, P_PIECES, P_CONTENTS, P_ORIGIN = range(7)
# Columns of the channel matrix.
(C_DIVISOR, C_STEP, C_MIN_KG, C_MAX_KG, C_LONGEST, C_SUM, C_GIRTH, C_REFUSES, C_FUEL,
 C_FEEDER_KG, C_FEEDER_MIN, C_FEEDER_DAYS) = range(12)  # fmt: skip
# Columns of the band matrix (money in CNY).
(B_FROM, B_TO, B_FIRST_KG, B_FIRST, B_STEP_KG, B_STEP, B_ITEM, B_MIN, B_DAYS_MIN,
 B_DAYS_MAX) = range(10)  # fmt: skip


class ChannelArrays(NamedTuple):
    """The channels as the kernel reads them.

    ``channels`` is C x 12 (columns ``C_*``; a size limit that does not apply is NaN),
    ``pickup`` C x O (1 where the channel picks up in origin city o, else a feeder is
    charged), ``bands`` B x 10 (columns ``B_*``), ``zone_bands`` Z x 2 (the first and past-the
    last band of each channel zone valid on the ship date; equal when none is).
    """

    channels: FloatArray
    pickup: FloatArray
    bands: FloatArray
    zone_bands: IntArray


class PricedArrays(NamedTuple):
    """Kernel output, each N x C: the cost (NaN when refused), chargeable kg per piece,
    transit days and the refusal code (``OFFERED`` when offered)."""

    cost_cny: FloatArray
    chargeable_kg: FloatArray
    days_min: FloatArray
    days_max: FloatArray
    code: IntArray


@njit(cache=True)
def round_cny(amount: float) -> float:
    """Round half up to the fen (0.01 CNY).

    Examples
    --------
    >>> round_cny(124.46), round_cny(0.125), round_cny(2.0049)
    (124.46, 0.13, 2.0)
    """
    return math.floor(amount * 100.0 + 0.5) / 100.0


@njit(cache=True)
def steps_above(weight_kg: float, first_kg: float, step_kg: float) -> int:
    """Started steps of ``step_kg`` above the first ``first_kg``.

    Examples
    --------
    >>> steps_above(2.0, 0.5, 0.5), steps_above(2.0, 0.1, 0.1), steps_above(0.3, 0.5, 0.5)
    (3, 19, 0)
    """
    if weight_kg <= first_kg:
        return 0
    return math.ceil((weight_kg - first_kg) / step_kg - STEP_TOLERANCE)


@njit(cache=True)
def chargeable_kg(
    weight_kg: float, volume_cm3: float, divisor: float, minimum_kg: float, step_kg: float
) -> float:
    """Chargeable weight of one piece: the larger of actual and volumetric weight (volume /
    ``divisor``; 0: none) and the channel's minimum, rounded up to a multiple of ``step_kg``
    (and to the gram, against float noise).

    Examples
    --------
    A 2 kg box of 30 x 20 x 15 cm by express (1:5000), and a 1.2 kg one of 50 x 40 x 30 cm:

    >>> chargeable_kg(2.0, 30 * 20 * 15, 5000, 0, 0.5)
    2.0
    >>> chargeable_kg(1.2, 50 * 40 * 30, 5000, 0, 0.5)
    12.0
    """
    volumetric = volume_cm3 / divisor if divisor > 0 else 0.0
    weight = max(weight_kg, volumetric, minimum_kg)
    steps = math.ceil(weight / step_kg - STEP_TOLERANCE)
    return math.floor(steps * step_kg * 1e6 + 0.5) / 1e6


@njit(cache=True)
def _limit_code(parcel: FloatArray, channel: FloatArray) -> int:
    if int(parcel[P_CONTENTS]) & int(channel[C_REFUSES]):
        return GOODS_REFUSED
    if parcel[P_WEIGHT] > channel[C_MAX_KG]:
        return OVER_WEIGHT
    a, b, c = parcel[P_LONG], parcel[P_MID], parcel[P_SHORT]
    if a > channel[C_LONGEST]:
        return OVER_LONGEST
    if a + b + c > channel[C_SUM]:
        return OVER_SUM_SIDES
    if a + 2 * (b + c) > channel[C_GIRTH]:
        return OVER_LENGTH_GIRTH
    return OFFERED


@njit(cache=True, parallel=True)
def price_kernel(
    parcels: FloatArray, zone_ids: IntArray, arrays: ChannelArrays
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Price every parcel (rows of ``parcels``, columns ``P_*``) on every channel;
    ``zone_ids[i, c]`` is the row of ``arrays.zone_bands`` of parcel i's zone on channel c, or
    ``ZONE_NOT_SERVED`` / ``ZONE_POSTCODE_NEEDED``. Returns the arrays of :class:`PricedArrays`.
    """
    n, n_channels = zone_ids.shape
    cost = np.full((n, n_channels), np.nan)
    charged = np.zeros((n, n_channels))
    days_min = np.zeros((n, n_channels))
    days_max = np.zeros((n, n_channels))
    code = np.zeros((n, n_channels), dtype=np.int64)
    for i in prange(n):
        parcel = parcels[i]
        for c in range(n_channels):
            zone = zone_ids[i, c]
            if zone == ZONE_NOT_SERVED:
                code[i, c] = NOT_SERVED
                continue
            if zone == ZONE_POSTCODE_NEEDED:
                code[i, c] = POSTCODE_NEEDED
                continue
            channel = arrays.channels[c]
            refused = _limit_code(parcel, channel)
            first_band, end_band = arrays.zone_bands[zone, 0], arrays.zone_bands[zone, 1]
            if refused == OFFERED and first_band == end_band:
                refused = RATE_NOT_VALID
            volume = parcel[P_LONG] * parcel[P_MID] * parcel[P_SHORT]
            weight = chargeable_kg(
                parcel[P_WEIGHT], volume, channel[C_DIVISOR], channel[C_MIN_KG], channel[C_STEP]
            )
            charged[i, c] = weight
            band = -1
            for b in range(first_band, end_band):
                if arrays.bands[b, B_FROM] < weight <= arrays.bands[b, B_TO]:
                    band = b
                    break
            if refused == OFFERED and band < 0:
                refused = BEYOND_RATE_CARD
            code[i, c] = refused
            if refused != OFFERED:
                continue
            rate = arrays.bands[band]
            first = round_cny(rate[B_FIRST])
            additional = round_cny(
                steps_above(weight, rate[B_FIRST_KG], rate[B_STEP_KG]) * rate[B_STEP]
            )
            top_up = round_cny(max(rate[B_MIN] - (first + additional), 0.0))
            fuel = round_cny((first + additional + top_up) * channel[C_FUEL] / 100.0)
            item = round_cny(rate[B_ITEM])
            pieces = parcel[P_PIECES]
            total = 0.0
            total += round_cny(first * pieces)
            total += round_cny(additional * pieces)
            total += round_cny(top_up * pieces)
            total += round_cny(fuel * pieces)
            total += round_cny(item * pieces)
            extra_days = 0.0
            if arrays.pickup[c, int(parcel[P_ORIGIN])] == 0.0:
                total += round_cny(
                    max(channel[C_FEEDER_KG] * parcel[P_WEIGHT] * pieces, channel[C_FEEDER_MIN])
                )
                extra_days = channel[C_FEEDER_DAYS]
            cost[i, c] = round_cny(total)
            days_min[i, c] = rate[B_DAYS_MIN] + extra_days
            days_max[i, c] = rate[B_DAYS_MAX] + extra_days
    return cost, charged, days_min, days_max, code
