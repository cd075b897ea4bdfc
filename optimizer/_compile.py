"""Compile a :class:`network_data.Network` into the flat arrays the route search runs on.

Everything here is done once per network object and cached; the search itself only indexes
arrays. Money is converted to CNY with the network's FX table.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from network_data import Network
from network_data.arrays import NetworkArrays
from network_data.geo import LandIndex
from network_data.schema import PARITY_ANCHOR, runs_in_week
from network_data.validate import records
from network_data.validate import values as v_values
from optimizer.costs.line_haul import UNIT_COLUMNS, Tariffs
from optimizer.costs.search import SearchGraph
from optimizer.costs.timetable import Departures, departures_by_cutoff
from optimizer.model import CUSTOMS_REGIMES, MODES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_Built = TypeVar("_Built")

#: Bit of each customs regime in ``node_regimes``.
REGIME_BIT = {regime: 1 << i for i, regime in enumerate(CUSTOMS_REGIMES)}
CONTAINER_ORDER = ("20GP", "40GP", "40HQ")
MAX_BREAKS = 8
#: Timetable window generated around the dataset date: what plans made while the dataset is
#: current need (ready within about a year of its date, plus the search horizon). It grows
#: when a shipment needs more; a window of every ready date allowed (about three years) held
#: 1,500 days of departures, 23 million on a network a hundred times the bundled one.
_WINDOW_BEFORE_DAYS = 30
_WINDOW_AFTER_DAYS = 400
#: A widened window reaches this far past what the shipment needed: ready dates creep forward
#: with the calendar, and each widening builds the whole timetable again.
_WIDEN_AFTER_DAYS = 60
_WIDENING = threading.Lock()
_EPOCH = pd.Timestamp(0, tz="UTC")
_EPOCH_DAY = date(1970, 1, 1)


def epoch_hours(moment: datetime) -> float:
    """Hours since the Unix epoch of a timezone-aware time."""
    return moment.timestamp() / 3600.0


def from_epoch_hours(hours: float) -> datetime:
    """Inverse of :func:`epoch_hours`, in UTC, to the second."""
    return datetime.fromtimestamp(round(hours * 3600.0), tz=UTC)


@dataclass(frozen=True)
class Timetable:
    """Every scheduled departure in ``[start_day, end_day)``, in the layout of
    :func:`optimizer.costs.timetable.next_departure`."""

    start_day: date
    end_day: date
    departures: Departures
    #: The departures that take a box off a booked train at a later cut-off (rail-sea through
    #: booking, ``rail_cutoff_h``); their positions are those of ``departures``.
    rail_departures: Departures
    depart_h: FloatArray
    service_name: tuple[str, ...]
    service_of: IntArray
    #: Per departure: the first departure of the through train it continues as (an index
    #: into ``thru_*``), or -1. ``thru_next`` chains a through train's later corridors.
    through: IntArray
    thru_edge: IntArray
    thru_depart_h: FloatArray
    thru_next: IntArray
    thru_service_of: IntArray

    def covers(self, first_h: float, last_h: float) -> bool:
        """Whether the window holds every departure between the two times (epoch hours)."""
        return self.start_h + 48 <= first_h and last_h <= self.end_h - 48

    @property
    def start_h(self) -> float:
        """The window's start, epoch hours."""
        return (self.start_day - _EPOCH_DAY).days * 24.0

    @property
    def end_h(self) -> float:
        """The window's end, epoch hours."""
        return (self.end_day - _EPOCH_DAY).days * 24.0


