"""What a plan's dated data says about its departure: rate validity, FX age, passage status.

Every tariff row is valid from ``valid_from`` to ``valid_to``, the FX table is as of a date,
and ``passage_status.csv`` says on which dates the main container carriers sail through a
passage or round it. These are pure functions of the network, the shipment and a plan's legs:

- :func:`follow_passage_status` is the shipment the planner searches: passages the carriers
  avoid on the ready date are added to ``avoid`` unless the shipment names them in
  ``use_passages``;
- :func:`plan_warnings` says in words what the reader of a plan should check before acting
  on it: a rate used outside its validity (one warning per tariff scope, however many legs it
  priced), an FX table far from the departure, passages left out or used against the status.

Which tariff rows priced a leg is what :meth:`network_data.Network.tariffs_for` chose for its
corridor (the road default of the country for a road leg to or from a coordinate), the rows of
the unit its product is charged by (:data:`PRODUCT_UNITS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date

from network_data import Network
from network_data.load import TariffRow
from network_data.validate import parse_date, records, road_default_scopes
from optimizer._compile import PerNetwork
from optimizer.errors import InvalidInputError
from optimizer.model import MODE_WORDS, Leg, RoutePlan, Shipment

#: An FX table this many days or more from a departure is worth a warning: over 2023-2025 the
#: PBOC central parity moved within CNY 6.70-7.35 per USD and 7.30-8.45 per EUR (``FX`` in
#: SOURCES.md), up to about 10 % a year, so a quarter can move a price by a few per cent.
FX_MAX_AGE_DAYS = 91
#: Tariff units that charge each product of :data:`optimizer.costs.line_haul.PRODUCTS`.
PRODUCT_UNITS: dict[str, tuple[str, ...]] = {
    "LCL": ("wm",),
    "FCL": ("container:20GP", "container:40GP", "container:40HQ"),
    "FTL": ("truck",),
    "LTL": ("ltl_t",),
    "AIR": ("kg",),
    "EXPRESS": ("express_kg",),
}


@dataclass(frozen=True)
class Rate:
    """The dates of one tariff row, and what it is a rate for."""

    scope: str
    unit: str
    mode: str
    quoted_on: date
    valid_from: date
    valid_to: date
    currency: str


@dataclass(frozen=True)
class PassageStatus:
    """One row of ``passage_status.csv``: the status of a passage over a period."""

    passage: str
    valid_from: date
    #: None: still so on the dataset date, until a later row says otherwise.
    valid_to: date | None
    status: str
    note: str

    def holds_on(self, day: date) -> bool:
        """Whether ``day`` falls in the period."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class _Dated:
    """The network's dated rows, parsed once per network (cached while the network lives)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.status = tuple(
            PassageStatus(
                row.passage,
                _day(row.valid_from),
                parse_date(row.valid_to) if row.valid_to else None,
                row.status,
                row.note,
            )
            for row in records(network.passage_status)
        )
        self.fx_as_of = {
            str(currency): _day(str(as_of)) for currency, as_of in network.fx["as_of"].items()
        }
        self._rates: dict[str, tuple[Rate, ...]] = {}
        self.node_country = dict(
            zip(network.nodes.index, network.nodes["country"].astype(str), strict=True)
        )
        #: (corridor id, or None and the country of a coordinate's road leg; product) -> the
        #: rows that priced such a leg.
        self.leg_rates: dict[tuple[str | None, str, str], tuple[Rate, ...]] = {}
        #: (scope, unit, mode) -> how a warning names those rates.
        self.scope_words: dict[tuple[str, str, str], str] = {}
        self._passage_pairs: dict[str, frozenset[tuple[str, str]]] = {}
        self.passage_names: dict[str, str] = dict(
            zip(network.passages.index, map(str, network.passages["name"]), strict=True)
        )

    def rates_for(self, corridor_id: str) -> tuple[Rate, ...]:
        """The rows :meth:`~network_data.Network.tariffs_for` chooses for a corridor."""
        if corridor_id not in self._rates:
            mode = str(self.network.corridors.at[corridor_id, "mode"])
            rows = self.network.tariff_records_for(corridor_id)
            self._rates[corridor_id] = _rates(rows, mode)
        return self._rates[corridor_id]

    def road_rates(self, country: str) -> tuple[Rate, ...]:
        """The road default of ``country``, unit by unit, as a coordinate's road leg is priced."""
        key = f"road:{country}"
        if key not in self._rates:
            rows = self.network.tariff_records_in(road_default_scopes(country))
            self._rates[key] = _rates(rows, "road")
        return self._rates[key]

    def pairs_through(self, passage: str) -> frozenset[tuple[str, str]]:
        """(origin, destination) of every corridor that passes ``passage``."""
        if passage not in self._passage_pairs:
            corridors = self.network.corridors
            through = corridors[corridors["passages"].map(lambda names: passage in names)]
            self._passage_pairs[passage] = frozenset(
                zip(through["origin"], through["destination"], strict=True)
            )
        return self._passage_pairs[passage]


