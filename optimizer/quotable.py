"""Which of the Pareto-best journeys a forwarder would quote, and what each one is.

The label search (:mod:`optimizer.costs.search`) finds every journey that no other beats on
cost, arrival and CO2e, exactly. Many of them are nothing anyone sells: flying to Almaty to
continue by rail, trucking from Budapest back east to a rail terminal, a sea leg that calls
far beyond the destination and sails back. Others differ from a better journey by a few per
cent of CO2e and nothing else. A plan shows what a forwarder would put before a customer:

1. **Products only.** A journey's *chain* is the sequence of its main-haul modes: road legs at
   either end (pre- and on-carriage, a road feeder service at an airport) shorter than the haul
   they feed, and road drayage of at most :data:`DRAYAGE_KM` between two terminals, are part
   of every product. A chain that
   ``products.csv`` does not list is not sold (``air`` then ``rail`` is not; ``rail`` then
   ``sea`` is: the Western Land-Sea Corridor).
2. **No doubling back.** A journey that passes a node much farther from the destination (by
   great circle) than a node it already passed (by more than :data:`DOUBLE_BACK_KM` and half
   of that distance) turns away from its goal: Chongqing to Shanghai through Frankfurt, Dazhou
   to Fangchenggang through Ho Chi Minh City. Nor does one that goes far out of its way over
   land: a run of road, rail or river legs whose length exceeds :data:`DETOUR_FACTOR` times
   the great-circle distance it covers plus :data:`DETOUR_KM` (Anqing by truck east to Ningbo
   and by rail back west to Chongqing; Anqing by road through Shanghai to Chengdu). Sea and air
   legs end a run: sea lanes bend round continents.
3. **Meaningfully different.** An option is left out when one already shown is no more than
   barely worse on every criterion and better on at least one (:class:`Similarity`: 5 % on
   cost, a day or 10 % on door-to-door time, 10 % on CO2e by default).
4. **The families that compete on the lane.** The cheapest, fastest and greenest options come
   first; then the best option of each family (a product and what sets it apart: the border
   crossing of a train, the canal or cape of a sailing, the port where rail meets sea) in
   order of cost; then the options farthest from those shown.

Nothing here changes what the search finds: the whole front stays on the plan, each journey
with why it is not shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from network_data.validate import haversine_km
from optimizer.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Road between two main legs up to this far is drayage between terminals (Chengdu Shuangliu to
#: Tianfu airport is 69 km; a rail terminal to its port tens of km), not a leg of its own.
DRAYAGE_KM = 150.0
#: A node this much farther from the destination than one already passed turns back: at least
#: DOUBLE_BACK_KM, and DOUBLE_BACK_SHARE of the nearer node's distance. Sea lanes bend round
#: continents: Chongqing's rail-sea service to Rotterdam calls at Singapore, 35 % farther from
#: Rotterdam than Chongqing is, and is sold; Singapore on the way from Chongqing to Tokyo (65 %)
#: is not.
DOUBLE_BACK_KM = 300.0
DOUBLE_BACK_SHARE = 0.5
#: A land run longer than this multiple of its great-circle distance, plus DETOUR_KM, goes out
#: of its way. Roads run about 1.25 times the great circle in China (``ROAD-CIRC``), China-
#: Europe trains 1.3-1.45 (Chengdu-Duisburg 9,600-11,000 km over 7,300), the Yangtze 1.65
#: (Chongqing-Shanghai 2,400 km over 1,450).
DETOUR_FACTOR = 1.6
DETOUR_KM = 300.0
#: Passages that tell two journeys of one product apart, as a plan's summary names them.
FAMILY_PASSAGES = {
    "suez": "Suez",
    "cape": "the Cape",
    "caspian": "the Caspian",
    "panama": "Panama",
}
_FAMILY_ORDER = tuple(FAMILY_PASSAGES)

NOT_SOLD = "not sold"
DOUBLES_BACK = "doubles back"
BARELY_DIFFERENT = "barely different"
BEYOND_LIMIT = "beyond max_options"
#: Another option (a parcel channel beside freight) is no worse on cost, arrival and CO2e and
#: better on one.
DOMINATED = "dominated"


@dataclass(frozen=True)
class Similarity:
    """How close two options must be to count as the same offer.

    Option A *covers* option B when A is at most ``cost_pct`` per cent dearer, at most
    ``time_days`` days or ``time_pct`` per cent (whichever is more) slower and at most
    ``co2e_pct`` per cent more emitting than B, and better than B on something: B then adds
    nothing a customer would choose it for.

    Examples
    --------
    >>> rail = Candidate(cost_cny=6_803, transit_h=18 * 24, co2e_kg=172)
    >>> greener = Candidate(cost_cny=7_020, transit_h=19 * 24, co2e_kg=160)
    >>> Similarity().covers(rail, greener)  # 3 % cheaper, a day faster, 7.5 % more CO2e
    True
    >>> Similarity(co2e_pct=5).covers(rail, greener)
    False
    """

    cost_pct: float = 5.0
    time_days: float = 1.0
    time_pct: float = 10.0
    co2e_pct: float = 10.0

    def __post_init__(self) -> None:
        for name, limit in (
            ("cost_pct", 100.0),
            ("time_days", 365.0),
            ("time_pct", 100.0),
            ("co2e_pct", 100.0),
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and 0 <= value <= limit)
            ):
                raise InvalidInputError(
                    f"similar_within.{name}", value, f"a number in [0, {limit:g}]"
                )

    def covers(self, better: Candidate, worse: Candidate) -> bool:
        """Whether ``better`` is barely worse than ``worse`` on nothing, better on something."""
        slack_h = max(self.time_days * 24, worse.transit_h * self.time_pct / 100)
        close = (
            better.cost_cny <= worse.cost_cny * (1 + self.cost_pct / 100)
            and better.transit_h <= worse.transit_h + slack_h
            and better.co2e_kg <= worse.co2e_kg * (1 + self.co2e_pct / 100)
        )
        return close and (
            better.cost_cny < worse.cost_cny
            or better.transit_h < worse.transit_h
            or better.co2e_kg < worse.co2e_kg
        )


#: Options count as the same offer only when one is at least as good on every criterion: a
#: Pareto front is then shown whole (for choices made by a cost function, not a person).
EXACT = Similarity(cost_pct=0.0, time_days=0.0, time_pct=0.0, co2e_pct=0.0)


class Candidate(NamedTuple):
    """A journey as the choice sees it: its totals, family and whether it may be shown."""

    cost_cny: float
    transit_h: float
    co2e_kg: float
    family: str = ""
    #: Why it may not be shown at all (:data:`NOT_SOLD`, :data:`DOUBLES_BACK`), or None.
    excluded: str | None = None


class Leg(NamedTuple):
    """What the shape of a journey needs of one leg."""

    mode: str
    distance_km: float
    #: The node the leg reaches, and whether it is a border crossing.
    destination: str
    border: bool
    passages: tuple[str, ...] = ()
    #: Where the leg ends (degrees), for the detour over land; NaN: not checked.
    lat: float = math.nan
    lon: float = math.nan


class Product(NamedTuple):
    """A product forwarders sell (``products.csv``): its id and name, and the passages one of
    which its main legs must pass (empty: any route of its chain)."""

    id: str
    name: str
    passages: frozenset[str] = frozenset()


def products_by_chain(
    ids: Iterable[str],
    names: Iterable[str],
    chains: Iterable[Sequence[str]],
    passages: Iterable[Sequence[str]],
) -> dict[tuple[str, ...], tuple[Product, ...]]:
    """Products by their chain of main-haul modes, those that name passages first.

    Examples
    --------
    >>> by_chain = products_by_chain(["RSR", "MC"], ["Rail-sea-rail", "Middle Corridor"],
    ...                              [["rail", "sea", "rail"]] * 2, [[], ["caspian"]])
    >>> [product.id for product in by_chain[("rail", "sea", "rail")]]
    ['MC', 'RSR']
    """
    by_chain: dict[tuple[str, ...], list[Product]] = {}
    for product_id, name, chain, named in zip(ids, names, chains, passages, strict=True):
        by_chain.setdefault(tuple(chain), []).append(
            Product(str(product_id), str(name), frozenset(named))
        )
    return {
        chain: tuple(sorted(products, key=lambda p: not p.passages))
        for chain, products in by_chain.items()
    }


class Shape(NamedTuple):
    """A journey's product and family, and the node where it turns back, if it does (not
    looked for in a journey that is no product: it is not offered either way)."""

    chain: tuple[str, ...]
    product: str | None
    family: str
    doubles_back_at: str | None


class LegArrays(NamedTuple):
    """The legs of several journeys, flat: journey ``j``'s legs are ``ptr[j]:ptr[j + 1]``.

    ``mode`` holds any integer code per mode (equal codes, equal modes); ``remaining_km`` is
    the great-circle km from each leg's end to the destination, ``origin_km`` and
    ``start_lat``/``start_lon`` per journey those of its first leg's start. ``passage_bits``
    sets one bit per passage a leg passes and ``family_passage`` names the first of them in
    :data:`FAMILY_PASSAGES` (its index there, -1: none).
    """

    ptr: IntArray
    mode: IntArray
    distance_km: FloatArray
    border: BoolArray
    over_water: BoolArray
    family_passage: IntArray
    passage_bits: IntArray
    lat: FloatArray
    lon: FloatArray
    remaining_km: FloatArray
    origin_km: FloatArray
    start_lat: FloatArray
    start_lon: FloatArray


class ShapeCodes(NamedTuple):
    """Per journey, its shape as numbers (:func:`shape_codes`)."""

    #: The chain's mode codes (``chain[j, :chain_length[j]]``).
    chain: IntArray
    chain_length: IntArray
    #: The passages its main legs pass, as bits.
    passed_bits: IntArray
    #: What sets it apart: 0 nothing, 1 a passage (``family_at``: its index in
    #: :data:`FAMILY_PASSAGES`), 2 the first border of its main haul, 3 where its first main
    #: segment ends (``family_at``: that leg's position in the journey).
    family_kind: IntArray
    family_at: IntArray
    #: The position of the leg whose end turns back or has gone out of its way (-1: none).
    back_at: IntArray


@njit(cache=True)
def shape_codes(legs: LegArrays, road: int) -> ShapeCodes:
    """The chain, family and doubling back of every journey in ``legs`` (``road``: the mode
    code of road), by the rules of :func:`shape`."""
    n = legs.ptr.shape[0] - 1
    longest = 1
    for j in range(n):
        longest = max(longest, legs.ptr[j + 1] - legs.ptr[j])
    chain = np.full((n, longest), -1, dtype=np.int64)
    chain_length = np.zeros(n, dtype=np.int64)
    passed_bits = np.zeros(n, dtype=np.int64)
    family_kind = np.zeros(n, dtype=np.int64)
    family_at = np.full(n, -1, dtype=np.int64)
    back_at = np.full(n, -1, dtype=np.int64)
    seg_mode = np.empty(longest, dtype=np.int64)
    seg_km = np.empty(longest)
    seg_first = np.empty(longest, dtype=np.int64)
    seg_last = np.empty(longest, dtype=np.int64)
    kept_first = np.empty(longest, dtype=np.int64)
    kept_last = np.empty(longest, dtype=np.int64)
    for j in range(n):
        lo, hi = legs.ptr[j], legs.ptr[j + 1]
        count = 0  # segments: runs of legs of one mode
        for i in range(lo, hi):
            if count > 0 and seg_mode[count - 1] == legs.mode[i]:
                seg_km[count - 1] += legs.distance_km[i]
                seg_last[count - 1] = i - lo
            else:
                seg_mode[count], seg_km[count] = legs.mode[i], legs.distance_km[i]
                seg_first[count], seg_last[count] = i - lo, i - lo
                count += 1
        # main segments: pre- and on-carriage by road shorter than the haul are left out
        first_main, last_main = 0, count - 1
        pre = count > 1 and seg_mode[0] == road
        if pre:
            first_main = 1
        on = last_main - first_main + 1 > 1 and seg_mode[last_main] == road
        if on:
            last_main -= 1
        haul_km = 0.0
        for s in range(first_main, last_main + 1):
            haul_km += seg_km[s]
        if pre and seg_km[0] > haul_km:
            first_main = 0
        if on and seg_km[count - 1] > haul_km:
            last_main = count - 1
        n_main = last_main - first_main + 1
        # the chain: road drayage between two main segments dropped, equal modes merged (a
        # merged segment spans the drayage between its parts)
        length = 0
        for s in range(first_main, last_main + 1):
            if seg_mode[s] == road and n_main > 1 and seg_km[s] <= DRAYAGE_KM:
                continue
            if length > 0 and chain[j, length - 1] == seg_mode[s]:
                kept_last[length - 1] = seg_last[s]
                continue
            chain[j, length] = seg_mode[s]
            kept_first[length], kept_last[length] = seg_first[s], seg_last[s]
            length += 1
        chain_length[j] = length
        bits = 0
        border = -1
        for k in range(length):
            for i in range(lo + kept_first[k], lo + kept_last[k] + 1):
                bits |= legs.passage_bits[i]
                if family_kind[j] == 0 and legs.family_passage[i] >= 0:
                    family_kind[j], family_at[j] = 1, legs.family_passage[i]
                if border < 0 and legs.border[i]:
                    border = i - lo
        passed_bits[j] = bits
        # the family: a passage of a main leg, else the first border, else the first transfer
        if family_kind[j] == 0 and border >= 0:
            family_kind[j], family_at[j] = 2, border
        elif family_kind[j] == 0 and length > 1:
            family_kind[j], family_at[j] = 3, kept_last[0]
        back_at[j] = _back_at(legs, lo, hi, legs.origin_km[j], legs.start_lat[j], legs.start_lon[j])
    return ShapeCodes(chain, chain_length, passed_bits, family_kind, family_at, back_at)


@njit(cache=True)
def _back_at(legs: LegArrays, lo: int, hi: int, origin_km: float, lat: float, lon: float) -> int:
    """:func:`doubles_back` on legs ``lo:hi``: the position of the leg that turns back."""
    start_lat, start_lon = lat, lon
    nearest_km = origin_km
    for i in range(lo, hi):
        km = legs.remaining_km[i]
        if km > nearest_km + max(DOUBLE_BACK_KM, DOUBLE_BACK_SHARE * nearest_km):
            return i - lo
        nearest_km = min(nearest_km, km)
    run_remaining_km = origin_km
    travelled_km = 0.0
    for i in range(lo, hi):
        left_km = legs.remaining_km[i]
        if legs.over_water[i]:
            lat, lon, run_remaining_km, travelled_km = legs.lat[i], legs.lon[i], left_km, 0.0
            continue
        travelled_km += legs.distance_km[i]
        if travelled_km <= DETOUR_FACTOR * abs(run_remaining_km - left_km) + DETOUR_KM:
            continue
        direct_km = haversine_km(lat, lon, legs.lat[i], legs.lon[i])
        if travelled_km > DETOUR_FACTOR * direct_km + DETOUR_KM:  # False where NaN
            return i - lo
    return _revisit_at(legs, lo, hi, start_lat, start_lon)


@njit(cache=True)
def _revisit_at(legs: LegArrays, lo: int, hi: int, lat: float, lon: float) -> int:
    """The position of the first leg, of some length, that ends where the journey has already
    been (its start at ``lat``, ``lon`` or the end of a leg before the one just run): a loop a
    forwarder would never quote, however little it costs."""
    for i in range(lo + 1, hi):
        if legs.distance_km[i] <= 0.0:
            continue
        if legs.lat[i] == lat and legs.lon[i] == lon:
            return i - lo
        for k in range(lo, i - 1):
            if legs.lat[i] == legs.lat[k] and legs.lon[i] == legs.lon[k]:
                return i - lo
    return -1


def shapes_from_codes(
    codes: ShapeCodes,
    modes: Sequence[str],
    passages: Sequence[str],
    products: Mapping[tuple[str, ...], Sequence[Product]],
    destination: Callable[[int, int], str],
    node_names: Mapping[str, str],
) -> list[Shape]:
    """The :class:`Shape` of each journey of :func:`shape_codes`: ``modes[code]`` names a mode
    code, ``passages[bit]`` a passage bit and ``destination(j, i)`` the node where journey
    ``j``'s leg ``i`` ends."""
    shapes = []
    chains = codes.chain.tolist()
    for j, (length, bits, kind, at, back) in enumerate(
        zip(
            codes.chain_length.tolist(), codes.passed_bits.tolist(), codes.family_kind.tolist(),
            codes.family_at.tolist(), codes.back_at.tolist(), strict=True,
        )
    ):  # fmt: skip
        chain = tuple(modes[code] for code in chains[j][:length])
        product = None
        for candidate in products.get(chain, ()):
            if not candidate.passages or any(
                bits >> k & 1 for k, name in enumerate(passages) if name in candidate.passages
            ):
                product = candidate
                break
        name = product.name if product else "+".join(chain)
        if kind == 1:
            name = f"{name} via {FAMILY_PASSAGES[_FAMILY_ORDER[at]]}"
        elif kind > 1:
            node = destination(j, at)
            name = f"{name} via {node_names.get(node, node)}"
        turns = destination(j, back) if product is not None and back >= 0 else None
        shapes.append(Shape(chain, product.id if product else None, name, turns))
    return shapes


