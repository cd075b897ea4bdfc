"""Which Pareto-best journeys a plan shows (:mod:`optimizer.quotable`), checked against the
rules written out again here: a product's chain, no doubling back, and options that differ
meaningfully (issue 17)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.quotable import (
    BARELY_DIFFERENT,
    BEYOND_LIMIT,
    NOT_SOLD,
    Candidate,
    Leg,
    Similarity,
    choose,
    dominated,
    products_by_chain,
    shape,
)

PRODUCTS = products_by_chain(
    ["ROAD", "RAIL", "SEA", "AIR", "RAIL-SEA", "MIDDLE-CORRIDOR", "RAIL-SEA-RAIL"],
    ["Road freight", "Rail freight", "Ocean freight", "Air freight", "Rail-sea intermodal",
     "Middle Corridor", "Rail-sea-rail intermodal"],
    [["road"], ["rail"], ["sea"], ["air"], ["rail", "sea"], ["rail", "sea", "rail"],
     ["rail", "sea", "rail"]],
    [[], [], [], [], [], ["caspian"], []],
)  # fmt: skip
NAMES = {"CNAKL": "Alashankou", "CNQZH": "Qinzhou", "CNEHH": "Erenhot"}


def covers(a: Candidate, b: Candidate, cost_pct: float = 5, days: float = 1, time_pct: float = 10,
           co2e_pct: float = 10) -> bool:  # fmt: skip
    """The issue's rule, written out: a is barely worse than b on nothing, better on something."""
    within = (
        a.cost_cny <= b.cost_cny * (1 + cost_pct / 100)
        and a.transit_h <= b.transit_h + max(days * 24, b.transit_h * time_pct / 100)
        and a.co2e_kg <= b.co2e_kg * (1 + co2e_pct / 100)
    )
    better = a.cost_cny < b.cost_cny or a.transit_h < b.transit_h or a.co2e_kg < b.co2e_kg
    return within and better


