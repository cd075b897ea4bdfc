"""Names, enumerations and column specifications of the corridor dataset.

Every file in ``network_data/data`` is described here once; the loader, the validator and the
documentation read these tables rather than repeating column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, get_args

CRS: Final = "EPSG:4326"

#: The modes of transport, each written once here: the API's schemas, the scenario files, the
#: planner and the dataset's columns take them from this type.
Mode = Literal["road", "rail", "inland_water", "sea", "air"]
MODES: Final[tuple[str, ...]] = get_args(Mode)

NODE_KINDS: Final = (
    "city",
    "industrial_park",
    "rail_terminal",
    "river_port",
    "seaport",
    "airport",
    "border_crossing",
    "bonded_zone",
    "dry_port",
    "express_hub",
    "overseas_warehouse",
    "market",
)
#: Kinds whose nodes must be reachable by at least one corridor.
DESTINATION_KINDS: Final = ("market", "overseas_warehouse")

#: Chinese customs supervision codes for cross-border e-commerce, plus ordinary trade.
CustomsRegime = Literal["9610", "9710", "9810", "1210", "general"]
CUSTOMS_REGIMES: Final[tuple[str, ...]] = get_args(CustomsRegime)

LITHIUM_RULES: Final = ("allowed", "forbidden")

#: Whether a node, corridor or service runs today. Plans use operating ones only; a scenario's
#: ``open`` change switches the others on (:attr:`network_data.Network.planned`).
FACILITY_STATUSES: Final = ("operating", "under_construction", "planned")

#: Whether the main container carriers sail through a passage on a date (``passage_status.csv``).
PASSAGE_STATUSES: Final = ("open", "avoided")

WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Which weeks a service runs in, counted from :data:`PARITY_ANCHOR`: every week, every other
#: week (``odd`` from the anchor's week, ``even`` the others), or every fourth week from the
#: anchor's (``4-weekly``: a train "once a month").
WEEK_PARITIES: Final = ("all", "odd", "even", "4-weekly")
#: Weeks counted from this Monday (ISO week 1 of 2024, odd), so "every other week" stays every
#: other week across 53-week years.
PARITY_ANCHOR: Final = date(2024, 1, 1)
#: Week cycle and the week of it a service runs in, by parity.
_PARITY_CYCLE: Final = {"all": (1, 0), "odd": (2, 0), "even": (2, 1), "4-weekly": (4, 0)}
#: Share of weeks a service runs in, by parity.
PARITY_SHARE: Final = {parity: 1 / cycle for parity, (cycle, _) in _PARITY_CYCLE.items()}


def runs_in_week(parity: str, week_index: Any) -> Any:
    """Whether a service of ``parity`` runs in week ``week_index`` (weeks since
    :data:`PARITY_ANCHOR`; an int or a numpy array).

    Examples
    --------
    >>> [runs_in_week("4-weekly", w) for w in range(5)]
    [True, False, False, False, True]
    >>> runs_in_week("even", 3), runs_in_week("all", 7)
    (True, True)
    """
    cycle, week = _PARITY_CYCLE[parity]
    return week_index % cycle == week


CONTAINER_TYPES: Final = ("20GP", "40GP", "40HQ")
#: Every unit load of ``container_types.csv``: the dry boxes the route planner prices, reefer
#: boxes (priced as their dry equivalent times ``rate_factor``) and the PMC air pallet.
UNIT_LOAD_TYPES: Final = (*CONTAINER_TYPES, "20RF", "40RH", "PMC")
UNIT_LOAD_KINDS: Final = ("dry", "reefer", "air_pallet")
#: Tariff units and the modes they may be used for. ``container:*`` is per box, ``wm`` per revenue
#: tonne (1 m3 = 1000 kg), ``kg`` per chargeable kg (air 1:6000), ``express_kg`` per chargeable kg
#: (1:5000), ``truck`` per full truck and ``ltl_t`` per chargeable tonne of road groupage (1:3000);
#: ``fuel_kg`` and ``security_kg`` are air surcharges per chargeable kg, ``booking`` the documents
#: of one booking (bill of lading, air waybill, rail waybill), and the ``customs`` scope
#: (``customs[:<country>]``) holds the fee of one export or import declaration.
TARIFF_UNITS: Final[dict[str, tuple[str, ...]]] = {
    **{f"container:{c}": ("rail", "sea", "inland_water") for c in CONTAINER_TYPES},
    "wm": ("rail", "sea", "inland_water"),
    "kg": ("air",),
    "express_kg": ("air",),
    "fuel_kg": ("air",),
    "security_kg": ("air",),
    "booking": ("rail", "sea", "inland_water", "air"),
    "truck": ("road",),
    "ltl_t": ("road",),
    "export_declaration": ("customs",),
    "import_declaration": ("customs",),
}

#: Units that price the freight itself; a corridor priced by none of them cannot carry cargo.
FREIGHT_UNITS: Final = tuple(
    unit for unit in TARIFF_UNITS if unit.startswith("container:") or unit in (
        "wm", "kg", "express_kg", "truck", "ltl_t")
)  # fmt: skip

#: Cut-off for "geometry endpoint far from its node".
MAX_ENDPOINT_OFFSET_KM: Final = 25.0

ColumnKind = Literal["str", "float", "int", "bool", "list"]


@dataclass(frozen=True)
class Column:
    """One column of a dataset file.

    Parameters
    ----------
    name
        Column header.
    kind
        ``str``, ``float``, ``int``, ``bool`` or ``list`` (``|``-separated strings).
    required
        Whether an empty cell is an error.
    minimum, maximum
        Allowed range for numeric columns.
    choices
        Allowed values (for ``list`` columns: allowed items).
    separator
        Item separator of ``list`` columns.
    """

    name: str
    kind: ColumnKind = "str"
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    separator: str = "|"


def _num(name: str, *, required: bool = True, minimum: float = 0.0) -> Column:
    return Column(name, "float", required=required, minimum=minimum)


#: ``operating`` (empty: operating), ``under_construction`` or ``planned``, and the year it
#: opens where a source gives one: columns of nodes, corridors and services.
STATUS_COLUMNS: Final = (
    Column("status", required=False, choices=FACILITY_STATUSES),
    Column("opens_year", "int", required=False, minimum=1990, maximum=2100),
)

NODE_COLUMNS: Final = (
    Column("id"),
    Column("name_en"),
    Column("name_zh"),
    Column("kind", choices=NODE_KINDS),
    Column("country"),
    Column("lat", "float", minimum=-90.0, maximum=90.0),
    Column("lon", "float", minimum=-180.0, maximum=180.0),
    Column("modes", "list", choices=MODES),
    Column("regimes", "list", required=False, choices=CUSTOMS_REGIMES),
    _num("handling_h"),
    _num("handling_cost_cny_per_container"),
    _num("handling_cost_cny_per_t"),
    _num("dwell_median_h", required=False),
    _num("dwell_p90_h", required=False),
    Column("gauge_change", "bool"),
    Column("unlocode", required=False),
    Column("iata", required=False),
    #: The city (``cities.csv``) whose terminals this node is one of; a city-kind node is its
    #: own city.
    Column("city", required=False),
    Column("timezone"),
    Column("aliases", "list", required=False),
    *STATUS_COLUMNS,
    Column("source", "list", separator=";"),
)

#: Cities people name that no city-kind node stands for: a name in English and Chinese,
#: aliases, and a centre point; their terminals name them in ``nodes.csv`` ``city``.
CITY_COLUMNS: Final = (
    Column("id"),
    Column("name_en"),
    Column("name_zh"),
    Column("country"),
    Column("lat", "float", minimum=-90.0, maximum=90.0),
    Column("lon", "float", minimum=-180.0, maximum=180.0),
    Column("aliases", "list", required=False),
    Column("source", "list", separator=";"),
)

CORRIDOR_COLUMNS: Final = (
    Column("id"),
    Column("origin"),
    Column("destination"),
    Column("mode", choices=MODES),
    Column("vehicle"),
    Column("service_name", required=False),
    Column("scheduled", "bool"),
    _num("distance_km"),
    _num("duration_min_h"),
    _num("duration_h"),
    _num("duration_p90_h"),
    _num("capacity_teu_per_departure"),
    _num("capacity_t_per_departure"),
    _num("departures_per_week", required=False),
    Column("reefer", "bool"),
    Column("lithium_batteries", choices=LITHIUM_RULES),
    Column("passages", "list", required=False),
    Column("via", "list", required=False),
    Column("reverse_id", required=False),
    *STATUS_COLUMNS,
    Column("source", "list", separator=";"),
)

SERVICE_COLUMNS: Final = (
    Column("service_id"),
    Column("corridor_id"),
    Column("service_name"),
    Column("weekdays", "list", choices=WEEKDAYS),
    Column("departure_local"),
    _num("cutoff_h"),
    #: A sailing's cut-off for a box that arrives on a booked train (rail-sea through booking:
    #: cleared inland, shunted to the quay); empty where only ``cutoff_h`` applies.
    _num("rail_cutoff_h", required=False),
    Column("week_parity", choices=WEEK_PARITIES),
    *STATUS_COLUMNS,
    Column("source", "list", separator=";"),
)

TARIFF_COLUMNS: Final = (
    Column("scope"),
    Column("unit", choices=tuple(TARIFF_UNITS)),
    _num("break_from"),
    _num("rate"),
    _num("rate_per_km"),
    _num("min_charge"),
    Column("currency"),
    Column("quoted_on"),
    Column("valid_from"),
    Column("valid_to"),
    Column("source", "list", separator=";"),
)

FX_COLUMNS: Final = (
    Column("currency"),
    _num("cny_per_unit"),
    _num("cny_per_unit_low"),
    _num("cny_per_unit_high"),
    Column("as_of"),
    Column("source", "list", separator=";"),
)

EMISSION_COLUMNS: Final = (
    Column("vehicle"),
    Column("mode", choices=MODES),
    _num("co2e_g_per_tkm"),
    _num("co2e_g_per_tkm_low"),
    _num("co2e_g_per_tkm_high"),
    Column("scope"),
    Column("source", "list", separator=";"),
)

CONTAINER_COLUMNS: Final = (
    Column("container_type", choices=UNIT_LOAD_TYPES),
    Column("kind", choices=UNIT_LOAD_KINDS),
    _num("teu"),
    _num("inside_volume_m3"),
    _num("usable_volume_m3"),
    _num("max_payload_kg"),
    Column("dry_equivalent", required=False, choices=CONTAINER_TYPES),
    _num("rate_factor"),
    Column("source", "list", separator=";"),
)

PASSAGE_COLUMNS: Final = (
    Column("id"),
    Column("name"),
    _num("dwell_median_h"),
    _num("dwell_p90_h"),
    Column("source", "list", separator=";"),
)

#: Dated status of passages: from ``valid_from`` to ``valid_to`` (inclusive; empty: still so on
#: the dataset date, until a later row says otherwise) the main container carriers sail through
#: the passage (``open``) or route round it (``avoided``). A passage without rows is open.
PASSAGE_STATUS_COLUMNS: Final = (
    Column("passage"),
    Column("valid_from"),
    Column("valid_to", required=False),
    Column("status", choices=PASSAGE_STATUSES),
    Column("note"),
    Column("source", "list", separator=";"),
)

WAYPOINT_COLUMNS: Final = (
    Column("id"),
    Column("name"),
    Column("lat", "float", minimum=-90.0, maximum=90.0),
    Column("lon", "float", minimum=-180.0, maximum=180.0),
    Column("source", "list", separator=";"),
)

#: Products forwarders sell: the chain of main-haul modes (road pre- and on-carriage, and short
#: drayage between terminals, aside) that a route must follow to be offered as one.
PRODUCT_COLUMNS: Final = (
    Column("id"),
    Column("name"),
    Column("chain", "list", choices=MODES),
    #: Passages one of which the product's main legs pass (the Middle Corridor: the Caspian);
    #: empty: any route of its chain.
    Column("passages", "list", required=False),
    Column("source", "list", separator=";"),
)

#: Trains that run on after their first corridor as the same train, booked once: the service
#: ``service_id`` continues over ``corridors`` in order, stopping ``dwell_h`` hours before each
#: (scheduled stops, border formalities), with no new cut-off and no transfer.
THROUGH_COLUMNS: Final = (
    Column("id"),
    Column("service_id"),
    Column("service_name"),
    Column("corridors", "list"),
    Column("dwell_h", "list"),
    Column("source", "list", separator=";"),
)

#: File name -> columns, in the order the validator reads them.
FILES: Final[dict[str, tuple[Column, ...]]] = {
    "nodes.csv": NODE_COLUMNS,
    "waypoints.csv": WAYPOINT_COLUMNS,
    "corridors.csv": CORRIDOR_COLUMNS,
    "services.csv": SERVICE_COLUMNS,
    "through_services.csv": THROUGH_COLUMNS,
    "tariffs.csv": TARIFF_COLUMNS,
    "fx.csv": FX_COLUMNS,
    "emission_factors.csv": EMISSION_COLUMNS,
    "passages.csv": PASSAGE_COLUMNS,
    "passage_status.csv": PASSAGE_STATUS_COLUMNS,
    "container_types.csv": CONTAINER_COLUMNS,
    "products.csv": PRODUCT_COLUMNS,
    "cities.csv": CITY_COLUMNS,
}
#: Files a dataset may leave out (read as empty).
OPTIONAL_FILES: Final = frozenset({"cities.csv"})
PATHS_FILE: Final = "corridor_paths.geojson"

#: Parcel channels (``parcel_channels.csv``): what kind of product a channel is.
PARCEL_KINDS: Final = ("express", "postal", "ecommerce_line", "rail_parcel")
#: Who pays the destination's duties and taxes: the sender (DDP) or the receiver (DDU).
DUTY_TERMS: Final = ("DDP", "DDU")
#: What a parcel may hold that some channels refuse: lithium batteries shipped alone (UN3480,
#: UN3090), lithium batteries packed in or with equipment (UN3481, UN3091), liquids, powders.
PARCEL_CONTENTS: Final = ("lithium_alone", "lithium_in_equipment", "liquids", "powders")

PARCEL_CHANNEL_COLUMNS: Final = (
    Column("id"),
    Column("name"),
    Column("kind", choices=PARCEL_KINDS),
    Column("operator"),
    Column("regime", choices=CUSTOMS_REGIMES),
    Column("duties", choices=DUTY_TERMS),
    #: cm3 per chargeable kg (5000 for express); 0: actual weight only.
    _num("volumetric_divisor"),
    #: Chargeable weight is rounded up to a multiple of this (0.5 kg express, 0.001 kg per gram).
    Column("weight_step_kg", "float", minimum=0.001),
    _num("min_chargeable_kg"),
    Column("max_kg_per_piece", "float", minimum=0.001),
    #: Size limits of one piece; empty: none.
    _num("max_longest_cm", required=False),
    _num("max_sum_sides_cm", required=False),
    _num("max_length_girth_cm", required=False),
    Column("refuses", "list", required=False, choices=PARCEL_CONTENTS),
    #: Percent of the freight (first and additional weight, after the minimum).
    _num("fuel_surcharge_pct"),
    #: Where parcels are inducted, and the pilot-zone cities where pickup is included; from the
    #: others a domestic feeder is charged per kg of actual weight (with a minimum per shipment)
    #: and adds its days.
    Column("hub"),
    Column("pickup_cities", "list"),
    _num("feeder_cny_per_kg"),
    _num("feeder_min_cny"),
    _num("feeder_days"),
    _num("transit_days_min"),
    _num("transit_days_max"),
    Column("source", "list", separator=";"),
)

#: Destination country (ISO 3166-1 alpha-2) and optional postcode prefix -> a channel's zone;
#: the longest matching prefix wins, an empty prefix matches every postcode.
PARCEL_ZONE_COLUMNS: Final = (
    Column("channel"),
    Column("country"),
    Column("postcode_prefix", required=False),
    Column("zone"),
    Column("source", "list", separator=";"),
)

#: Rate card rows: for chargeable weight w (kg) in (``break_from_kg``, ``break_to_kg``], the
#: freight of one piece is ``first_price`` for the first ``first_kg`` plus ``step_price`` per
#: started ``step_kg`` above it, at least ``min_charge``; ``item_fee`` is added per piece.
PARCEL_RATE_COLUMNS: Final = (
    Column("channel"),
    Column("zone"),
    _num("break_from_kg"),
    Column("break_to_kg", "float", minimum=0.001),
    _num("first_kg"),
    _num("first_price"),
    Column("step_kg", "float", minimum=0.001),
    _num("step_price"),
    _num("item_fee"),
    _num("min_charge"),
    Column("currency"),
    _num("transit_days_min"),
    _num("transit_days_max"),
    Column("quoted_on"),
    Column("valid_from"),
    Column("valid_to"),
    Column("source", "list", separator=";"),
)

#: The parcel-channel files, read by :func:`network_data.parcels.load_parcel_tables` (not by
#: :func:`network_data.load_network`: the route network does not depend on them).
PARCEL_FILES: Final[dict[str, tuple[Column, ...]]] = {
    "parcel_channels.csv": PARCEL_CHANNEL_COLUMNS,
    "parcel_zones.csv": PARCEL_ZONE_COLUMNS,
    "parcel_rates.csv": PARCEL_RATE_COLUMNS,
}