def _leg_arrays(
    journeys: Sequence[Sequence[Leg]],
    remaining_km: Sequence[Sequence[float]],
    starts: Sequence[tuple[float, float]],
) -> tuple[LegArrays, list[str], list[str]]:
    """Journeys of :class:`Leg` as :class:`LegArrays`, with the modes and passages coded."""
    modes: dict[str, int] = {}
    passages: dict[str, int] = {}
    flat = [leg for legs in journeys for leg in legs]
    for leg in flat:
        modes.setdefault(leg.mode, len(modes))
        for passage in leg.passages:
            passages.setdefault(passage, len(passages))
    ptr = np.zeros(len(journeys) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(legs) for legs in journeys])
    legs = LegArrays(
        ptr,
        np.array([modes[leg.mode] for leg in flat], dtype=np.int64),
        np.array([leg.distance_km for leg in flat], dtype=np.float64),
        np.array([leg.border for leg in flat], dtype=np.bool_),
        np.array([leg.mode in ("sea", "air") for leg in flat], dtype=np.bool_),
        np.array([family_passage(leg.passages) for leg in flat], dtype=np.int64),
        np.array(
            [sum(1 << passages[p] for p in set(leg.passages)) for leg in flat], dtype=np.int64
        ),
        np.array([leg.lat for leg in flat], dtype=np.float64),
        np.array([leg.lon for leg in flat], dtype=np.float64),
        np.array([km for rest in remaining_km for km in rest[1:]], dtype=np.float64),
        np.array([rest[0] for rest in remaining_km], dtype=np.float64),
        np.array([start[0] for start in starts], dtype=np.float64),
        np.array([start[1] for start in starts], dtype=np.float64),
    )
    return legs, list(modes), list(passages)


