"""Slow reference twins of the kernels, written straight from the dataset tables.

They share no code with the kernels or with :mod:`optimizer._compile`: tariffs come from
:meth:`Network.tariffs_for`, container mixes are enumerated exhaustively, departures are found by
walking the calendar day by day in the origin's time zone. The tests compare each kernel with
its twin.
"""

from __future__ import annotations

import itertools
import math
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from network_data import Network
from network_data.schema import PARITY_ANCHOR, runs_in_week
from network_data.validate import records
from optimizer.model import Shipment

AIR_KG_PER_M3 = 1e6 / 6000
EXPRESS_KG_PER_M3 = 1e6 / 5000
ROAD_KG_PER_M3 = 1e6 / 3000
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _half_kg_up(kg: float) -> float:
    return math.ceil(kg * 2 - 1e-9) / 2


def reference_line_haul_cny(
    network: Network, corridor_id: str, weight_kg: float, volume_m3: float
) -> float:
    """Cheapest line-haul charge of a shipment on one corridor, in CNY (inf if unpriced).

    See :func:`reference_line_haul` for the product and the number of containers.

    Examples
    --------
    800 kg / 4.2 m3 LCL on the Chongqing-Qinzhou train: 4.2 revenue tonnes x
    (CNY 60 + 0.08 x 1,225 km) = CNY 663.6.

    >>> from network_data import load_network
    >>> round(reference_line_haul_cny(load_network(), "RAIL-CNCKG-RLY-CNQZH", 800, 4.2), 2)
    663.6
    """
    return reference_line_haul(network, corridor_id, weight_kg, volume_m3)[0]


#: Products each load basis may use.
BASIS_PRODUCTS = {
    "loose": ("LCL", "FTL", "LTL", "AIR", "EXPRESS"),
    "boxed": ("FCL", "FTL"),
    None: ("LCL", "FCL", "FTL", "LTL", "AIR", "EXPRESS"),
}


