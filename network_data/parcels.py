"""Load and validate the parcel channels: ``parcel_channels.csv``, ``parcel_zones.csv`` and
``parcel_rates.csv`` (columns in :data:`network_data.schema.PARCEL_FILES`), with ``fx.csv`` to
bring every rate to CNY.

Like :func:`network_data.load_network`, every problem is collected with its file and line and
raised once as a :class:`~network_data.errors.NetworkValidationError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from network_data import validate as v
from network_data.errors import NetworkValidationError
from network_data.schema import FX_COLUMNS, PARCEL_FILES

BUNDLED_DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True, eq=False)
class ParcelTables:
    """The validated parcel-channel tables.

    Attributes
    ----------
    channels
        One row per channel, indexed by channel id, in file order.
    zones
        Channel, destination country, postcode prefix ('' for every postcode) and zone.
    rates
        Rate card rows with ``fx_cny`` (CNY per unit of the row's currency) and the parsed
        dates ``valid_from_date`` and ``valid_to_date``.
    """

    channels: pd.DataFrame
    zones: pd.DataFrame
    rates: pd.DataFrame


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def load_parcel_tables(path: str | os.PathLike[str] | None = None) -> ParcelTables:
    """Read and validate the parcel-channel files of a dataset directory.

    Parameters
    ----------
    path
        Directory holding the three parcel files and ``fx.csv``; None: the bundled dataset.

    Raises
    ------
    NetworkValidationError
        Listing every problem, each with its file, line, column, value and what is allowed.

    Examples
    --------
    >>> tables = load_parcel_tables()
    >>> row = tables.channels.loc["EXP-DHL"]
    >>> row["kind"], float(row["volumetric_divisor"]), float(row["weight_step_kg"])
    ('express', 5000.0, 0.5)
    >>> sorted(set(tables.channels["kind"]))
    ['ecommerce_line', 'express', 'postal', 'rail_parcel']
    """
    directory = Path(path) if path is not None else BUNDLED_DATA_DIR
    problems = v.Collector()
    tables = {
        name: v.parse_table(name, _read(directory / name), columns, problems)
        for name, columns in PARCEL_FILES.items()
    }
    fx = v.parse_table("fx.csv", _read(directory / "fx.csv"), FX_COLUMNS, problems)
    channels = tables["parcel_channels.csv"]
    zones = tables["parcel_zones.csv"]
    rates = tables["parcel_rates.csv"]
    v.check_unique("parcel_channels.csv", channels, "id", problems)
    check_channels(channels, problems)
    known = set(v.values(channels, "id")) - {""}
    check_zones(zones, known, problems)
    rates = check_rates(
        rates, channels, zones, dict(zip(fx["currency"], fx["cny_per_unit"], strict=True)), problems
    )
    if problems.problems:
        raise NetworkValidationError(problems.problems)
    return ParcelTables(
        channels=channels.set_index("id", drop=False).rename_axis(None),
        zones=zones,
        rates=rates,
    )


def check_channels(channels: pd.DataFrame, problems: v.Collector) -> None:
    """Each channel's transit range runs forward and its first weight fits its piece limit."""
    for position, row in enumerate(v.records(channels)):
        where = v.line_of(position) + f" (id {row.id})"
        if row.transit_days_min > row.transit_days_max:
            problems.add(
                "parcel_channels.csv",
                where,
                f"transit_days_min {row.transit_days_min:g} is above transit_days_max "
                f"{row.transit_days_max:g}; the range must run from the fastest to the slowest",
            )
        if row.min_chargeable_kg > row.max_kg_per_piece:
            problems.add(
                "parcel_channels.csv",
                where,
                f"min_chargeable_kg {row.min_chargeable_kg:g} is above max_kg_per_piece "
                f"{row.max_kg_per_piece:g}",
            )


def check_zones(zones: pd.DataFrame, channel_ids: set[str], problems: v.Collector) -> None:
    """Zone rows name a known channel, a two-letter country code, and no (channel, country,
    prefix) twice."""
    seen: dict[tuple[str, str, str], int] = {}
    for position, row in enumerate(v.records(zones)):
        where = v.line_of(position)
        if row.channel and row.channel not in channel_ids:
            problems.add(
                "parcel_zones.csv",
                where,
                f"channel {row.channel!r} is not an id of parcel_channels.csv; known: "
                f"{', '.join(sorted(channel_ids))}",
            )
        if row.country and not (len(row.country) == 2 and row.country.isalpha()
                                and row.country.isupper()):  # fmt: skip
            problems.add(
                "parcel_zones.csv",
                where,
                f"country {row.country!r} is not an ISO 3166-1 alpha-2 code (two capital letters)",
            )
        key = (row.channel, row.country, row.postcode_prefix)
        if key in seen:
            problems.add(
                "parcel_zones.csv",
                where,
                f"channel {row.channel} country {row.country} postcode_prefix "
                f"{row.postcode_prefix!r} is zoned twice (first on {v.line_of(seen[key])})",
            )
        else:
            seen[key] = position


def check_rates(
    rates: pd.DataFrame,
    channels: pd.DataFrame,
    zones: pd.DataFrame,
    fx_cny: dict[str, float],
    problems: v.Collector,
) -> pd.DataFrame:
    """Rate rows: a zoned channel, a known currency, real dates, a weight band that runs
    forward and lies within the channel's piece limit, a first weight inside its band, and a
    transit range inside the channel's; every zone of every channel has rates. Returns the
    rows with ``fx_cny`` and the parsed validity dates."""
    zoned = set(zip(zones["channel"], zones["zone"], strict=True))
    limits = dict(
        zip(
            channels["id"],
            zip(
                channels["max_kg_per_piece"],
                channels["transit_days_min"],
                channels["transit_days_max"],
                strict=True,
            ),
            strict=True,
        )
    )
    valid_from: list[date | None] = []
    valid_to: list[date | None] = []
    file = "parcel_rates.csv"
    for position, row in enumerate(v.records(rates)):
        where = v.line_of(position) + f" (channel {row.channel} zone {row.zone})"
        if (row.channel, row.zone) not in zoned:
            problems.add(
                file,
                where,
                f"zone {row.zone!r} of channel {row.channel!r} is not in parcel_zones.csv",
            )
        if row.currency and row.currency not in fx_cny:
            problems.add(
                file,
                where,
                f"currency {row.currency!r} has no FX rate in fx.csv; known: "
                f"{', '.join(sorted(fx_cny))}",
            )
        dates = v.check_period(
            file,
            where,
            {"quoted_on": row.quoted_on, "valid_from": row.valid_from, "valid_to": row.valid_to},
            problems,
        )
        valid_from.append(dates.get("valid_from"))
        valid_to.append(dates.get("valid_to"))
        if row.break_from_kg >= row.break_to_kg:
            problems.add(
                file,
                where,
                f"break_from_kg {row.break_from_kg:g} is not below break_to_kg {row.break_to_kg:g}",
            )
        if not row.first_kg <= row.break_to_kg:
            problems.add(
                file, where, f"first_kg {row.first_kg:g} is above break_to_kg {row.break_to_kg:g}"
            )
        if row.channel in limits:
            max_kg, tmin, tmax = limits[row.channel]
            if row.break_to_kg > max_kg:
                problems.add(
                    file,
                    where,
                    f"break_to_kg {row.break_to_kg:g} is above the channel's "
                    f"max_kg_per_piece {max_kg:g}",
                )
            if not (tmin <= row.transit_days_min <= row.transit_days_max <= tmax):
                problems.add(
                    file,
                    where,
                    f"transit days {row.transit_days_min:g}-{row.transit_days_max:g} are not "
                    f"within the channel's {tmin:g}-{tmax:g}",
                )
    for channel, zone in sorted(zoned - set(zip(rates["channel"], rates["zone"], strict=True))):
        problems.add(file, "", f"zone {zone!r} of channel {channel!r} has no rate rows")
    return rates.assign(
        fx_cny=[fx_cny.get(c, float("nan")) for c in rates["currency"]],
        valid_from_date=pd.Series(valid_from, index=rates.index, dtype=object),
        valid_to_date=pd.Series(valid_to, index=rates.index, dtype=object),
    )
