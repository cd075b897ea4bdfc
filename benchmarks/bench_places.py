"""Place resolution (issue 18): ``python -m benchmarks.bench_places``.

10,000 queries drawn with a fixed seed from the bundled network: names and aliases in English
and Chinese as people type them (any case, accents dropped), ids, UN/LOCODE and IATA codes, and
one-letter typos of names (a letter dropped, doubled, swapped with the next or replaced). Each
is resolved by :meth:`network_data.Network.find_city` and ``find_node`` (a typo by the first
suggestion of its error, resolved in turn),
and, in the same run on the same queries, by what the resolver was before: exact folded names
and :func:`difflib.get_close_matches` for the rest. Printed: p50 and p99 per query, and for
typos how often the place meant is the first suggestion.
"""

from __future__ import annotations

import difflib
import random
import statistics
import string
import time
from collections.abc import Callable

from network_data import Network, UnknownPlaceError, load_network
from network_data.geo import normalise_name

QUERIES = 10_000
SEED = 20261206
TYPO_SHARE = 0.4
CODE_SHARE = 0.2
#: (query, what it means: a node id or a city's English name, whether it is a typo)
Query = tuple[str, str, bool]


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text) - 1)
    edit = rng.choice(("drop", "double", "swap", "replace"))
    if edit == "drop":
        return text[:i] + text[i + 1 :]
    if edit == "double":
        return text[:i] + text[i] + text[i:]
    if edit == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]


def queries(network: Network, count: int = QUERIES, seed: int = SEED) -> list[Query]:
    """``count`` queries with what each means, drawn with ``seed``."""
    rng = random.Random(seed)
    names: list[tuple[str, str]] = []
    codes: list[tuple[str, str]] = []
    nodes, cities = network.nodes, network.cities
    for node_id, name_en, name_zh, aliases, unlocode, iata in zip(
        nodes.index, nodes["name_en"], nodes["name_zh"], nodes["aliases"], nodes["unlocode"],
        nodes["iata"], strict=True,
    ):  # fmt: skip
        names += [(name, str(node_id)) for name in (name_en, name_zh, *aliases)]
        codes.append((str(node_id), str(node_id)))
        if iata:
            codes.append((str(iata), str(node_id)))
        if unlocode and (nodes["unlocode"] == unlocode).sum() == 1:
            codes.append((str(unlocode), str(node_id)))
    city_meant: dict[str, str] = {}
    for city_id, name_en, name_zh, aliases in zip(
        cities.index, cities["name_en"], cities["name_zh"], cities["aliases"], strict=True
    ):
        members = network.nodes.index[network.nodes["city"] == city_id]
        # a city of one terminal is that terminal; of several, the city
        target = str(name_en) if len(members) > 1 else str(members[0])
        for name in (name_en, name_zh, *aliases):
            city_meant[normalise_name(name)] = target
            names.append((name, target))
    # a name several places share means none of them, unless it is a city's
    targets: dict[str, set[str]] = {}
    for name, target in names:
        targets.setdefault(normalise_name(name), set()).add(target)
    unique = [
        (name, city_meant.get(normalise_name(name), target))
        for name, target in names
        if normalise_name(name) in city_meant or len(targets[normalise_name(name)]) == 1
    ]
    latin = [(n, t) for n, t in unique if n.isascii() and len(n) >= 6]
    drawn: list[Query] = []
    for _ in range(count):
        roll = rng.random()
        if roll < TYPO_SHARE:
            name, target = rng.choice(latin)
            drawn.append((_typo(rng, name.lower()), target, True))
        elif roll < TYPO_SHARE + CODE_SHARE:
            code, target = rng.choice(codes)
            drawn.append((rng.choice((code, code.lower())), target, False))
        else:
            name, target = rng.choice(unique)
            drawn.append((rng.choice((name, name.lower(), name.upper())), target, False))
    return drawn


def shudao(network: Network) -> Callable[[str], tuple[str, list[str]]]:
    """Our resolver: (what it resolves to, or "" with the suggestions of its error)."""

    def resolve(query: str) -> tuple[str, list[str]]:
        city = network.find_city(query)
        if city is not None:
            return city.name, []
        try:
            return network.find_node(query), []
        except UnknownPlaceError as exc:
            return "", exc.candidates

    return resolve


def difflib_peer(network: Network) -> Callable[[str], tuple[str, list[str]]]:
    """The resolver before issue 18: ids and folded names exactly, then difflib's closest."""
    by_name: dict[str, set[str]] = {}
    nodes = network.nodes
    for node_id, name_en, name_zh, aliases in zip(
        nodes.index, nodes["name_en"], nodes["name_zh"], nodes["aliases"], strict=True
    ):
        for name in (node_id, name_en, name_zh, *aliases):
            by_name.setdefault(normalise_name(name), set()).add(str(node_id))
    keys = list(by_name)

    def resolve(query: str) -> tuple[str, list[str]]:
        key = normalise_name(query)
        if len(by_name.get(key, ())) == 1:
            return next(iter(by_name[key])), []
        close = difflib.get_close_matches(key, keys, n=20, cutoff=0.6)
        return "", list(dict.fromkeys(i for name in close for i in sorted(by_name[name])))

    return resolve


def run(resolve: Callable[[str], tuple[str, list[str]]], drawn: list[Query]) -> dict[str, float]:
    """Seconds per query (p50, p99), share resolved as meant, share of typos resolved as meant
    or whose first suggestion resolves to what was meant."""
    seconds, resolved, first = [], 0, 0
    typos = sum(typo for _, _, typo in drawn)
    for query, meant, typo in drawn:
        start = time.perf_counter()
        found, suggestions = resolve(query)
        seconds.append(time.perf_counter() - start)
        if typo:
            first += found == meant or (bool(suggestions) and resolve(suggestions[0])[0] == meant)
        else:
            resolved += found == meant
    cut = statistics.quantiles(seconds, n=100)
    return {
        "p50_ms": statistics.median(seconds) * 1000,
        "p99_ms": cut[98] * 1000,
        "resolved": resolved / (len(drawn) - typos),
        "typo_first": first / typos,
    }


def main() -> None:
    network = load_network()
    drawn = queries(network)
    ours, peer = run(shudao(network), drawn), run(difflib_peer(network), drawn)
    typos = sum(typo for _, _, typo in drawn)
    print(f"Place resolution, {len(drawn):,} queries ({typos:,} typos), seed {SEED}")
    print(f"{'resolver':<34} {'p50 ms':>8} {'p99 ms':>8} {'resolved as meant':>18} "
          f"{'typo: meant first':>18}")  # fmt: skip
    for name, figures in (("shudao (codes, cities, rapidfuzz)", ours), ("before (difflib)", peer)):
        print(f"{name:<34} {figures['p50_ms']:>8.3f} {figures['p99_ms']:>8.3f} "
              f"{figures['resolved']:>18.1%} {figures['typo_first']:>18.1%}")  # fmt: skip
    print(f"ratio p50 {ours['p50_ms'] / peer['p50_ms']:.2f}, p99 "
          f"{ours['p99_ms'] / peer['p99_ms']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