def reference_line_haul(
    network: Network,
    corridor_id: str,
    weight_kg: float,
    volume_m3: float,
    *,
    continues_road: bool = False,
    basis: str | None = None,
    per_box_cny: float = 0.0,
    per_loose_cny: float = 0.0,
) -> tuple[float, str, int]:
    """Cheapest line-haul charge in CNY, the product chosen and its number of containers.

    With ``continues_road`` (a road leg right after a road leg: the same truck drives on) the
    fixed part of road rates and their minimum charges are not paid again. Only the products
    of ``basis`` are tried, each also paying the handling of a transfer: ``per_box_cny`` per
    box or truck and ``per_loose_cny`` per consignment (boxes excepted).
    """
    corridor = network.corridors.loc[corridor_id]
    distance_km = float(corridor["distance_km"])
    rows = network.tariffs_for(corridor_id)
    price: dict[str, float] = {}
    minimum: dict[str, float] = {}
    breaks: dict[str, list[tuple[float, float]]] = {"kg": [], "express_kg": []}
    surcharge_per_kg = 0.0
    for row in records(rows):
        if row.unit in ("fuel_kg", "security_kg"):
            surcharge_per_kg += network.to_cny(row.rate, row.currency)
            continue
        if row.unit == "booking":
            continue
        fixed = 0.0 if continues_road and row.unit in ("truck", "ltl_t") else row.rate
        rate = network.to_cny(fixed + row.rate_per_km * distance_km, row.currency)
        if row.unit in breaks:
            breaks[row.unit].append((row.break_from, rate))
        else:
            price[row.unit] = rate
        no_minimum = continues_road and row.unit in ("truck", "ltl_t")
        minimum[row.unit] = 0.0 if no_minimum else network.to_cny(row.min_charge, row.currency)
    candidates: list[tuple[float, str, int]] = [(math.inf, "none", 0)]
    revenue_t = max(weight_kg / 1000, volume_m3)
    if "wm" in price:
        candidates.append((max(revenue_t * price["wm"], minimum["wm"]) + per_loose_cny, "LCL", 0))
    boxes = {
        kind: (float(row.usable_volume_m3), float(row.max_payload_kg))
        for kind, row in zip(
            network.container_types.index, records(network.container_types), strict=True
        )
    }
    kinds = [k for k in ("20GP", "40GP", "40HQ") if f"container:{k}" in price]
    if kinds:
        bound = 1 + max(
            math.ceil(volume_m3 / boxes["20GP"][0]),
            math.ceil(weight_kg / boxes["20GP"][1]),
        )
        for counts in itertools.product(range(bound + 1), repeat=len(kinds)):
            capacity_m3 = sum(n * boxes[k][0] for n, k in zip(counts, kinds, strict=True))
            payload_kg = sum(n * boxes[k][1] for n, k in zip(counts, kinds, strict=True))
            if capacity_m3 + 1e-9 >= volume_m3 and payload_kg + 1e-9 >= weight_kg:
                charge = sum(
                    n * (price[f"container:{k}"] + per_box_cny)
                    for n, k in zip(counts, kinds, strict=True)
                )
                candidates.append((charge, "FCL", sum(counts)))
    if "truck" in price:
        trucks = max(
            math.ceil(volume_m3 / boxes["40HQ"][0] - 1e-9),
            math.ceil(weight_kg / boxes["40HQ"][1] - 1e-9),
        )
        truck_charge = max(trucks * price["truck"], minimum["truck"])
        candidates.append((truck_charge + trucks * per_box_cny + per_loose_cny, "FTL", trucks))
    if "ltl_t" in price:
        ltl_t = max(weight_kg, volume_m3 * ROAD_KG_PER_M3) / 1000
        candidates.append((max(ltl_t * price["ltl_t"], minimum["ltl_t"]) + per_loose_cny, "LTL", 0))
    for unit, kg_per_m3, name in (
        ("kg", AIR_KG_PER_M3, "AIR"),
        ("express_kg", EXPRESS_KG_PER_M3, "EXPRESS"),
    ):
        if breaks[unit]:
            chargeable = _half_kg_up(max(weight_kg, volume_m3 * kg_per_m3))
            best = max(min(max(chargeable, b) * r for b, r in breaks[unit]), minimum[unit])
            if name == "AIR":
                best += surcharge_per_kg * chargeable
            candidates.append((best + per_loose_cny, name, 0))
    allowed = BASIS_PRODUCTS[basis]
    return min((c for c in candidates if c[1] in allowed or c[1] == "none"), key=lambda c: c[0])


def reference_next_departure(
    network: Network, corridor_id: str, ready: datetime, *, off_a_train: bool = False
) -> tuple[datetime, str] | None:
    """First departure of a scheduled corridor whose booking cut-off is at or after ``ready``.

    Walks the calendar in the origin's local time, one day at a time, for up to 8 weeks. A box
    ``off_a_train`` (booked rail-sea through) meets a service's ``rail_cutoff_h`` where it has
    one.
    """
    origin = network.corridors.at[corridor_id, "origin"]
    zone = ZoneInfo(str(network.nodes.at[origin, "timezone"]))
    services = network.services[network.services["corridor_id"] == corridor_id]
    best: tuple[datetime, str] | None = None
    start = ready.astimezone(zone).date() - timedelta(days=3)
    for offset in range(60):
        day = start + timedelta(days=offset)
        week_index = (day - PARITY_ANCHOR).days // 7
        for service in records(services):
            if _DAYS[day.weekday()] not in service.weekdays:
                continue
            if not runs_in_week(service.week_parity, week_index):
                continue
            hour, minute = map(int, service.departure_local.split(":"))
            local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            departure = local.astimezone(UTC)  # absolute time: DST changes shift no hours
            cutoff_h = service.cutoff_h
            if off_a_train and not math.isnan(service.rail_cutoff_h):
                cutoff_h = service.rail_cutoff_h
            if departure - timedelta(hours=cutoff_h) >= ready and (
                best is None or departure < best[0]
            ):
                best = (departure, str(service.service_name))
        if best is not None and best[0].astimezone(zone).date() < day:
            break
    return best


_TABLES: weakref.WeakKeyDictionary[Network, tuple[dict[str, Any], dict[str, Any], dict[str, float]]]
_TABLES = weakref.WeakKeyDictionary()