def _day(text: str) -> date:
    day = parse_date(text)
    if day is None:  # load_network validated every date
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    return day


def _rates(rows: list[TariffRow], mode: str) -> tuple[Rate, ...]:
    return tuple(
        Rate(
            row.scope,
            row.unit,
            mode,
            _day(row.quoted_on),
            _day(row.valid_from),
            _day(row.valid_to),
            row.currency,
        )
        for row in rows
    )


_dated = PerNetwork(_Dated)


def passage_status_on(network: Network, passage: str, day: date) -> PassageStatus | None:
    """The row of ``network.passage_status`` that holds for ``passage`` on ``day``.

    None when no row covers the day: the passage is open to the main container carriers.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> passage_status_on(network, "suez", date(2023, 6, 1)).status
    'open'
    >>> row = passage_status_on(network, "suez", date(2026, 12, 10))
    >>> row.status, str(row.valid_from)
    ('avoided', '2026-03-01')
    >>> passage_status_on(network, "cape", date(2026, 12, 10)) is None
    True
    """
    return next(
        (row for row in _dated(network).status if row.passage == passage and row.holds_on(day)),
        None,
    )


def passages_left_out(network: Network, shipment: Shipment) -> tuple[PassageStatus, ...]:
    """The status rows of passages the main carriers avoid on the shipment's ready date and
    that the shipment does not name in ``use_passages``, in dataset order.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> ready = datetime(2026, 12, 10, 8, tzinfo=timezone.utc)
    >>> [row.passage for row in passages_left_out(
    ...     network, Shipment("Chongqing", "Rotterdam", 5000, 20, ready_at=ready))]
    ['suez', 'bab-el-mandeb']
    >>> passages_left_out(network, Shipment("Chongqing", "Rotterdam", 5000, 20, ready_at=ready,
    ...     use_passages=frozenset({"suez", "bab-el-mandeb"})))
    ()
    """
    day = shipment.ready_at.date()
    return tuple(
        row
        for row in _dated(network).status
        if row.status == "avoided"
        and row.holds_on(day)
        and row.passage not in shipment.use_passages
    )


def follow_passage_status(network: Network, shipment: Shipment) -> Shipment:
    """The shipment the planner searches: ``avoid`` plus :func:`passages_left_out`.

    Raises
    ------
    optimizer.errors.InvalidInputError
        For a name in ``use_passages`` that is not a passage of the network.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> ready = datetime(2026, 12, 10, 8, tzinfo=timezone.utc)
    >>> sorted(follow_passage_status(network, Shipment(
    ...     "Chongqing", "Rotterdam", 5000, 20, ready_at=ready, avoid={"russia-transit"})).avoid)
    ['bab-el-mandeb', 'russia-transit', 'suez']
    >>> follow_passage_status(network, Shipment(
    ...     "Chongqing", "Rotterdam", 5000, 20, ready_at=ready, use_passages={"kiel"}))
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: use_passages: got 'kiel'; expected a passage: ...
    """
    known = network.passages.index
    for passage in sorted(shipment.use_passages):
        if passage not in known:
            raise InvalidInputError(
                "use_passages", passage, "a passage: " + ", ".join(sorted(map(str, known)))
            )
    left_out = {row.passage for row in passages_left_out(network, shipment)}
    if not left_out:
        return shipment
    return replace(shipment, avoid=shipment.avoid | left_out)


