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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from network_data.validate import haversine_km
from optimizer.errors import InvalidInputError

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
FAMILY_PASSAGES = {"suez": "Suez", "cape": "the Cape", "caspian": "the Caspian"}

NOT_SOLD = "not sold"
DOUBLES_BACK = "doubles back"
BARELY_DIFFERENT = "barely different"
BEYOND_LIMIT = "beyond max_options"


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


def shape(
    legs: Sequence[Leg],
    remaining_km: Sequence[float],
    products: Mapping[tuple[str, ...], Sequence[Product]],
    node_names: Mapping[str, str],
    start: tuple[float, float] = (math.nan, math.nan),
) -> Shape:
    """The chain, product, family and doubling back of a journey.

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
    segments: list[tuple[str, float, int, int]] = []  # mode, km, first leg, last leg
    for i, leg in enumerate(legs):
        if segments and segments[-1][0] == leg.mode:
            mode, km, first, _ = segments[-1]
            segments[-1] = (mode, km + leg.distance_km, first, i)
        else:
            segments.append((leg.mode, leg.distance_km, i, i))
    main = list(segments)
    pre = main.pop(0) if len(main) > 1 and main[0][0] == "road" else None
    on = main.pop() if len(main) > 1 and main[-1][0] == "road" else None
    haul_km = sum(segment[1] for segment in main)
    # Pre- and on-carriage shorter than the haul they feed belong to the product; a truck run
    # longer than that haul is a main leg of its own (1,100 km by road to a 160 km train).
    if pre is not None and pre[1] > haul_km:
        main.insert(0, pre)
    if on is not None and on[1] > haul_km:
        main.append(on)
    chain: list[str] = []
    kept: list[tuple[str, float, int, int]] = []
    for segment in main:
        mode, km = segment[0], segment[1]
        if mode == "road" and len(main) > 1 and km <= DRAYAGE_KM:
            continue  # drayage between two terminals of the chain
        if chain and chain[-1] == mode:
            kept[-1] = (mode, kept[-1][1] + km, kept[-1][2], segment[3])
            continue
        chain.append(mode)
        kept.append(segment)
    passed = {
        p for _, _, first, last in kept for leg in legs[first : last + 1] for p in leg.passages
    }
    product = next(
        (p for p in products.get(tuple(chain), ()) if not p.passages or p.passages & passed), None
    )
    return Shape(
        tuple(chain),
        product.id if product else None,
        _family(product.name if product else "+".join(chain), legs, kept, node_names),
        None if product is None else doubles_back(legs, remaining_km, start),
    )


def doubles_back(
    legs: Sequence[Leg], remaining_km: Sequence[float], start: tuple[float, float]
) -> str | None:
    """The node where a journey turns away from its destination or has gone far out of its
    way over land, if it does (arguments as for :func:`shape`).

    Examples
    --------
    Chongqing to Shanghai by air through Frankfurt:

    >>> legs = [Leg("air", 7_600, "DEFRA", False), Leg("air", 8_900, "CNSHA-PVG", False)]
    >>> doubles_back(legs, [1_450, 8_900, 0], (29.7, 106.6))
    'DEFRA'
    """
    return _turn_back(legs, remaining_km) or _detour(legs, start, remaining_km)


def _family(
    name: str,
    legs: Sequence[Leg],
    main: Sequence[tuple[str, float, int, int]],
    node_names: Mapping[str, str],
) -> str:
    """``name`` and what sets the journey apart within its product: a passage it sails, the
    first border its main haul crosses, or the node where its first main segment ends."""
    main_legs = [legs[i] for _, _, first, last in main for i in range(first, last + 1)]
    for leg in main_legs:
        for passage in leg.passages:
            if passage in FAMILY_PASSAGES:
                return f"{name} via {FAMILY_PASSAGES[passage]}"
    for leg in main_legs:
        if leg.border:
            return f"{name} via {node_names.get(leg.destination, leg.destination)}"
    if len(main) > 1:
        transfer = legs[main[0][3]].destination
        return f"{name} via {node_names.get(transfer, transfer)}"
    return name


def _turn_back(legs: Sequence[Leg], remaining_km: Sequence[float]) -> str | None:
    nearest_km = remaining_km[0]
    for leg, km in zip(legs, remaining_km[1:], strict=True):
        if km > nearest_km + max(DOUBLE_BACK_KM, DOUBLE_BACK_SHARE * nearest_km):
            return leg.destination
        nearest_km = min(nearest_km, km)
    return None


def _detour(
    legs: Sequence[Leg], start: tuple[float, float], remaining_km: Sequence[float]
) -> str | None:
    """The node where a run of land legs has gone out of its way, if one has.

    The great circle from the run's start to a node is at least the difference of their
    distances to the destination, so a run within the limit on that bound needs no more.
    """
    run_lat, run_lon = start
    run_remaining_km = remaining_km[0]
    travelled_km = 0.0
    for leg, left_km in zip(legs, remaining_km[1:], strict=True):
        if leg.mode in ("sea", "air"):
            run_lat, run_lon, run_remaining_km, travelled_km = leg.lat, leg.lon, left_km, 0.0
            continue
        travelled_km += leg.distance_km
        if travelled_km <= DETOUR_FACTOR * abs(run_remaining_km - left_km) + DETOUR_KM:
            continue
        direct_km = haversine_km(run_lat, run_lon, leg.lat, leg.lon)
        if travelled_km > DETOUR_FACTOR * direct_km + DETOUR_KM:  # False where NaN
            return leg.destination
    return None


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
