"""The scenario file: a YAML document validated into a :class:`Scenario`.

A scenario names its base dataset, the changes made to a copy of it, the demand, how shippers
choose among a shipment's options, the analyses to run and, for sweeps, the uncertain
parameters. Every problem is reported with the path of its key, for example
``changes[2].scale.factor: got -1; expected a number > 0``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from network_data.schema import CustomsRegime, Mode
from optimizer.errors import ShudaoError, clipped, quoted
from optimizer.inputs import YEARS, TableError, read_text

BUNDLED_DIR = Path(__file__).parent
#: The data files bundled scenarios name; any scenario file may name them too.
BUNDLED_DATA_DIR = BUNDLED_DIR / "data"
#: Problems an error lists at most (the count of the others follows).
MAX_PROBLEMS = 10


class ScenarioError(ShudaoError, ValueError):
    """A scenario file is invalid; the message names the key path of every problem, ``key``
    that of the first (None: the file as a whole)."""

    key: str | None = None


_KEY = re.compile(r"^[A-Za-z_][\w.\[\]]*(?=: )")


def _problems(lines: list[str]) -> ScenarioError:
    """One error listing the first :data:`MAX_PROBLEMS` problems, then how many more.

    Examples
    --------
    >>> error = _problems([f"changes[{i}].scale.factor: got -1; expected ..." for i in range(12)])
    >>> error.key, str(error).splitlines()[-1]
    ('changes[0].scale.factor', '... and 2 more')
    """
    more = len(lines) - MAX_PROBLEMS
    error = ScenarioError(
        "\n".join(lines[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else []))
    )
    key = _KEY.match(lines[0]) if lines else None
    error.key = key.group() if key else None
    return error


#: The key figures of a run that a sweep writes per sample, beside ``sample`` and ``share_<mode>``.
KPI_COLUMNS = ("total_cost", "cost_per_t", "mean_days", "p90_days", "co2e_kg", "unserved")
#: How far a normal or lognormal draw may go: this many standard deviations (a chance of 1e-15).
TAIL_SD = 8.0
#: Upper limits of a scenario's numbers, each beyond anything real, so that no value overflows
#: a time, a cost or the demand generator.
YEAR_H = 8_760.0
MAX_FACTOR = 1_000.0
#: Around the Earth.
MAX_DISTANCE_KM = 40_075.0
#: More than one departure every ten minutes.
MAX_DEPARTURES_PER_WEEK = 1_000.0
#: The largest container ships carry 24,000 TEU; the largest bulk carriers 400,000 t.
MAX_TEU_PER_DEPARTURE = 30_000.0
MAX_T_PER_DEPARTURE = 500_000.0
MAX_CNY = 1e7
#: CNY per unit of a currency (the dearest, the Kuwaiti dinar, is about CNY 23) and per
#: tonne of CO2e (the EU ETS price has stayed below EUR 110).
MAX_CNY_PER_UNIT = 10_000.0
MAX_PRICE_PER_T_CO2E = 10_000.0
#: Demand may grow at most tenfold (15 % a year for 16 years is 9.4-fold) and the generator
#: draws at most this many lots (53 times the bundled scenarios' four weeks, 9,400 lots).
MAX_GROWTH = 10.0
MAX_LOTS = 500_000
#: libyaml's safe loader where PyYAML has it (seven times faster than the pure Python one).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_anchors(text: str) -> None:
    """Raise :class:`ScenarioError` at the first YAML anchor or alias of ``text``: an alias
    repeats a whole structure, so nested ones make a few hundred bytes stand for gigabytes
    ("billion laughs")."""
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
            mark = event.start_mark
            raise ScenarioError(
                f"(file): line {mark.line + 1}, column {mark.column + 1}: got the YAML "
                f"{kind}{clipped(anchor)}; expected no anchors or aliases (write each "
                "value out)"
            )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NetworkSpec(_Model):
    """The base dataset: a directory (None: bundled), contract tariffs, an expected version."""

    data: str | None = None
    tariffs: str | None = None
    version: str | None = None


class Selector(_Model):
    """Which corridors, nodes or passages a change applies to (all listed ones)."""

    modes: tuple[Mode, ...] = ()
    corridors: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    passages: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not (self.modes or self.corridors or self.nodes or self.passages):
            raise ValueError("name at least one of modes, corridors, nodes, passages")
        return self


class Close(Selector):
    """Close nodes (every corridor touching them), corridors, passages or whole modes."""


class Scale(Selector):
    """Multiply ``capacity``, ``frequency``, ``cost`` (tariffs, node handling) or ``dwell``.

    ``frequency`` scales departures per week, and with them weekly capacity, exactly; the
    weekly timetable keeps at least one weekday, so a weekly service halved still sails every
    week on the timetable, with half the week's capacity.
    """

    what: Literal["capacity", "frequency", "cost", "dwell"]
    factor: float = Field(gt=0, le=MAX_FACTOR)


class Delay(Selector):
    """Add hours: to node or passage dwell, or to corridors' transit (median and p90)."""

    hours: float = Field(ge=0, le=YEAR_H)
    p90_hours: float | None = Field(default=None, ge=0, le=YEAR_H)


