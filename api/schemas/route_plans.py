"""Request and response models of ``/v1/route-plans``."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from api.schemas.numbers import Float, Int
from network_data.schema import PARCEL_CONTENTS, CustomsRegime, Mode
from optimizer.model import MAX_SIDE_CM, MAX_VOLUME_M3, MAX_WEIGHT_KG, CargoClass
from optimizer.routing.problem import PLAN_TIME_LIMIT_S

#: The longest search a request may ask for: it holds one of the server's processes.
MAX_PLAN_TIME_LIMIT_S = 60.0

#: What a parcel may hold that some channels refuse (``network_data.schema.PARCEL_CONTENTS``).
ParcelContent = Literal[PARCEL_CONTENTS]  # type: ignore[valid-type]


class SimilarityIn(BaseModel):
    """Option A leaves out option B when A is at most this much worse on every criterion and
    better on one (:class:`optimizer.quotable.Similarity`; all 0: only dominated options)."""

    model_config = ConfigDict(extra="forbid")
    cost_pct: Float = Field(default=5.0, ge=0, le=100)
    time_days: Float = Field(default=1.0, ge=0, le=365)
    time_pct: Float = Field(default=10.0, ge=0, le=100)
    co2e_pct: Float = Field(default=10.0, ge=0, le=100)


class ShipmentIn(BaseModel):
    """A shipment to plan (the fields of :class:`optimizer.model.Shipment`)."""

    model_config = ConfigDict(extra="forbid")
    origin: str = Field(min_length=1, max_length=200, examples=["Linshui"])
    destination: str = Field(min_length=1, max_length=200, examples=["Duisburg"])
    # The planner's own limits: a shipment the CLI and a batch row plan is one the API plans
    # (it capped 1,000 t and 10,000 m3 before, a tenth and a fifth of them, for no reason of its
    # own).
    weight_kg: Float = Field(gt=0, le=MAX_WEIGHT_KG, examples=[800])
    volume_m3: Float = Field(gt=0, le=MAX_VOLUME_M3, examples=[4.2])
    ready_at: datetime | date | None = Field(
        default=None,
        description="Default: now. A date alone is the start of that day at the origin.",
    )
    deadline: datetime | date | None = Field(
        default=None, description="A date alone is the end of that day at the destination."
    )
    pieces: Int = Field(default=1, ge=1, le=1_000_000)
    cargo_class: CargoClass = "general"
    customs_regime: CustomsRegime = "general"
    modes: list[Mode] | None = Field(
        default=None,
        validation_alias=AliasChoices("modes", "allowed_modes"),
        description="Modes a plan may use (default: all), as the CLI's --modes and the batch "
        "CSV's modes column; `allowed_modes`, the old name, is still accepted.",
    )
    forbidden_modes: list[Mode] = []
    avoid: list[str] = Field(
        default=[], max_length=100, description="Node ids, corridor ids, passages."
    )
    max_options: Int = Field(default=5, ge=1, le=20)
    use_passages: list[str] = Field(
        default=[],
        max_length=20,
        description="Passages to route through even when the main container carriers avoid "
        "them on the ready date; by default sea routes through them are left out.",
    )
    similar_within: SimilarityIn = Field(
        default_factory=lambda: SimilarityIn(),
        description="When two options are the same offer: the better is shown, the other left "
        "out (listed in `front` as barely different).",
    )
    all_options: bool = Field(
        default=False,
        description="Show every Pareto-best journey the search found as an option, each that "
        "a plan would leave out with `hidden` saying why (not sold, doubles back, barely "
        "different, beyond max_options).",
    )
    time_limit_s: Float = Field(
        default=PLAN_TIME_LIMIT_S,
        gt=0,
        le=MAX_PLAN_TIME_LIMIT_S,
        description="Seconds the plan's search may take. A plan stopped at the limit shows "
        "what it found, with `status` feasible (timed_out without an option), `unexplored` "
        "saying what no journey it did not reach beats, and a warning.",
    )
    currency: Literal["CNY", "USD", "EUR"] = "CNY"
    piece_dimensions_cm: (
        tuple[
            Annotated[Float, Field(gt=0, le=MAX_SIDE_CM)],
            Annotated[Float, Field(gt=0, le=MAX_SIDE_CM)],
            Annotated[Float, Field(gt=0, le=MAX_SIDE_CM)],
        ]
        | None
    ) = Field(
        default=None,
        examples=[[30, 20, 15]],
        description="Length, width and height of one piece, cm: the parcel channels' size "
        "limits are checked on them (default: a cube of volume_m3 / pieces).",
    )
    contents: list[ParcelContent] = Field(
        default=[],
        description="What the pieces hold that parcel channels may refuse (lithium batteries "
        "alone or in equipment, liquids, powders).",
    )
    destination_postcode: str = Field(
        default="",
        max_length=20,
        examples=["90001"],
        description="Postcode at the destination, for parcel lines that zone by it.",
    )

    @field_validator("ready_at", "deadline", mode="before")
    @classmethod
    def _time_or_date(cls, value: object) -> object:
        """ISO text: a time with its offset, or a date alone (a local day)."""
        expected = (
            "expected an ISO 8601 time with offset, e.g. 2026-11-23T08:00:00+08:00, or a date, "
            "e.g. 2026-11-23"
        )
        if value is None or isinstance(value, datetime | date):
            moment = value
        elif not isinstance(value, str):
            raise ValueError(expected)
        else:
            alone = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())
            try:
                moment = (
                    date.fromisoformat(value.strip()) if alone else datetime.fromisoformat(value)
                )
            except ValueError:
                raise ValueError(f"got {value[:40]!r}; {expected}") from None
        if isinstance(moment, datetime) and moment.tzinfo is None:
            raise ValueError(f"got {value!s:.40} without a UTC offset; {expected}")
        return moment


class ChargeOut(BaseModel):
    """One line of a leg's price (the amounts of a leg sum to its ``cost``)."""

    kind: str = Field(
        description="line_haul, thc, cfs, terminal_handling, airport_handling, loading, "
        "bonded_zone_handling, border, documentation, export_declaration or "
        "import_declaration; on a parcel channel's leg first_weight, additional_weight, minimum, "
        "fuel, item_fee or feeder."
    )
    amount: float
    basis: str = Field(description="What it is charged on, e.g. '1 box x CNY 860.00 at Qinzhou'.")


class LegOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    mode: str
    service: str | None
    depart: datetime
    arrive: datetime
    distance_km: float
    chargeable_kg: float
    cost: float
    charges: list[ChargeOut]
    co2e_kg: float


class OptionOut(BaseModel):
    summary: str
    total_cost: float
    departure: datetime
    arrival: datetime
    arrival_p90: datetime
    transit_hours: float
    co2e_kg: float
    modes: list[str]
    product: str | None = Field(description="What a forwarder sells it as (`products.csv` id).")
    family: str = Field(description="The product and what sets it apart, e.g. its border.")
    hidden: str | None = Field(
        default=None, description="With `all_options`: why a plan would leave it out."
    )
    legs: list[LegOut]


class FrontOut(BaseModel):
    """One Pareto-best journey of the search, and why the plan does not show it if it does not."""

    cost: float
    arrival: datetime
    co2e_kg: float
    product: str | None
    family: str
    shown: bool
    hidden: str | None


class ParcelChannelOut(BaseModel):
    """One parcel channel's quote for the shipment's pieces, or why it refuses them."""

    channel: str = Field(description="`parcel_channels.csv` id, e.g. POST-EPACKET.")
    name: str
    kind: str = Field(description="express, postal, ecommerce_line or rail_parcel.")
    offered: bool
    reason: str | None = Field(description="Why the channel refuses the shipment.")
    zone: str | None = None
    cost: float | None = Field(default=None, description="All pieces, in the plan's currency.")
    charges: list[ChargeOut] = []
    chargeable_kg_per_piece: float | None = None
    transit_days_min: float | None = None
    transit_days_max: float | None = None
    regime: str | None = Field(default=None, description="Customs regime it clears under.")
    duties: str | None = Field(default=None, description="DDP (paid by the channel) or DDU.")
    rate_valid_from: date | None = None
    rate_valid_to: date | None = None


class UnexploredOut(BaseModel):
    """Lower bounds on what a search stopped at its time limit did not reach."""

    arrival: datetime
    cost: Float = Field(description="In the plan's currency.")
    co2e_kg: Float


class RoutePlanOut(BaseModel):
    """A stored plan: the document of ``shudao plan --json`` plus id, time and inputs."""

    id: str
    created_at: datetime
    dataset_version: str
    currency: str
    options: list[OptionOut]
    front: list[FrontOut] = Field(
        default=[], description="Every Pareto-best journey the search found, cheapest first."
    )
    infeasible_reason: str | None
    status: Literal["optimal", "feasible", "infeasible", "timed_out"] | None = Field(
        default=None,
        description="optimal: the cheapest journey is shown; feasible: only dearer ones, or "
        "the search stopped at its time limit; infeasible: none exists (`infeasible_reason` "
        "says why); timed_out: the search stopped at its time limit with no option to show. "
        "Null in plans stored before plans had a time limit (December 2026), as are the two "
        "fields below.",
    )
    time_limit_s: Float | None = Field(default=None, description="The search's time limit, s.")
    unexplored: UnexploredOut | None = Field(
        default=None,
        description="Set when the search stopped at its time limit: no journey it did not find "
        "arrives earlier, costs less or emits less than these (each on its own). A journey "
        "found that is earlier, cheaper or cleaner than them is Pareto-best for certain; one "
        "that is not may be beaten by a journey the search did not reach.",
    )
    warnings: list[str] = Field(
        default=[],
        description="What to check before acting on the plan, in words: rates used outside "
        "their validity, an FX table far from the departure, passages left out or used while "
        "the main carriers avoid them.",
    )
    parcel_channels: list[ParcelChannelOut] = Field(
        default=[],
        description="For a shipment of small pieces: every parcel channel's quote or refusal; "
        "those offered also compete as options.",
    )
    request: ShipmentIn


class RoutePlanPage(BaseModel):
    """A page of plans, newest first; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[RoutePlanOut]
    next_cursor: str | None