def leg_rates(network: Network, leg: Leg) -> tuple[Rate, ...]:
    """The tariff rows that priced ``leg``: those of its corridor and of its product's units.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> moment = datetime(2026, 12, 10, tzinfo=timezone.utc)
    >>> leg = Leg("CNCKG-RLY", "CNQZH", "rail", "RAIL-CNCKG-RLY-CNQZH", None, moment, moment,
    ...           moment, 1225.0, 4200.0, "LCL", (), 22.6)
    >>> [(r.scope, r.unit, str(r.quoted_on), str(r.valid_to)) for r in leg_rates(network, leg)]
    [('mode:rail:CN', 'wm', '2025-06-30', '2025-09-28')]
    """
    dated = _dated(network)
    country = ""
    if leg.corridor_id is None:
        country = dated.node_country.get(leg.destination) or dated.node_country[leg.origin]
    key = (leg.corridor_id, country, leg.product)
    found = dated.leg_rates.get(key)
    if found is None:
        rates = (
            dated.rates_for(leg.corridor_id)
            if leg.corridor_id is not None
            else dated.road_rates(country)
        )
        units = PRODUCT_UNITS.get(leg.product)
        found = dated.leg_rates[key] = tuple(
            rate for rate in rates if units is None or rate.unit in units
        )
    return found


def _age(earlier: date, later: date) -> str:
    """How long before ``later`` ``earlier`` is, in days under two months, else months."""
    days = (later - earlier).days
    return f"{days} days" if days < 61 else f"{round(days / 30.44)} months"


def _scope_words(network: Network, rate: Rate) -> str:
    """How a warning names the rates of ``rate``'s scope (pandas look-ups: cached per network)."""
    words = _dated(network).scope_words
    key = (rate.scope, rate.unit, rate.mode)
    if key not in words:
        words[key] = _describe_scope(network, rate)
    return words[key]


def _describe_scope(network: Network, rate: Rate) -> str:
    kind = "express" if rate.unit == "express_kg" else MODE_WORDS[rate.mode]
    parts = rate.scope.split(":")
    if parts[0] != "mode":
        corridor = network.corridors.loc[rate.scope]
        names = network.nodes["name_en"]
        return f"{kind} rates for {names[corridor['origin']]} → {names[corridor['destination']]}"
    if len(parts) == 3:
        return f"{kind} rates (the default for {MODE_WORDS[rate.mode]} legs from {parts[2]})"
    return f"{kind} rates (the default for every {MODE_WORDS[rate.mode]} leg)"


def rate_warnings(network: Network, plan: RoutePlan) -> list[str]:
    """The tariff scopes whose rows priced a shown leg departing outside them, in words.

    Each scope counts with its earliest such departure and its oldest quote used. Scopes
    quoted on the same day (or, not yet valid, valid from the same day) share one warning,
    so a plan priced from one rate sheet says so once and lists what the sheet covered.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer.routing import plan_routes
    >>> network = load_network()
    >>> plan = plan_routes(network, Shipment("CNCKG-RLY", "CNQZH", 800, 4.2,
    ...     ready_at=datetime(2026, 12, 10, 8, tzinfo=timezone.utc), allowed_modes={"rail"}))
    >>> print(rate_warnings(network, plan)[0])  # doctest: +NORMALIZE_WHITESPACE
    rail rates (the default for rail legs from CN) quoted 2025-06-30 and valid to 2025-09-28,
    17 months before this departure (2026-12-12): ask the carrier for a current rate
    """
    stale: dict[str, tuple[date, Rate]] = {}
    for option in plan.options:
        for leg in option.legs:
            day = leg.depart.date()
            for rate in leg_rates(network, leg):
                if rate.valid_from <= day <= rate.valid_to:
                    continue
                seen = stale.get(rate.scope)
                if seen is None or (day, rate.quoted_on) < (seen[0], seen[1].quoted_on):
                    stale[rate.scope] = (day, rate)
    groups: dict[tuple[bool, date], list[tuple[date, Rate]]] = {}
    for day, rate in stale.values():
        expired = day > rate.valid_to
        groups.setdefault((expired, rate.quoted_on if expired else rate.valid_from), []).append(
            (day, rate)
        )
    warnings = []
    for (expired, _), group in groups.items():
        day = min(d for d, _ in group)
        rate = group[0][1]
        what = "; ".join(_scope_words(network, r) for _, r in group)
        if expired and len(group) == 1:
            warnings.append(
                f"{what} quoted {rate.quoted_on} and valid to {rate.valid_to}, "
                f"{_age(rate.quoted_on, day)} before this departure ({day}): ask the carrier "
                "for a current rate"
            )
        elif expired:
            valid_to = max(r.valid_to for _, r in group)
            warnings.append(
                f"rates quoted {rate.quoted_on} and valid to {valid_to} at the latest, "
                f"{_age(rate.quoted_on, day)} before the first departure on them ({day}): "
                f"{what}: ask the carriers for current rates"
            )
        elif len(group) == 1:
            warnings.append(
                f"{what} are valid from {rate.valid_from}, after this departure ({day}): ask "
                f"the carrier for the rate on {day}"
            )
        else:
            warnings.append(
                f"rates valid from {rate.valid_from}, after the first departure on them ({day}):"
                f" {what}: ask the carriers for the rates on the days of departure"
            )
    return warnings