class AddNode(_Model):
    """A new node (a new port, station or warehouse)."""

    id: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    name_zh: str = ""
    kind: Literal[
        "city", "industrial_park", "rail_terminal", "river_port", "seaport", "airport",
        "border_crossing", "bonded_zone", "dry_port", "express_hub", "overseas_warehouse", "market",
    ]  # fmt: skip
    country: str = Field(pattern=r"^[A-Z]{2}$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    modes: tuple[Mode, ...] = ("road",)
    regimes: tuple[CustomsRegime, ...] = ()
    handling_h: float = Field(default=6.0, ge=0, le=YEAR_H)
    handling_cost_cny_per_container: float = Field(default=450.0, ge=0, le=MAX_CNY)
    handling_cost_cny_per_t: float = Field(default=60.0, ge=0, le=MAX_CNY)
    timezone: str = "Asia/Shanghai"


class AddCorridor(_Model):
    """A new corridor, priced by its mode's default tariff; ``both_ways`` adds the return."""

    id: str = Field(min_length=1)
    origin: str
    destination: str
    mode: Mode
    vehicle: str | None = None
    service_name: str = ""
    distance_km: float = Field(gt=0, le=MAX_DISTANCE_KM)
    duration_h: float = Field(gt=0, le=YEAR_H)
    duration_p90_h: float | None = Field(default=None, gt=0, le=YEAR_H)
    departures_per_week: float = Field(default=7.0, gt=0, le=MAX_DEPARTURES_PER_WEEK)
    capacity_teu_per_departure: float | None = Field(default=None, ge=0, le=MAX_TEU_PER_DEPARTURE)
    capacity_t_per_departure: float | None = Field(default=None, gt=0, le=MAX_T_PER_DEPARTURE)
    reefer: bool = False
    passages: tuple[str, ...] = ()
    both_ways: bool = False


class AddService(_Model):
    """A timetabled departure pattern on a corridor (which becomes scheduled)."""

    corridor: str
    service_name: str = Field(min_length=1)
    weekdays: tuple[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], ...] = Field(
        min_length=1
    )
    departure_local: str = Field(default="18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    cutoff_h: float = Field(default=24.0, ge=0, le=YEAR_H)
    #: The later cut-off for a box arriving by train under a rail-sea (or rail-water) through
    #: booking; None: only ``cutoff_h``.
    rail_cutoff_h: float | None = Field(default=None, ge=0, le=YEAR_H)


class Fx(_Model):
    """Set the CNY value of one unit of a currency."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    cny_per_unit: float = Field(gt=0, le=MAX_CNY_PER_UNIT)


class CarbonPrice(_Model):
    """A price per tonne CO2e added to every leg's cost (and to what shippers weigh)."""

    per_t_co2e: float = Field(ge=0, le=MAX_PRICE_PER_T_CO2E)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class SetPassageStatus(_Model):
    """What the main container carriers do at passages for the whole run, whatever
    ``passage_status.csv`` dates: sail through (``open``) or route round (``avoided``)."""

    passages: tuple[str, ...] = Field(min_length=1)
    status: Literal["open", "avoided"]


class Open(_Model):
    """Switch on planned or under-construction facilities (``network.planned``): node,
    corridor or service ids, and every one due to open by the year ``opening_by``. A node
    brings its planned corridors to operating places, a corridor its return, its ends and its
    timetable, a service its corridor (:func:`network_data.status.opening`)."""

    ids: tuple[str, ...] = ()
    opening_by: int | None = Field(default=None, ge=YEARS[0], le=2100)

    @model_validator(mode="after")
    def _not_empty(self) -> Open:
        if not self.ids and self.opening_by is None:
            raise ValueError("name at least one of ids, opening_by")
        return self


class Change(_Model):
    """One change: exactly one of its keys is set."""

    close: Close | None = None
    scale: Scale | None = None
    delay: Delay | None = None
    add_node: AddNode | None = None
    add_corridor: AddCorridor | None = None
    add_service: AddService | None = None
    fx: Fx | None = None
    carbon_price: CarbonPrice | None = None
    passage_status: SetPassageStatus | None = None
    open: Open | None = None

    @model_validator(mode="after")
    def _one(self) -> Change:
        if len(self.model_fields_set) != 1:
            raise ValueError(f"exactly one of {', '.join(Change.model_fields)}")
        return self

    @property
    def kind(self) -> str:
        """The key that is set."""
        return next(iter(self.model_fields_set))

    @property
    def body(self) -> _Model:
        """The value of the key that is set."""
        body: _Model = getattr(self, self.kind)
        return body


def _zones() -> dict[str, Any]:
    """The generator's zones (:data:`scenarios.demand.ZONES`; that module imports this one)."""
    from scenarios.demand import ZONES

    return ZONES


class Generate(_Model):
    """Draw shipments from the pilot zones' industry profiles (:mod:`scenarios.demand`)."""

    seed: int = Field(default=0, ge=0)
    weeks: int = Field(default=4, ge=1, le=52)
    start: date = Field(
        default=date(2026, 11, 30), ge=date(YEARS[0], 1, 1), le=date(YEARS[1], 12, 31)
    )
    zones: tuple[str, ...] | None = None
    scale: float = Field(default=1.0, gt=0, le=MAX_FACTOR)

    @model_validator(mode="after")
    def _zones(self) -> Generate:
        unknown = [zone for zone in self.zone_names if zone not in _zones()]
        if unknown:
            raise ValueError(
                f"demand.generate.zones: got {quoted(unknown[0])}; expected one of "
                f"{', '.join(_zones())}"
            )
        return self

    @property
    def zone_names(self) -> tuple[str, ...]:
        """The zones drawn from (all when ``zones`` is not given)."""
        return self.zones if self.zones is not None else tuple(_zones())

    @property
    def lots_per_week(self) -> float:
        """Lots the generator draws a week, before growth.

        Examples
        --------
        >>> Generate(zones=("guangan", "dazhou"), scale=0.5).lots_per_week
        200.0
        """
        zones = _zones()
        return float(sum(zones[name].lots_per_week for name in self.zone_names) * self.scale)


class Demand(_Model):
    """A shipments file (columns of ``shudao plan-batch``) or a generator; growth per year."""

    file: str | None = None
    generate: Generate | None = None
    growth_per_year: float = Field(default=0.0, gt=-1)
    years: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _source(self) -> Demand:
        if (self.file is None) == (self.generate is None):
            raise ValueError("exactly one of file, generate")
        if self.years * math.log1p(self.growth_per_year) > math.log(MAX_GROWTH):
            raise ValueError(
                f"demand.growth_per_year: got {self.growth_per_year:g} for {self.years:g} years; "
                f"expected growth of at most {MAX_GROWTH:g}-fold"
            )
        if self.generate is not None:
            lots = self.generate.lots_per_week * self.generate.weeks
            if lots * (1 + self.growth_per_year) ** self.years > MAX_LOTS:
                raise ValueError(
                    f"demand.generate: got about {lots:,.0f} lots before growth; expected at "
                    f"most {MAX_LOTS:,} with growth (fewer weeks, a smaller scale or zones)"
                )
        return self


class Choice(_Model):
    """How a shipper picks an option of its plan, and the capacity the demand may use.

    The chosen option minimises cost + carbon charge + ``value_of_time_per_day`` x cargo value
    x days door to door; every such minimum lies on the planner's Pareto front.
    ``capacity_share`` is the share of each corridor's weekly capacity open to this demand.
    """

    value_of_time_per_day: float = Field(default=0.001, ge=0, le=1)
    capacity_share: float = Field(default=1.0, gt=0, le=1)


class Consolidation(_Model):
    """Pool the lots of ``origins`` (zones or node ids) at ``hubs`` over ``days``."""

    hubs: tuple[str, ...] = Field(min_length=1)
    origins: tuple[str, ...] = Field(min_length=1)
    days: int = Field(default=14, ge=1, le=92)
    time_limit_s: float = Field(default=10.0, gt=0, le=600)


class Allocation(_Model):
    """Warehouse allocation for sellers and warehouse terms (CSV paths, relative to the file)."""

    sellers: str
    warehouses: str
    weeks: int = Field(default=4, ge=1, le=52)
    service_days: float = Field(default=5.0, ge=0, le=365)
    time_limit_s: float = Field(default=10.0, gt=0, le=600)


class Analyses(_Model):
    """Route plans always; consolidation and allocation when asked for."""

    consolidation: Consolidation | None = None
    allocation: Allocation | None = None


class Uncertain(_Model):
    """A parameter drawn per sweep sample and written at ``path`` (e.g. ``changes[0].delay.hours``).

    ``uniform`` uses low/high, ``triangular`` low/mode/high, ``normal`` mean/sd, ``lognormal``
    median/sigma (in log space). Normal and lognormal draws are clipped at low/high when given
    and at :data:`TAIL_SD` standard deviations, so every draw lies in :attr:`support`; a draw for
    a whole-number field (``weeks``) is rounded.
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    path: str
    distribution: Literal["uniform", "triangular", "normal", "lognormal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _parameters(self) -> Uncertain:
        needed = {
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
        }[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "triangular" and not (
            self.low is not None and self.high is not None and self.mode is not None
            and self.low <= self.mode <= self.high
        ):  # fmt: skip
            raise ValueError("mode must lie between low and high")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """The least and the greatest value a draw can take.

        Examples
        --------
        >>> Uncertain(name="x", path="a", distribution="normal", mean=48, sd=12, low=0).support
        (0.0, 144.0)
        """
        given = self.model_dump()
        if self.distribution == "normal":
            spread = TAIL_SD * given["sd"]
            low, high = given["mean"] - spread, given["mean"] + spread
        elif self.distribution == "lognormal":
            low = given["median"] * math.exp(-TAIL_SD * given["sigma"])
            high = given["median"] * math.exp(TAIL_SD * given["sigma"])
        else:
            low, high = given["low"], given["high"]
        return (
            float(low if self.low is None else max(low, self.low)),
            float(high if self.high is None else min(high, self.high)),
        )


class Scenario(_Model):
    """A validated scenario file. ``base_dir`` resolves relative paths in it."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = Field(min_length=1)
    network: NetworkSpec = NetworkSpec()
    changes: tuple[Change, ...] = ()
    demand: Demand
    choice: Choice = Choice()
    analyses: Analyses = Analyses()
    uncertain: tuple[Uncertain, ...] = ()
    base_dir: str = Field(default=".", exclude=True)

    @model_validator(mode="after")
    def _files_inside(self) -> Scenario:
        """Files are read only from the scenario's own folder and the bundled data folder."""
        named = {
            "network.data": self.network.data,
            "network.tariffs": self.network.tariffs,
            "demand.file": self.demand.file,
            "analyses.allocation.sellers": getattr(self.analyses.allocation, "sellers", None),
            "analyses.allocation.warehouses": getattr(self.analyses.allocation, "warehouses", None),
        }
        folders = (Path(self.base_dir).resolve(), BUNDLED_DATA_DIR.resolve())
        for key, relative in named.items():
            if relative is None:
                continue
            path = self.resolve(relative).resolve()
            if not any(path.is_relative_to(folder) for folder in folders):
                raise ValueError(
                    f"{key}: got {quoted(relative)}; expected a path inside the scenario "
                    "file's folder or the bundled scenarios' data folder"
                )
        return self

    @model_validator(mode="after")
    def _uncertain(self) -> Scenario:
        document = self.model_dump(mode="json")
        columns = f"sample, {', '.join(KPI_COLUMNS)} or share_<mode>"
        names: dict[str, str] = {}
        paths: dict[str, str] = {}
        for i, parameter in enumerate(self.uncertain):
            name, path = parameter.name, parameter.path
            if name in ("sample", *KPI_COLUMNS) or name.startswith("share_"):
                raise ValueError(
                    f"uncertain[{i}].name: got {quoted(name)}; expected a name other than the "
                    f"sweep's own columns ({columns})"
                )
            if name in names:
                raise ValueError(
                    f"uncertain[{i}].name: got {quoted(name)}; expected a name not used by "
                    f"{names[name]}"
                )
            names[name] = f"uncertain[{i}]"
            try:
                _get(document, path)
            except KeyError as exc:
                raise ValueError(
                    f"uncertain[{i}].path: got {quoted(path)}; expected the path of a "
                    f"number in this file ({exc.args[0]})"
                ) from exc
            if path in paths:
                raise ValueError(
                    f"uncertain[{i}].path: got {quoted(path)}; expected a path not drawn by "
                    f"{paths[path]} already"
                )
            paths[path] = f"uncertain[{i}]"
            self._check_support(i)
        return self

    def _check_support(self, i: int) -> None:
        """Every value parameter ``i`` can draw gives a valid scenario (field limits are
        intervals, so the two ends of the support decide)."""
        parameter = self.uncertain[i]
        trial = {
            **self.model_dump(mode="json", exclude_none=True),
            "uncertain": [],
            "base_dir": self.base_dir,
        }
        if not all(math.isfinite(end) for end in parameter.support):
            raise ValueError(
                f"uncertain[{i}] ({parameter.name}): got draws without bound; expected "
                "parameters whose draws stay finite (set low and high)"
            )
        for end in parameter.support:
            value = self.snap(parameter, end)
            _set(trial, parameter.path, value)
            try:
                Scenario.model_validate(trial)
            except ValidationError as exc:
                problems = "; ".join(_message(e) for e in exc.errors())
                raise ValueError(
                    f"uncertain[{i}] ({parameter.name}): a draw of {value:g} is possible and "
                    f"invalid ({problems}); set low/high within the field's limits"
                ) from None

    def snap(self, parameter: Uncertain, value: float) -> float:
        """``value`` as written at ``parameter.path``: rounded where the field is a whole number.

        Examples
        --------
        >>> s = load_scenario("red_sea_closure")
        >>> p = Uncertain(name="w", path="demand.generate.weeks", distribution="uniform",
        ...               low=2, high=6)
        >>> s.snap(p, 3.6)
        4.0
        """
        whole = isinstance(_get(self.model_dump(mode="json"), parameter.path), int)
        return float(round(value)) if whole else value

    def resolve(self, relative: str) -> Path:
        """A path of the file, relative to the file's directory."""
        return Path(self.base_dir) / relative

    def digest(self) -> str:
        """12 hex digits that change with any setting of the scenario.

        Examples
        --------
        >>> digest = load_scenario("baseline").digest()
        >>> digest == load_scenario("baseline").digest() != load_scenario("carbon_price").digest()
        True
        """
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def with_values(self, values: dict[str, float]) -> Scenario:
        """A copy with the number at each ``path`` replaced (the draws of a sweep sample).

        Examples
        --------
        >>> s = load_scenario("border_congestion")
        >>> s.with_values({"changes[0].delay.hours": 24.0}).changes[0].delay.hours
        24.0
        """
        document = self.model_dump(mode="json", exclude_none=True)
        for path, value in values.items():
            _set(document, path, value)
        return scenario_from_dict(document, base_dir=self.base_dir)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        matched = _STEP.findall(part)
        if not matched or "".join(n or f"[{i}]" for n, i in matched) != part:
            raise KeyError(f"{quoted(part)} is not a key or [index]")
        steps.extend(name or int(index) for name, index in matched)
    return steps


def _get(document: Any, path: str) -> Any:
    value = document
    for step in _steps(path):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError) as exc:
            raise KeyError(f"no {quoted(step)}") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KeyError("not a number")
    return value


