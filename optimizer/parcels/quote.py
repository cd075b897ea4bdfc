"""Quote one parcel on every channel, in plain Python: the reference the batch kernel
(:mod:`optimizer.parcels.kernel`) is tested against, and the one that writes charge lines."""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from network_data import Network
from network_data.parcels import ParcelTables, load_parcel_tables
from network_data.schema import PARCEL_CONTENTS
from network_data.validate import records
from optimizer.parcels.kernel import (
    BEYOND_RATE_CARD,
    GOODS_REFUSED,
    NOT_SERVED,
    OFFERED,
    OVER_LENGTH_GIRTH,
    OVER_LONGEST,
    OVER_SUM_SIDES,
    OVER_WEIGHT,
    POSTCODE_NEEDED,
    RATE_NOT_VALID,
    chargeable_kg,
    round_cny,
    steps_above,
)
from optimizer.parcels.model import CONTENT_WORDS, ChannelQuote, ChargeLine, Parcel


@dataclass(frozen=True)
class Band:
    """One rate-card row, in CNY."""

    break_from_kg: float
    break_to_kg: float
    first_kg: float
    first_cny: float
    step_kg: float
    step_cny: float
    item_cny: float
    min_cny: float
    transit_days_min: float
    transit_days_max: float
    valid_from: date
    valid_to: date