def fx_warnings(network: Network, plan: RoutePlan) -> list[str]:
    """A warning per FX date at least :data:`FX_MAX_AGE_DAYS` from the plan's first departure,
    naming the currencies of the rates the shown legs used.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer.routing import plan_routes
    >>> network = load_network()
    >>> plan = plan_routes(network, Shipment("Chongqing", "Rotterdam", 5000, 20,
    ...     ready_at=datetime(2026, 12, 10, 8, tzinfo=timezone.utc), allowed_modes={"sea", "road"}))
    >>> print(fx_warnings(network, plan)[0])  # doctest: +NORMALIZE_WHITESPACE
    FX rates (CNY per USD) are as of 2025-06-30, 17 months before this departure (2026-12-10):
    prices converted from USD may be off by the rates' move in between
    """
    if not plan.options:
        return []
    dated = _dated(network)
    first = min(option.departure for option in plan.options).date()
    currencies = {
        rate.currency
        for option in plan.options
        for leg in option.legs
        for rate in leg_rates(network, leg)
        if rate.currency != "CNY"
    }
    by_date: dict[date, list[str]] = {}
    for currency in sorted(currencies):
        as_of = dated.fx_as_of[currency]
        if abs((first - as_of).days) >= FX_MAX_AGE_DAYS:
            by_date.setdefault(as_of, []).append(currency)
    warnings = []
    for as_of, names in sorted(by_date.items()):
        listed = ", ".join(names)
        when = (
            f"{_age(as_of, first)} before this departure"
            if as_of < first
            else f"{_age(first, as_of)} after this departure"
        )
        warnings.append(
            f"FX rates (CNY per {listed}) are as of {as_of}, {when} ({first}): prices converted "
            f"from {listed} may be off by the rates' move in between"
        )
    return warnings


