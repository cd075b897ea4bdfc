"""Plan one shipment: search, choose what to show, explain when nothing fits."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from network_data import Network
from network_data.validate import haversine_km
from optimizer import quotable, validity
from optimizer._compile import RoutingData, epoch_hours, from_epoch_hours, routing_data
from optimizer.errors import InvalidInputError, ShudaoError
from optimizer.model import FrontJourney, RouteOption, RoutePlan, Shipment, Unexplored
from optimizer.parcels import ChannelQuote, ParcelChannels
from optimizer.results import check_time_limit
from optimizer.routing.costs import customs_declarations, with_declarations
from optimizer.routing.parcel_options import channel_option, parcel_quotes
from optimizer.routing.places import Place, display_name, distances_to, resolve_place
from optimizer.routing.problem import (
    DEFAULT_HORIZON_DAYS,
    MAX_HORIZON_DAYS,
    check_avoid,
    check_ready,
    regime_problem,
    usable_corridors,
)
from optimizer.routing.result import (
    journey_legs,
    journey_shapes,
    nothing_quotable,
    summary_line,
)
from optimizer.routing.search import Journey, Search, search_shipment

FloatArray = npt.NDArray[np.float64]


def plan_routes(
    network: Network,
    shipment: Shipment,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    max_options: int | None = -1,
    every_journey: bool = False,
    channels: ParcelChannels | None = None,
    time_limit_s: float | None = None,
) -> RoutePlan:
    """Plan the door-to-door options a forwarder would quote for ``shipment`` on ``network``.

    The search finds every journey no other beats on cost, arrival and CO2e; the plan shows
    those a forwarder sells as a product, that do not double back and that differ
    meaningfully, covering the families that compete on the lane (:mod:`optimizer.quotable`).
    ``plan.front`` keeps every journey found, each with why it is not shown. A shipment of
    small pieces is also quoted on the parcel channels (:mod:`optimizer.routing.parcel_options`):
    ``plan.parcel_channels`` holds every channel's price or refusal, and those that take it
    compete with the freight journeys as options.

    Parameters
    ----------
    network
        The corridor network (:func:`network_data.load_network`).
    shipment
        What to move, from where, to where, when.
    horizon_days
        Longest journey searched (>= 60 so that sea via the Cape fits).
    max_options
        Overrides ``shipment.max_options`` when >= 1; None shows every quotable option.
    every_journey
        Show every Pareto-best journey as an option, quotable or not, each with ``hidden``
        saying why the plan would leave it out.
    channels
        Parcel channels to quote (None: those of the network's dataset,
        :meth:`ParcelChannels.of`; none when it has no parcel files).
    time_limit_s
        Seconds the searches of the plan may take together (None or inf: no limit; preparing
        the network's arrays, pricing the corridors and building the options come on top).
        A plan stopped at the limit shows what it found: ``plan.unexplored`` bounds the
        journeys it did not reach, ``plan.status`` is ``feasible`` (``timed_out`` with no
        option), and a warning says from when options may be missing or beaten.

    Returns
    -------
    RoutePlan
        Options mutually non-dominated on (cost, arrival, CO2e), or ``infeasible_reason``.

    Raises
    ------
    optimizer.errors.InvalidInputError
        For unknown places (with the closest matches), unknown avoid items, a bad horizon or
        time limit.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from network_data import load_network
    >>> network = load_network()
    >>> ready = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    >>> plan = plan_routes(network, Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=ready))
    >>> len(plan.options) >= 2 and plan.infeasible_reason is None
    True
    >>> any("China-Europe rail via Alashankou" in o.summary for o in plan.options)
    True
    """
    started = time.perf_counter()
    if not isinstance(horizon_days, int) or not 60 <= horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidInputError(
            "horizon_days", horizon_days, f"an integer in [60, {MAX_HORIZON_DAYS}]"
        )
    check_time_limit(time_limit_s, unlimited=True)
    # Shared by every search of this plan, each taking it down by the time it ran.
    time_left_s = np.array([math.inf if time_limit_s is None else float(time_limit_s)])
    check_ready(network, shipment)
    asked, shipment = shipment, validity.follow_passage_status(network, shipment)
    data = routing_data(network)
    check_avoid(data, shipment.avoid)
    origin = resolve_place(data, "origin", shipment.origin)
    destination = resolve_place(data, "destination", shipment.destination)
    if origin.label == destination.label:
        raise InvalidInputError(
            "destination", shipment.destination, "a place other than the origin"
        )
    if (
        max_options is not None
        and max_options != -1
        and (isinstance(max_options, bool) or not isinstance(max_options, int) or max_options < 1)
    ):
        raise InvalidInputError("max_options", max_options, "an integer >= 1, or None for all")
    limit = shipment.max_options if max_options == -1 else max_options
    fx = network.cny_per_unit

    def plan(
        options: tuple[RouteOption, ...],
        reason: str | None,
        settled: int = 0,
        front: tuple[FrontJourney, ...] = (),
        parcels: tuple[ChannelQuote, ...] = (),
        unexplored: Unexplored | None = None,
    ) -> RoutePlan:
        built = RoutePlan(
            shipment, origin.label, destination.label, options, reason, network.version, fx,
            settled, front, runtime_s=time.perf_counter() - started, parcel_channels=parcels,
            time_limit_s=time_limit_s, unexplored=unexplored,
        )  # fmt: skip
        return validity.with_warnings(network, asked, built)

    problem = regime_problem(data, shipment, origin, destination)
    if problem:
        return plan((), problem)
    parcels = parcel_quotes(
        data, shipment, origin, destination, channels or ParcelChannels.of(network)
    )
    ready_h = epoch_hours(shipment.ready_at)
    choices = [
        _Choice.ready(channel_option(data, shipment, origin, destination, quote))
        for quote in parcels
        if quote.offered
    ]
    result = search_shipment(data, shipment, origin, destination, horizon_days, time_left_s)
    declarations = customs_declarations(data, origin, destination)
    fees = sum(charge.amount_cny for _, charge in declarations)
    unexplored = _unexplored(result, fees)
    if not result.journeys and not choices:
        if unexplored is not None:
            reason = (
                f"the search found no complete route within its time limit of "
                f"{time_limit_s:g} s; plan again with a longer time limit"
            )
        else:
            to = f"{display_name(data, destination.label)} ({destination.label})"
            try:
                reason = _explain(
                    data, shipment, origin, destination, horizon_days, time_left_s, to
                )
            except _OutOfTimeError:
                reason = (
                    f"no complete route to {to} exists for this shipment; which of its "
                    "constraints rules them out was not found within the time limit"
                )
        return plan((), reason, result.settled, parcels=parcels, unexplored=unexplored)
    journeys = [
        Journey(j.arrival_h, j.cost_cny + fees, j.co2e_kg, j.label, j.result)
        for j in result.journeys
    ]
    remaining_km = distances_to(data, destination)
    origin_km = (
        remaining_km[data.node_index[origin.label]]
        if origin.is_node
        else haversine_km(origin.lat, origin.lon, destination.lat, destination.lon)
    )
    shapes = journey_shapes(data, result, journeys, origin_km, remaining_km)
    for journey, shape in zip(journeys, shapes, strict=True):

        def build(journey: Journey = journey, shape: quotable.Shape = shape) -> RouteOption:
            legs = with_declarations(
                data, journey_legs(data, result, journey, shipment), declarations
            )
            return RouteOption(legs, summary_line(data, legs, ready_h), shape.product, shape.family)

        excluded = (
            quotable.NOT_SOLD if shape.product is None
            else quotable.DOUBLES_BACK if shape.doubles_back_at else None
        )  # fmt: skip
        choices.append(
            _Choice(journey.cost_cny, journey.arrival_h, journey.co2e_kg, shape.family,
                    shape.product, excluded, build)
        )  # fmt: skip
    ranked = sorted(choices, key=lambda c: (c.cost_cny, c.arrival_h, c.co2e_kg))
    if len(ranked) > len(journeys):  # parcels beside freight: one may now beat the other
        beaten = quotable.dominated(
            [(c.cost_cny, c.arrival_h, c.co2e_kg) for c in ranked],
            [c.excluded is None for c in ranked],
        )
        ranked = [
            c._replace(excluded=quotable.DOMINATED) if lost and not c.excluded else c
            for c, lost in zip(ranked, beaten, strict=True)
        ]
    candidates = [
        quotable.Candidate(c.cost_cny, c.arrival_h - ready_h, c.co2e_kg, c.family, c.excluded)
        for c in ranked
    ]
    hidden = quotable.choose(candidates, limit, shipment.similar_within)
    options = [
        replace(choice.build(), hidden=why)
        for choice, why in zip(ranked, hidden, strict=True)
        if why is None or every_journey
    ]
    front = tuple(
        FrontJourney(c.cost_cny, from_epoch_hours(c.arrival_h), c.co2e_kg, c.family, c.product,
                     why)
        for c, why in zip(ranked, hidden, strict=True)
    )  # fmt: skip
    why_none = None if options else nothing_quotable(front)
    return plan(tuple(options), why_none, result.settled, front, parcels, unexplored)


def _unexplored(result: Search, fees_cny: float) -> Unexplored | None:
    """What a search stopped at its time limit did not reach, with the customs declarations
    every journey pays (``fees_cny``), as the plan reports it."""
    least = result.unexplored
    if least is None:
        return None
    arrival_h, cost_cny, co2e_kg = least.tolist()
    return Unexplored(from_epoch_hours(arrival_h), cost_cny + fees_cny, co2e_kg)


class _Choice(NamedTuple):
    """A freight journey or a parcel channel as the plan's choice sees it, and how to build
    its option."""

    cost_cny: float
    arrival_h: float
    co2e_kg: float
    family: str
    product: str | None
    excluded: str | None
    build: Callable[[], RouteOption]

    @classmethod
    def ready(cls, option: RouteOption) -> _Choice:
        """A choice of an option already built."""
        arrival_h = epoch_hours(option.arrival)
        return cls(option.cost_cny, arrival_h, option.co2e_kg, option.family, option.product,
                   None, lambda: option)  # fmt: skip


class _OutOfTimeError(ShudaoError):
    """A search relaxing one constraint stopped at the plan's time limit."""