def _tables(network: Network) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """Rows of nodes and corridors by id and passage dwell, built once per network."""
    if network not in _TABLES:
        _TABLES[network] = (
            dict(zip(network.nodes.index, records(network.nodes), strict=True)),
            dict(zip(network.corridors.index, records(network.corridors), strict=True)),
            dict(
                zip(
                    network.passages.index, network.passages["dwell_median_h"].tolist(), strict=True
                )
            ),
        )
    return _TABLES[network]


def _fee(network: Network, scope: str, unit: str) -> float | None:
    rows = network.tariffs[(network.tariffs["scope"] == scope) & (network.tariffs["unit"] == unit)]
    if rows.empty:
        return None
    return network.to_cny(float(rows["rate"].iloc[0]), str(rows["currency"].iloc[0]))


def reference_declarations_cny(network: Network, origin_country: str, to_country: str) -> float:
    """Export plus import declaration fees of a move between two countries (0 within one)."""
    if origin_country == to_country:
        return 0.0
    out = _fee(network, f"customs:{origin_country}", "export_declaration")
    into = _fee(network, f"customs:{to_country}", "import_declaration")
    out = _fee(network, "customs", "export_declaration") if out is None else out
    into = _fee(network, "customs", "import_declaration") if into is None else into
    return (out or 0.0) + (into or 0.0)


def reference_path_value(
    network: Network,
    path: list[str],
    shipment: Shipment,
    horizon: timedelta = timedelta(days=90),
    basis: str = "loose",
) -> tuple[float, float, float] | None:
    """(hours from ready to arrival, cost CNY, CO2e kg) of one corridor path, or None; where a
    through train runs on along the path, the value staying aboard (see
    :func:`reference_path_values`)."""
    values = reference_path_values(network, path, shipment, horizon, basis)
    return values[0] if values else None


