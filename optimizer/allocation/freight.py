"""The freight side: sellers' forecasts and overseas warehouses' terms -> an AllocationProblem.

A customer of the allocation is one seller in one market; its demand is orders per week, and
an order served from a warehouse costs:

* inbound: the route planner's cheapest option from the seller's hub to the warehouse that
  arrives within the lead-time limit, per m3 of a replenishment lot (the seller's average
  weekly volume), times the order's m3;
* storage: the order's pallets held for :data:`STOCK_WEEKS` at the rent per pallet-week;
* handling: per inbound pallet and per order;
* last mile: per order to its market.

Each order of weekly demand holds ``stock_weeks * m3 / PALLET_M3`` pallet positions and
``stock_weeks * m3`` cubic metres of the warehouse's weekly capacity (stock on hand covers that
many weeks of sales), the two capacities the warehouse ledger books. Inbound prices are cached
per dataset version.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from network_data import Network
from network_data.errors import UnknownPlaceError
from optimizer.allocation.problem import (
    AllocationProblem,
    Booking,
    Customer,
    Lane,
    Warehouse,
)
from optimizer.errors import InvalidInputError
from optimizer.model import CARGO_CLASSES, Shipment
from optimizer.quotable import EXACT
from optimizer.routing import map_on_network, plan_routes

#: One pallet position: a EUR pallet (1.2 x 0.8 m) stacked 1.5 m high, 1.44 m3 (SOURCES.md
#: ``ALLOC-PALLET``).
PALLET_M3 = 1.2 * 0.8 * 1.5
#: Weeks of sales a seller keeps in stock at an overseas warehouse (``ALLOC-STOCK``).
STOCK_WEEKS = 4.0
#: Density of e-commerce parcels, for the weight of a replenishment lot (``ALLOC-DENSITY``).
KG_PER_M3 = 200.0
#: Default penalty per order not served (``ALLOC-UNSERVED``).
UNSERVED_PENALTY_CNY = 300.0
#: Defaults of the rules: inbound within 30 days (``ALLOC-LEAD``); the service level counts
#: orders delivered within 3 days (``ALLOC-SERVICE``).
LEAD_TIME_LIMIT_DAYS = 30.0
SERVICE_DAYS = 3.0
#: Default horizon of an allocation, weeks: a month of replenishments.
WEEKS = 4
#: The longest horizon, weeks, for the CLI and the job alike (the CLI took 104 and the job 26):
#: half a year, as far ahead as sellers forecast orders week by week; the model grows with
#: sellers x warehouses x weeks, and a job must solve within its 600 s. The ledger books up to
#: two years ahead (``api.weeks.MAX_WEEKS``), which an allocation need not plan.
MAX_WEEKS = 26
#: Smallest replenishment lot priced (m3).
MIN_LOT_M3 = 0.1
#: Resources of freight problems, in this order (the warehouse ledger's two capacities).
RESOURCES = ("pallets", "volume_m3")


class RecordError(InvalidInputError):
    """A row of a seller or warehouse table is invalid: names the row, its id and the column.

    Examples
    --------
    >>> err = RecordError(3, "Acme", "m3_per_order", -1, "a number > 0")
    >>> str(err)
    'row 3 (Acme): m3_per_order: got -1; expected a number > 0'
    >>> err.column, err.row
    ('m3_per_order', 3)
    """

    def __init__(self, row: int, record_id: str, column: str, value: object, allowed: str):
        self.row = row
        self.record_id = record_id
        self.column = column
        super().__init__(f"row {row} ({record_id}): {column}", value, allowed)


def _number(name: str, value: object, *, positive: bool = False) -> float:
    allowed = "a number > 0" if positive else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(name, value, allowed)
    if math.isnan(value) or value < 0 or (positive and value == 0):
        raise InvalidInputError(name, value, allowed)
    if math.isinf(value):
        raise InvalidInputError(name, value, allowed.replace("a number", "a finite number"))
    return float(value)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(name, value, "a non-empty text")
    return value.strip()


@dataclass(frozen=True)
class MarketService:
    """A market a warehouse delivers to: last-mile cost per order and delivery days."""

    market: str
    last_mile_cny_per_order: float
    delivery_days: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "market", _text("market", self.market))
        _number("last_mile_cny_per_order", self.last_mile_cny_per_order)
        _number("delivery_days", self.delivery_days)


@dataclass(frozen=True)
class OverseasWarehouse:
    """An overseas warehouse's capacity and terms.

    Parameters
    ----------
    warehouse_id
        Unique id; the network node unless ``location`` says otherwise.
    pallets_per_week, volume_m3_per_week
        Capacity each week: pallet positions and cubic metres of stock.
    rent_cny_per_pallet_week
        Storage rent.
    handling_cny_per_inbound_pallet, handling_cny_per_order
        Receiving per pallet, picking and packing per order.
    markets
        The markets it delivers to.
    fixed_cost_cny_per_week
        A fee for using it at all (a minimum or contract fee), charged every week of the
        horizon when it is used.
    location
        Where inbound freight is routed to (node id, place name or ``"lat,lon"``); default
        ``warehouse_id``.
    week_capacity
        ``(week, pallets, volume_m3)`` overriding the capacity in those weeks (from 1).

    Examples
    --------
    >>> OverseasWarehouse("WH-DEDUI", 400, 900, 35, 40, 6,
    ...     (MarketService("MKT-DE", 28, 2),)).markets[0].market
    'MKT-DE'
    """

    warehouse_id: str
    pallets_per_week: float
    volume_m3_per_week: float
    rent_cny_per_pallet_week: float
    handling_cny_per_inbound_pallet: float
    handling_cny_per_order: float
    markets: tuple[MarketService, ...]
    fixed_cost_cny_per_week: float = 0.0
    location: str = ""
    week_capacity: tuple[tuple[int, float, float], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "warehouse_id", _text("warehouse_id", self.warehouse_id))
        for name in (
            "pallets_per_week",
            "volume_m3_per_week",
            "rent_cny_per_pallet_week",
            "handling_cny_per_inbound_pallet",
            "handling_cny_per_order",
            "fixed_cost_cny_per_week",
        ):
            _number(name, getattr(self, name))
        object.__setattr__(self, "markets", tuple(self.markets))
        if not self.markets or not all(isinstance(m, MarketService) for m in self.markets):
            raise InvalidInputError("markets", self.markets, "at least one MarketService")
        names = [m.market for m in self.markets]
        if len(set(names)) != len(names):
            raise InvalidInputError("markets", names, "each market once")
        if not isinstance(self.location, str):
            raise InvalidInputError("location", self.location, "a place, or '' for the id")
        for entry in self.week_capacity:
            if (
                not isinstance(entry, tuple)
                or len(entry) != 3
                or isinstance(entry[0], bool)
                or not isinstance(entry[0], int)
                or entry[0] < 1
            ):
                raise InvalidInputError(
                    "week_capacity", entry, "(week >= 1, pallets, volume_m3) triples"
                )
            _number("week_capacity pallets", entry[1])
            _number("week_capacity volume_m3", entry[2])


@dataclass(frozen=True)
class MarketDemand:
    """A seller's forecast for one market: orders per week, m3 and value per order.

    ``orders_per_week`` holds one number (every week alike) or one per week.
    """

    market: str
    orders_per_week: tuple[float, ...]
    m3_per_order: float
    value_cny_per_order: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "market", _text("market", self.market))
        orders = self.orders_per_week
        if isinstance(orders, int | float) and not isinstance(orders, bool):
            orders = (orders,)
        if isinstance(orders, str) or not isinstance(orders, Iterable) or not tuple(orders):
            raise InvalidInputError("orders_per_week", orders, "numbers >= 0, one per week")
        object.__setattr__(
            self,
            "orders_per_week",
            tuple(_number("orders_per_week", value) for value in orders),
        )
        _number("m3_per_order", self.m3_per_order, positive=True)
        _number("value_cny_per_order", self.value_cny_per_order)


@dataclass(frozen=True)
class Seller:
    """A seller: its hub, forecast per market, and the warehouses it wants or refuses.

    ``preferred_warehouses``, when not empty, are the only ones that may serve it;
    ``excluded_warehouses`` never do.

    Examples
    --------
    >>> Seller("Acme", "Chengdu", (MarketDemand("MKT-DE", (120,), 0.03),)).hub
    'Chengdu'
    """

    seller_id: str
    hub: str
    demand: tuple[MarketDemand, ...]
    preferred_warehouses: frozenset[str] = frozenset()
    excluded_warehouses: frozenset[str] = frozenset()
    cargo_class: str = "general"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seller_id", _text("seller_id", self.seller_id))
        object.__setattr__(self, "hub", _text("hub", self.hub))
        object.__setattr__(self, "demand", tuple(self.demand))
        if not self.demand or not all(isinstance(d, MarketDemand) for d in self.demand):
            raise InvalidInputError("demand", self.demand, "at least one MarketDemand")
        markets = [d.market for d in self.demand]
        if len(set(markets)) != len(markets):
            raise InvalidInputError("demand", markets, "each market once")
        for name in ("preferred_warehouses", "excluded_warehouses"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise InvalidInputError(name, value, "a set of warehouse ids")
            object.__setattr__(self, name, frozenset(value))
        if self.cargo_class not in CARGO_CLASSES:
            raise InvalidInputError(
                "cargo_class", self.cargo_class, f"one of {', '.join(CARGO_CLASSES)}"
            )


def _field(record: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = record.get(name)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if not missing and not (isinstance(value, str) and not value.strip()):
            return value
    return None


#: The largest figure each column of a seller, warehouse or booking row may hold, and why:
#: beyond it the row is a typo (or a probe of the solver), not a business.
RECORD_LIMITS: dict[str, tuple[float, str]] = {
    "pallets_per_week": (10_000_000, "as the ledger's warehouses"),
    "pallets": (10_000_000, "as the ledger's warehouses"),
    "volume_m3_per_week": (100_000_000, "as the ledger's warehouses"),
    "volume_m3": (100_000_000, "as the ledger's warehouses"),
    "rent_cny_per_pallet_week": (1_000_000, "CNY 1 million a pallet-week"),
    "handling_cny_per_inbound_pallet": (1_000_000, "CNY 1 million a pallet"),
    "handling_cny_per_order": (1_000_000, "CNY 1 million an order"),
    "fixed_cost_cny_per_week": (1e10, "CNY 10 billion a week"),
    "last_mile_cny_per_order": (1_000_000, "CNY 1 million an order"),
    "delivery_days": (365, "a year"),
    "orders_per_week": (100_000_000, "a hundred million orders a week"),
    "m3_per_order": (100, "a 40-foot high cube holds 76 m3"),
    "value_cny_per_order": (1e10, "CNY 10 billion an order"),
    "week": (520, "ten years of weeks"),
    "first_week": (520, "ten years of weeks"),
    "last_week": (520, "ten years of weeks"),
}


def _as_number(row: int, record_id: str, column: str, value: Any, *, required: bool) -> float:
    """``value`` as a finite number in [0, the column's :data:`RECORD_LIMITS` entry].

    Examples
    --------
    >>> _as_number(2, "Acme", "m3_per_order", "0.03", required=True)
    0.03
    >>> _as_number(2, "Acme", "orders_per_week", 1e308, required=True)
    Traceback (most recent call last):
    ...
    optimizer.allocation.freight.RecordError: row 2 (Acme): orders_per_week: got 1e+308; \
expected a number <= 1e+08 (a hundred million orders a week)
    """
    if value is None:
        if required:
            raise RecordError(row, record_id, column, None, "a number")
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError(row, record_id, column, value, "a number >= 0") from exc
    if not math.isfinite(number) or number < 0:
        raise RecordError(row, record_id, column, value, "a finite number >= 0")
    limit, reason = RECORD_LIMITS[column]
    if number > limit:
        raise RecordError(row, record_id, column, value, f"a number <= {limit:g} ({reason})")
    return number


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


_WAREHOUSE_COLUMNS = (
    "pallets_per_week",
    "volume_m3_per_week",
    "rent_cny_per_pallet_week",
    "handling_cny_per_inbound_pallet",
    "handling_cny_per_order",
)


def warehouses_from_records(
    records: Iterable[Mapping[str, Any]],
) -> tuple[OverseasWarehouse, ...]:
    """Read warehouse rows (from a CSV or JSON) into :class:`OverseasWarehouse` objects.

    One row per warehouse and market it serves: ``warehouse`` (or ``warehouse_id``),
    ``market``, ``last_mile_cny_per_order``, ``delivery_days``, and the warehouse's
    ``pallets_per_week``, ``volume_m3_per_week``, ``rent_cny_per_pallet_week``,
    ``handling_cny_per_inbound_pallet``, ``handling_cny_per_order``, optional
    ``fixed_cost_cny_per_week`` and ``location``. Warehouse columns may be left empty on its
    later rows, and must agree where they are not. A row may instead hold a list ``markets``
    of ``{market, last_mile_cny_per_order, delivery_days}``.

    Raises
    ------
    RecordError
        Naming the first bad row (counted from 1), its warehouse and the column.

    Examples
    --------
    >>> rows = [
    ...     {"warehouse": "WH-DEDUI", "market": "MKT-DE", "last_mile_cny_per_order": 28,
    ...      "delivery_days": 2, "pallets_per_week": 400, "volume_m3_per_week": 900,
    ...      "rent_cny_per_pallet_week": 35, "handling_cny_per_inbound_pallet": 40,
    ...      "handling_cny_per_order": 6},
    ...     {"warehouse": "WH-DEDUI", "market": "MKT-PL", "last_mile_cny_per_order": 45,
    ...      "delivery_days": 4}]
    >>> [m.market for m in warehouses_from_records(rows)[0].markets]
    ['MKT-DE', 'MKT-PL']
    >>> rows[1]["delivery_days"] = "soon"
    >>> warehouses_from_records(rows)
    Traceback (most recent call last):
    ...
    optimizer.allocation.freight.RecordError: row 2 (WH-DEDUI): delivery_days: got 'soon'; ...
    """
    fields: dict[str, dict[str, Any]] = {}
    services: dict[str, list[MarketService]] = {}
    first_row: dict[str, int] = {}
    for row, record in enumerate(records, start=1):
        ident = _field(record, "warehouse", "warehouse_id", "id")
        if ident is None:
            raise RecordError(row, f"row {row}", "warehouse", None, "a warehouse id")
        ident = str(ident).strip()
        first_row.setdefault(ident, row)
        known = fields.setdefault(ident, {})
        for column in (*_WAREHOUSE_COLUMNS, "fixed_cost_cny_per_week"):
            raw = _field(record, column)
            if raw is None:
                continue
            value = _as_number(row, ident, column, raw, required=True)
            if column in known and known[column] != value:
                raise RecordError(
                    row, ident, column, raw, f"{known[column]:g} as on the warehouse's row "
                    f"{first_row[ident]}"
                )  # fmt: skip
            known[column] = value
        location = _field(record, "location")
        if location is not None:
            if known.get("location", str(location).strip()) != str(location).strip():
                raise RecordError(row, ident, "location", location, "the same on every row")
            known["location"] = str(location).strip()
        nested = record.get("markets")
        entries = nested if isinstance(nested, list) else [record]
        for entry in entries:
            market = _field(entry, "market")
            if market is None:
                raise RecordError(row, ident, "market", None, "a market (node id or name)")
            try:
                service = MarketService(
                    str(market).strip(),
                    _as_number(row, ident, "last_mile_cny_per_order",
                               _field(entry, "last_mile_cny_per_order"), required=True),
                    _as_number(row, ident, "delivery_days", _field(entry, "delivery_days"),
                               required=True),
                )  # fmt: skip
            except RecordError:
                raise
            except InvalidInputError as exc:
                raise RecordError(row, ident, exc.field, exc.value, exc.allowed) from exc
            if any(s.market == service.market for s in services.get(ident, [])):
                raise RecordError(row, ident, "market", service.market, "each market once")
            services.setdefault(ident, []).append(service)
    warehouses = []
    for ident, known in fields.items():
        for column in _WAREHOUSE_COLUMNS:
            if column not in known:
                raise RecordError(first_row[ident], ident, column, None, "a number >= 0")
        warehouses.append(
            OverseasWarehouse(
                ident,
                pallets_per_week=known["pallets_per_week"],
                volume_m3_per_week=known["volume_m3_per_week"],
                rent_cny_per_pallet_week=known["rent_cny_per_pallet_week"],
                handling_cny_per_inbound_pallet=known["handling_cny_per_inbound_pallet"],
                handling_cny_per_order=known["handling_cny_per_order"],
                markets=tuple(services[ident]),
                fixed_cost_cny_per_week=known.get("fixed_cost_cny_per_week", 0.0),
                location=known.get("location", ""),
            )
        )
    return tuple(warehouses)


def sellers_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[Seller, ...]:
    """Read seller rows (from a CSV or JSON) into :class:`Seller` objects.

    One row per seller and market: ``seller`` (or ``seller_id``), ``hub``, ``market``,
    ``orders_per_week`` (one number, or one per week separated by ``;`` or in a list),
    ``m3_per_order``, optional ``value_cny_per_order``, ``preferred_warehouses`` and
    ``excluded_warehouses`` (ids separated by ``;``) and ``cargo_class``. Seller columns may
    be left empty on its later rows, and must agree where they are not.

    Raises
    ------
    RecordError
        Naming the first bad row (counted from 1), its seller and the column.

    Examples
    --------
    >>> rows = [{"seller": "Acme", "hub": "Chengdu", "market": "MKT-DE",
    ...          "orders_per_week": "120;150", "m3_per_order": 0.03},
    ...         {"seller": "Acme", "market": "MKT-PL", "orders_per_week": 80,
    ...          "m3_per_order": 0.03, "excluded_warehouses": "WH-HUBUD"}]
    >>> acme, = sellers_from_records(rows)
    >>> acme.demand[0].orders_per_week, sorted(acme.excluded_warehouses)
    ((120.0, 150.0), ['WH-HUBUD'])
    >>> sellers_from_records([dict(rows[0], m3_per_order=0)])
    Traceback (most recent call last):
    ...
    optimizer.allocation.freight.RecordError: row 1 (Acme): m3_per_order: got 0.0; ...
    """
    fields: dict[str, dict[str, Any]] = {}
    demand: dict[str, list[MarketDemand]] = {}
    first_row: dict[str, int] = {}
    for row, record in enumerate(records, start=1):
        ident = _field(record, "seller", "seller_id", "id")
        if ident is None:
            raise RecordError(row, f"row {row}", "seller", None, "a seller id")
        ident = str(ident).strip()
        first_row.setdefault(ident, row)
        known = fields.setdefault(ident, {})
        for column in ("hub", "cargo_class"):
            raw = _field(record, column)
            if raw is None:
                continue
            if column in known and known[column] != str(raw).strip():
                raise RecordError(row, ident, column, raw, f"{known[column]!r} as on row "
                                  f"{first_row[ident]}")  # fmt: skip
            known[column] = str(raw).strip()
        for column in ("preferred_warehouses", "excluded_warehouses"):
            raw = _field(record, column)
            if raw is None:
                continue
            value = frozenset(str(v).strip() for v in _as_list(raw))
            if column in known and known[column] != value:
                raise RecordError(row, ident, column, raw, "the same on every row of the seller")
            known[column] = value
        market = _field(record, "market")
        if market is None:
            raise RecordError(row, ident, "market", None, "a market (node id or name)")
        orders = _as_list(_field(record, "orders_per_week"))
        if not orders:
            raise RecordError(row, ident, "orders_per_week", None, "orders per week")
        try:
            entry = MarketDemand(
                str(market).strip(),
                tuple(
                    _as_number(row, ident, "orders_per_week", value, required=True)
                    for value in orders
                ),
                _as_number(row, ident, "m3_per_order", _field(record, "m3_per_order"),
                           required=True),
                _as_number(row, ident, "value_cny_per_order",
                           _field(record, "value_cny_per_order"), required=False),
            )  # fmt: skip
        except RecordError:
            raise
        except InvalidInputError as exc:
            raise RecordError(row, ident, exc.field, exc.value, exc.allowed) from exc
        if any(d.market == entry.market for d in demand.get(ident, [])):
            raise RecordError(row, ident, "market", entry.market, "each market once per seller")
        demand.setdefault(ident, []).append(entry)
    sellers = []
    for ident, known in fields.items():
        if "hub" not in known:
            raise RecordError(first_row[ident], ident, "hub", None, "the seller's origin hub")
        try:
            sellers.append(
                Seller(
                    ident,
                    known["hub"],
                    tuple(demand[ident]),
                    known.get("preferred_warehouses", frozenset()),
                    known.get("excluded_warehouses", frozenset()),
                    known.get("cargo_class", "general"),
                )
            )
        except InvalidInputError as exc:
            raise RecordError(first_row[ident], ident, exc.field, exc.value, exc.allowed) from exc
    return tuple(sellers)


def bookings_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[Booking, ...]:
    """Read confirmed bookings: ``warehouse``, ``week`` (or ``first_week`` and ``last_week``,
    from 1), ``pallets``, ``volume_m3`` and optional ``reference``; one booking per week.

    Examples
    --------
    >>> bookings_from_records([{"warehouse": "WH-PLLOD", "first_week": 1, "last_week": 2,
    ...                         "pallets": 40, "volume_m3": 57.6}])[1]
    Booking(warehouse_id='WH-PLLOD', week=2, usage=(40.0, 57.6), reference='')
    """
    bookings: list[Booking] = []
    for row, record in enumerate(records, start=1):
        reference = str(_field(record, "reference", "id") or "").strip()
        ident = str(_field(record, "warehouse", "warehouse_id") or "").strip()
        if not ident:
            raise RecordError(row, reference or f"row {row}", "warehouse", None, "a warehouse")
        label = reference or ident
        weeks: list[int | None] = []
        for column in ("week", "first_week", "last_week"):
            raw = _field(record, column)
            if raw is None:
                weeks.append(None)
                continue
            number = _as_number(row, label, column, raw, required=True)
            if number != int(number) or number < 1:
                raise RecordError(row, label, column, raw, "a week number >= 1")
            weeks.append(int(number))
        week, first, last = weeks
        first = first or week
        last = last or first
        if first is None or last is None or last < first:
            raise RecordError(row, label, "week", record.get("week"), "a week, or first <= last")
        usage = tuple(
            _as_number(row, label, column, _field(record, column), required=True)
            for column in RESOURCES
        )
        bookings.extend(Booking(ident, w, usage, reference) for w in range(first, last + 1))
    return tuple(bookings)


@dataclass(frozen=True)
class Inbound:
    """The route planner's cheapest option meeting the lead-time limit for one lot."""

    cost_cny_per_m3: float
    days: float
    summary: str


#: (dataset version, hub, location, lot m3, kg, ready, limit days, cargo class) -> Inbound.
_INBOUND_CACHE: dict[tuple[Any, ...], Inbound | None] = {}


def _plan_inbound(network: Network, task: tuple[Any, ...]) -> Inbound | None:
    _, hub, location, lot_m3, weight_kg, ready, limit_days, cargo_class, regime = task
    shipment = Shipment(
        hub, location, weight_kg, lot_m3, ready_at=ready,
        deadline=ready + timedelta(days=limit_days), cargo_class=cargo_class,
        customs_regime=regime, similar_within=EXACT,
    )  # fmt: skip
    plan = plan_routes(network, shipment, max_options=None)
    if not plan.options:
        return None
    best = min(plan.options, key=lambda o: (o.cost_cny, o.arrival))
    days = (best.arrival - ready).total_seconds() / 86400
    return Inbound(best.cost_cny / lot_m3, days, best.summary)


def inbound_costs(
    network: Network, tasks: Sequence[tuple[Any, ...]], *, workers: int | None = 1
) -> list[Inbound | None]:
    """Plan the ``tasks`` not cached yet in ``workers`` processes; all from the cache after.

    The cache keeps the figures of one dataset version (the first item of each task).
    """
    for key in [k for k in _INBOUND_CACHE if k[0] != network.version]:
        del _INBOUND_CACHE[key]
    missing = list(dict.fromkeys(t for t in tasks if t not in _INBOUND_CACHE))
    for task, found in zip(
        missing, map_on_network(network, _plan_inbound, missing, workers=workers), strict=True
    ):
        _INBOUND_CACHE[task] = found
    return [_INBOUND_CACHE[t] for t in tasks]


def _node(network: Network, field: str, query: str) -> str:
    try:
        return network.find_node(query)
    except UnknownPlaceError as exc:
        raise InvalidInputError(field, query, f"a known place ({exc})") from exc


def allocation_problem(
    network: Network,
    sellers: Iterable[Seller],
    warehouses: Iterable[OverseasWarehouse],
    *,
    weeks: int = WEEKS,
    start: date | None = None,
    service_days: float = SERVICE_DAYS,
    service_level: float = 0.0,
    lead_time_limit_days: float = LEAD_TIME_LIMIT_DAYS,
    single_sourcing: bool = False,
    fairness: float = 0.0,
    unserved_penalty_cny: float | None = UNSERVED_PENALTY_CNY,
    confirmed: Iterable[Booking] = (),
    stock_weeks: float = STOCK_WEEKS,
    workers: int | None = 1,
) -> AllocationProblem:
    """Build the allocation of ``sellers``' demand to ``warehouses`` over ``weeks`` weeks.

    Parameters
    ----------
    network
        The corridor network; inbound costs come from its route planner.
    sellers, warehouses
        Forecasts and warehouse terms (:func:`sellers_from_records`,
        :func:`warehouses_from_records`).
    weeks
        Length of the horizon; forecasts hold one number or ``weeks`` numbers.
    start
        Day the first replenishment is ready at the hubs (default: the dataset's date).
    service_days, service_level
        At least ``service_level`` of each market's served orders, each week, are delivered
        within ``service_days`` (0: no rule).
    lead_time_limit_days
        Inbound options must arrive within this many days; pairs with none are not used.
    single_sourcing
        One warehouse per seller and market.
    fairness
        See :class:`AllocationProblem` (0: no rule).
    unserved_penalty_cny
        Per order not served (None: every order must be served).
    confirmed
        Bookings already confirmed, ``usage`` = (pallets, volume_m3), weeks from 1.
    stock_weeks
        Weeks of sales kept in stock (storage and capacity per order of weekly demand).
    workers
        Processes for the route planner (None: every core).

    Returns
    -------
    AllocationProblem
        Customers ``seller/market``, resources ``pallets`` and ``volume_m3``, with a
        :class:`~optimizer.allocation.problem.Lane` per allowed pair.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> sellers = [Seller("Acme", "Chengdu", (MarketDemand("MKT-DE", (100,), 0.03),))]
    >>> warehouses = [OverseasWarehouse("WH-DEDUI", 400, 900, 35, 40, 6,
    ...     (MarketService("MKT-DE", 28, 2),))]
    >>> problem = allocation_problem(network, sellers, warehouses, weeks=2)
    >>> lane = problem.lanes[0]
    >>> lane.customer_id, round(lane.storage_cny, 4), lane.inbound_days < 30
    ('Acme/MKT-DE', 2.9167, True)
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 104:
        raise InvalidInputError("weeks", weeks, "an integer in [1, 104]")
    _number("service_days", service_days)
    _number("lead_time_limit_days", lead_time_limit_days, positive=True)
    _number("stock_weeks", stock_weeks, positive=True)
    if start is None:
        start = date.fromisoformat(network.date)
    if not isinstance(start, date):
        raise InvalidInputError("start", start, "a date")
    ready = datetime(start.year, start.month, start.day, tzinfo=UTC)
    sellers, warehouses = tuple(sellers), tuple(warehouses)
    if not sellers or not all(isinstance(s, Seller) for s in sellers):
        raise InvalidInputError("sellers", sellers, "at least one Seller")
    if not warehouses or not all(isinstance(w, OverseasWarehouse) for w in warehouses):
        raise InvalidInputError("warehouses", warehouses, "at least one OverseasWarehouse")
    ids = [w.warehouse_id for w in warehouses]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("warehouses", ids, "unique warehouse ids")
    if len({s.seller_id for s in sellers}) != len(sellers):
        raise InvalidInputError("sellers", [s.seller_id for s in sellers], "unique seller ids")

    locations, services = {}, {}
    for w in warehouses:
        where = w.location or w.warehouse_id
        locations[w.warehouse_id] = (
            where
            if "," in where
            else _node(network, f"warehouses[{w.warehouse_id}].location", where)
        )
        services[w.warehouse_id] = {
            _node(network, f"warehouses[{w.warehouse_id}].market", m.market): m for m in w.markets
        }
    kinds = network.nodes["kind"]

    customers, costs, lanes, on_time = [], [], [], []
    tasks: list[tuple[Any, ...]] = []
    pairs: list[tuple[int, Seller, str]] = []
    plans: list[tuple[Seller, str, MarketDemand, str]] = []
    for seller in sellers:
        hub = _node(network, f"sellers[{seller.seller_id}].hub", seller.hub)
        for name in ("preferred_warehouses", "excluded_warehouses"):
            unknown = sorted(getattr(seller, name) - set(ids))
            if unknown:
                raise InvalidInputError(
                    f"sellers[{seller.seller_id}].{name}", unknown[0], f"one of {', '.join(ids)}"
                )
        weekly_m3 = 0.0
        for entry in seller.demand:
            if len(entry.orders_per_week) not in (1, weeks):
                raise InvalidInputError(
                    f"sellers[{seller.seller_id}][{entry.market}].orders_per_week",
                    entry.orders_per_week,
                    f"one number or {weeks} (one per week)",
                )
            market = _node(network, f"sellers[{seller.seller_id}].market", entry.market)
            plans.append((seller, hub, entry, market))
            mean = sum(entry.orders_per_week) / len(entry.orders_per_week)
            weekly_m3 += mean * entry.m3_per_order
        lot_m3 = round(max(weekly_m3, MIN_LOT_M3), 2)
        for w in warehouses:
            allowed = (
                not seller.preferred_warehouses or w.warehouse_id in seller.preferred_warehouses
            ) and w.warehouse_id not in seller.excluded_warehouses
            if not allowed:
                continue
            location = locations[w.warehouse_id]
            regime = (
                "9810"
                if location in kinds.index and kinds[location] == "overseas_warehouse"
                else "general"
            )
            pairs.append((len(tasks), seller, w.warehouse_id))
            tasks.append(
                (network.version, hub, location, lot_m3, lot_m3 * KG_PER_M3, ready,
                 float(lead_time_limit_days), seller.cargo_class, regime)
            )  # fmt: skip
    inbound = inbound_costs(network, tasks, workers=workers)
    found = {(s.seller_id, w): inbound[k] for k, s, w in pairs}

    for seller, _, entry, market in plans:
        customer_id = f"{seller.seller_id}/{market}"
        orders = entry.orders_per_week * (weeks if len(entry.orders_per_week) == 1 else 1)
        pallets = entry.m3_per_order / PALLET_M3
        usage = (stock_weeks * pallets, stock_weeks * entry.m3_per_order)
        customers.append(
            Customer(customer_id, tuple(orders), usage, seller=seller.seller_id, market=market)
        )
        row, flags = [], []
        for w in warehouses:
            route = found.get((seller.seller_id, w.warehouse_id))
            service = services[w.warehouse_id].get(market)
            if route is None or service is None:
                row.append(math.inf)
                flags.append(False)
                continue
            lane = Lane(
                customer_id,
                w.warehouse_id,
                inbound_cny=route.cost_cny_per_m3 * entry.m3_per_order,
                storage_cny=w.rent_cny_per_pallet_week * stock_weeks * pallets,
                handling_cny=w.handling_cny_per_inbound_pallet * pallets + w.handling_cny_per_order,
                last_mile_cny=service.last_mile_cny_per_order,
                inbound_days=route.days,
                delivery_days=service.delivery_days,
                route=route.summary,
            )
            lanes.append(lane)
            row.append(lane.cost_cny)
            flags.append(service.delivery_days <= service_days)
        costs.append(tuple(row))
        on_time.append(tuple(flags))
    generic = tuple(
        Warehouse(
            w.warehouse_id,
            (w.pallets_per_week, w.volume_m3_per_week),
            w.fixed_cost_cny_per_week * weeks,
            tuple((week, (p, v)) for week, p, v in w.week_capacity),
        )
        for w in warehouses
    )
    return AllocationProblem(
        warehouses=generic,
        customers=tuple(customers),
        cost_cny=tuple(costs),
        resources=RESOURCES,
        on_time=tuple(on_time),
        service_level=service_level,
        single_sourcing=single_sourcing,
        fairness=fairness,
        unserved_penalty_cny=unserved_penalty_cny,
        bookings=tuple(confirmed),
        lanes=tuple(lanes),
        name=f"{len(sellers)} sellers, {len(warehouses)} warehouses, {weeks} weeks",
    )
