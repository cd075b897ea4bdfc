"""Price a seller's day of parcels on every channel, and pick per parcel the cheapest channel
that meets a delivery promise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from network_data.schema import PARCEL_CONTENTS
from network_data.validate import records
from optimizer.errors import InvalidInputError
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
    ZONE_NOT_SERVED,
    ZONE_POSTCODE_NEEDED,
    ChannelArrays,
    PricedArrays,
    price_kernel,
)
from optimizer.parcels.model import (
    MAX_PIECE_KG,
    MAX_PIECES,
    MAX_SIDE_CM,
    PILOT_ZONE_CITIES,
    Parcel,
    origin_city,
)
from optimizer.parcels.quote import ParcelChannels, size_values

#: Columns of a parcels table; the others are optional (``pieces`` 1, ``origin`` Chengdu).
PARCEL_COLUMNS: Final = ("id", "country", "weight_kg", "length_cm", "width_cm", "height_cm")
OPTIONAL_COLUMNS: Final = ("postcode", "pieces", "contents", "origin", "declared_value_cny")
_ORIGINS: Final = tuple(PILOT_ZONE_CITIES)
_BITS: Final = {item: 1 << i for i, item in enumerate(PARCEL_CONTENTS)}


def parcels_table(parcels: pd.DataFrame | Sequence[Mapping[str, Any]] | Sequence[Parcel], *,
                  field: str = "parcels") -> pd.DataFrame:  # fmt: skip
    """A checked parcels table: ``id``, ``country``, ``postcode``, ``weight_kg``, the sides
    ``long_cm`` >= ``mid_cm`` >= ``short_cm``, ``pieces``, ``contents`` (bits of
    :data:`~network_data.schema.PARCEL_CONTENTS`) and ``origin`` (index into the pilot-zone
    cities), from a DataFrame, row mappings (CSV rows as text) or :class:`Parcel` objects.
    ``contents`` is written ``lithium_alone|liquids`` (``|`` or ``;`` between).

    Raises
    ------
    InvalidInputError
        On the first bad cell, as ``<field>.<row>.<column>`` with the value and what is
        allowed (rows counted from 0, as in a job's input).

    Examples
    --------
    >>> table = parcels_table([{"id": "A1", "country": "us", "postcode": "90001",
    ...     "weight_kg": "2", "length_cm": "15", "width_cm": "30", "height_cm": "20"}])
    >>> table[["id", "country", "long_cm", "mid_cm", "short_cm", "pieces"]].values.tolist()
    [['A1', 'US', 30.0, 20.0, 15.0, 1]]
    >>> parcels_table([{"id": "A1", "country": "US", "weight_kg": "-2", "length_cm": "15",
    ...     "width_cm": "30", "height_cm": "20"}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: parcels.0.weight_kg: got '-2'; expected a number > 0 ...
    """
    if isinstance(parcels, pd.DataFrame):
        frame = parcels
    elif parcels and isinstance(parcels[0], Parcel):
        frame = pd.DataFrame([_parcel_row(i, p) for i, p in enumerate(parcels)])  # type: ignore[arg-type]
    else:
        frame = pd.DataFrame(list(parcels))
    if frame.empty:
        raise InvalidInputError(field, [], "at least one parcel", message="got no parcels")
    missing = [name for name in PARCEL_COLUMNS if name not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{field}.0", None, ", ".join(PARCEL_COLUMNS), message=f"missing {', '.join(missing)}"
        )
    frame = frame.assign(
        **{
            name: frame[name].astype(object).where(frame[name].notna(), "")
            for name in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[name])
        }
    )
    for name in OPTIONAL_COLUMNS:
        if name not in frame.columns:
            frame[name] = ""
    text = {
        name: _text(frame[name])
        for name in ("id", "country", "postcode", "contents", "origin")
        if name == "id" or not pd.api.types.is_numeric_dtype(frame[name])
    }
    country = text["country"].str.upper()
    not_code = ~country.str.fullmatch(r"[A-Z]{2}")
    _first_bad(field, "country", text["country"], not_code, "an ISO 3166-1 code such as US")
    _first_bad(field, "id", text["id"], text["id"] == "", "a parcel id")
    numbers = {}
    for name, limit in (("weight_kg", MAX_PIECE_KG), ("length_cm", MAX_SIDE_CM),
                        ("width_cm", MAX_SIDE_CM), ("height_cm", MAX_SIDE_CM)):  # fmt: skip
        value = _number(frame[name])
        bad = ~((value > 0) & (value <= limit))
        _first_bad(field, name, frame[name], bad, f"a number > 0 and <= {limit:,.0f}")
        numbers[name] = value.to_numpy(dtype=float)
    sides = np.sort(
        np.column_stack([numbers["length_cm"], numbers["width_cm"], numbers["height_cm"]]), axis=1
    )[:, ::-1]
    given = frame["pieces"].where(frame["pieces"].astype(str).str.strip() != "", 1)
    pieces = _number(given).fillna(1)
    bad = ~((pieces >= 1) & (pieces <= MAX_PIECES) & (pieces == pieces.round()))
    _first_bad(field, "pieces", frame["pieces"], bad, f"an integer from 1 to {MAX_PIECES:,}")
    return pd.DataFrame(
        {
            "id": text["id"].to_numpy(dtype=object),
            "country": country.to_numpy(dtype=object),
            "postcode": text["postcode"].str.upper().to_numpy(dtype=object),
            "weight_kg": numbers["weight_kg"],
            "long_cm": sides[:, 0],
            "mid_cm": sides[:, 1],
            "short_cm": sides[:, 2],
            "pieces": pieces.to_numpy(dtype=np.int64),
            "contents": _contents(field, text["contents"]),
            "origin": _origins(field, text["origin"]),
        }
    )


def _text(column: pd.Series[Any]) -> pd.Series[Any]:
    """A column as stripped text (numbers as Python writes them)."""
    return column.astype(str).str.strip()


def _number(column: pd.Series[Any]) -> pd.Series[Any]:
    """A column as numbers (NaN where a cell is not one): as given when it already is."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    return pd.to_numeric(_text(column), errors="coerce")


def _parcel_row(position: int, parcel: Parcel) -> dict[str, Any]:
    return {
        "id": str(position),
        "country": parcel.country,
        "postcode": parcel.postcode,
        "weight_kg": parcel.weight_kg,
        "length_cm": parcel.length_cm,
        "width_cm": parcel.width_cm,
        "height_cm": parcel.height_cm,
        "pieces": parcel.pieces,
        "contents": "|".join(sorted(parcel.contents)),
        "origin": parcel.origin,
    }


def _first_bad(field: str, column: str, cells: pd.Series[Any], bad: Any, allowed: str) -> None:
    positions = np.flatnonzero(np.asarray(bad))
    if positions.size:
        row = int(positions[0])
        raise InvalidInputError(f"{field}.{row}.{column}", cells.iloc[row], allowed)


def _contents(field: str, cells: pd.Series[Any]) -> npt.NDArray[np.int64]:
    codes, uniques = pd.factorize(cells)
    masks = np.zeros(len(uniques), dtype=np.int64)
    for k, cell in enumerate(uniques):
        for item in str(cell).replace(";", "|").split("|"):
            item = item.strip()
            if not item:
                continue
            if item not in _BITS:
                row = int(np.flatnonzero(codes == k)[0])
                raise InvalidInputError(
                    f"{field}.{row}.contents", item, f"some of {', '.join(PARCEL_CONTENTS)}"
                )
            masks[k] |= _BITS[item]
    return masks[codes]


def _origins(field: str, cells: pd.Series[Any]) -> npt.NDArray[np.int64]:
    codes, uniques = pd.factorize(cells.where(cells != "", "Chengdu"))
    index = np.zeros(len(uniques), dtype=np.int64)
    for k, cell in enumerate(uniques):
        try:
            index[k] = _ORIGINS.index(origin_city(cell))
        except InvalidInputError as error:
            row = int(np.flatnonzero(codes == k)[0])
            raise error.at(f"{field}.{row}.origin") from None
    return index[codes]


def compile_channels(
    channels: ParcelChannels, ship_on: date
) -> tuple[ChannelArrays, list[tuple[str, str]]]:
    """The kernel's view of ``channels`` on ``ship_on``, and the (channel, zone) of each row
    of ``zone_bands``."""
    rows = [channels.rows[c] for c in channels.ids]
    matrix = np.array(
        [
            [r.volumetric_divisor, r.weight_step_kg, r.min_chargeable_kg, r.max_kg_per_piece,
             r.max_longest_cm, r.max_sum_sides_cm, r.max_length_girth_cm,
             sum(_BITS[item] for item in r.refuses), r.fuel_surcharge_pct, r.feeder_cny_per_kg,
             r.feeder_min_cny, r.feeder_days]
            for r in rows
        ],
        dtype=np.float64,
    )  # fmt: skip
    pickup = np.array(
        [[1.0 if city in r.pickup_cities else 0.0 for city in _ORIGINS] for r in rows]
    )
    bands: list[list[float]] = []
    zone_bands: list[tuple[int, int]] = []
    zones: list[tuple[str, str]] = []
    zoned = set(zip(channels.tables.zones["channel"], channels.tables.zones["zone"], strict=True))
    for channel, zone in sorted(zoned, key=lambda key: (channels.ids.index(key[0]), key[1])):
        start = len(bands)
        for band in channels.bands_on(channel, zone, ship_on):
            bands.append(
                [band.break_from_kg, band.break_to_kg, band.first_kg, band.first_cny,
                 band.step_kg, band.step_cny, band.item_cny, band.min_cny,
                 band.transit_days_min, band.transit_days_max]
            )  # fmt: skip
        zone_bands.append((start, len(bands)))
        zones.append((channel, zone))
    arrays = ChannelArrays(
        matrix,
        pickup,
        np.array(bands, dtype=np.float64).reshape(-1, 10),
        np.array(zone_bands, dtype=np.int64).reshape(-1, 2),
    )
    return arrays, zones


def zone_ids(
    channels: ParcelChannels, table: pd.DataFrame, zones: list[tuple[str, str]]
) -> npt.NDArray[np.int64]:
    """Per parcel and channel, the row of ``zones`` of the parcel's zone, or
    ``ZONE_NOT_SERVED`` / ``ZONE_POSTCODE_NEEDED``; each (country, postcode prefix) looked up
    once."""
    position = {key: k for k, key in enumerate(zones)}
    out = np.empty((len(table), len(channels.ids)), dtype=np.int64)
    countries = table["country"].to_numpy()
    postcodes = table["postcode"].to_numpy()
    groups = pd.Series(countries).groupby(countries, sort=False).indices
    for c, channel in enumerate(channels.ids):
        for key, rows in groups.items():
            country = str(key)
            length = channels.prefix_length(channel, country)
            keys = pd.Series(postcodes[rows]).str[:length] if length else None
            if keys is None:
                out[rows, c] = _zone_id(channels.zone_of(channel, country, ""), channel, position)
                continue
            codes, uniques = pd.factorize(keys)
            found = np.array(
                [_zone_id(channels.zone_of(channel, country, key), channel, position)
                 for key in uniques], dtype=np.int64,
            )  # fmt: skip
            out[rows, c] = found[codes]
    return out


def _zone_id(zone: str | None, channel: str, position: dict[tuple[str, str], int]) -> int:
    if zone is None:
        return ZONE_NOT_SERVED
    if zone == "":
        return ZONE_POSTCODE_NEEDED
    return position[(channel, zone)]


@dataclass(frozen=True, eq=False)
class ParcelTable:
    """Every parcel priced on every channel: ``priced`` holds N x C arrays (cost NaN and a
    refusal code where a channel refuses), ``parcels`` the checked table, ``channels`` the
    channel ids in column order."""

    parcels: pd.DataFrame
    channels: tuple[str, ...]
    priced: PricedArrays
    zone_ids: npt.NDArray[np.int64]
    zones: list[tuple[str, str]]
    ship_on: date
    source: ParcelChannels

    def record(self, row: int) -> dict[str, Any]:
        """The cells of parcel ``row`` of the checked table."""
        return {name: values[row] for name, values in self._columns.items()}

    @cached_property
    def _columns(self) -> dict[str, npt.NDArray[Any]]:
        return {name: self.parcels[name].to_numpy() for name in self.parcels.columns}

    def refusal(self, row: int, column: int, record: dict[str, Any] | None = None) -> str:
        """Why channel ``column`` refuses parcel ``row`` (whose cells ``record`` may give), in
        words."""
        if record is None:
            record = self.record(row)
        zone_id = int(self.zone_ids[row, column])
        values: dict[str, Any] = {
            "country": record["country"],
            "postcode": record["postcode"],
            "weight_kg": record["weight_kg"],
            "ship_on": self.ship_on,
            "chargeable_kg": float(self.priced.chargeable_kg[row, column]),
            "refused": next(
                (
                    item
                    for item, bit in _BITS.items()
                    if record["contents"] & bit
                    and item in self.source.rows[self.channels[column]].refuses
                ),
                "",
            ),
            **size_values((record["long_cm"], record["mid_cm"], record["short_cm"])),
        }
        zone = self.zones[zone_id][1] if zone_id >= 0 else ""
        code = int(self.priced.code[row, column])
        return self.source.refusal(code, self.channels[column], zone, values)

    def frame(self) -> pd.DataFrame:
        """One row per parcel: its id and, per channel, the cost in CNY (empty when refused)."""
        costs = pd.DataFrame(self.priced.cost_cny, columns=list(self.channels))
        return pd.concat([self.parcels[["id"]].reset_index(drop=True), costs], axis=1)


def price_parcels(
    channels: ParcelChannels,
    parcels: pd.DataFrame | Sequence[Mapping[str, Any]] | Sequence[Parcel],
    *,
    ship_on: date,
) -> ParcelTable:
    """Price every parcel on every channel with the kernel (both cores); each cell equals
    :func:`~optimizer.parcels.quote_parcel`'s ``cost_cny``.

    Examples
    --------
    >>> channels = ParcelChannels.bundled()
    >>> rows = [{"id": "LA", "country": "US", "postcode": "90001", "weight_kg": 2,
    ...          "length_cm": 30, "width_cm": 20, "height_cm": 15},
    ...         {"id": "HAM", "country": "DE", "weight_kg": 0.4, "length_cm": 20,
    ...          "width_cm": 15, "height_cm": 5}]
    >>> table = price_parcels(channels, rows, ship_on=date(2026, 12, 7))
    >>> print(table.frame().to_csv(index=False, float_format="%.2f"), end="")
    id,EXP-DHL,POST-EPACKET,POST-REG,LINE-US,LINE-EU,RAIL-EU
    LA,632.46,179.00,189.00,187.00,,
    HAM,332.42,48.00,41.00,,52.00,29.00
    """
    table = parcels_table(parcels)
    arrays, zones = compile_channels(channels, ship_on)
    ids = zone_ids(channels, table, zones)
    priced = PricedArrays(*price_kernel(parcel_matrix(table), ids, arrays))
    return ParcelTable(table, channels.ids, priced, ids, zones, ship_on, channels)


def parcel_matrix(table: pd.DataFrame) -> npt.NDArray[np.float64]:
    """The kernel's parcel matrix (columns ``P_*`` of :mod:`optimizer.parcels.kernel`) of a
    checked parcels table."""
    return np.column_stack(
        [table["weight_kg"], table["long_cm"], table["mid_cm"], table["short_cm"],
         table["pieces"], table["contents"], table["origin"]]
    ).astype(np.float64)  # fmt: skip


@dataclass(frozen=True, eq=False)
class ChannelChoice:
    """Per parcel the cheapest channel that delivers within the promise.

    ``channel`` holds a channel id per parcel ('' when none does, with the reason in
    ``reason``); ``cost_cny`` its price (NaN when none); ``total_cny`` their sum.
    """

    ids: tuple[str, ...]
    channel: tuple[str, ...]
    cost_cny: npt.NDArray[np.float64]
    days_max: npt.NDArray[np.float64]
    reason: tuple[str, ...]
    promise_days: float | None

    @property
    def total_cny(self) -> float:
        """The sum of the chosen prices, to the fen."""
        return round(float(np.nansum(self.cost_cny)), 2)

    def frame(self) -> pd.DataFrame:
        """One row per parcel: id, channel, cost_cny, days_max, reason."""
        return pd.DataFrame(
            {
                "id": self.ids,
                "channel": self.channel,
                "cost_cny": self.cost_cny,
                "days_max": self.days_max,
                "reason": self.reason,
            }
        )

    def by_channel(self) -> pd.DataFrame:
        """Parcels and their total cost per chosen channel (unserved parcels as '')."""
        frame = self.frame()
        return (
            frame.groupby("channel", sort=True)["cost_cny"]
            .agg(parcels="size", cost_cny="sum")
            .reset_index()
        )


def cheapest_channels(table: ParcelTable, promise_days: float | None = None) -> ChannelChoice:
    """Per parcel, the cheapest offered channel whose slowest transit (``days_max``) is within
    ``promise_days`` (None: any); ties go to the channel listed first. A parcel no channel
    serves gets the reasons of every channel.

    Examples
    --------
    >>> table = price_parcels(ParcelChannels.bundled(), [{"id": "LA", "country": "US",
    ...     "postcode": "90001", "weight_kg": 2, "length_cm": 30, "width_cm": 20,
    ...     "height_cm": 15}], ship_on=date(2026, 12, 7))
    >>> choice = cheapest_channels(table, promise_days=12)
    >>> choice.channel, choice.total_cny
    (('LINE-US',), 187.0)
    >>> cheapest_channels(table, promise_days=3).reason[0][:60]
    'no channel delivers within 3 days: DHL Express Worldwide 3-7'
    """
    if promise_days is not None and not (
        isinstance(promise_days, int | float) and math.isfinite(promise_days) and promise_days > 0
    ):
        raise InvalidInputError("promise_days", promise_days, "a number of days > 0")
    priced = table.priced
    usable = priced.code == OFFERED
    if promise_days is not None:
        usable &= priced.days_max <= promise_days
    costs = np.where(usable, priced.cost_cny, np.inf)
    best = np.argmin(costs, axis=1)
    rows = np.arange(len(best))
    served = np.isfinite(costs[rows, best])
    chosen = tuple(table.channels[b] if ok else "" for b, ok in zip(best, served, strict=True))
    memo: dict[tuple[Any, ...], str] = {}
    reasons = tuple(
        "" if ok else _unserved(table, i, promise_days, memo) for i, ok in enumerate(served)
    )
    return ChannelChoice(
        ids=tuple(table.parcels["id"].to_numpy(dtype=object)),
        channel=chosen,
        cost_cny=np.where(served, costs[rows, best], np.nan),
        days_max=np.where(served, priced.days_max[rows, best], np.nan),
        reason=reasons,
        promise_days=promise_days,
    )


#: Which cells of a parcel a refusal's words depend on, by refusal code.
_WORDS_OF: Final = {
    NOT_SERVED: ("country",),
    POSTCODE_NEEDED: ("country", "postcode"),
    GOODS_REFUSED: ("contents",),
    OVER_WEIGHT: ("weight_kg",),
    OVER_LONGEST: ("long_cm", "mid_cm", "short_cm"),
    OVER_SUM_SIDES: ("long_cm", "mid_cm", "short_cm"),
    OVER_LENGTH_GIRTH: ("long_cm", "mid_cm", "short_cm"),
}


def _unserved(
    table: ParcelTable, row: int, promise_days: float | None, memo: dict[tuple[Any, ...], str]
) -> str:
    """Why no channel serves parcel ``row``: each channel's refusal or its days; parcels whose
    refusals read alike share one text (``memo``)."""
    record = table.record(row)
    priced = table.priced
    key: list[Any] = []
    for column in range(len(table.channels)):
        code = int(priced.code[row, column])
        key += [code, *(record[name] for name in _WORDS_OF.get(code, ()))]
        if code == OFFERED:
            key += [priced.days_min[row, column], priced.days_max[row, column]]
        elif code in (RATE_NOT_VALID, BEYOND_RATE_CARD):
            key += [table.zone_ids[row, column], priced.chargeable_kg[row, column]]
    signature = tuple(key)
    if signature not in memo:
        memo[signature] = _unserved_words(table, row, promise_days, record)
    return memo[signature]


def _unserved_words(
    table: ParcelTable, row: int, promise_days: float | None, record: dict[str, Any]
) -> str:
    parts = []
    for column, channel in enumerate(table.channels):
        name = table.source.rows[channel].name
        if table.priced.code[row, column] == OFFERED:
            low, high = table.priced.days_min[row, column], table.priced.days_max[row, column]
            parts.append(f"{name} {low:g}-{high:g} days")
        else:
            parts.append(table.refusal(row, column, record))
    within = f" within {promise_days:g} days" if promise_days is not None else ""
    return f"no channel delivers{within}: " + "; ".join(parts)


def batch_result(table: ParcelTable, choice: ChannelChoice) -> dict[str, Any]:
    """A priced batch as JSON: per channel the parcels it offers to carry and their total
    (every parcel priced channel by channel), the chosen channel per parcel with its cost,
    transit and reason, per chosen channel the parcels and cost, and the grand total (the sum
    of the chosen prices).

    Examples
    --------
    >>> table = price_parcels(ParcelChannels.bundled(), [{"id": "LA", "country": "US",
    ...     "postcode": "90001", "weight_kg": 2, "length_cm": 30, "width_cm": 20,
    ...     "height_cm": 15}], ship_on=date(2026, 12, 7))
    >>> result = batch_result(table, cheapest_channels(table, 12))
    >>> result["total_cny"], result["rows"][0]["channel"], result["channels"][0]
    (187.0, 'LINE-US', {'channel': 'EXP-DHL', 'offered': 1, 'cost_cny': 632.46})
    """
    offered = table.priced.code == OFFERED
    channels = [
        {
            "channel": channel,
            "offered": int(offered[:, column].sum()),
            "cost_cny": round(float(table.priced.cost_cny[offered[:, column], column].sum()), 2),
        }
        for column, channel in enumerate(table.channels)
    ]
    frame = choice.frame()
    rows = [
        {
            "id": row.id,
            "channel": row.channel,
            "cost_cny": None if math.isnan(row.cost_cny) else float(row.cost_cny),
            "days_max": None if math.isnan(row.days_max) else float(row.days_max),
            "reason": row.reason,
        }
        for row in records(frame)
    ]
    chosen = [
        {
            "channel": str(r.channel),
            "parcels": int(r.parcels),
            "cost_cny": round(float(r.cost_cny), 2),
        }
        for r in records(choice.by_channel())
        if r.channel
    ]
    return {
        "ship_on": table.ship_on.isoformat(),
        "promise_days": choice.promise_days,
        "parcels": len(rows),
        "unserved": sum(1 for row in rows if not row["channel"]),
        "total_cny": choice.total_cny,
        "channels": channels,
        "chosen": chosen,
        "rows": rows,
    }