def _explain(
    data: RoutingData,
    shipment: Shipment,
    origin: Place,
    destination: Place,
    horizon_days: int,
    time_left_s: FloatArray,
    to: str,
) -> str:
    """Say in words why no option exists, by relaxing one constraint at a time, within the
    plan's time limit (``time_left_s``, shared with its searches; :class:`_OutOfTimeError`
    when that runs out). ``to`` names the destination."""

    def feasible(relaxed: Shipment, horizon: int = horizon_days) -> Search | None:
        result = search_shipment(data, relaxed, origin, destination, horizon, time_left_s)
        if result.unexplored is not None:
            raise _OutOfTimeError
        return result if result.journeys else None

    if shipment.deadline is not None:
        found = feasible(replace(shipment, deadline=None))
        if found:
            earliest = from_epoch_hours(min(j.arrival_h for j in found.journeys))
            return (
                f"the deadline {shipment.deadline.isoformat()} is before the earliest possible "
                f"arrival at {to}, {earliest.isoformat()}"
            )
    if shipment.cargo_class in ("battery", "perishable") and feasible(
        replace(shipment, cargo_class="general", deadline=None)
    ):
        what = (
            "accept lithium batteries (passenger-belly flights never do)"
            if shipment.cargo_class == "battery"
            else "have reefer capacity for perishables"
        )
        return f"no complete route to {to} exists on corridors that {what}"
    if shipment.avoid:
        found = feasible(replace(shipment, avoid=frozenset(), deadline=None))
        if found:
            used = sorted(
                {
                    item
                    for j in found.journeys
                    for leg in journey_legs(data, found, j, shipment)
                    for item in (*leg.passages, leg.origin, leg.destination, leg.corridor_id or "")
                    if item in shipment.avoid
                }
            )
            return (
                f"every route to {to} uses {', '.join(used) or 'something'} "
                f"which was avoided ({', '.join(sorted(shipment.avoid))})"
            )
    if shipment.allowed_modes is not None or shipment.forbidden_modes:
        found = feasible(
            replace(shipment, allowed_modes=None, forbidden_modes=frozenset(), deadline=None)
        )
        if found:
            return (
                f"no route to {to} uses only the modes {', '.join(sorted(shipment.modes_used()))}"
            )
    capacity_blocked = usable_corridors(data, replace(shipment, weight_kg=1.0, volume_m3=0.01))
    if capacity_blocked.sum() > usable_corridors(data, shipment).sum() and feasible(
        replace(shipment, weight_kg=1.0, volume_m3=0.01, deadline=None)
    ):
        return (
            f"{shipment.weight_kg:,.0f} kg / {shipment.volume_m3:,.1f} m3 does not fit the "
            f"departures on any route to {to}; split the shipment"
        )
    if shipment.customs_regime != "general" and feasible(
        replace(shipment, customs_regime="general", deadline=None)
    ):
        return (
            f"no route to {to} passes a Chinese node that clears customs regime "
            f"{shipment.customs_regime} before leaving China"
        )
    if horizon_days < 365 and feasible(replace(shipment, deadline=None), horizon=365):
        return f"every route to {to} takes longer than the {horizon_days}-day horizon"
    return f"no corridor connects {display_name(data, origin.label)} to {to} for this shipment"
