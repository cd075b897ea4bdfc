"""What an allocation run is asked: warehouses, customers' weekly demand, costs and rules.

One model serves the freight use and the textbook capacitated warehouse location problem:
warehouses with a capacity per resource and week and an optional fixed cost (charged once when a
warehouse is used), customers with demand per week and the capacity one unit of demand takes,
and a cost per unit of demand for every customer and warehouse (``math.inf``: not allowed).
The freight builder (:func:`optimizer.allocation.allocation_problem`) fills it with orders,
pallets and m3; :func:`read_orlib_cap` fills it with OR-Library instances.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Relative tolerance of the checks that bookings fit capacity and lanes add up to the cost.
_TOLERANCE = 1e-9
_ID = re.compile(r"\S")


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not _ID.search(value):
        raise InvalidInputError(name, value, "a non-empty id")


def _check_number(
    name: str, value: object, *, infinite: bool = False, positive: bool = False
) -> float:
    """``value`` as a float if it is a number >= 0 (> 0 with ``positive``), else raise."""
    allowed = "a number > 0" if positive else "a number >= 0"
    if infinite:
        allowed += " (inf: no limit)"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(name, value, allowed)
    number = float(value)
    if math.isnan(number) or number < 0 or (positive and number == 0):
        raise InvalidInputError(name, value, allowed)
    if math.isinf(number) and not infinite:
        raise InvalidInputError(name, value, allowed.replace("a number", "a finite number"))
    return number


def _numbers(
    name: str, values: object, length: int | None, *, infinite: bool = False
) -> tuple[float, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInputError(name, values, "a sequence of numbers >= 0")
    items = tuple(values)
    if length is not None and len(items) != length:
        raise InvalidInputError(name, items, f"{length} numbers")
    return tuple(
        _check_number(f"{name}[{k}]", item, infinite=infinite) for k, item in enumerate(items)
    )


@dataclass(frozen=True)
class Warehouse:
    """A place that serves demand within its capacity, at a fixed cost when it is used.

    Parameters
    ----------
    warehouse_id
        Unique id.
    capacity
        Capacity every week, one number per resource of the problem (``math.inf``: no limit).
    fixed_cost_cny
        Charged once for the horizon when the warehouse serves anything (its "opening" cost;
        0: always available at no charge).
    capacity_by_week
        ``(week, capacity)`` pairs overriding ``capacity`` in those weeks (weeks count from 1).

    Examples
    --------
    >>> w = Warehouse("W1", (400.0, 576.0), capacity_by_week=((2, (300.0, 432.0)),))
    >>> w.capacity_in(1), w.capacity_in(2)
    ((400.0, 576.0), (300.0, 432.0))
    >>> Warehouse("W2", (-1.0,))
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: capacity[0]: got -1.0; expected a number >= 0 (inf: ...
    """

    warehouse_id: str
    capacity: tuple[float, ...]
    fixed_cost_cny: float = 0.0
    capacity_by_week: tuple[tuple[int, tuple[float, ...]], ...] = ()

    def __post_init__(self) -> None:
        _check_id("warehouse_id", self.warehouse_id)
        object.__setattr__(
            self, "capacity", _numbers("capacity", self.capacity, None, infinite=True)
        )
        if not self.capacity:
            raise InvalidInputError("capacity", (), "one number per resource")
        _check_number("fixed_cost_cny", self.fixed_cost_cny)
        weeks: set[int] = set()
        overrides = []
        for pair in self.capacity_by_week:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise InvalidInputError("capacity_by_week", pair, "(week, capacity) pairs")
            week, capacity = pair
            if isinstance(week, bool) or not isinstance(week, int) or week < 1 or week in weeks:
                raise InvalidInputError("capacity_by_week", week, "distinct weeks >= 1")
            weeks.add(week)
            name = f"capacity_by_week[{week}]"
            overrides.append((week, _numbers(name, capacity, len(self.capacity), infinite=True)))
        object.__setattr__(self, "capacity_by_week", tuple(sorted(overrides)))

    def capacity_in(self, week: int) -> tuple[float, ...]:
        """Capacity per resource in ``week`` (from 1)."""
        for override_week, capacity in self.capacity_by_week:
            if override_week == week:
                return capacity
        return self.capacity


@dataclass(frozen=True)
class Customer:
    """One stream of demand: a seller in a market, or an OR-Library customer.

    Parameters
    ----------
    customer_id
        Unique id.
    demand
        Units of demand (orders) per week, one number per week (>= 0).
    usage
        Capacity one unit of weekly demand takes in its warehouse that week, per resource.
    seller
        Whose demand it is: the fairness rule compares sellers (default: the customer id).
    market
        Where it is delivered: the service level holds per market (default: the customer id).

    Examples
    --------
    >>> Customer("Acme/MKT-DE", (120.0, 150.0), (0.06, 0.09), seller="Acme", market="MKT-DE")
    Customer(customer_id='Acme/MKT-DE', demand=(120.0, 150.0), usage=(0.06, 0.09), ...)
    >>> Customer("c1", (5,)).seller
    'c1'
    """

    customer_id: str
    demand: tuple[float, ...]
    usage: tuple[float, ...] = (1.0,)
    seller: str = ""
    market: str = ""

    def __post_init__(self) -> None:
        _check_id("customer_id", self.customer_id)
        object.__setattr__(self, "demand", _numbers("demand", self.demand, None))
        if not self.demand:
            raise InvalidInputError("demand", (), "one number per week")
        object.__setattr__(self, "usage", _numbers("usage", self.usage, None))
        for name in ("seller", "market"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidInputError(name, value, "a string")
            if not value.strip():
                object.__setattr__(self, name, self.customer_id)


@dataclass(frozen=True)
class Booking:
    """Capacity already taken in one warehouse and week (a confirmed booking); kept as it is.

    Examples
    --------
    >>> Booking("WH-DEDUI", 1, (40, 57.6), reference="B-17").usage
    (40.0, 57.6)
    """

    warehouse_id: str
    week: int
    usage: tuple[float, ...]
    reference: str = ""

    def __post_init__(self) -> None:
        _check_id("warehouse_id", self.warehouse_id)
        if isinstance(self.week, bool) or not isinstance(self.week, int) or self.week < 1:
            raise InvalidInputError("week", self.week, "an integer >= 1")
        object.__setattr__(self, "usage", _numbers("usage", self.usage, None))


@dataclass(frozen=True)
class Lane:
    """Where the cost per unit of one customer at one warehouse comes from (freight use).

    The four costs per order add up to the problem's cost for the pair; ``inbound_days`` is the
    route planner's lead time from the seller's hub, ``delivery_days`` the last mile.
    """

    customer_id: str
    warehouse_id: str
    inbound_cny: float
    storage_cny: float
    handling_cny: float
    last_mile_cny: float
    inbound_days: float
    delivery_days: float
    route: str = ""

    @property
    def cost_cny(self) -> float:
        """Inbound + storage + handling + last mile, per order."""
        return self.inbound_cny + self.storage_cny + self.handling_cny + self.last_mile_cny


@dataclass(frozen=True)
class AllocationProblem:
    """Who serves which demand, each week: warehouses, customers, unit costs and the rules.

    Every unit of demand is served by an allowed warehouse or, when ``unserved_penalty_cny`` is
    given, left unserved at that penalty; a warehouse serves within its capacity minus its
    bookings, each resource and week, and only when it is used (its fixed cost paid).

    Parameters
    ----------
    warehouses, customers
        At least one of each; the customers' demand all span the same number of weeks.
    cost_cny
        ``cost_cny[c][w]``: cost per unit of customer ``c``'s demand served by warehouse ``w``;
        ``math.inf`` where ``w`` may not serve ``c``.
    resources
        Names of the capacity dimensions (``("pallets", "volume_m3")``; ``("units",)``).
    on_time
        ``on_time[c][w]``: whether ``w`` delivers to ``c``'s market within the service days.
    service_level
        Share of each market's served demand that must be delivered on time, each week (0: no
        rule). Unserved demand does not count here: it pays its penalty.
    single_sourcing
        Each customer is served by one warehouse over the whole horizon (the rest unserved).
    fairness
        Each seller's served share of its demand is at least ``fairness`` times the share served
        overall, each week (0: no rule; 1: equal shares). Only demand some warehouse may serve
        counts.
    unserved_penalty_cny
        Penalty per unit not served; None: all demand must be served (else infeasible).
    bookings
        Capacity already taken; a warehouse with bookings is used (its fixed cost is paid).
    lanes
        Optional breakdown of ``cost_cny`` for reports (see :class:`Lane`).
    name
        A label for reports.

    Examples
    --------
    >>> problem = AllocationProblem(
    ...     warehouses=(Warehouse("W1", (10.0,), 100.0), Warehouse("W2", (10.0,), 50.0)),
    ...     customers=(Customer("c1", (6.0,)), Customer("c2", (6.0,))),
    ...     cost_cny=((1.0, 3.0), (2.0, math.inf)))
    >>> problem.weeks, problem.allowed.tolist()
    (1, [[True, True], [True, False]])
    """

    warehouses: tuple[Warehouse, ...]
    customers: tuple[Customer, ...]
    cost_cny: tuple[tuple[float, ...], ...]
    resources: tuple[str, ...] = ("units",)
    on_time: tuple[tuple[bool, ...], ...] | None = None
    service_level: float = 0.0
    single_sourcing: bool = False
    fairness: float = 0.0
    unserved_penalty_cny: float | None = None
    bookings: tuple[Booking, ...] = ()
    lanes: tuple[Lane, ...] = field(default=(), repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        for name in ("warehouses", "customers", "bookings", "lanes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self._check_entities()
        self._check_matrices()
        for name in ("service_level", "fairness"):
            value = _check_number(name, getattr(self, name))
            if value > 1:
                raise InvalidInputError(name, getattr(self, name), "a share in [0, 1]")
        if self.service_level > 0 and self.on_time is None:
            raise InvalidInputError("on_time", None, "on_time for a service level > 0")
        if not isinstance(self.single_sourcing, bool):
            raise InvalidInputError("single_sourcing", self.single_sourcing, "True or False")
        if self.unserved_penalty_cny is not None:
            _check_number("unserved_penalty_cny", self.unserved_penalty_cny)
        self._check_bookings()
        self._check_lanes()

    def _check_entities(self) -> None:
        if not self.warehouses:
            raise InvalidInputError("warehouses", [], "at least one warehouse")
        if not self.customers:
            raise InvalidInputError("customers", [], "at least one customer")
        if (
            isinstance(self.resources, str)
            or not self.resources
            or not all(isinstance(r, str) and r for r in self.resources)
        ):
            raise InvalidInputError("resources", self.resources, "names of the resources")
        object.__setattr__(self, "resources", tuple(self.resources))
        for kind, items, key in (
            ("warehouses", self.warehouses, "warehouse_id"),
            ("customers", self.customers, "customer_id"),
        ):
            seen: set[str] = set()
            for item in items:
                ident = getattr(item, key)
                if ident in seen:
                    raise InvalidInputError(f"{kind}.{key}", ident, "unique ids")
                seen.add(ident)
        for warehouse in self.warehouses:
            if len(warehouse.capacity) != len(self.resources):
                raise InvalidInputError(
                    f"warehouses[{warehouse.warehouse_id}].capacity",
                    warehouse.capacity,
                    f"{len(self.resources)} numbers, one per resource {self.resources}",
                )
        weeks = len(self.customers[0].demand)
        for customer in self.customers:
            if len(customer.demand) != weeks:
                raise InvalidInputError(
                    f"customers[{customer.customer_id}].demand",
                    customer.demand,
                    f"{weeks} numbers, one per week like the first customer",
                )
            if len(customer.usage) != len(self.resources):
                raise InvalidInputError(
                    f"customers[{customer.customer_id}].usage",
                    customer.usage,
                    f"{len(self.resources)} numbers, one per resource {self.resources}",
                )
        for warehouse in self.warehouses:
            for week, _ in warehouse.capacity_by_week:
                if week > weeks:
                    raise InvalidInputError(
                        f"warehouses[{warehouse.warehouse_id}].capacity_by_week",
                        week,
                        f"weeks 1..{weeks}",
                    )

    def _check_matrices(self) -> None:
        shape = (len(self.customers), len(self.warehouses))
        try:
            costs = np.array(self.cost_cny, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                "cost_cny", "(not numeric)", f"{shape[0]} rows of {shape[1]} numbers"
            ) from exc
        if costs.shape != shape:
            raise InvalidInputError("cost_cny", costs.shape, f"{shape[0]} rows of {shape[1]}")
        bad = np.isnan(costs) | (costs < 0)
        if bad.any():
            c, w = (int(k) for k in np.argwhere(bad)[0])
            raise InvalidInputError(
                f"cost_cny[{self.customers[c].customer_id}][{self.warehouses[w].warehouse_id}]",
                float(costs[c, w]),
                "a number >= 0, or inf where not allowed",
            )
        costs.flags.writeable = False
        self.__dict__["cost_array"] = costs
        if self.on_time is not None:
            flags = np.array(self.on_time, dtype=object)
            if flags.shape != shape or not all(isinstance(v, bool | np.bool_) for v in flags.flat):
                raise InvalidInputError(
                    "on_time", "(shape or type)", f"{shape[0]} rows of {shape[1]} booleans"
                )

    def _check_bookings(self) -> None:
        ids = {w.warehouse_id for w in self.warehouses}
        booked: dict[tuple[str, int], FloatArray] = {}
        for booking in self.bookings:
            if not isinstance(booking, Booking):
                raise InvalidInputError("bookings", booking, "Booking objects")
            if booking.warehouse_id not in ids:
                raise InvalidInputError(
                    "bookings.warehouse_id", booking.warehouse_id, "a warehouse of the problem"
                )
            if booking.week > self.weeks:
                raise InvalidInputError("bookings.week", booking.week, f"weeks 1..{self.weeks}")
            if len(booking.usage) != len(self.resources):
                raise InvalidInputError(
                    "bookings.usage", booking.usage, f"one number per resource {self.resources}"
                )
            key = (booking.warehouse_id, booking.week)
            booked[key] = booked.get(key, np.zeros(len(self.resources))) + booking.usage
        by_id = {w.warehouse_id: w for w in self.warehouses}
        for (warehouse_id, week), usage in booked.items():
            capacity = np.array(by_id[warehouse_id].capacity_in(week))
            over = usage > capacity * (1 + _TOLERANCE) + _TOLERANCE
            if over.any():
                r = int(np.argmax(over))
                raise InvalidInputError(
                    "bookings",
                    f"{usage[r]:g} {self.resources[r]} in {warehouse_id} week {week}",
                    f"at most its capacity {capacity[r]:g}",
                )

    def _check_lanes(self) -> None:
        if not self.lanes:
            return
        customer = {c.customer_id: k for k, c in enumerate(self.customers)}
        warehouse = {w.warehouse_id: k for k, w in enumerate(self.warehouses)}
        costs = self.cost_array
        for lane in self.lanes:
            if lane.customer_id not in customer or lane.warehouse_id not in warehouse:
                raise InvalidInputError(
                    "lanes", (lane.customer_id, lane.warehouse_id), "pairs of the problem"
                )
            cost = costs[customer[lane.customer_id], warehouse[lane.warehouse_id]]
            if not math.isclose(lane.cost_cny, cost, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE):
                raise InvalidInputError(
                    f"lanes[{lane.customer_id}][{lane.warehouse_id}]",
                    lane.cost_cny,
                    f"parts adding up to cost_cny {cost:g}",
                )

    @property
    def weeks(self) -> int:
        """Number of weeks of the horizon."""
        return len(self.customers[0].demand)

    @property
    def cost_array(self) -> FloatArray:
        """``cost_cny`` as a read-only (customers x warehouses) array."""
        array: FloatArray = self.__dict__["cost_array"]
        return array

    @cached_property
    def allowed(self) -> BoolArray:
        """(customers x warehouses): where the cost is finite."""
        return np.isfinite(self.cost_array)

    @cached_property
    def demand_array(self) -> FloatArray:
        """(customers x weeks) demand."""
        return np.array([c.demand for c in self.customers], dtype=np.float64)

    @cached_property
    def booked_array(self) -> FloatArray:
        """(warehouses x resources x weeks): capacity taken by bookings."""
        index = {w.warehouse_id: k for k, w in enumerate(self.warehouses)}
        booked = np.zeros((len(self.warehouses), len(self.resources), self.weeks))
        for booking in self.bookings:
            booked[index[booking.warehouse_id], :, booking.week - 1] += booking.usage
        return booked

    @cached_property
    def capacity_array(self) -> FloatArray:
        """(warehouses x resources x weeks): capacity before bookings."""
        return np.array(
            [
                np.array([w.capacity_in(t + 1) for t in range(self.weeks)]).T
                for w in self.warehouses
            ],
            dtype=np.float64,
        ).reshape(len(self.warehouses), len(self.resources), self.weeks)

    @cached_property
    def on_time_array(self) -> BoolArray:
        """(customers x warehouses): on time (all True without ``on_time``)."""
        if self.on_time is None:
            return np.ones(self.cost_array.shape, dtype=np.bool_)
        return np.array(self.on_time, dtype=np.bool_)


def read_orlib_cap(path: str | Path, capacity: float | None = None) -> AllocationProblem:
    """Read an OR-Library capacitated warehouse location instance (``cap41`` ... ``capc``).

    The file holds ``m n``; ``m`` lines ``capacity fixed_cost``; then for each customer its
    demand and ``m`` costs of serving *all* of it from each warehouse. Demand may be split
    (the published optima are for that problem), so the cost per unit is the cost divided by
    the demand. In ``capa``, ``capb`` and ``capc`` every capacity is the word ``capacity``,
    which ``capacity`` replaces. Warehouses are ``w1`` ... ``wm``, customers ``c1`` ... ``cn``;
    one week, one resource (``units``); all demand must be served.

    Parameters
    ----------
    path
        The instance file.
    capacity
        The capacity of every warehouse in files that give the word ``capacity``.

    Raises
    ------
    optimizer.errors.InvalidInputError
        For a missing or superfluous ``capacity``, or a malformed file (``path``).

    Examples
    --------
    >>> import tempfile
    >>> text = "2 2\\n10 100\\ncapacity 50\\n4 8 12\\n6 6 3\\n"
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write(text)
    >>> problem = read_orlib_cap(f.name, capacity=20)
    >>> [w.capacity for w in problem.warehouses], problem.cost_cny
    ([(10.0,), (20.0,)], ((2.0, 3.0), (1.0, 0.5)))
    >>> read_orlib_cap(f.name)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: capacity: got None; expected a number > 0 for a file ...
    >>> Path(f.name).unlink()
    """
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except OSError as exc:
        raise InvalidInputError("path", str(path), "a readable OR-Library file") from exc
    uses_word = "capacity" in tokens
    if uses_word and capacity is None:
        raise InvalidInputError(
            "capacity", None, "a number > 0 for a file whose capacities are the word 'capacity'"
        )
    if not uses_word and capacity is not None:
        raise InvalidInputError(
            "capacity", capacity, "None: this file gives its capacities as numbers"
        )
    word_capacity = _check_number("capacity", capacity, positive=True) if uses_word else 0.0

    def number(k: int, what: str) -> float:
        try:
            return float(tokens[k])
        except (IndexError, ValueError) as exc:
            got = tokens[k] if k < len(tokens) else "(end of file)"
            raise InvalidInputError("path", f"{path.name}: {got!r}", f"a number ({what})") from exc

    m, n = int(number(0, "warehouses")), int(number(1, "customers"))
    if m < 1 or n < 1:
        raise InvalidInputError("path", f"{path.name}: {m} {n}", "m >= 1 warehouses, n >= 1")
    if len(tokens) != 2 + 2 * m + n * (1 + m):
        raise InvalidInputError(
            "path", f"{path.name}: {len(tokens)} numbers", f"{2 + 2 * m + n * (1 + m)} numbers"
        )
    warehouses = []
    for i in range(m):
        k = 2 + 2 * i
        cap = word_capacity if tokens[k] == "capacity" else number(k, "capacity")
        warehouses.append(Warehouse(f"w{i + 1}", (cap,), number(k + 1, "fixed cost")))
    customers, costs = [], []
    start = 2 + 2 * m
    for j in range(n):
        k = start + j * (1 + m)
        demand = number(k, "demand")
        totals = [number(k + 1 + i, "cost") for i in range(m)]
        customers.append(Customer(f"c{j + 1}", (demand,)))
        costs.append(tuple(t / demand if demand > 0 else 0.0 for t in totals))
    return AllocationProblem(tuple(warehouses), tuple(customers), tuple(costs), name=path.stem)