def _passage_names(network: Network, passages: Iterable[str]) -> str:
    names = ["the " + _dated(network).passage_names[p] for p in passages]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def passage_warnings(network: Network, asked: Shipment, plan: RoutePlan) -> list[str]:
    """Passages left out on the ready date where they matter, and passages used against it.

    A passage left out matters when a shown leg runs between two nodes that a corridor
    through it also joins (the Cape route instead of Suez), or when the plan has no option
    and its reason names the passage.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer.routing import plan_routes
    >>> network = load_network()
    >>> ready = datetime(2026, 12, 10, 8, tzinfo=timezone.utc)
    >>> shipment = Shipment("Chongqing", "Rotterdam", 5000, 20, ready_at=ready,
    ...                     allowed_modes={"sea", "road"})
    >>> warnings = passage_warnings(network, shipment, plan_routes(network, shipment))
    >>> print(warnings[0])  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
    sea routes through the Suez Canal and the Bab-el-Mandeb strait are left out: the main
    container carriers avoid them on 2026-12-10 (since 2026-03-01: the main container carriers
    suspend ...); name suez, bab-el-mandeb in use_passages to see them
    """
    dated = _dated(network)
    day = asked.ready_at.date()
    legs = [leg for option in plan.options for leg in option.legs]
    pairs = {(leg.origin, leg.destination) for leg in legs}
    groups: dict[date, list[PassageStatus]] = {}
    for row in passages_left_out(network, asked):
        matters = bool(pairs & dated.pairs_through(row.passage)) or (
            not plan.options and row.passage in (plan.infeasible_reason or "")
        )
        if matters:
            groups.setdefault(row.valid_from, []).append(row)
    warnings = [
        f"sea routes through {_passage_names(network, [r.passage for r in rows])} are left "
        f"out: the main container carriers avoid {'it' if len(rows) == 1 else 'them'} on "
        f"{day} (since {since}: {rows[0].note}); name {', '.join(r.passage for r in rows)} in "
        "use_passages to see them"
        for since, rows in groups.items()
    ]
    used = {passage for leg in legs for passage in leg.passages}
    against = [
        status
        for passage in sorted(asked.use_passages & used)
        if (status := passage_status_on(network, passage, day)) is not None
        and status.status == "avoided"
    ]
    if against:
        warnings.append(
            f"options through {_passage_names(network, [r.passage for r in against])} sail "
            f"where the main container carriers do not on {day} ({against[0].note}): check "
            "that a carrier takes the booking and what it charges for the risk"
        )
    return warnings


def plan_warnings(network: Network, asked: Shipment, plan: RoutePlan) -> tuple[str, ...]:
    """Every warning of a plan: passages, rates outside their validity, FX age.

    ``asked`` is the shipment as asked (before :func:`follow_passage_status`).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer.routing import plan_routes
    >>> network = load_network()
    >>> shipment = Shipment("CNCKG-RLY", "CNQZH", 800, 4.2, allowed_modes={"rail"},
    ...     ready_at=datetime(2026, 12, 10, 8, tzinfo=timezone.utc))
    >>> len(plan_warnings(network, shipment, plan_routes(network, shipment)))
    1
    """
    return (
        *time_limit_warnings(plan),
        *passage_warnings(network, asked, plan),
        *rate_warnings(network, plan),
        *fx_warnings(network, plan),
    )


def time_limit_warnings(plan: RoutePlan) -> list[str]:
    """Say so when the search stopped at its time limit, and from when options may be missing.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from optimizer.model import Unexplored
    >>> shipment = Shipment("Chengdu", "Hamburg", 800, 4.2)
    >>> later = datetime(2027, 1, 5, 9, tzinfo=timezone.utc)
    >>> plan = RoutePlan(shipment, "CNCTU", "DEHAM", (), None, "v", {"CNY": 1.0},
    ...                  time_limit_s=2.0, unexplored=Unexplored(later, 9000.0, 500.0))
    >>> print(time_limit_warnings(plan)[0][:60])
    the search stopped at its time limit of 2 s before it had lo
    >>> "options arriving after 2027-01-05 09:00 UTC may be missing" in time_limit_warnings(plan)[0]
    True
    """
    if plan.unexplored is None:
        return []
    after = plan.unexplored.arrival.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"the search stopped at its time limit of {plan.time_limit_s:g} s before it had looked "
        f"at every route: options arriving after {after} may be missing, and one shown that "
        "arrives after then may be beaten by one it did not reach; plan again with a longer "
        "time limit to see them all"
    ]


def with_warnings(network: Network, asked: Shipment, plan: RoutePlan) -> RoutePlan:
    """``plan`` for the shipment as asked, with its :func:`plan_warnings`.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> from optimizer.routing import plan_routes
    >>> network = load_network()
    >>> shipment = Shipment("CNCKG-RLY", "CNQZH", 800, 4.2, allowed_modes={"rail"},
    ...     ready_at=datetime(2026, 12, 10, 8, tzinfo=timezone.utc))
    >>> plan = plan_routes(network, shipment)
    >>> plan.shipment is shipment, len(plan.warnings)
    (True, 1)
    """
    return replace(plan, shipment=asked, warnings=plan_warnings(network, asked, plan))
