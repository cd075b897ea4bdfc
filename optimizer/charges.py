"""A leg's price itemised: what each charge is, how much, and on what basis.

The route search works with one price per corridor and transfer (:mod:`optimizer.costs`); the
charges here split that price into what a forwarder's quote lists: line haul, handling (THC per
container, CFS per revenue tonne for loose cargo, airport handling per chargeable kg, terminal
lifts, border and gauge-change handling), the booking's documents (bill of lading, air waybill)
and the export and import declarations. The charges of a leg always sum to its cost.
"""

from __future__ import annotations

from typing import NamedTuple

from optimizer.costs.line_haul import FCL, FTL, PRODUCTS

#: Charge kinds, in the order a quote lists them.
KINDS = (
    "line_haul",
    "thc",
    "cfs",
    "terminal_handling",
    "airport_handling",
    "loading",
    "bonded_zone_handling",
    "border",
    "documentation",
    "export_declaration",
    "import_declaration",
    # a parcel channel's price (:class:`optimizer.parcels.ChargeLine`)
    "first_weight",
    "additional_weight",
    "minimum",
    "fuel",
    "item_fee",
    "feeder",
)
#: What the documents of one booking are called, by mode.
BOOKING_DOCUMENT = {
    "sea": "bill of lading",
    "inland_water": "bill of lading (river)",
    "air": "air waybill",
    "rail": "rail waybill",
}


class Charge(NamedTuple):
    """One line of a leg's price: its kind (:data:`KINDS`), amount in CNY and basis in words."""

    kind: str
    amount_cny: float
    basis: str


def boxes_text(boxes: tuple[int, int, int]) -> str:
    """``(1, 0, 2)`` as ``"1 x 20GP + 2 x 40HQ"``.

    Examples
    --------
    >>> boxes_text((1, 0, 2))
    '1 x 20GP + 2 x 40HQ'
    """
    names = ("20GP", "40GP", "40HQ")
    return " + ".join(f"{n} x {name}" for n, name in zip(boxes, names, strict=True) if n)


def line_haul_charge(
    amount_cny: float,
    product: int,
    chargeable_kg: float,
    boxes: tuple[int, int, int],
    *,
    driving_on: bool = False,
) -> Charge:
    """The line-haul charge of a leg, its basis named by the product; ``driving_on``: a road
    leg driven on by the truck of the leg before, which pays the per-km rate alone.

    Examples
    --------
    >>> line_haul_charge(663.6, 1, 4200.0, (0, 0, 0)).basis
    'LCL: 4.20 revenue tonnes (W/M, 1 m3 = 1 t)'
    >>> line_haul_charge(9800.0, 2, 18000.0, (0, 0, 1)).basis
    'FCL: 1 x 40HQ'
    >>> line_haul_charge(12.0, 3, 5000.0, (0, 0, 1), driving_on=True).basis
    'FTL: 1 truck, driving on (per-km rate, no minimum)'
    """
    name = PRODUCTS[product]
    if product == FCL:
        basis = f"FCL: {boxes_text(boxes)}"
    elif product == FTL:
        basis = f"FTL: {boxes[2]} truck{'s' if boxes[2] != 1 else ''}"
    elif name == "LCL":
        basis = f"LCL: {chargeable_kg / 1000:,.2f} revenue tonnes (W/M, 1 m3 = 1 t)"
    elif name == "LTL":
        basis = f"LTL: {chargeable_kg / 1000:,.2f} chargeable t (1 m3 = 333 kg)"
    elif name == "AIR":
        basis = f"air: {chargeable_kg:,.1f} chargeable kg (1:6000), all-in rate"
    elif name == "EXPRESS":
        basis = f"express: {chargeable_kg:,.1f} chargeable kg (1:5000)"
    else:
        basis = name
    if driving_on:
        basis += ", driving on (per-km rate, no minimum)"
    return Charge("line_haul", amount_cny, basis)


def handling_kind(node_kind: str, boxed: bool) -> str:
    """The charge kind of a transfer's handling at a node of ``node_kind``.

    Examples
    --------
    >>> handling_kind("seaport", True), handling_kind("seaport", False)
    ('thc', 'cfs')
    """
    if node_kind == "border_crossing":
        return "border"
    if node_kind == "airport":
        return "airport_handling"
    if node_kind in ("seaport", "river_port"):
        return "thc" if boxed else "cfs"
    if node_kind == "rail_terminal":
        return "terminal_handling" if boxed else "cfs"
    if node_kind == "bonded_zone":
        return "bonded_zone_handling"
    return "loading"


def handling_charge(
    node_kind: str,
    node_name: str,
    boxed: bool,
    boxes: int,
    per_box_cny: float,
    per_loose_cny: float,
    revenue_t: float,
    air_kg: float,
) -> Charge:
    """Handling of a transfer at a node: per box or truck when boxed, else per consignment.

    Examples
    --------
    >>> charge = handling_charge("rail_terminal", "Chengdu", True, 2, 450.0, 0.0, 18.0, 0.0)
    >>> charge.kind, charge.amount_cny, charge.basis
    ('terminal_handling', 900.0, '2 boxes x CNY 450.00 at Chengdu')
    >>> handling_charge("airport", "Liège Airport", False, 0, 0.0, 1000.0, 5.0, 1000.0).basis
    '1,000.0 chargeable kg x CNY 1.000 at Liège Airport'
    """
    kind = handling_kind(node_kind, boxed)
    if boxed:
        amount = boxes * per_box_cny
        basis = f"{boxes} box{'es' if boxes != 1 else ''} x CNY {per_box_cny:,.2f} at {node_name}"
    elif node_kind == "airport":
        amount = per_loose_cny
        basis = f"{air_kg:,.1f} chargeable kg x CNY {per_loose_cny / air_kg:,.3f} at {node_name}"
    else:
        amount = per_loose_cny
        rate = per_loose_cny / revenue_t
        basis = f"{revenue_t:,.2f} W/M x CNY {rate:,.2f} at {node_name}"
    return Charge(kind, amount, basis)
