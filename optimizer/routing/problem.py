"""What a route plan is asked for: the shipment's limits, dates and corridors."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from network_data import Network
from optimizer._compile import RoutingData
from optimizer.errors import InvalidInputError
from optimizer.inputs import check_year
from optimizer.model import MODES, Shipment
from optimizer.routing.places import Place, local_day

#: Longest journey searched: long enough for sea via the Cape with waits.
DEFAULT_HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 365
#: Seconds a route plan of the API or the CLI may search by default: on the bundled network a
#: plan takes milliseconds, on one a hundred times larger seconds at worst (benchmarks/scale).
PLAN_TIME_LIMIT_S = 10.0
#: Timetables describe the dataset's present: plans may start this long before or after its date.
READY_WINDOW = (timedelta(days=366), timedelta(days=2 * 366))
#: Usable volume of one TEU (20GP) for the capacity check.
TEU_USABLE_M3 = 28.0


def check_ready(network: Network, shipment: Shipment) -> None:
    """Refuse a ready time outside the window the dataset's timetables describe."""
    dataset_day = datetime.fromisoformat(network.date).replace(tzinfo=UTC)
    earliest, latest = dataset_day - READY_WINDOW[0], dataset_day + READY_WINDOW[1]
    if not earliest <= shipment.ready_at <= latest:
        raise InvalidInputError(
            "ready_at",
            shipment.ready_at.isoformat(),
            f"a time between {earliest.date()} and {latest.date()} (the timetables of dataset "
            f"{network.version} hold for about a year either side of {network.date})",
        )


def check_avoid(data: RoutingData, avoid: Iterable[str]) -> None:
    """Refuse an ``avoid`` entry that is neither a node, a corridor nor a passage."""
    for item in avoid:
        if item in data.node_index or item in data.edge_index or item in data.passage_ids:
            continue
        raise InvalidInputError(
            "avoid",
            item,
            "a node id, a corridor id or a passage: " + ", ".join(sorted(data.passage_ids)),
        )


def usable_corridors(data: RoutingData, shipment: Shipment) -> npt.NDArray[np.bool_]:
    """Per corridor: whether the shipment may use it (mode, capacity, cargo class, avoided
    nodes, corridors and passages)."""
    modes = shipment.modes_used()
    mode_allowed = np.array([mode in modes for mode in MODES])
    usable = mode_allowed[data.arrays.edge_mode]
    # A scheduled departure must take the whole shipment; continuous corridors (trucks, through
    # trains) spread it over their weekly capacity. Volume counts 28 m3 per TEU where TEU apply.
    departures = np.where(data.edge_scheduled, 1.0, data.edge_departures_per_week)
    usable &= data.edge_capacity_t * departures >= shipment.weight_kg / 1000.0
    teu_m3 = data.edge_capacity_teu * departures * TEU_USABLE_M3
    usable &= (data.edge_capacity_teu == 0) | (teu_m3 >= shipment.volume_m3)
    if shipment.cargo_class == "battery":
        usable &= data.edge_lithium_ok
    if shipment.cargo_class == "perishable":
        usable &= data.edge_reefer
    avoided_nodes = [data.node_index[a] for a in shipment.avoid if a in data.node_index]
    if avoided_nodes:
        usable &= ~np.isin(data.arrays.edge_origin, avoided_nodes)
        usable &= ~np.isin(data.arrays.edge_destination, avoided_nodes)
    for item in shipment.avoid:
        if item in data.edge_index:
            usable[data.edge_index[item]] = False
        usable[data.passage_edges.get(item, [])] = False
    return usable


def regime_problem(
    data: RoutingData, shipment: Shipment, origin: Place, destination: Place
) -> str | None:
    """Why the customs regime cannot apply between these places, or None."""
    regime = shipment.customs_regime
    index = data.node_index.get(destination.label)
    kind = None if index is None else data.node_kind[index]
    if regime == "9810" and kind != "overseas_warehouse":
        return (
            f"customs regime 9810 (export to an overseas warehouse) must end at an "
            f"overseas_warehouse node, and {destination.label} is {kind or 'a coordinate'}"
        )
    if regime == "1210" and destination.country != "CN":
        return "customs regime 1210 (bonded import) must end in China, at or via a bonded zone"
    if regime == "1210" and origin.country == "CN":
        return "customs regime 1210 (bonded import) is for goods coming into China from abroad"
    return None