def family_passage(passages: Iterable[str]) -> int:
    """The index in :data:`FAMILY_PASSAGES` of the first of ``passages`` there (-1: none).

    >>> family_passage(["bab-el-mandeb", "suez"]), family_passage(["malacca"])
    (0, -1)
    """
    return next((_FAMILY_ORDER.index(p) for p in passages if p in FAMILY_PASSAGES), -1)


def shape(
    legs: Sequence[Leg],
    remaining_km: Sequence[float],
    products: Mapping[tuple[str, ...], Sequence[Product]],
    node_names: Mapping[str, str],
    start: tuple[float, float] = (math.nan, math.nan),
) -> Shape:
    """The chain, product, family and doubling back of a journey.

    A journey's segments are its runs of legs of one mode. Road segments at either end shorter
    than the rest of the haul are pre- and on-carriage, road segments of at most
    :data:`DRAYAGE_KM` between two main segments drayage; what remains, with runs of one mode
    merged, is the chain. Its product is the first of ``products[chain]`` that names no
    passages or one the main legs pass. Its family is the product's name (or the chain's
    modes) and, after "via", the first :data:`FAMILY_PASSAGES` passage of a main leg, else the
    first border its main legs reach, else the end of its first main segment when it has
    several. Only a product is checked for doubling back (:func:`doubles_back`).

    Parameters
    ----------
    legs
        The journey's legs in order.
    remaining_km
        Great-circle km to the destination from the origin, then from each leg's end.
    products
        Chain of main-haul modes -> the products of that chain (:func:`products_by_chain`).
    node_names
        Node id -> name, for the family's words.
    start
        (lat, lon) where the first leg starts, for the detour over land.

    Examples
    --------
    Linshui by truck to Chongqing, rail to Duisburg through Alashankou, a truck to the door:

    >>> legs = [Leg("road", 140, "CNCKG-RLY", False), Leg("rail", 3_100, "CNAKL", True),
    ...         Leg("rail", 8_200, "DEDUI", False), Leg("road", 9, "WH-DEDUI", False)]
    >>> products = {("rail",): [Product("RAIL", "Rail freight")],
    ...             ("rail", "sea"): [Product("RAIL-SEA", "Rail-sea")]}
    >>> shape(legs, [7_600, 7_650, 4_900, 10, 5], products, {"CNAKL": "Alashankou"})
    Shape(chain=('rail',), product='RAIL', family='Rail freight via Alashankou', \
doubles_back_at=None)

    Flying to Almaty and going on by rail is no product:

    >>> legs = [Leg("air", 2_800, "KZALA-ALA", False), Leg("road", 21, "KZALA", False),
    ...         Leg("rail", 5_000, "DEDUI", False)]
    >>> shape(legs, [7_700, 4_800, 4_800, 0], products, {}).product is None
    True
    """
    arrays, modes, passages = _leg_arrays([legs], [remaining_km], [start])
    road = modes.index("road") if "road" in modes else -1
    codes = shape_codes(arrays, road)
    return shapes_from_codes(
        codes, modes, passages, products, lambda _, i: legs[i].destination, node_names
    )[0]