grid = st.sampled_from([100.0, 104.0, 110.0, 150.0, 300.0, 1000.0])
hours = st.sampled_from([24.0, 40.0, 100.0, 300.0, 500.0, 1000.0])
candidates = st.lists(
    st.builds(
        Candidate, grid, hours, grid, st.sampled_from(["rail via A", "rail via B", "sea", "air"]),
        st.sampled_from([None, None, None, NOT_SOLD]),
    ),
    min_size=1, max_size=25,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(candidates, st.integers(1, 8))
def test_shown_options_differ_meaningfully_and_hidden_ones_say_why(
    front: list[Candidate], limit: int
) -> None:
    reasons = choose(front, limit, Similarity())
    assert reasons == choose(front, limit, Similarity())  # deterministic
    shown = [c for c, r in zip(front, reasons, strict=True) if r is None]
    distinct = [c for c, r in zip(front, reasons, strict=True) if r in (None, BEYOND_LIMIT)]
    assert len(shown) == min(limit, len(distinct))
    for a in distinct:  # no option that differs meaningfully is covered by another
        assert a.excluded is None
        assert not any(covers(b, a) for b in distinct if b is not a)
    for candidate, reason in zip(front, reasons, strict=True):
        if candidate.excluded is not None:
            assert reason == candidate.excluded
        elif reason == BARELY_DIFFERENT:
            assert any(covers(b, candidate) for b in distinct)
    sold = [c for c in front if c.excluded is None]
    if sold:  # the cheapest is shown, or covered by an option barely dearer
        cheapest = min(sold, key=lambda c: (c.cost_cny, c.transit_h, c.co2e_kg))
        assert any(c is cheapest for c in shown) or any(covers(b, cheapest) for b in distinct)


def test_a_slower_dearer_option_stays_only_for_much_less_co2e() -> None:
    rail = Candidate(6_803.0, 432.0, 172.0, "rail")
    greener_by_7_percent = Candidate(7_000.0, 456.0, 160.0, "rail")
    greener_by_30_percent = Candidate(7_100.0, 480.0, 120.0, "rail")
    reasons = choose([rail, greener_by_7_percent, greener_by_30_percent], 5, Similarity())
    assert reasons == [None, BARELY_DIFFERENT, None]
    # Thresholds are the request's: with 50 % on CO2e the greener one is barely different too.
    assert choose([rail, greener_by_30_percent], 5, Similarity(co2e_pct=50)) == [
        None, BARELY_DIFFERENT,
    ]  # fmt: skip


def test_each_competing_family_is_shown_before_a_second_option_of_one() -> None:
    """The cheapest and greenest (sea) and the fastest (air) first; then rail via each border,
    before a faster sailing that is cheaper than either train."""
    sea = Candidate(9_800.0, 980.0, 700.0, "Ocean freight via Suez")
    sea_fast = Candidate(12_000.0, 700.0, 900.0, "Ocean freight via Suez")
    west = Candidate(28_500.0, 540.0, 1_320.0, "Rail freight via Alashankou")
    north = Candidate(31_500.0, 520.0, 1_100.0, "Rail freight via Erenhot")
    air = Candidate(111_000.0, 80.0, 16_550.0, "Air freight")
    reasons = choose([sea, sea_fast, west, north, air], 4, Similarity())
    assert reasons == [None, BEYOND_LIMIT, None, None, None]
    assert choose([sea, sea_fast, west, north, air], 5, Similarity()) == [None] * 5


def _legs(*steps: tuple[str, float, str]) -> list[Leg]:
    return [Leg(mode, km, node, node in ("CNAKL", "CNEHH")) for mode, km, node in steps]


def test_the_shapes_the_issue_names() -> None:
    # Chongqing -> Shanghai flying through Frankfurt (Frankfurt is 8,900 km from Shanghai).
    frankfurt = shape(
        _legs(("road", 300, "CNCTU-TFU"), ("air", 7_600, "DEFRA"), ("air", 8_900, "CNSHA-PVG"),
              ("road", 80, "CNSHA")),
        [1_450, 1_700, 8_900, 40, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert (frankfurt.product, frankfurt.doubles_back_at) == ("AIR", "DEFRA")
    # Dazhou -> Fangchenggang calling at Ho Chi Minh City after Qinzhou (40 km from the goal).
    saigon = shape(
        _legs(("rail", 1_400, "CNQZH"), ("sea", 1_500, "VNSGN"), ("sea", 1_500, "CNFCG")),
        [1_070, 40, 1_250, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert (saigon.product, saigon.doubles_back_at) == ("RAIL-SEA", "VNSGN")
    # Fly to Almaty, then rail to Duisburg: no product.
    almaty = shape(
        _legs(("air", 2_800, "KZALA-ALA"), ("road", 21, "KZALA"), ("rail", 5_000, "DEDUI")),
        [7_700, 4_800, 4_800, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert (almaty.chain, almaty.product) == (("air", "rail"), None)
    # Chongqing by rail to Qinzhou and by sea to Rotterdam via Singapore (35 % farther than
    # Chongqing, within the half): the Western Land-Sea Corridor, a product.
    land_sea = shape(
        _legs(("rail", 1_225, "CNQZH"), ("sea", 2_600, "SGSIN"), ("sea", 15_300, "NLRTM")),
        [7_800, 8_900, 10_500, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert tuple(land_sea) == (
        ("rail", "sea"), "RAIL-SEA", "Rail-sea intermodal via Qinzhou", None,
    )  # fmt: skip
    # Rail to Qinzhou, sea via the Cape, rail on from Rotterdam: rail-sea-rail, not the Middle
    # Corridor, whose chain is the same but which crosses the Caspian.
    cape = [Leg("rail", 1_225, "CNQZH", False), Leg("sea", 20_000, "NLRTM", False, ("cape",)),
            Leg("rail", 230, "DEDUI", False)]  # fmt: skip
    assert shape(cape, [8_300, 8_900, 200, 0], PRODUCTS, NAMES).product == "RAIL-SEA-RAIL"
    caspian = [Leg("rail", 4_500, "KZAKT", False), Leg("sea", 470, "AZALA", False, ("caspian",)),
               Leg("rail", 1_900, "TRIST", False)]  # fmt: skip
    assert shape(caspian, [6_900, 2_800, 2_400, 0], PRODUCTS, NAMES).family == (
        "Middle Corridor via the Caspian"
    )
    # 1,100 km by truck to a 160 km train is no rail product (it was "Rail freight").
    truck_first = shape(
        _legs(("road", 1_127, "CNPXG"), ("road", 194, "VNDDG"), ("rail", 160, "VNHAN")),
        [1_200, 300, 150, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert (truck_first.chain, truck_first.product) == (("road", "rail"), None)
    # A truck of 69 km between two airports is drayage: the chain stays air.
    airports = shape(
        _legs(("air", 1_250, "CNCTU-CTU"), ("road", 69, "CNCTU-TFU"), ("air", 2_800, "KZALA-ALA")),
        [4_000, 4_100, 4_100, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert airports.chain == ("air",)
    # China-Europe rail: the border crossing names the family.
    rail = shape(
        _legs(("road", 140, "CNCKG-RLY"), ("rail", 3_100, "CNAKL"), ("rail", 8_200, "DEDUI")),
        [7_600, 7_650, 4_900, 0], PRODUCTS, NAMES,
    )  # fmt: skip
    assert rail.family == "Rail freight via Alashankou"


_VALUE = st.tuples(*[st.sampled_from([0.0, 1.0, 2.0, 2.5, float("nan")])] * 3)


@given(st.lists(st.tuples(_VALUE, st.booleans()), max_size=12))
def test_dominated_agrees_with_the_definition_pair_by_pair(
    choices: list[tuple[tuple[float, float, float], bool]],
) -> None:
    """No worse on all three and better on one, by another that may dominate (a few values,
    repeated, so ties and equal values are common; NaN beats nothing and is beaten by
    nothing)."""
    values = [value for value, _ in choices]
    may = [allowed for _, allowed in choices]
    expected = [
        any(
            may[j]
            and all(a <= b for a, b in zip(values[j], mine, strict=True))
            and any(a < b for a, b in zip(values[j], mine, strict=True))
            for j in range(len(values))
        )
        for mine in values
    ]
    assert dominated(values, may) == expected