def shipment_from_record(record: dict[str, Any], network: Network | None = None) -> Shipment:
    """Build a :class:`Shipment` from one row of a shipments table (CSV or DataFrame).

    Columns: ``origin``, ``destination``, ``weight_kg``, ``volume_m3`` and optionally
    ``ready_at`` and ``deadline`` (ISO 8601 with offset; with ``network``, also a date alone:
    the start of that day at the origin, the end of it at the destination), ``pieces``,
    ``cargo_class``,
    ``customs_regime``, ``avoid`` and ``modes`` (``|`` or ``,`` separated), ``max_options``,
    and for parcels ``piece_dimensions_cm`` (``30x20x15``), ``contents`` (``|`` or ``,``
    separated) and ``destination_postcode``.

    Examples
    --------
    >>> s = shipment_from_record({"origin": "Linshui", "destination": "Duisburg",
    ...     "weight_kg": "800", "volume_m3": "4.2", "ready_at": "2026-11-23T08:00:00+00:00",
    ...     "avoid": "suez|russia-transit"})
    >>> sorted(s.avoid)
    ['russia-transit', 'suez']
    >>> shipment_from_record({"origin": "Chengdu", "destination": "Los Angeles",
    ...     "weight_kg": "2", "volume_m3": "0.009", "piece_dimensions_cm": "30x20x15",
    ...     "destination_postcode": "90001"}).piece_dimensions_cm
    (30.0, 20.0, 15.0)
    >>> shipment_from_record({"origin": "Linshui", "destination": "Duisburg", "weight_kg": "800",
    ...     "volume_m3": "4.2", "pieces": "inf"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: pieces: got 'inf'; expected a whole number
    """

    def text(name: str) -> str:
        value = record.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value).strip()

    def items(name: str) -> frozenset[str]:
        return frozenset(i.strip() for i in text(name).replace(",", "|").split("|") if i.strip())

    def number(name: str) -> float:
        try:
            return float(text(name))
        except ValueError as exc:
            raise InvalidInputError(name, record.get(name), "a number > 0") from exc

    def integer(name: str) -> int:
        value = number(name)
        if not (math.isfinite(value) and value == int(value)):
            raise InvalidInputError(name, record.get(name), "a whole number")
        return int(value)

    def moment(name: str) -> datetime | None:
        if not text(name):
            return None
        expected = "an ISO 8601 time with offset" + (" or a date" if network is not None else "")
        try:
            if network is not None and len(text(name)) == len("2026-11-23"):
                day = date.fromisoformat(text(name))
                place, end = ("origin", False) if name == "ready_at" else ("destination", True)
                value = local_day(network, place, text(place), day, end=end)
            else:
                value = datetime.fromisoformat(text(name))
        except ValueError as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(name, text(name), expected) from exc
        check_year(name, value, text(name))
        return value

    def sides(name: str) -> tuple[float, float, float] | None:
        if not text(name):
            return None
        expected = "length x width x height in cm, e.g. 30x20x15"
        try:
            length, width, height = (float(side) for side in text(name).lower().split("x"))
        except ValueError as exc:
            raise InvalidInputError(name, text(name), expected) from exc
        return length, width, height

    optional: dict[str, Any] = {}
    ready = moment("ready_at")
    if ready is not None:
        optional["ready_at"] = ready
    for name in ("pieces", "max_options"):
        if text(name):
            optional[name] = integer(name)
    for name in ("cargo_class", "customs_regime", "destination_postcode"):
        if text(name):
            optional[name] = text(name)
    return Shipment(
        piece_dimensions_cm=sides("piece_dimensions_cm"),
        contents=items("contents"),
        origin=text("origin"),
        destination=text("destination"),
        weight_kg=number("weight_kg"),
        volume_m3=number("volume_m3"),
        deadline=moment("deadline"),
        avoid=items("avoid"),
        allowed_modes=items("modes") or None,
        **optional,
    )


def time_limit_from_record(record: dict[str, Any], most_s: float = math.inf) -> float:
    """The ``time_limit_s`` column of a shipments-table row: seconds the searches of the row's
    plan may take (empty or absent: :data:`PLAN_TIME_LIMIT_S`; ``inf``: no limit), at most
    ``most_s``.

    Examples
    --------
    >>> time_limit_from_record({}), time_limit_from_record({"time_limit_s": "2.5"})
    (10.0, 2.5)
    >>> time_limit_from_record({"time_limit_s": "inf"})
    inf
    >>> time_limit_from_record({"time_limit_s": "0"})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: time_limit_s: got '0'; expected seconds > 0 (inf: no limit)
    >>> time_limit_from_record({"time_limit_s": "inf"}, most_s=60)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: time_limit_s: got 'inf'; expected seconds > 0, at most 60
    """
    value = record.get("time_limit_s")
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    if not text.strip():
        return PLAN_TIME_LIMIT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= most_s:
        allowed = f", at most {most_s:g}" if math.isfinite(most_s) else " (inf: no limit)"
        raise InvalidInputError("time_limit_s", text, f"seconds > 0{allowed}")
    return seconds