def build_timetable(
    network: Network, edge_ids: tuple[str, ...], start: date, end: date
) -> Timetable:
    """Expand the weekly timetables of ``network.services`` into dated departures.

    Built with arrays, one array per service pattern (time zone, weekdays, week parity, local
    time), so a network with many services of the same pattern, or a window of years, costs
    memory and time per departure of a few array cells, not a Python object each.
    """
    position = {corridor_id: e for e, corridor_id in enumerate(edge_ids)}
    days = pd.date_range(start, end, freq="D", inclusive="left")
    week_index = ((days - pd.Timestamp(PARITY_ANCHOR)).days // 7).to_numpy()
    weekday = days.day_of_week.to_numpy()
    day_names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    node_tz = dict(zip(network.nodes.index, network.nodes["timezone"], strict=True))
    corridors = network.corridors
    origin_tz = {
        cid: str(node_tz[origin])
        for cid, origin in zip(corridors.index, corridors["origin"], strict=True)
    }
    run_h = _run_hours(network)
    through_of = {row.service_id: row for row in records(network.through_services)}
    patterns: dict[tuple[str, tuple[str, ...], str, str], FloatArray] = {}
    names: list[str] = []
    edge_parts: list[IntArray] = []
    depart_parts: list[FloatArray] = []
    cutoff_parts: list[FloatArray] = []
    rail_parts: list[FloatArray] = []
    service_parts: list[IntArray] = []
    head_parts: list[IntArray] = []
    thru_edge_parts: list[IntArray] = []
    thru_depart_parts: list[FloatArray] = []
    thru_next_parts: list[IntArray] = []
    thru_service_parts: list[IntArray] = []
    thru_count = 0
    for service in records(network.services):
        tz = origin_tz[service.corridor_id]
        key = (tz, tuple(service.weekdays), str(service.week_parity), str(service.departure_local))
        depart = patterns.get(key)
        if depart is None:
            wanted = np.isin(weekday, [day_names.index(d) for d in service.weekdays])
            wanted &= runs_in_week(service.week_parity, week_index)
            hour, minute = map(int, service.departure_local.split(":"))
            local = days[wanted] + pd.Timedelta(hours=hour, minutes=minute)
            utc = local.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
            depart = patterns[key] = (
                (utc.tz_convert("UTC") - _EPOCH) / pd.Timedelta(hours=1)
            ).to_numpy(np.float64)
        names.append(str(service.service_name))
        count = len(depart)
        edge_parts.append(np.full(count, position[service.corridor_id], dtype=np.int64))
        depart_parts.append(depart)
        cutoff_parts.append(depart - service.cutoff_h)
        rail_parts.append(depart - service.rail_cutoff_h)  # NaN where the service takes none
        service_parts.append(np.full(count, len(names) - 1, dtype=np.int64))
        through_row = through_of.get(service.service_id)
        if through_row is None:
            head_parts.append(np.full(count, -1, dtype=np.int64))
            continue
        names.append(str(through_row.service_name))
        # a through train's later corridors: each departure runs on as one chain of them
        steps = len(through_row.corridors)
        previous = [service.corridor_id, *through_row.corridors[:-1]]
        offsets = np.cumsum(
            [run_h[c] + float(dwell) for c, dwell in zip(previous, through_row.dwell_h,
                                                        strict=True)]
        )  # fmt: skip
        chain = thru_count + steps * np.arange(count, dtype=np.int64)
        following = (chain[:, None] + np.arange(1, steps + 1)).ravel()
        following[steps - 1 :: steps] = -1
        thru_edge_parts.append(
            np.tile([position[c] for c in through_row.corridors], count).astype(np.int64)
        )
        thru_depart_parts.append((depart[:, None] + offsets).ravel())
        thru_next_parts.append(following)
        thru_service_parts.append(np.full(count * steps, len(names) - 1, dtype=np.int64))
        head_parts.append(chain)
        thru_count += count * steps
    edge = _joined(edge_parts, np.int64)
    cutoff = _joined(cutoff_parts, np.float64)
    depart_h = _joined(depart_parts, np.float64)
    service_of = _joined(service_parts, np.int64)
    through = _joined(head_parts, np.int64)
    rail_cutoff = _joined(rail_parts, np.float64)
    # each corridor's departures in (cut-off, departure, service, through train) order
    order = np.lexsort((through, service_of, depart_h, cutoff, edge))
    edge, cutoff, depart_h = edge[order], cutoff[order], depart_h[order]
    service_of, through, rail_cutoff = service_of[order], through[order], rail_cutoff[order]
    n_edges = len(edge_ids)
    index = departures_by_cutoff(edge, cutoff, depart_h, np.full(len(edge), -1), n_edges)
    takes = ~np.isnan(rail_cutoff)
    by_rail = np.lexsort((np.flatnonzero(takes), depart_h[takes], rail_cutoff[takes], edge[takes]))
    rail_rows = np.flatnonzero(takes)[by_rail]
    rail_index = departures_by_cutoff(
        edge[rail_rows], rail_cutoff[rail_rows], depart_h[rail_rows], rail_rows, n_edges
    )
    return Timetable(
        start_day=start,
        end_day=end,
        departures=index,
        rail_departures=rail_index,
        depart_h=depart_h,
        service_name=tuple(names),
        service_of=service_of,
        through=through,
        thru_edge=_joined(thru_edge_parts, np.int64),
        thru_depart_h=_joined(thru_depart_parts, np.float64),
        thru_next=_joined(thru_next_parts, np.int64),
        thru_service_of=_joined(thru_service_parts, np.int64),
    )


def _joined(parts: list[Any], dtype: Any) -> Any:
    """The parts end to end (an empty array of ``dtype`` for none)."""
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _run_hours(network: Network) -> dict[str, float]:
    """Per corridor: hours from departure to arrival, passages' dwell included (median)."""
    dwell = dict(zip(network.passages.index, network.passages["dwell_median_h"], strict=True))
    return {
        str(cid): float(hours) + sum(float(dwell[p]) for p in passages)
        for cid, hours, passages in zip(
            network.corridors.index, network.corridors["duration_h"],
            network.corridors["passages"], strict=True,
        )
    }  # fmt: skip


def _cny(network: Network, amount: float, currency: str) -> float:
    return network.to_cny(amount, currency)


@dataclass
class RoutingData:
    """A network compiled for the route search (edges in the CSR order of ``network.arrays``)."""

    network: Network
    #: Node and corridor arrays in CSR order (``network.arrays``); every per-edge array below
    #: follows ``arrays.edge_ids``.
    arrays: NetworkArrays
    node_index: dict[str, int]
    node_name: tuple[str, ...]
    node_country: tuple[str, ...]
    node_kind: tuple[str, ...]
    node_handling_h: FloatArray
    node_per_container_cny: FloatArray
    node_per_t_cny: FloatArray
    node_dwell_h: FloatArray
    node_dwell_p90_h: FloatArray
    node_is_border: BoolArray
    node_is_airport: BoolArray
    #: Gauge-change stations and bonded zones: passing them always means unloading.
    node_always_transfer: BoolArray
    node_in_china: BoolArray
    node_regimes: IntArray
    node_is_bonded_zone: BoolArray
    node_handles_road: BoolArray
    #: Country outline each node lies in (see :class:`network_data.geo.LandIndex`); -1 if none.
    node_territory: IntArray
    land: LandIndex
    edge_index: dict[str, int]
    edge_scheduled: BoolArray
    edge_capacity_t: FloatArray
    edge_capacity_teu: FloatArray
    edge_departures_per_week: FloatArray
    edge_reefer: BoolArray
    edge_lithium_ok: BoolArray
    edge_passages: tuple[tuple[str, ...], ...]
    edge_passage_dwell_h: FloatArray
    edge_passage_dwell_p90_h: FloatArray
    edge_service_name: tuple[str, ...]
    #: (origin id, destination id, mode, corridor id, distance_km) of each edge, as Python
    #: values: a route plan's legs read them without going through numpy scalars.
    edge_leg_fields: tuple[tuple[str, str, str, str, float], ...]
    #: Every corridor's tariff with every product, and as each load basis may use it
    #: (:data:`BASES`).
    tariffs: Tariffs
    basis_tariffs: dict[str, Tariffs]
    #: Per corridor: the documents of a booking on it (bill of lading, air waybill, rail
    #: waybill), CNY; zero for road.
    edge_booking_cny: FloatArray
    #: Customs declarations per country, CNY: what clearing goods out of and into it costs.
    export_declaration_cny: dict[str, float]
    import_declaration_cny: dict[str, float]
    #: Road corridors, and their per-unit prices without the fixed part, for a road leg that
    #: continues a road leg (the same truck drives on, so the per-truck or per-consignment base
    #: is paid once); rows follow ``road_edges``.
    road_edges: IntArray
    #: Corridors by destination: ``edges_into[into_ptr[v]:into_ptr[v + 1]]`` end at node ``v``.
    into_ptr: IntArray
    edges_into: IntArray
    road_continuation_price_cny: FloatArray
    timetable: Timetable
    passage_ids: frozenset[str] = field(default_factory=frozenset)
    #: Edges that pass each named passage.
    passage_edges: dict[str, list[int]] = field(default_factory=dict)
    _graph: tuple[Timetable, SearchGraph] | None = None

    def ensure_timetable(self, first_h: float, last_h: float) -> Timetable:
        """The timetable, regenerated over a wider window if it does not cover the times.

        Returns the timetable that covers them even when another thread widens
        ``self.timetable`` meanwhile (for other times).
        """
        timetable = self.timetable
        if timetable.covers(first_h, last_h):
            return timetable
        # One widening at a time, each from the latest timetable: two threads widening at
        # once would each build one, and the second would drop the first's days.
        with _WIDENING:
            timetable = self.timetable
            if not timetable.covers(first_h, last_h):
                first = from_epoch_hours(first_h).date() - timedelta(days=7)
                last = from_epoch_hours(last_h).date() + timedelta(days=_WIDEN_AFTER_DAYS)
                start = min(first, timetable.start_day)
                end = max(last, timetable.end_day)
                timetable = build_timetable(self.network, self.arrays.edge_ids, start, end)
                self.timetable = timetable
        return timetable

    def search_graph(self, timetable: Timetable) -> SearchGraph:
        """The network as the label search walks it, with ``timetable`` (built once per
        timetable; the graph of ``timetable`` even when another thread's search meanwhile
        keeps another)."""
        kept = self._graph
        if kept is None or kept[0] is not timetable:
            a = self.arrays
            connects = np.zeros(len(self.node_index), dtype=np.bool_)
            connects[a.edge_origin[np.diff(timetable.rail_departures.ptr) > 0]] = True
            graph = SearchGraph(
                a.indptr, a.edge_destination, a.edge_mode, self.edge_scheduled, a.edge_duration_h,
                a.edge_duration_p90_h, self.edge_passage_dwell_h, self.edge_passage_dwell_p90_h,
                self.node_handling_h, self.node_dwell_h, self.node_dwell_p90_h,
                self.node_always_transfer, self.node_is_border, self.node_in_china,
                self.node_regimes, self.node_is_bonded_zone, connects, timetable.departures,
                timetable.rail_departures, timetable.through, timetable.thru_edge,
                timetable.thru_depart_h, timetable.thru_next,
            )  # fmt: skip
            kept = self._graph = (timetable, graph)
        return kept[1]


def _tariff_arrays(
    network: Network, edge_ids: tuple[str, ...], distance_km: FloatArray
) -> dict[str, FloatArray]:
    n = len(edge_ids)
    unit_price = np.full((n, len(UNIT_COLUMNS)), np.nan)
    unit_min = np.zeros((n, len(UNIT_COLUMNS)))
    road_continuation = np.full((n, len(UNIT_COLUMNS)), np.nan)
    kg_break = np.zeros((n, MAX_BREAKS))
    kg_rate = np.full((n, MAX_BREAKS), np.nan)
    kg_min = np.zeros(n)
    kg_surcharge = np.zeros(n)
    booking = np.zeros(n)
    express_break = np.zeros((n, MAX_BREAKS))
    express_rate = np.full((n, MAX_BREAKS), np.nan)
    express_min = np.zeros(n)
    for e, corridor_id in enumerate(edge_ids):
        rows = sorted(network.tariff_records_for(corridor_id), key=lambda row: row.break_from)
        kg_slot = express_slot = 0
        for row in rows:
            rate = _cny(network, row.rate + row.rate_per_km * distance_km[e], row.currency)
            minimum = _cny(network, row.min_charge, row.currency)
            if row.unit in UNIT_COLUMNS:
                u = UNIT_COLUMNS.index(row.unit)
                unit_price[e, u], unit_min[e, u] = rate, minimum
                road_continuation[e, u] = _cny(
                    network, row.rate_per_km * distance_km[e], row.currency
                )
            elif row.unit == "kg":
                kg_break[e, kg_slot], kg_rate[e, kg_slot], kg_min[e] = row.break_from, rate, minimum
                kg_slot += 1
            elif row.unit == "express_kg":
                express_break[e, express_slot] = row.break_from
                express_rate[e, express_slot], express_min[e] = rate, minimum
                express_slot += 1
            elif row.unit in AIR_SURCHARGE_UNITS:
                kg_surcharge[e] += rate
            elif row.unit == "booking":
                booking[e] = rate
    return {
        "unit_price_cny": unit_price,
        "unit_min_cny": unit_min,
        "road_continuation_price_cny": road_continuation,
        "kg_break": kg_break,
        "kg_rate_cny": kg_rate,
        "kg_min_cny": kg_min,
        "kg_surcharge_cny": kg_surcharge,
        "express_break": express_break,
        "express_rate_cny": express_rate,
        "express_min_cny": express_min,
        "booking_cny": booking,
    }


#: How a journey's load is priced over the whole move: ``loose`` (LCL per revenue tonne,
#: groupage or a whole truck by road, air and express per chargeable kg) or ``boxed`` (the
#: shipper's own containers, trucked as full loads).
BASES = ("loose", "boxed")
AIR_SURCHARGE_UNITS = ("fuel_kg", "security_kg")
_BOXED_UNITS = ("container:20GP", "container:40GP", "container:40HQ", "truck")


def _basis_tariffs(tariffs: Tariffs) -> dict[str, Tariffs]:
    """The tariff as each load basis may use it: other products' rates set to NaN."""
    boxed_columns = [UNIT_COLUMNS.index(unit) for unit in _BOXED_UNITS]
    loose_price = tariffs.unit_price.copy()
    loose_price[:, [UNIT_COLUMNS.index(u) for u in _BOXED_UNITS if u != "truck"]] = np.nan
    boxed_price = np.full_like(tariffs.unit_price, np.nan)
    boxed_price[:, boxed_columns] = tariffs.unit_price[:, boxed_columns]
    no_rates = np.full_like(tariffs.kg_rate, np.nan)
    return {
        "loose": tariffs._replace(unit_price=loose_price),
        "boxed": tariffs._replace(
            unit_price=boxed_price, kg_rate=no_rates, express_rate=no_rates.copy()
        ),
    }


def _declarations(network: Network, unit: str) -> dict[str, float]:
    """CNY per customs declaration by country (``customs:<country>`` rows; ``""`` the default)."""
    rows = network.tariffs[network.tariffs["unit"] == unit]
    return {
        scope.partition(":")[2]: network.to_cny(rate, currency)
        for scope, rate, currency in zip(rows["scope"], rows["rate"], rows["currency"], strict=True)
    }


def compile_network(network: Network) -> RoutingData:
    """Build :class:`RoutingData`; prefer :func:`routing_data`, which caches it."""
    arrays = network.arrays
    nodes = network.nodes.loc[list(arrays.node_ids)]
    corridors = network.corridors.loc[list(arrays.edge_ids)]
    passages = network.passages

    def dwell(column: str) -> FloatArray:
        hours: FloatArray = np.nan_to_num(nodes[column].to_numpy(np.float64), nan=0.0)
        return hours

    def passage_sum(column: str) -> FloatArray:
        dwell_of = dict(zip(passages.index, v_values(passages, column), strict=True))
        return np.array(
            [sum(dwell_of[p] for p in names) for names in v_values(corridors, "passages")]
        )

    edge_ids = tuple(arrays.edge_ids)
    rates = _tariff_arrays(network, edge_ids, arrays.edge_distance_km)
    road_edges = np.flatnonzero(arrays.edge_mode == MODES.index("road"))
    containers = network.container_types.loc[list(CONTAINER_ORDER)]
    tariffs = Tariffs(
        rates["unit_price_cny"], rates["unit_min_cny"], rates["kg_break"], rates["kg_rate_cny"],
        rates["kg_min_cny"], rates["kg_surcharge_cny"], rates["express_break"],
        rates["express_rate_cny"], rates["express_min_cny"],
        containers["usable_volume_m3"].to_numpy(np.float64),
        containers["max_payload_kg"].to_numpy(np.float64),
    )  # fmt: skip
    regimes = np.array(
        [sum(REGIME_BIT[r] for r in row) for row in nodes["regimes"]], dtype=np.int64
    )
    today = date.fromisoformat(network.date)
    land = LandIndex()
    return RoutingData(
        network=network,
        arrays=arrays,
        node_index={node_id: i for i, node_id in enumerate(arrays.node_ids)},
        node_name=tuple(str(name) for name in nodes["name_en"]),
        node_country=tuple(str(country) for country in nodes["country"]),
        node_kind=tuple(str(kind) for kind in nodes["kind"]),
        node_handling_h=nodes["handling_h"].to_numpy(np.float64),
        node_per_container_cny=nodes["handling_cost_cny_per_container"].to_numpy(np.float64),
        node_per_t_cny=nodes["handling_cost_cny_per_t"].to_numpy(np.float64),
        node_dwell_h=dwell("dwell_median_h"),
        node_dwell_p90_h=dwell("dwell_p90_h"),
        node_is_border=(nodes["kind"] == "border_crossing").to_numpy(),
        node_is_airport=(nodes["kind"] == "airport").to_numpy(),
        node_always_transfer=(
            nodes["gauge_change"].astype(bool) | (nodes["kind"] == "bonded_zone")
        ).to_numpy(bool),
        node_in_china=(nodes["country"] == "CN").to_numpy(),
        node_regimes=regimes,
        node_is_bonded_zone=(nodes["kind"] == "bonded_zone").to_numpy(),
        node_handles_road=nodes["modes"].map(lambda m: "road" in m).to_numpy(bool),
        node_territory=np.array(
            [
                -1 if (t := land.territory(lat, lon)) is None else t
                for lat, lon in zip(arrays.node_lat, arrays.node_lon, strict=True)
            ],
            dtype=np.int64,
        ),
        land=land,
        edge_index={corridor_id: e for e, corridor_id in enumerate(edge_ids)},
        edge_scheduled=corridors["scheduled"].to_numpy(bool),
        edge_capacity_t=corridors["capacity_t_per_departure"].to_numpy(np.float64),
        edge_capacity_teu=corridors["capacity_teu_per_departure"].to_numpy(np.float64),
        edge_departures_per_week=corridors["departures_per_week"].to_numpy(np.float64),
        edge_reefer=corridors["reefer"].to_numpy(bool),
        edge_lithium_ok=(corridors["lithium_batteries"] == "allowed").to_numpy(),
        edge_passages=tuple(tuple(p) for p in corridors["passages"]),
        edge_passage_dwell_h=passage_sum("dwell_median_h"),
        edge_passage_dwell_p90_h=passage_sum("dwell_p90_h"),
        edge_service_name=tuple(str(s) for s in corridors["service_name"]),
        edge_leg_fields=tuple(
            zip(
                [arrays.node_ids[o] for o in arrays.edge_origin.tolist()],
                [arrays.node_ids[d] for d in arrays.edge_destination.tolist()],
                [MODES[m] for m in arrays.edge_mode.tolist()],
                edge_ids,
                arrays.edge_distance_km.tolist(),
                strict=True,
            )
        ),
        tariffs=tariffs,
        basis_tariffs=_basis_tariffs(tariffs),
        edge_booking_cny=rates["booking_cny"],
        export_declaration_cny=_declarations(network, "export_declaration"),
        import_declaration_cny=_declarations(network, "import_declaration"),
        road_continuation_price_cny=rates["road_continuation_price_cny"][road_edges],
        road_edges=road_edges,
        into_ptr=np.concatenate(
            ([0], np.cumsum(np.bincount(arrays.edge_destination, minlength=len(arrays.node_ids))))
        ).astype(np.int64),
        edges_into=np.argsort(arrays.edge_destination, kind="stable").astype(np.int64),
        timetable=build_timetable(
            network,
            edge_ids,
            today - timedelta(days=_WINDOW_BEFORE_DAYS),
            today + timedelta(days=_WINDOW_AFTER_DAYS),
        ),
        passage_ids=frozenset(passages.index),
        passage_edges={
            str(p): [e for e, names in enumerate(corridors["passages"]) if p in names]
            for p in passages.index
        },
    )


class PerNetwork(Generic[_Built]):
    """What ``build`` makes of a network, built on first use and kept while the network lives.

    Examples
    --------
    >>> from network_data import load_network
    >>> node_count = PerNetwork(lambda network: len(network.nodes))
    >>> network = load_network()
    >>> node_count(network) == node_count(network) == len(network.nodes)
    True
    """

    def __init__(self, build: Callable[[Network], _Built]) -> None:
        self._build = build
        self._cache: weakref.WeakKeyDictionary[Network, _Built] = weakref.WeakKeyDictionary()

    def __call__(self, network: Network) -> _Built:
        built = self._cache.get(network)
        if built is None:
            built = self._cache[network] = self._build(network)
        return built


_ROUTING_DATA = PerNetwork(compile_network)


def routing_data(network: Network) -> RoutingData:
    """The compiled form of ``network``, built on first use and kept while the network lives."""
    return _ROUTING_DATA(network)