def doubles_back(
    legs: Sequence[Leg], remaining_km: Sequence[float], start: tuple[float, float]
) -> str | None:
    """The node where a journey turns away from its destination, has gone far out of its way
    over land, or comes back to where it has been, if it does (arguments as for
    :func:`shape`).

    Examples
    --------
    Chongqing to Shanghai by air through Frankfurt:

    >>> legs = [Leg("air", 7_600, "DEFRA", False), Leg("air", 8_900, "CNSHA-PVG", False)]
    >>> doubles_back(legs, [1_450, 8_900, 0], (29.7, 106.6))
    'DEFRA'

    Off a flight at Liège, a truck to a warehouse nearby and back before driving on to
    Rotterdam:

    >>> legs = [Leg("road", 9, "WH-BELGG", False, (), 50.62, 5.45),
    ...         Leg("road", 9, "BELGG", False, (), 50.64, 5.44),
    ...         Leg("road", 190, "NLRTM", False, (), 51.95, 4.14)]
    >>> doubles_back(legs, [180, 182, 180, 0], (50.64, 5.44))
    'BELGG'
    """
    arrays, _, _ = _leg_arrays([legs], [remaining_km], [start])
    at = int(_back_at(arrays, 0, len(legs), remaining_km[0], start[0], start[1]))
    return legs[at].destination if at >= 0 else None


