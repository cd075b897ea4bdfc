"""What a consolidation run is asked: the shipments at the hub(s), the departure window, the costs.

Shipments are read one by one: a bad row becomes a :class:`Rejection` naming the shipment id and
the field, and every other row goes on to the solver.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from network_data import Network
from network_data.errors import UnknownPlaceError
from network_data.validate import haversine_km
from optimizer.errors import InvalidInputError
from optimizer.model import Shipment
from optimizer.routing import shipment_from_record

#: Hub storage while a shipment waits for its departure, CNY per m3 per day: European short-term
#: pallet storage of EUR 0.19-0.35 per pallet-day (SOURCES.md ``HUB-STORAGE``) on a 1.44 m3
#: pallet, about EUR 0.19 per m3-day.
STORAGE_CNY_PER_M3_DAY = 1.5
#: Default longest wait at the hub: a week, the usual free storage time of a consolidation
#: warehouse (CFS) before charges escalate and stock ages (SOURCES.md ``CFS-FREE``).
MAX_WAIT_DAYS = 7.0
#: Default lateness penalty: this share of the declared value for every day after the deadline.
LATENESS_SHARE_PER_DAY = 0.01
#: A city stands for its terminals within this distance, and a lot there may use any of them
#: (Chengdu's rail port and both airports lie within 61 km of each other).
HUB_RADIUS_KM = 80.0
#: The longest departure window, days: a quarter of a year.
MAX_WINDOW_DAYS = 92
#: The largest declared value of a lot read from a row, CNY: ten billion, above any cargo a
#: container or aircraft pallet holds (the lateness penalty is a share of it).
MAX_VALUE_CNY = 1e10
#: Dates without a time are read in China Standard Time: ready at 00:00, deadline at 23:59.
DATE_OFFSET = "+08:00"
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class PreCarriage:
    """The truck that brings a lot from where it waits to its hub, priced by the route planner
    (the lot is ready at the hub when it arrives)."""

    origin: str
    hub: str
    distance_km: float
    cost_cny: float
    depart: datetime
    arrive: datetime


@dataclass(frozen=True)
class ConsolidationShipment:
    """One lot waiting at a hub to be pooled.

    Parameters
    ----------
    shipment_id
        Unique id of the lot.
    seller
        Who owns it (reported, not used for pooling: sellers share containers).
    shipment
        Origin hub, destination, ready time, deadline (required here), weight, volume, cargo
        class and customs regime, validated as in the route planner.
    value_cny
        Declared value (>= 0), the base of the lateness penalty.
    pre_carriage
        How a lot from farther than :data:`HUB_RADIUS_KM` reaches its hub (``shipment``'s
        origin and ready time are then the hub's); None for a lot at a hub.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> ready = datetime(2026, 12, 1, tzinfo=timezone.utc)
    >>> lot = ConsolidationShipment("S1", "Acme", Shipment("Chengdu", "Duisburg", 800, 4.2,
    ...     ready_at=ready, deadline=ready.replace(day=31)), 120_000)
    >>> lot.shipment.volume_m3
    4.2
    """

    shipment_id: str
    seller: str
    shipment: Shipment
    value_cny: float = 0.0
    pre_carriage: PreCarriage | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shipment_id, str) or not self.shipment_id.strip():
            raise InvalidInputError("id", self.shipment_id, "a non-empty shipment id")
        if self.shipment.deadline is None:
            raise InvalidInputError("deadline", None, "a deadline (date or ISO time)")
        value = self.value_cny
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise InvalidInputError("value_cny", value, "a number >= 0")
        if not math.isfinite(value):
            raise InvalidInputError("value_cny", value, "a finite number >= 0")


@dataclass(frozen=True)
class Rejection:
    """A shipment row that could not be read; the rest of the batch goes on."""

    shipment_id: str
    field: str
    message: str


@dataclass(frozen=True)
class ConsolidationProblem:
    """Shipments at one or more hubs and the departures they may take.

    Parameters
    ----------
    network
        The corridor network the lots travel on.
    shipments
        The valid lots; each one's origin is the nearest of ``hubs`` to where it waits, and it
        may take the departures of every hub within :data:`HUB_RADIUS_KM` of that one.
    hubs
        Node ids of the hubs whose scheduled departures are pooled into.
    first_day, last_day
        Departures leaving on these days (inclusive, UTC dates) are candidates.
    slots_teu
        TEU a forwarder may book on each surface departure (its allotment); None means the
        corridor's whole capacity per departure. Air departures take PMC pallets up to the
        flight's payload.
    storage_cny_per_m3_day
        Hub storage while a lot waits for its departure.
    lateness_share_per_day
        Penalty per day late as a share of the lot's declared value.
    max_late_days
        How late a lot may arrive after its deadline (0: deadlines are hard).
    max_wait_days
        Longest a lot may wait at the hub for a departure (None: no limit).
    corridors
        Pool only on departures of these corridors (ids, e.g. the services a forwarder holds
        contracts on); None: every scheduled service out of the hubs. Lots booked alone may
        still take any route.
    rejected
        Rows that were not read, with the reason.

    Examples
    --------
    >>> from network_data import load_network
    >>> problem = problem_from_records(load_network(), [
    ...     {"id": "S1", "seller": "A", "origin": "Chengdu", "destination": "Duisburg",
    ...      "ready_date": "2026-12-01", "deadline": "2026-12-31", "weight_kg": 800,
    ...      "volume_m3": 4.2, "value_cny": 50000},
    ...     {"id": "S2", "seller": "B", "origin": "Chengdu", "destination": "Duisburg",
    ...      "ready_date": "2026-12-01", "deadline": "2026-11-30", "weight_kg": 800,
    ...      "volume_m3": 4.2}], hubs=["Chengdu"], first_day=date(2026, 12, 1),
    ...     last_day=date(2026, 12, 31))
    >>> [s.shipment_id for s in problem.shipments]
    ['S1']
    >>> problem.rejected[0].field
    'deadline'
    """

    network: Network = field(repr=False)
    shipments: tuple[ConsolidationShipment, ...]
    hubs: tuple[str, ...]
    first_day: date
    last_day: date
    slots_teu: float | None = None
    storage_cny_per_m3_day: float = STORAGE_CNY_PER_M3_DAY
    lateness_share_per_day: float = LATENESS_SHARE_PER_DAY
    max_late_days: float = 0.0
    max_wait_days: float | None = MAX_WAIT_DAYS
    corridors: frozenset[str] | None = None
    rejected: tuple[Rejection, ...] = ()

    def __post_init__(self) -> None:
        if not self.hubs:
            raise InvalidInputError("hubs", [], "at least one hub")
        if self.last_day < self.first_day:
            raise InvalidInputError(
                "last_day", self.last_day.isoformat(), f"a day on or after {self.first_day}"
            )
        if (self.last_day - self.first_day).days > MAX_WINDOW_DAYS:
            raise InvalidInputError(
                "last_day", self.last_day.isoformat(),
                f"at most {MAX_WINDOW_DAYS} days after first_day",
            )  # fmt: skip
        for name, value in (
            ("storage_cny_per_m3_day", self.storage_cny_per_m3_day),
            ("lateness_share_per_day", self.lateness_share_per_day),
            ("max_late_days", self.max_late_days),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(name, value, "a number >= 0")
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInputError(name, value, "a finite number >= 0")
        if self.max_wait_days is not None and not (
            isinstance(self.max_wait_days, int | float)
            and not isinstance(self.max_wait_days, bool)
            and 0 <= self.max_wait_days < math.inf
        ):
            raise InvalidInputError("max_wait_days", self.max_wait_days, "a number >= 0, or None")
        if self.slots_teu is not None and not (
            isinstance(self.slots_teu, int | float) and 0 <= self.slots_teu < math.inf
        ):
            raise InvalidInputError("slots_teu", self.slots_teu, "a number >= 0, or None")
        if self.corridors is not None and (
            isinstance(self.corridors, str) or not all(isinstance(c, str) for c in self.corridors)
        ):
            raise InvalidInputError("corridors", self.corridors, "a set of corridor ids, or None")
        ids = [s.shipment_id for s in self.shipments]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise InvalidInputError("id", duplicate, "unique shipment ids")
        for lot in self.shipments:
            if lot.shipment.origin not in self.hubs:
                raise InvalidInputError(
                    f"shipments[{lot.shipment_id}].origin",
                    lot.shipment.origin,
                    f"one of the hubs {', '.join(self.hubs)}",
                )


def _departure_nodes(network: Network) -> frozenset[str]:
    corridors = network.corridors
    scheduled = corridors[corridors["scheduled"] & (corridors["mode"] != "road")]
    return frozenset(str(node) for node in scheduled["origin"])


def _distance_km(network: Network, a: str, b: str) -> float:
    nodes = network.nodes
    return haversine_km(
        float(nodes.at[a, "lat"]), float(nodes.at[a, "lon"]),
        float(nodes.at[b, "lat"]), float(nodes.at[b, "lon"]),
    )  # fmt: skip


def hubs_near(network: Network, node_id: str, hubs: Iterable[str]) -> list[str]:
    """The ``hubs`` within :data:`HUB_RADIUS_KM` of ``node_id``, nearest first."""
    distance = {hub: _distance_km(network, node_id, hub) for hub in hubs}
    return sorted(
        (h for h, km in distance.items() if km <= HUB_RADIUS_KM), key=distance.__getitem__
    )


def resolve_hubs(network: Network, hubs: Iterable[str]) -> tuple[str, ...]:
    """Node ids of the terminals behind ``hubs`` (ids or names), without repeats.

    A terminal with scheduled departures stands for itself; a city stands for every such
    terminal within :data:`HUB_RADIUS_KM` (its rail port, river port and airports).

    Examples
    --------
    >>> from network_data import load_network
    >>> resolve_hubs(load_network(), ["Chengdu", "CNCTU-RLY"])
    ('CNCTU-CTU', 'CNCTU-RLY', 'CNCTU-TFU')
    >>> resolve_hubs(load_network(), ["CNCKG-RLY"])
    ('CNCKG-RLY',)
    >>> resolve_hubs(load_network(), ["Atlantis"])
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: hub: got 'Atlantis'; expected a known place ...
    """
    terminals = _departure_nodes(network)
    resolved: list[str] = []
    for hub in hubs:
        try:
            node_id = network.find_node(hub)
        except UnknownPlaceError as exc:
            raise InvalidInputError(
                "hub", hub, f"a known place ({str(exc).split('; ', 1)[-1]})"
            ) from exc
        found = [node_id] if node_id in terminals else hubs_near(network, node_id, terminals)
        if not found:
            raise InvalidInputError(
                "hub", hub, "a place with scheduled rail, river, sea or air departures"
            )
        resolved.extend(n for n in found if n not in resolved)
    if not resolved:
        raise InvalidInputError("hub", "", "at least one hub")
    return tuple(resolved)


def _largest_boxes(network: Network) -> dict[tuple[str, str], tuple[float, str]]:
    """(box kind, column) -> (largest value, box type), for the fit check of every lot."""
    units = network.container_types
    largest = {}
    for kind in ("dry", "reefer"):
        boxes = units[units["kind"] == kind]
        for column in ("usable_volume_m3", "max_payload_kg"):
            largest[kind, column] = (float(boxes[column].max()), str(boxes[column].idxmax()))
    return largest


def _check_fits(largest: dict[tuple[str, str], tuple[float, str]], shipment: Shipment) -> None:
    kind = "reefer" if shipment.cargo_class == "perishable" else "dry"
    for name_of_field, column, value in (
        ("volume_m3", "usable_volume_m3", shipment.volume_m3),
        ("weight_kg", "max_payload_kg", shipment.weight_kg),
    ):
        limit, name = largest[kind, column]
        if value > limit:
            raise InvalidInputError(
                name_of_field, value, f"at most {limit:,.0f} (the largest {kind} box, {name})"
            )


def _moment(value: object, end_of_day: bool) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, str) and _PLAIN_DATE.match(value.strip()):
        clock = "23:59:00" if end_of_day else "00:00:00"
        return f"{value.strip()}T{clock}{DATE_OFFSET}"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _pre_carriage(
    network: Network, fields: Mapping[str, Any], origin: str, hubs: Iterable[str]
) -> PreCarriage | None:
    """The cheapest truck from ``origin`` to one of ``hubs`` (None: no road reaches one)."""
    from optimizer.routing import plan_routes

    best: PreCarriage | None = None
    for hub in hubs:
        road = shipment_from_record(
            {**fields, "origin": origin, "destination": hub, "deadline": None, "modes": "road",
             "max_options": 1}
        )  # fmt: skip
        options = plan_routes(network, road, max_options=1).options
        if options and (best is None or options[0].cost_cny < best.cost_cny):
            option = options[0]
            best = PreCarriage(
                origin, hub, sum(leg.distance_km for leg in option.legs), option.cost_cny,
                option.legs[0].depart, option.arrival,
            )  # fmt: skip
    return best


def _lot(
    network: Network,
    record: Mapping[str, Any],
    hubs: tuple[str, ...],
    largest: dict[tuple[str, str], tuple[float, str]],
    row: int,
) -> ConsolidationShipment | Rejection:
    shipment_id = str(record.get("id", "") or "").strip() or f"row {row}"
    fields = dict(record)
    fields["ready_at"] = _moment(fields.get("ready_at", fields.get("ready_date")), False)
    fields["deadline"] = _moment(fields.get("deadline"), True)
    try:
        origin = str(fields.get("origin", "") or "")
        allowed = f"a known place from which a truck reaches the hubs {', '.join(hubs)}"
        try:
            origin_node = network.find_node(origin) if origin.strip() else ""
        except UnknownPlaceError as exc:
            raise InvalidInputError("origin", origin, allowed) from exc
        if not origin_node:
            raise InvalidInputError("origin", origin, allowed)
        near = hubs_near(network, origin_node, hubs)
        pre_carriage = None
        if near:
            fields["origin"] = near[0]
        else:
            pre_carriage = _pre_carriage(network, fields, origin_node, hubs)
            if pre_carriage is None:
                raise InvalidInputError("origin", origin, allowed)
            fields["origin"] = pre_carriage.hub
            fields["ready_at"] = pre_carriage.arrive.isoformat()
        destination = str(fields.get("destination", "") or "")
        try:
            fields["destination"] = network.find_node(destination)
        except UnknownPlaceError as exc:
            raise InvalidInputError(
                "destination", destination, f"a known place ({str(exc).split('; ', 1)[-1]})"
            ) from exc
        shipment = shipment_from_record(fields)
        _check_fits(largest, shipment)
        raw_value = record.get("value_cny", record.get("value", 0)) or 0
        allowed = f"a number in [0, {MAX_VALUE_CNY:,.0f}]"
        try:
            value_cny = float(raw_value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError("value_cny", raw_value, allowed) from exc
        if not 0 <= value_cny <= MAX_VALUE_CNY:
            raise InvalidInputError("value_cny", raw_value, allowed)
        return ConsolidationShipment(
            shipment_id, str(record.get("seller", "") or ""), shipment, value_cny, pre_carriage
        )
    except InvalidInputError as exc:
        return Rejection(shipment_id, exc.field, str(exc))


def problem_from_records(
    network: Network,
    records: Iterable[Mapping[str, Any]],
    *,
    hubs: Iterable[str],
    first_day: date,
    last_day: date,
    **params: Any,
) -> ConsolidationProblem:
    """Read shipment rows (from a CSV or JSON) into a :class:`ConsolidationProblem`.

    Columns: ``id``, ``seller``, ``origin`` (a hub, a place within :data:`HUB_RADIUS_KM` of
    one, or any place a truck reaches one from: the cheapest truck to a hub is priced as the
    lot's :class:`PreCarriage`, and the lot is ready at the hub when it arrives),
    ``destination`` (node, market or overseas warehouse), ``ready_date`` (or
    ``ready_at``) and ``deadline`` (dates in China Standard Time, or ISO times with offset),
    ``weight_kg``, ``volume_m3``, optional ``cargo_class``, ``customs_regime`` and
    ``value_cny`` (or ``value``). A row that cannot be read, or repeats an id, is rejected with
    its field; the others are kept. ``params`` go to :class:`ConsolidationProblem`.

    Raises
    ------
    optimizer.errors.InvalidInputError
        For an unknown hub or a bad parameter (not for bad rows).
    """
    hub_ids = resolve_hubs(network, hubs)
    largest = _largest_boxes(network)
    corridors = params.get("corridors")
    if corridors is not None:
        corridors = params["corridors"] = frozenset(corridors)
        leaving = network.corridors[network.corridors["origin"].isin(hub_ids)].index
        unknown = sorted(corridors - set(leaving))
        if unknown:
            raise InvalidInputError(
                "corridors", unknown[0], f"a corridor out of the hubs ({', '.join(leaving)})"
            )
    lots: list[ConsolidationShipment] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for row, record in enumerate(records, start=1):
        lot = _lot(network, record, hub_ids, largest, row)
        if isinstance(lot, ConsolidationShipment) and lot.shipment_id in seen:
            lot = Rejection(
                f"{lot.shipment_id} (row {row})", "id",
                f"id: got {lot.shipment_id!r} again; expected unique ids",
            )  # fmt: skip
        if isinstance(lot, Rejection):
            rejected.append(lot)
            continue
        seen.add(lot.shipment_id)
        lots.append(lot)
    return ConsolidationProblem(
        network, tuple(lots), hub_ids, first_day, last_day, rejected=tuple(rejected), **params
    )