class ParcelChannels:
    """The parcel channels, ready to quote: channels, zones and rate cards in CNY.

    Examples
    --------
    >>> channels = ParcelChannels.bundled()
    >>> channels.ids
    ('EXP-DHL', 'POST-EPACKET', 'POST-REG', 'LINE-US', 'LINE-EU', 'RAIL-EU')
    >>> channels.zone_of("LINE-US", "US", "90001"), channels.zone_of("EXP-DHL", "US", "")
    ('US-W', '5')
    """

    def __init__(self, tables: ParcelTables) -> None:
        self.tables = tables
        self.ids: tuple[str, ...] = tuple(tables.channels.index)
        self.rows: dict[str, Any] = {str(row.id): row for row in records(tables.channels)}

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> ParcelChannels:
        """Channels of the dataset directory ``path`` (None: the bundled dataset)."""
        return cls(load_parcel_tables(path))

    @classmethod
    def of(cls, network: Network) -> ParcelChannels | None:
        """The channels of ``network``'s dataset, built once per network; None when its
        directory holds no parcel files.

        Examples
        --------
        >>> from network_data import load_network
        >>> ParcelChannels.of(load_network()).ids[:2]
        ('EXP-DHL', 'POST-EPACKET')
        """
        if network.parcels is None:
            return None
        channels = _OF_NETWORK.get(network)
        if channels is None:
            channels = _OF_NETWORK[network] = cls(network.parcels)
        return channels

    @classmethod
    def bundled(cls) -> ParcelChannels:
        """The bundled channels, loaded once per process."""
        return _bundled()

    @cached_property
    def _zones(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        zones: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for row in records(self.tables.zones):
            zones.setdefault((row.channel, row.country), []).append((row.postcode_prefix, row.zone))
        for entries in zones.values():
            entries.sort(key=lambda entry: -len(entry[0]))
        return zones

    @cached_property
    def _bands(self) -> dict[tuple[str, str], list[Band]]:
        bands: dict[tuple[str, str], list[Band]] = {}
        for row in records(self.tables.rates):
            fx = float(row.fx_cny)
            bands.setdefault((row.channel, row.zone), []).append(
                Band(
                    row.break_from_kg, row.break_to_kg, row.first_kg, row.first_price * fx,
                    row.step_kg, row.step_price * fx, row.item_fee * fx, row.min_charge * fx,
                    row.transit_days_min, row.transit_days_max, row.valid_from_date,
                    row.valid_to_date,
                )
            )  # fmt: skip
        for entries in bands.values():
            entries.sort(key=lambda band: band.break_from_kg)
        return bands

    def zone_of(self, channel: str, country: str, postcode: str) -> str | None:
        """The channel's zone for a destination; None when it does not serve the country, ''
        when it zones the country by postcode and ``postcode`` matches no prefix."""
        entries = self._zones.get((channel, country))
        if entries is None:
            return None
        for prefix, zone in entries:
            if postcode.startswith(prefix):
                return zone
        return ""

    def prefix_length(self, channel: str, country: str) -> int:
        """Longest postcode prefix the channel zones ``country`` by (0: by country alone)."""
        return max(
            (len(prefix) for prefix, _ in self._zones.get((channel, country), [])), default=0
        )

    def bands_on(self, channel: str, zone: str, ship_on: date) -> list[Band]:
        """Rate rows of a channel's zone valid on ``ship_on``, lightest first."""
        return [
            band
            for band in self._bands.get((channel, zone), [])
            if band.valid_from <= ship_on <= band.valid_to
        ]

    def validity(self, channel: str, zone: str) -> tuple[date, date]:
        """First and last day any rate row of the zone is valid."""
        bands = self._bands[(channel, zone)]
        return min(b.valid_from for b in bands), max(b.valid_to for b in bands)

    def refusal(self, code: int, channel: str, zone: str, values: dict[str, Any]) -> str:
        """A refusal reason in words, naming the rule and the value."""
        row = self.rows[channel]
        name = row.name
        if code == NOT_SERVED:
            return f"{name} does not serve {values['country']}"
        if code == POSTCODE_NEEDED:
            prefixes = ", ".join(p for p, _ in self._zones[(channel, values["country"])])
            return (
                f"{name} zones {values['country']} by postcode: {values['postcode']!r} starts "
                f"with none of {prefixes}"
            )
        if code == GOODS_REFUSED:
            return f"{CONTENT_WORDS[values['refused']]}: refused by {name}"
        if code == OVER_WEIGHT:
            return (
                f"{values['weight_kg']:g} kg over the {row.max_kg_per_piece:g} kg limit of {name}"
            )
        if code == OVER_LONGEST:
            return (
                f"longest side {values['longest_cm']:g} cm over the {row.max_longest_cm:g} cm "
                f"limit of {name}"
            )
        if code == OVER_SUM_SIDES:
            return (
                f"length + width + height {values['sum_cm']:g} cm over the "
                f"{row.max_sum_sides_cm:g} cm limit of {name}"
            )
        if code == OVER_LENGTH_GIRTH:
            return (
                f"length + girth {values['girth_cm']:g} cm over the {row.max_length_girth_cm:g} "
                f"cm limit of {name}"
            )
        if code == RATE_NOT_VALID:
            first, last = self.validity(channel, zone)
            return (
                f"the rate card of {name} zone {zone} is valid {first} to {last}, not on "
                f"{values['ship_on']}: ask the carrier for a current rate"
            )
        top = max(b.break_to_kg for b in self._bands[(channel, zone)])
        return (
            f"chargeable {values['chargeable_kg']:g} kg is beyond the rate card of {name} zone "
            f"{zone} (up to {top:g} kg)"
        )


_BUNDLED: list[ParcelChannels] = []
# per network, as optimizer._compile.PerNetwork keeps its builds (which this module cannot
# import: optimizer._compile imports optimizer.model, which imports this package)
_OF_NETWORK: weakref.WeakKeyDictionary[Network, ParcelChannels] = weakref.WeakKeyDictionary()


def _bundled() -> ParcelChannels:
    if not _BUNDLED:
        _BUNDLED.append(ParcelChannels(load_parcel_tables()))
    return _BUNDLED[0]


def size_values(sides_cm: tuple[float, float, float]) -> dict[str, float]:
    """Measures the size limits are checked on, from the sides longest first: longest side,
    sum of sides, length + girth.

    Examples
    --------
    >>> size_values((60.0, 20.0, 15.0))
    {'longest_cm': 60.0, 'sum_cm': 95.0, 'girth_cm': 130.0}
    """
    a, b, c = sides_cm
    return {"longest_cm": a, "sum_cm": a + b + c, "girth_cm": a + 2 * (b + c)}


def _limit_code(row: Any, parcel: Parcel) -> int:
    refused = [item for item in PARCEL_CONTENTS if item in parcel.contents and item in row.refuses]
    if refused:
        return GOODS_REFUSED
    if parcel.weight_kg > row.max_kg_per_piece:
        return OVER_WEIGHT
    size = size_values(parcel.sides_cm)
    for code, measure, limit in (
        (OVER_LONGEST, size["longest_cm"], row.max_longest_cm),
        (OVER_SUM_SIDES, size["sum_cm"], row.max_sum_sides_cm),
        (OVER_LENGTH_GIRTH, size["girth_cm"], row.max_length_girth_cm),
    ):
        if not math.isnan(limit) and measure > limit:
            return code
    return OFFERED


def quote_parcel(channels: ParcelChannels, parcel: Parcel, *, ship_on: date) -> list[ChannelQuote]:
    """One quote per channel for ``parcel`` shipped on ``ship_on``: offered with its charge
    lines, or refused with the reason.

    Per piece: freight = first-weight price + additional steps x step price (at least the
    minimum), fuel surcharge on the freight, and the per-item fee; times the pieces; plus the
    domestic feeder (per kg of actual weight, with a minimum) from a city the channel does not
    pick up in. Each line is rounded to the fen; ``cost_cny`` is their sum.

    Examples
    --------
    A 2 kg box of 30 x 20 x 15 cm from Chengdu to Los Angeles (90001):

    >>> quotes = quote_parcel(ParcelChannels.bundled(), Parcel("US", 2.0, 30, 20, 15,
    ...                       postcode="90001"), ship_on=date(2026, 12, 7))
    >>> [(q.channel, q.cost_cny) for q in quotes if q.offered]
    [('EXP-DHL', 632.46), ('POST-EPACKET', 179.0), ('POST-REG', 189.0), ('LINE-US', 187.0)]
    >>> for quote in quotes:
    ...     if not quote.offered:
    ...         print(quote.reason)
    EU e-commerce line (air + postal last mile, IOSS) does not serve US
    China-Europe rail parcel line (DDP) does not serve US
    """
    return [_quote_one(channels, channel, parcel, ship_on) for channel in channels.ids]


def _quote_one(
    channels: ParcelChannels, channel: str, parcel: Parcel, ship_on: date
) -> ChannelQuote:
    row = channels.rows[channel]
    head = {"channel": channel, "name": row.name, "kind": row.kind}
    values: dict[str, Any] = {
        "country": parcel.country,
        "postcode": parcel.postcode,
        "weight_kg": parcel.weight_kg,
        "ship_on": ship_on,
        **size_values(parcel.sides_cm),
    }
    zone = channels.zone_of(channel, parcel.country, parcel.postcode)
    code = NOT_SERVED if zone is None else POSTCODE_NEEDED if zone == "" else OFFERED
    if code == OFFERED:
        code = _limit_code(row, parcel)
        values["refused"] = next(
            (i for i in PARCEL_CONTENTS if i in parcel.contents and i in row.refuses), ""
        )
    bands = channels.bands_on(channel, zone, ship_on) if zone else []
    if code == OFFERED and not bands:
        code = RATE_NOT_VALID
    a, b, c = parcel.sides_cm
    weight = chargeable_kg(
        parcel.weight_kg, a * b * c, row.volumetric_divisor, row.min_chargeable_kg,
        row.weight_step_kg,
    )  # fmt: skip
    values["chargeable_kg"] = weight
    band = next((x for x in bands if x.break_from_kg < weight <= x.break_to_kg), None)
    if code == OFFERED and band is None:
        code = BEYOND_RATE_CARD
    if code != OFFERED or band is None or zone is None:
        return ChannelQuote(
            **head, offered=False, reason=channels.refusal(code, channel, zone or "", values),
            zone=zone or "",
        )  # fmt: skip
    return _offer(head, row, parcel, zone, weight, band)


def _offer(
    head: dict[str, str], row: Any, parcel: Parcel, zone: str, weight: float, band: Band
) -> ChannelQuote:
    steps = steps_above(weight, band.first_kg, band.step_kg)
    first = round_cny(band.first_cny)
    additional = round_cny(steps * band.step_cny)
    top_up = round_cny(max(band.min_cny - (first + additional), 0.0))
    fuel = round_cny((first + additional + top_up) * row.fuel_surcharge_pct / 100.0)
    item = round_cny(band.item_cny)
    n = parcel.pieces
    lines = [
        ChargeLine("first_weight", round_cny(first * n), f"{n} x first {band.first_kg:g} kg"),
        ChargeLine(
            "additional_weight",
            round_cny(additional * n),
            f"{n} x {steps} x {band.step_kg:g} kg at {band.step_cny:g} CNY",
        ),
        ChargeLine("minimum", round_cny(top_up * n), f"{n} x up to {band.min_cny:g} CNY"),
        ChargeLine("fuel", round_cny(fuel * n), f"{row.fuel_surcharge_pct:g} % of freight"),
        ChargeLine("item_fee", round_cny(item * n), f"{n} x {band.item_cny:g} CNY"),
    ]
    feeder_days = 0.0
    if parcel.origin not in row.pickup_cities:
        feeder = round_cny(max(row.feeder_cny_per_kg * parcel.weight_kg * n, row.feeder_min_cny))
        lines.append(
            ChargeLine(
                "feeder",
                feeder,
                f"{parcel.origin} to {row.hub}: {row.feeder_cny_per_kg:g} CNY/kg, "
                f"at least {row.feeder_min_cny:g}",
            )
        )
        feeder_days = row.feeder_days
    charges = tuple(line for line in lines if line.amount_cny > 0)
    return ChannelQuote(
        **head,
        offered=True,
        zone=zone,
        cost_cny=round_cny(sum(line.amount_cny for line in lines)),
        charges=charges,
        chargeable_kg=weight,
        transit_days_min=band.transit_days_min + feeder_days,
        transit_days_max=band.transit_days_max + feeder_days,
        regime=row.regime,
        duties=row.duties,
        valid_from=band.valid_from,
        valid_to=band.valid_to,
        notes=duty_notes(row.duties, parcel),
    )


#: Destinations where every parcel from China owes import duty, and since when.
NO_DE_MINIMIS: dict[str, str] = {"US": "2025-05-02"}


def duty_notes(duties: str, parcel: Parcel) -> tuple[str, ...]:
    """What a quote's price leaves out: destination duties and taxes, paid by the sender
    through the channel (DDP) or by the receiver (DDU).

    Examples
    --------
    >>> for note in duty_notes("DDP", Parcel("US", 1.0, 10, 10, 10, declared_value_cny=200)):
    ...     print(note)  # doctest: +NORMALIZE_WHITESPACE
    DDP: duties and taxes are billed to the sender at cost on the declared CNY 200 a piece, not
    in the price
    US: every parcel from China owes duty since 2025-05-02 (no de minimis)
    >>> duty_notes("DDU", Parcel("DE", 1.0, 10, 10, 10))
    ('DDU: the receiver pays duties and taxes on delivery',)
    """
    if duties == "DDP":
        value = (
            f" on the declared CNY {parcel.declared_value_cny:g} a piece"
            if parcel.declared_value_cny is not None
            else " on the declared value"
        )
        notes = [f"DDP: duties and taxes are billed to the sender at cost{value}, not in the price"]
    else:
        notes = ["DDU: the receiver pays duties and taxes on delivery"]
    if parcel.country in NO_DE_MINIMIS:
        notes.append(
            f"{parcel.country}: every parcel from China owes duty since "
            f"{NO_DE_MINIMIS[parcel.country]} (no de minimis)"
        )
    return tuple(notes)