def _set(document: Any, path: str, value: float) -> None:
    *parents, last = _steps(path)
    target = document
    for step in parents:
        target = target[step]
    target[last] = value


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
        elif not str(step).startswith(("function-", "tagged-")):
            text += f".{step}" if text else str(step)
    return text or "(file)"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bound(relation: str, limit: object) -> str:
    """``a number >= 0``, ``a date <= 2199-12-31`` (pydantic gives a date limit as text)."""
    noun = "a date" if isinstance(limit, str) and _DATE.match(limit) else "a number"
    return f"{noun} {relation} {_number(limit)}"


def _expected(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    words: dict[str, Callable[[], str]] = {
        "greater_than": lambda: _bound(">", ctx.get("gt")),
        "greater_than_equal": lambda: _bound(">=", ctx.get("ge")),
        "less_than": lambda: _bound("<", ctx.get("lt")),
        "less_than_equal": lambda: _bound("<=", ctx.get("le")),
        "finite_number": lambda: "a finite number",
        "float_parsing": lambda: "a number",
        "float_type": lambda: "a number",
        "int_parsing": lambda: "an integer",
        "int_type": lambda: "an integer",
        "int_from_float": lambda: "an integer",
        "bool_parsing": lambda: "true or false",
        "string_type": lambda: "text",
        "literal_error": lambda: f"one of {ctx.get('expected')}",
        "string_pattern_mismatch": lambda: f"text matching {ctx.get('pattern')}",
        "missing": lambda: "a value (this key is required)",
        "extra_forbidden": lambda: "no such key (check its spelling)",
        "date_from_datetime_parsing": lambda: "a date such as 2026-11-30",
        "date_parsing": lambda: "a date such as 2026-11-30",
    }
    if kind in words:
        return words[kind]()
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _message(error: Any) -> str:
    path = _location(tuple(error["loc"]))
    expected = _expected(error)
    if error["type"] == "value_error" and ": got " in expected:
        return expected
    if error["type"] in ("missing", "value_error", "model_type", "extra_forbidden"):
        return f"{path}: {expected}"
    given = error.get("input")
    shown = given.isoformat() if isinstance(given, date) else given
    return f"{path}: got {quoted(shown)}; expected {expected}"


def scenario_from_dict(document: Any, *, base_dir: str | Path = ".") -> Scenario:
    """Validate a parsed scenario document.

    Raises
    ------
    ScenarioError
        Listing every problem, each with its key path.

    Examples
    --------
    >>> scenario_from_dict({"name": "x", "description": "y", "demand": {"file": "s.csv"},
    ...     "changes": [{"scale": {"what": "cost", "factor": -1, "modes": ["sea"]}}]})
    Traceback (most recent call last):
    ...
    scenarios.spec.ScenarioError: changes[0].scale.factor: got -1; expected a number > 0
    """
    if not isinstance(document, dict):
        raise ScenarioError(f"(file): got {type(document).__name__}; expected a mapping of keys")
    try:
        return Scenario.model_validate({**copy.deepcopy(document), "base_dir": str(base_dir)})
    except ValidationError as exc:
        raise _problems([_message(e) for e in exc.errors()]) from None


def bundled_names() -> list[str]:
    """Names of the scenarios shipped with Shudao.

    Examples
    --------
    >>> "red_sea_closure" in bundled_names()
    True
    """
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def parse_scenario(text: str, *, base_dir: str | Path = ".") -> Scenario:
    """Parse and validate scenario YAML text: safe YAML without anchors or aliases.

    Raises
    ------
    ScenarioError
        Quoting at most a short prefix of any value; an anchor or alias is refused by its line.

    Examples
    --------
    >>> parse_scenario("name: x\\ndescription: &a [lol, lol]\\nlaughs: *a\\n")
    Traceback (most recent call last):
    ...
    scenarios.spec.ScenarioError: (file): line 2, column 14: got the YAML anchor &a; expected no ...
    """
    try:
        _refuse_anchors(text)
        document = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader
    except ScenarioError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = clipped(exc.problem or exc.context or "")
        raise ScenarioError(f"(file): not valid YAML{where} ({problem})") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of 4,301 digits
        raise ScenarioError(f"(file): not valid YAML ({clipped(str(exc))})") from None
    except RecursionError:
        raise ScenarioError("(file): not valid YAML (nested too deeply)") from None
    return scenario_from_dict(document, base_dir=base_dir)


def load_scenario(source: str | Path) -> Scenario:
    """Load a scenario file, or a bundled scenario by name (``"red_sea_closure"``).

    Examples
    --------
    >>> load_scenario("red_sea_closure").changes[0].close.passages
    ('suez', 'bab-el-mandeb')
    """
    path = Path(source)
    if not path.suffix and str(source) in bundled_names():
        path = BUNDLED_DIR / f"{source}.yaml"
    if not path.is_file():
        raise ScenarioError(
            f"{quoted(str(source))}: no such file, and not a bundled scenario "
            f"({', '.join(bundled_names())})"
        )
    try:
        text = read_text(path)
    except TableError as exc:
        raise ScenarioError(str(exc)) from None
    return parse_scenario(text, base_dir=path.parent)