def reference_path_values(
    network: Network,
    path: list[str],
    shipment: Shipment,
    horizon: timedelta = timedelta(days=90),
    basis: str = "loose",
) -> list[tuple[float, float, float]]:
    """Every (hours from ready to arrival, cost CNY, CO2e kg) one corridor path can have.

    The route planner's rules written out once more, leg by leg, for brute-force checks:
    border dwell at every node passed; handling time and cost where the mode changes, a
    scheduled service is joined or left, or the gauge changes, and the handling cost and the
    booking's documents also on a first leg that is not by road; handling per box when
    ``basis`` is boxed, else per revenue tonne (per chargeable air kg at airports); the next
    bookable departure on scheduled corridors; passage dwell; road legs that continue a road
    leg pay no second base charge; an export must clear at a Chinese node handling its regime
    before it leaves China; the export and import declarations between two countries. A path
    that ends off a train, ship or plane pays the destination's handling (per 40HQ-truckload
    of boxes, or per consignment). Where a through train (``through_services.csv``) runs on
    along the path, the cargo may stay aboard (its timetable, no transfer, no cut-off) or be
    booked anew: one value each, staying first. Empty when the path breaks a rule or exceeds
    ``horizon``.
    """
    nodes, corridors, passage_dwell = _tables(network)
    first = nodes[corridors[path[0]].origin]
    last = nodes[corridors[path[-1]].destination]
    need_export = first.country == "CN" and last.country != "CN"
    revenue_t = max(shipment.weight_kg / 1000, shipment.volume_m3)
    air_t = _half_kg_up(max(shipment.weight_kg, shipment.volume_m3 * AIR_KG_PER_M3)) / 1000
    names = dict(zip(network.services["service_id"], network.services["service_name"],
                     strict=True))  # fmt: skip
    through = {names[row.service_id]: row for row in records(network.through_services)}

    def clears(node: Any) -> bool:
        return bool(node.country == "CN" and shipment.customs_regime in node.regimes)

    def run_h(row: Any) -> float:
        return float(row.duration_h) + sum(passage_dwell[p] for p in row.passages)

    def train_runs_on(service: str, depart: datetime, row: Any) -> list[tuple[str, datetime]]:
        if service not in through:
            return []
        chain, t, current = [], depart, row
        for corridor_id, dwell in zip(through[service].corridors, through[service].dwell_h,
                                      strict=True):  # fmt: skip
            t = t + timedelta(hours=run_h(current) + float(dwell))
            chain.append((corridor_id, t))
            current = corridors[corridor_id]
        return chain

    if basis == "boxed":
        types = network.container_types
        hq = dict(zip(types.index, records(types), strict=True))["40HQ"]
        trucks = max(math.ceil(shipment.volume_m3 / hq.usable_volume_m3 - 1e-9),
                     math.ceil(shipment.weight_kg / hq.max_payload_kg - 1e-9))  # fmt: skip
        unloaded_cny = trucks * last.handling_cost_cny_per_container
    else:
        unloaded_t = air_t if last.kind == "airport" else revenue_t
        unloaded_cny = unloaded_t * last.handling_cost_cny_per_t
    values: list[tuple[float, float, float]] = []

    def walk(
        i: int, time: datetime, cost: float, co2e: float, cleared: bool, previous: Any,
        scheduled: bool, aboard: list[tuple[str, datetime]],
    ) -> None:  # fmt: skip
        if i == len(path):
            if previous.mode != "road":  # unloaded off the train, ship or plane
                cost += unloaded_cny
            values.append(((time - shipment.ready_at).total_seconds() / 3600, cost, co2e))
            return
        corridor_id = path[i]
        row = corridors[corridor_id]
        u, v = nodes[row.origin], nodes[row.destination]
        if need_export and u.country == "CN" and v.country != "CN" and not cleared:
            return
        dwell_h = 0.0
        if previous is not None and not math.isnan(u.dwell_median_h):
            dwell_h = u.dwell_median_h
        for stay in (True, False):
            if stay and not (aboard and aboard[0][0] == corridor_id):
                continue
            if stay:
                transfer = bool(u.gauge_change or u.kind == "bonded_zone")
                charged = transfer
            else:
                transfer = previous is not None and (
                    previous.mode != row.mode or scheduled or row.scheduled
                    or u.gauge_change or u.kind == "bonded_zone"
                )  # fmt: skip
                charged = transfer or (previous is None and row.mode != "road")
            per_box = per_loose = 0.0
            if charged and basis == "boxed":
                per_box = u.handling_cost_cny_per_container
            elif charged:
                per_t = u.handling_cost_cny_per_t
                per_loose = (air_t if u.kind == "airport" else revenue_t) * per_t
            line_haul, _, _ = reference_line_haul(
                network, corridor_id, shipment.weight_kg, shipment.volume_m3,
                continues_road=(
                    not stay and previous is not None and previous.mode == row.mode == "road"
                ),
                basis=basis, per_box_cny=per_box, per_loose_cny=per_loose,
            )  # fmt: skip
            if math.isinf(line_haul):
                continue
            fees = 0.0
            if charged:
                booking = network.tariffs_for(corridor_id)
                booking = booking[booking["unit"] == "booking"]
                if not booking.empty:
                    fees = network.to_cny(
                        float(booking["rate"].iloc[0]), str(booking["currency"].iloc[0])
                    )
            ready = time + timedelta(hours=dwell_h + (u.handling_h if transfer else 0.0))
            runs_on: list[tuple[str, datetime]] = []
            if stay:
                depart = max(aboard[0][1], ready)
                runs_on = aboard[1:]
            elif row.scheduled:
                departure = reference_next_departure(
                    network, corridor_id, ready,
                    off_a_train=scheduled and previous is not None and previous.mode == "rail",
                )  # fmt: skip
                if departure is None:
                    continue
                depart = departure[0]
                runs_on = train_runs_on(departure[1], depart, row)
            else:
                depart = ready
            arrive = depart + timedelta(hours=run_h(row))
            if arrive - shipment.ready_at > horizon:
                continue
            walk(
                i + 1, arrive, cost + line_haul + fees,
                co2e + shipment.weight_kg / 1000 * row.distance_km * row.co2e_g_per_tkm / 1000,
                cleared or clears(v), row, stay or bool(row.scheduled), runs_on,
            )  # fmt: skip

    walk(
        0, shipment.ready_at.astimezone(UTC),
        reference_declarations_cny(network, first.country, last.country), 0.0, clears(first),
        None, False, [],
    )  # fmt: skip
    return values