def dominated(
    values: Sequence[tuple[float, float, float]], may_dominate: Sequence[bool]
) -> list[bool]:
    """Which of ``values`` (cost, arrival, CO2e) another value whose ``may_dominate`` is true
    beats: no worse on all three and better on one.

    Compared all pairs at once: a plan's freight journeys and parcel channels are a few
    hundred at most, and pair by pair in Python they took 10 ms of a 13 ms plan.

    Examples
    --------
    >>> dominated([(100, 48, 10), (120, 48, 10), (90, 60, 10)], [True, True, False])
    [False, True, False]
    >>> dominated([(100, 48, 10), (100, 48, 10)], [True, True])  # equal: neither beats
    [False, False]
    """
    keys = np.asarray(values, dtype=np.float64).reshape(-1, 3)
    # [i, j]: value i is no worse than value j on every criterion, better on one
    no_worse = (keys[:, None, :] <= keys[None, :, :]).all(axis=2)
    better = (keys[:, None, :] < keys[None, :, :]).any(axis=2)
    beats = no_worse & better & np.asarray(may_dominate, dtype=bool)[:, None]
    return [bool(b) for b in cast(npt.NDArray[np.bool_], beats.any(axis=0))]


def choose(
    candidates: Sequence[Candidate], limit: int | None, similarity: Similarity
) -> list[str | None]:
    """For each candidate: None when it is shown, else why not.

    First the options that differ meaningfully: candidates are taken in order of preference
    (the cheapest, fastest and greenest, then the cheapest of each family, families by that
    cost, then the rest by cost); one covered by an option taken (:meth:`Similarity.covers`)
    is left out as :data:`BARELY_DIFFERENT`, and one taken leaves out the options it covers,
    until nothing changes. Of those, at most ``limit`` are shown in the same order of
    preference, the rest each the farthest (on min-max scaled cost, time and CO2e) from those
    shown; the others are :data:`BEYOND_LIMIT`.

    Examples
    --------
    Rail, 18 days, CNY 6,803; the same train a day later, 3 % greener; a flight; and a flight
    to Almaty continued by rail:

    >>> rail = Candidate(6_803, 432, 172, "Rail freight via Alashankou")
    >>> later = Candidate(6_950, 456, 167, "Rail freight via Alashankou")
    >>> air = Candidate(58_000, 96, 9_800, "Air freight")
    >>> air_rail = Candidate(31_738, 384, 6_000, "air+rail", excluded=NOT_SOLD)
    >>> choose([rail, later, air, air_rail], 5, Similarity())
    [None, 'barely different', None, 'not sold']
    """
    reasons: list[str | None] = [c.excluded for c in candidates]
    open_ = [i for i, c in enumerate(candidates) if c.excluded is None]
    if not open_:
        return reasons
    head, rest = _preference(candidates, open_)
    covers = similarity.covers
    distinct: list[int] = []
    for _ in range(len(open_)):  # a pass only replaces options by ones that cover them
        changed = False
        for i in (*head, *rest):
            if i in distinct or any(covers(candidates[k], candidates[i]) for k in distinct):
                continue
            distinct = [k for k in distinct if not covers(candidates[i], candidates[k])]
            distinct.append(i)
            changed = True
        if not changed:
            break
    for i in open_:
        if i not in distinct:
            reasons[i] = BARELY_DIFFERENT
    if limit is None or len(distinct) <= limit:
        return reasons
    head, rest = _preference(candidates, distinct)
    shown = head[:limit]
    if len(shown) < limit:
        scaled = _scaled(candidates, distinct)
        gaps = {i: min(_distance(scaled[i], scaled[k]) for k in shown) for i in rest}
        while len(shown) < limit:
            farthest = max(gaps, key=lambda i: (gaps[i], -i))
            del gaps[farthest]
            shown.append(farthest)
            for i in gaps:
                gaps[i] = min(gaps[i], _distance(scaled[i], scaled[farthest]))
    for i in distinct:
        if i not in shown:
            reasons[i] = BEYOND_LIMIT
    return reasons


