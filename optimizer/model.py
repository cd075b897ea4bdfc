"""Domain objects of route planning: the shipment asked about and the plan answered."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, get_args

# The dataset defines the modes and regimes; the planner's modules take them from here too.
from network_data.schema import CUSTOMS_REGIMES as CUSTOMS_REGIMES
from network_data.schema import MODES as MODES
from network_data.schema import PARCEL_CONTENTS
from optimizer.charges import Charge
from optimizer.errors import InvalidInputError
from optimizer.inputs import check_positive
from optimizer.parcels.model import MAX_SIDE_CM as MAX_SIDE_CM
from optimizer.parcels.model import ChannelQuote
from optimizer.quotable import Similarity
from optimizer.results import SolveStatus, relative_gap

#: How a plan's words name each mode.
MODE_WORDS = {
    "road": "road",
    "rail": "rail",
    "inland_water": "river barge",
    "sea": "sea",
    "air": "air",
}
#: What a shipment carries, as the planner's rules tell cargo apart (dangerous goods rules for
#: lithium batteries, reefers for perishables, insurance and security for high value).
#: ``express`` is a batch of cross-border e-commerce parcels (9610): on freight legs it moves
#: as general cargo (no source gives it other rules there); parcel channels price it piece by
#: piece (:mod:`optimizer.parcels`).
CargoClass = Literal["general", "battery", "perishable", "high_value", "express"]
CARGO_CLASSES: tuple[str, ...] = get_args(CargoClass)
#: Cargo classes that move on freight legs and trucks as another: parcels as general cargo.
MOVES_AS: dict[str, str] = {"express": "general"}


def freight_class(cargo_class: str) -> str:
    """The class ``cargo_class`` moves as on freight legs and trucks.

    Examples
    --------
    >>> freight_class("express"), freight_class("battery")
    ('general', 'battery')
    """
    return MOVES_AS.get(cargo_class, cargo_class)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


#: Largest shipment accepted: several block trains' worth (a 50 FEU train carries ~1,300 t).
MAX_WEIGHT_KG = 10_000_000.0
MAX_VOLUME_M3 = 50_000.0


def _names(name: str, values: object) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInputError(name, values, "a list of names, e.g. ['suez', 'russia-transit']")
    items = list(values)
    if not all(isinstance(item, str) for item in items):
        raise InvalidInputError(name, items, "a list of names (strings)")
    return frozenset(items)


def _modes(name: str, values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    chosen = _names(name, values)
    unknown = sorted(chosen - set(MODES))
    if unknown:
        raise InvalidInputError(name, ",".join(unknown), f"modes among {', '.join(MODES)}")
    return chosen


@dataclass(frozen=True)
class Shipment:
    """One consignment to route door to door.

    Parameters
    ----------
    origin, destination
        Node id, English or Chinese place name, or ``"lat,lon"``.
    weight_kg, volume_m3
        Gross weight (> 0) and volume (> 0).
    ready_at
        Timezone-aware time the cargo is ready at the origin; default now.
    deadline
        Optional timezone-aware latest arrival at the destination.
    pieces
        Number of packages (>= 1).
    cargo_class
        ``general``, ``battery`` (lithium, UN3480/3481, class 9), ``perishable``, ``high_value``
        or ``express`` (a batch of e-commerce parcels, moved as general cargo).
    customs_regime
        ``9610``, ``9710``, ``9810``, ``1210`` or ``general``.
    allowed_modes, forbidden_modes
        Restrict the modes of every leg (the road legs joining a ``"lat,lon"`` origin or
        destination to the network are always allowed).
    avoid
        Node ids, corridor ids or named passages (``suez``, ``bab-el-mandeb``, ``cape``,
        ``malacca``, ``russia-transit``, ``belarus-transit``, ``mongolia-transit``, ``caspian``,
        ``three-gorges-locks``) to stay off.
    max_options
        How many options to return at most (>= 1).
    use_passages
        Passages to route through even when the main container carriers avoid them on the
        ready date (``passage_status.csv``); by default sea corridors through such a passage
        are left out (:func:`optimizer.validity.passages_left_out`).
    similar_within
        When two options count as the same offer, so that only the better is shown
        (:class:`optimizer.quotable.Similarity`).
    piece_dimensions_cm
        Length, width and height of one piece, for the parcel channels' size limits (None: a
        cube of the volume per piece, which only the volumetric weight relies on exactly).
    contents
        What the pieces hold that parcel channels may refuse: some of ``lithium_alone``,
        ``lithium_in_equipment``, ``liquids``, ``powders``.
    destination_postcode
        Postcode at the destination, for parcel lines that zone by it ('' when unknown).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> s = Shipment("Linshui", "Duisburg", weight_kg=800, volume_m3=4.2,
    ...              ready_at=datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    >>> s.max_options
    5
    >>> Shipment("Linshui", "Duisburg", weight_kg=-1, volume_m3=1)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: weight_kg: got -1; expected a number > 0 and <= 10,000,000
    """

    origin: str
    destination: str
    weight_kg: float
    volume_m3: float
    ready_at: datetime = field(default_factory=_now)
    deadline: datetime | None = None
    pieces: int = 1
    cargo_class: str = "general"
    customs_regime: str = "general"
    allowed_modes: frozenset[str] | None = None
    forbidden_modes: frozenset[str] = frozenset()
    avoid: frozenset[str] = frozenset()
    max_options: int = 5
    use_passages: frozenset[str] = frozenset()
    similar_within: Similarity = field(default_factory=Similarity)
    piece_dimensions_cm: tuple[float, float, float] | None = None
    contents: frozenset[str] = frozenset()
    destination_postcode: str = ""

    def __post_init__(self) -> None:
        for name in ("origin", "destination"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(name, value, "a node id, a place name or 'lat,lon'")
        for name, limit in (("weight_kg", MAX_WEIGHT_KG), ("volume_m3", MAX_VOLUME_M3)):
            check_positive(name, getattr(self, name), limit)
        if isinstance(self.pieces, bool) or not isinstance(self.pieces, int) or self.pieces < 1:
            raise InvalidInputError("pieces", self.pieces, "an integer >= 1")
        for name in ("ready_at", "deadline"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, datetime):
                raise InvalidInputError(name, value, "a timezone-aware datetime")
        if self.ready_at.tzinfo is None:
            raise InvalidInputError("ready_at", self.ready_at.isoformat(), "a timezone-aware time")
        if self.deadline is not None:
            if self.deadline.tzinfo is None:
                raise InvalidInputError(
                    "deadline", self.deadline.isoformat(), "a timezone-aware time"
                )
            if self.deadline <= self.ready_at:
                raise InvalidInputError(
                    "deadline",
                    self.deadline.isoformat(),
                    f"a time after ready_at {self.ready_at.isoformat()}",
                )
        if self.cargo_class not in CARGO_CLASSES:
            raise InvalidInputError(
                "cargo_class", self.cargo_class, f"one of {', '.join(CARGO_CLASSES)}"
            )
        if self.customs_regime not in CUSTOMS_REGIMES:
            raise InvalidInputError(
                "customs_regime", self.customs_regime, f"one of {', '.join(CUSTOMS_REGIMES)}"
            )
        object.__setattr__(self, "allowed_modes", _modes("allowed_modes", self.allowed_modes))
        object.__setattr__(
            self, "forbidden_modes", _modes("forbidden_modes", self.forbidden_modes) or frozenset()
        )
        object.__setattr__(self, "avoid", _names("avoid", self.avoid))
        if not isinstance(self.max_options, int) or self.max_options < 1:
            raise InvalidInputError("max_options", self.max_options, "an integer >= 1")
        object.__setattr__(self, "use_passages", _names("use_passages", self.use_passages))
        both = sorted(self.use_passages & self.avoid)
        if both:
            raise InvalidInputError(
                "use_passages", ",".join(both), "passages that are not also in avoid"
            )
        if not isinstance(self.similar_within, Similarity):
            raise InvalidInputError("similar_within", self.similar_within, "a Similarity")
        self._check_parcel_fields()

    def _check_parcel_fields(self) -> None:
        dimensions = self.piece_dimensions_cm
        if dimensions is not None:
            sides = tuple(dimensions) if isinstance(dimensions, Iterable) else ()
            if len(sides) != 3 or not all(
                isinstance(side, int | float)
                and not isinstance(side, bool)
                and math.isfinite(side)
                and 0 < side <= MAX_SIDE_CM
                for side in sides
            ):
                raise InvalidInputError(
                    "piece_dimensions_cm",
                    dimensions,
                    f"three numbers > 0 and <= {MAX_SIDE_CM:,.0f} (length, width, height)",
                )
            object.__setattr__(self, "piece_dimensions_cm", tuple(float(s) for s in sides))
        contents = _names("contents", self.contents)
        unknown = sorted(contents - set(PARCEL_CONTENTS))
        if unknown:
            raise InvalidInputError(
                "contents", ",".join(unknown), f"some of {', '.join(PARCEL_CONTENTS)}"
            )
        object.__setattr__(self, "contents", contents)
        if not isinstance(self.destination_postcode, str) or len(self.destination_postcode) > 20:
            raise InvalidInputError(
                "destination_postcode", self.destination_postcode, "text of at most 20 characters"
            )
        object.__setattr__(self, "destination_postcode", self.destination_postcode.strip().upper())

    def modes_used(self) -> frozenset[str]:
        """Modes the shipment may travel on."""
        allowed = self.allowed_modes if self.allowed_modes is not None else frozenset(MODES)
        return allowed - self.forbidden_modes


@dataclass(frozen=True)
class Leg:
    """One movement on one corridor (or a first/last-mile road leg to a coordinate).

    Costs are in CNY; ``cost_cny`` is the sum of ``charges`` (:mod:`optimizer.charges`).
    Handling, border and booking charges belong to the leg that leaves the node where they
    occur; the export declaration to the leg that leaves the origin's country and the import
    declaration to the leg that enters the destination's.
    """

    origin: str
    destination: str
    mode: str
    corridor_id: str | None
    service: str | None
    depart: datetime
    arrive: datetime
    arrive_p90: datetime
    distance_km: float
    chargeable_kg: float
    product: str
    charges: tuple[Charge, ...]
    co2e_kg: float
    passages: tuple[str, ...] = ()

    @property
    def cost_cny(self) -> float:
        """Total charge of the leg in CNY."""
        return sum(charge.amount_cny for charge in self.charges)

    def charge_cny(self, kind: str) -> float:
        """The leg's charges of one kind (:data:`optimizer.charges.KINDS`), CNY."""
        return sum(charge.amount_cny for charge in self.charges if charge.kind == kind)


@dataclass(frozen=True)
class RouteOption:
    """A door-to-door sequence of legs and its totals.

    ``product`` is the ``products.csv`` id of what a forwarder would sell it as (None: no
    product follows its chain of modes), ``family`` names it with what sets it apart ("Rail
    freight via Alashankou"), and ``hidden`` says why a plan would not show it (None: shown;
    set only on the options of a plan asked for every Pareto-best journey).
    """

    legs: tuple[Leg, ...]
    summary: str
    product: str | None = None
    family: str = ""
    hidden: str | None = None

    @property
    def cost_cny(self) -> float:
        """Sum of the legs' costs."""
        return sum(leg.cost_cny for leg in self.legs)

    @property
    def co2e_kg(self) -> float:
        """Sum of the legs' emissions."""
        return sum(leg.co2e_kg for leg in self.legs)

    @property
    def departure(self) -> datetime:
        """When the first leg leaves."""
        return self.legs[0].depart

    @property
    def arrival(self) -> datetime:
        """Planned arrival (median dwell)."""
        return self.legs[-1].arrive

    @property
    def arrival_p90(self) -> datetime:
        """Pessimistic arrival (p90 line-haul and dwell)."""
        return self.legs[-1].arrive_p90

    @property
    def modes(self) -> tuple[str, ...]:
        """Distinct modes in order of use."""
        return tuple(dict.fromkeys(leg.mode for leg in self.legs))


class FrontJourney(NamedTuple):
    """One Pareto-best journey of a plan's search, shown as an option or not, and why not."""

    cost_cny: float
    arrival: datetime
    co2e_kg: float
    family: str = ""
    product: str | None = None
    #: None when the plan shows it; else :data:`optimizer.quotable.NOT_SOLD`,
    #: ``DOUBLES_BACK``, ``BARELY_DIFFERENT`` or ``BEYOND_LIMIT``.
    hidden: str | None = None


class Unexplored(NamedTuple):
    """What a search stopped at its time limit left unexplored: no journey it did not find
    arrives earlier, costs less or emits less than these (each on its own)."""

    arrival: datetime
    cost_cny: float
    co2e_kg: float


#: The relative gap under which a plan's cheapest option is its cheapest journey.
SAME_COST_GAP = 1e-9


@dataclass(frozen=True)
class RoutePlan:
    """The answer for one shipment: Pareto-best options, or why there is none.

    It reads as every solver's run (:class:`~optimizer.results.SolverResult`). The
    ``objective`` is the cheapest option shown, CNY; the ``bound`` the cheapest journey of the
    front, which the search proves (it is exhaustive over the horizon), quotable or not; their
    ``gap`` is what showing only options a forwarder would quote costs. A plan is ``optimal``
    when it shows the cheapest journey, ``feasible`` when it shows only dearer ones, and
    ``infeasible`` when it shows none (``infeasible_reason`` says why). A search stopped at its
    time limit (``unexplored`` set) proves only part of the front: the plan is then
    ``feasible`` with options, ``timed_out`` without, and its ``bound`` is also at most
    ``unexplored.cost_cny``. The search draws nothing at random: its ``seed`` is 0.
    """

    shipment: Shipment
    origin: str
    destination: str
    options: tuple[RouteOption, ...]
    infeasible_reason: str | None
    dataset_version: str
    fx_cny_per_unit: dict[str, float]
    labels_settled: int = 0
    #: Every Pareto-best journey the search found, cheapest first, with its family and why it
    #: is not among ``options`` if it is not.
    front: tuple[FrontJourney, ...] = ()
    #: What to know before acting on the plan, in words: rates used outside their validity, an
    #: FX table far from the departure, passages left out (:mod:`optimizer.validity`).
    warnings: tuple[str, ...] = ()
    #: Wall-clock seconds of the planning (not part of a plan's equality).
    runtime_s: float = field(default=0.0, compare=False)
    seed: int = 0
    #: A shipment of small pieces: every parcel channel's quote, offered or refused with the
    #: reason (:mod:`optimizer.routing.parcel_options`); empty when parcels are not in play.
    parcel_channels: tuple[ChannelQuote, ...] = ()
    #: The search's time limit, seconds (None: none).
    time_limit_s: float | None = None
    #: Set when the search stopped at ``time_limit_s`` before it had searched everything.
    #: ``front`` then holds the journeys found: one earlier, cheaper or cleaner than
    #: ``unexplored`` is Pareto-best for certain; one that is not may be beaten by a journey
    #: the search did not reach.
    unexplored: Unexplored | None = None

    @property
    def status(self) -> SolveStatus:
        """``optimal``, ``feasible``, ``infeasible`` or ``timed_out``, as the class says."""
        if self.unexplored is not None:
            return SolveStatus.FEASIBLE if self.options else SolveStatus.TIMED_OUT
        if not self.options:
            return SolveStatus.INFEASIBLE
        # the same journey's cost summed in another order differs in the last bits
        shows_cheapest = (self.gap or 0.0) <= SAME_COST_GAP
        return SolveStatus.OPTIMAL if shows_cheapest else SolveStatus.FEASIBLE

    @property
    def objective(self) -> float:
        """The cheapest option's cost, CNY (``inf`` without one).

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> from network_data import load_network
        >>> from optimizer.routing import plan_routes
        >>> ready = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
        >>> plan = plan_routes(load_network(), Shipment("Linshui", "Duisburg", 800, 4.2,
        ...                                             ready_at=ready))
        >>> plan.status.value, round(plan.objective) == round(plan.front[0].cost_cny)
        ('optimal', True)
        >>> round(plan.gap, 9)
        0.0
        """
        return min((o.cost_cny for o in self.options), default=math.inf)

    @property
    def bound(self) -> float | None:
        """The cheapest journey the search found, or what it left unexplored costs at least,
        CNY: no journey costs less. None without either."""
        unexplored = [self.unexplored.cost_cny] if self.unexplored else []
        return min(
            [j.cost_cny for j in self.front] + [o.cost_cny for o in self.options] + unexplored,
            default=None,
        )

    @property
    def gap(self) -> float | None:
        """:func:`optimizer.results.relative_gap` of the objective and the bound."""
        return relative_gap(self.objective, self.bound)

    def to_dict(self, currency: str = "CNY") -> dict[str, Any]:
        """The plan as the JSON document of ``shudao plan --json``, prices in ``currency``."""
        if currency not in self.fx_cny_per_unit:
            allowed = ", ".join(sorted(self.fx_cny_per_unit))
            raise InvalidInputError("currency", currency, f"one of {allowed}")
        rate = self.fx_cny_per_unit[currency]

        def money(cny: float) -> float:
            return round(cny / rate, 2)

        def leg_dict(leg: Leg) -> dict[str, Any]:
            amounts = [money(c.amount_cny) for c in leg.charges]
            charges = [
                {"kind": c.kind, "amount": amount, "basis": c.basis}
                for c, amount in zip(leg.charges, amounts, strict=True)
            ]
            return {
                "from": leg.origin,
                "to": leg.destination,
                "mode": leg.mode,
                "service": leg.service,
                "depart": leg.depart.isoformat(),
                "arrive": leg.arrive.isoformat(),
                "distance_km": round(leg.distance_km, 1),
                "chargeable_kg": round(leg.chargeable_kg, 1),
                "cost": round(sum(amounts), 2),
                "charges": charges,
                "co2e_kg": round(leg.co2e_kg, 2),
            }

        options = []
        for option in self.options:
            legs = [leg_dict(leg) for leg in option.legs]
            total = round(sum(leg["cost"] for leg in legs), 2)
            options.append(
                {
                    # one currency per document: the summary's price too
                    "summary": option.summary.replace(
                        f"CNY {option.cost_cny:,.0f}", f"{currency} {total:,.0f}"
                    ),
                    "total_cost": total,
                    "departure": legs[0]["depart"],
                    "arrival": legs[-1]["arrive"],
                    "arrival_p90": option.arrival_p90.isoformat(),
                    "transit_hours": round(
                        (option.arrival - self.shipment.ready_at).total_seconds() / 3600, 1
                    ),
                    "co2e_kg": round(sum(leg["co2e_kg"] for leg in legs), 2),
                    "modes": list(option.modes),
                    "product": option.product,
                    "family": option.family,
                    **({"hidden": option.hidden} if option.hidden else {}),
                    "legs": legs,
                }
            )
        return {
            "dataset_version": self.dataset_version,
            "currency": currency,
            "options": options,
            "front": [
                {
                    "cost": money(journey.cost_cny),
                    "arrival": journey.arrival.isoformat(),
                    "co2e_kg": round(journey.co2e_kg, 2),
                    "product": journey.product,
                    "family": journey.family,
                    "shown": journey.hidden is None,
                    "hidden": journey.hidden,
                }
                for journey in self.front
            ],
            "infeasible_reason": self.infeasible_reason,
            "status": self.status.value,
            "time_limit_s": self.time_limit_s,
            "unexplored": (
                {
                    "arrival": self.unexplored.arrival.isoformat(),
                    "cost": money(self.unexplored.cost_cny),
                    "co2e_kg": round(self.unexplored.co2e_kg, 2),
                }
                if self.unexplored
                else None
            ),
            "warnings": list(self.warnings),
            "parcel_channels": [_channel_dict(quote, money) for quote in self.parcel_channels],
        }


def _channel_dict(quote: ChannelQuote, money: Callable[[float], float]) -> dict[str, Any]:
    """A channel's quote in a plan document, prices converted by ``money``."""
    if not quote.offered:
        head = {"channel": quote.channel, "name": quote.name, "kind": quote.kind}
        return {**head, "offered": False, "reason": quote.reason}
    return {
        "channel": quote.channel,
        "name": quote.name,
        "kind": quote.kind,
        "offered": True,
        "reason": None,
        "zone": quote.zone,
        "cost": money(quote.cost_cny),
        "charges": [
            {"kind": line.kind, "amount": money(line.amount_cny), "basis": line.basis}
            for line in quote.charges
        ],
        "chargeable_kg_per_piece": quote.chargeable_kg,
        "transit_days_min": quote.transit_days_min,
        "transit_days_max": quote.transit_days_max,
        "regime": quote.regime,
        "duties": quote.duties,
        "rate_valid_from": quote.valid_from.isoformat() if quote.valid_from else None,
        "rate_valid_to": quote.valid_to.isoformat() if quote.valid_to else None,
    }
