"""Parcels and channel quotes: frozen dataclasses that check themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from network_data.schema import PARCEL_CONTENTS
from optimizer.errors import InvalidInputError
from optimizer.inputs import check_positive

#: The pilot-zone cities a parcel leaves from, with the Chinese names accepted for each.
PILOT_ZONE_CITIES: dict[str, str] = {
    "Chengdu": "成都",
    "Chongqing": "重庆",
    "Mianyang": "绵阳",
    "Dazhou": "达州",
    "Guang'an": "广安",
    "Nanchong": "南充",
    "Wuhu": "芜湖",
    "Anqing": "安庆",
}
#: Contents in words, for refusal reasons.
CONTENT_WORDS: dict[str, str] = {
    "lithium_alone": "lithium batteries alone",
    "lithium_in_equipment": "lithium batteries in equipment",
    "liquids": "liquids",
    "powders": "powders",
}
#: Heaviest piece and longest side accepted at all (a parcel, not freight).
MAX_PIECE_KG = 1_000.0
MAX_SIDE_CM = 1_000.0
MAX_PIECES = 10_000


def origin_city(value: object) -> str:
    """The pilot-zone city ``value`` names (English, any case, or Chinese).

    Examples
    --------
    >>> origin_city("guang'an"), origin_city("重庆")
    ("Guang'an", 'Chongqing')
    """
    if isinstance(value, str):
        wanted = value.strip().casefold()
        for city, chinese in PILOT_ZONE_CITIES.items():
            if wanted in (city.casefold(), chinese, city.casefold().replace("'", "")):
                return city
    raise InvalidInputError("origin", value, f"a pilot-zone city: {', '.join(PILOT_ZONE_CITIES)}")


@dataclass(frozen=True)
class Parcel:
    """One order's parcel (or ``pieces`` identical parcels to one address).

    Parameters
    ----------
    country
        Destination, ISO 3166-1 alpha-2 (``US``, ``DE``), upper or lower case.
    weight_kg
        Actual weight of one piece.
    length_cm, width_cm, height_cm
        Size of one piece.
    pieces
        Number of identical pieces.
    postcode
        Destination postcode; lines that zone by postcode need it.
    contents
        Some of ``lithium_alone``, ``lithium_in_equipment``, ``liquids``, ``powders``.
    declared_value_cny
        Customs value of one piece, if known (reported; duties are not priced).
    origin
        Pilot-zone city it leaves from (English or Chinese name).

    Examples
    --------
    >>> Parcel("us", 2.0, 30, 20, 15, postcode="90001").country
    'US'
    >>> Parcel("US", 2.0, 30, 20, 15, contents=frozenset({"batteries"}))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: contents: got 'batteries'; expected some of ...
    """

    country: str
    weight_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    pieces: int = 1
    postcode: str = ""
    contents: frozenset[str] = field(default_factory=frozenset)
    declared_value_cny: float | None = None
    origin: str = "Chengdu"

    def __post_init__(self) -> None:
        country = self.country.strip().upper() if isinstance(self.country, str) else ""
        if not (len(country) == 2 and country.isalpha() and country.isascii()):
            raise InvalidInputError(
                "country", self.country, "an ISO 3166-1 alpha-2 code such as US"
            )
        object.__setattr__(self, "country", country)
        check_positive("weight_kg", self.weight_kg, MAX_PIECE_KG)
        for name in ("length_cm", "width_cm", "height_cm"):
            check_positive(name, getattr(self, name), MAX_SIDE_CM)
        if (
            isinstance(self.pieces, bool)
            or not isinstance(self.pieces, int)
            or not 1 <= self.pieces <= MAX_PIECES
        ):
            raise InvalidInputError("pieces", self.pieces, f"an integer from 1 to {MAX_PIECES:,}")
        if not isinstance(self.postcode, str):
            raise InvalidInputError("postcode", self.postcode, "text")
        object.__setattr__(self, "postcode", self.postcode.strip().upper())
        for item in sorted(self.contents):
            if item not in PARCEL_CONTENTS:
                raise InvalidInputError("contents", item, f"some of {', '.join(PARCEL_CONTENTS)}")
        object.__setattr__(self, "contents", frozenset(self.contents))
        if self.declared_value_cny is not None:
            check_positive("declared_value_cny", self.declared_value_cny, 1e9)
        object.__setattr__(self, "origin", origin_city(self.origin))

    @property
    def sides_cm(self) -> tuple[float, float, float]:
        """The three sides, longest first."""
        a, b, c = sorted((self.length_cm, self.width_cm, self.height_cm), reverse=True)
        return a, b, c


@dataclass(frozen=True)
class ChargeLine:
    """One line of a quote: ``kind`` (first_weight, additional_weight, minimum, fuel,
    item_fee, feeder), its amount in CNY and how it was computed."""

    kind: str
    amount_cny: float
    basis: str


@dataclass(frozen=True)
class ChannelQuote:
    """What one channel offers for a parcel, or why it refuses it.

    ``cost_cny`` is the sum of ``charges`` for all pieces (0 when refused); ``reason`` names
    the rule and the value that refused the parcel ('' when offered); ``notes`` say what the
    price leaves out (duties and taxes).
    """

    channel: str
    name: str
    kind: str
    offered: bool
    reason: str = ""
    zone: str = ""
    cost_cny: float = 0.0
    charges: tuple[ChargeLine, ...] = ()
    chargeable_kg: float = 0.0
    transit_days_min: float = 0.0
    transit_days_max: float = 0.0
    regime: str = ""
    duties: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    notes: tuple[str, ...] = ()