def _preference(
    candidates: Sequence[Candidate], indices: Sequence[int]
) -> tuple[list[int], list[int]]:
    """``indices`` in order of preference: first the cheapest, fastest and greenest, then the
    cheapest of each family (families by that cost); then the others, by cost."""
    by_cost = sorted(indices, key=lambda i: (candidates[i].cost_cny, candidates[i].transit_h, i))
    head = [by_cost[0]]
    for key in (
        lambda i: (candidates[i].transit_h, candidates[i].cost_cny, candidates[i].co2e_kg, i),
        lambda i: (candidates[i].co2e_kg, candidates[i].cost_cny, candidates[i].transit_h, i),
    ):
        best = min(indices, key=key)
        if best not in head:
            head.append(best)
    families: set[str] = set()
    for i in by_cost:
        if candidates[i].family not in families:
            families.add(candidates[i].family)
            if i not in head:
                head.append(i)
    return head, [i for i in by_cost if i not in head]


def _scaled(
    candidates: Sequence[Candidate], indices: Sequence[int]
) -> dict[int, tuple[float, float, float]]:
    """Cost, time and CO2e of ``indices`` scaled to [0, 1] over those candidates."""
    points = {
        i: (candidates[i].cost_cny, candidates[i].transit_h, candidates[i].co2e_kg) for i in indices
    }
    lows = [min(p[c] for p in points.values()) for c in range(3)]
    spans = [(max(p[c] for p in points.values()) - lows[c]) or 1.0 for c in range(3)]
    return {
        i: ((p[0] - lows[0]) / spans[0], (p[1] - lows[1]) / spans[1], (p[2] - lows[2]) / spans[2])
        for i, p in points.items()
    }


def _distance(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
