"""The contract between the job runner and a job's body: typed inputs, progress, bad input.

A job's input is one :class:`JobInput` model per kind: each field declared once, with its type,
bounds (:class:`Range`, :class:`OneOf`), default and description, so that the service's OpenAPI
document describes it and the same model checks it at submission, in the worker and in the
CLI. Two limits are the job slot's own, not the solver's: a job's table holds at most
:data:`MAX_ROWS` rows and its solver runs at most :data:`MAX_SECONDS`. A command run on one's
own machine validates the same model with :data:`LOCAL` as pydantic's validation context
(:func:`checked` with ``local=True``), which lifts them to :data:`MAX_LOCAL_SECONDS` and no row
limit; every other rule holds alike.

A job body reports its progress through :data:`Progress`. Bad input is one
:class:`~optimizer.errors.InvalidInputError` whose field is the path into the job's input
(``input.shipments.3.weight_kg``): raised inside a model's validators it becomes a pydantic
error at that path (type ``invalid_input``, the same words), and :func:`checked` turns a
pydantic error back into one, for callers that are not the HTTP service.

It lives in ``optimizer`` because both job runners import this package and neither imports
the other: the service's worker (``api.jobs``) and the what-if runs (``scenarios``, which run
without a server). A job body is a solver call, and the solvers already report progress and
name bad input, so the contract sits beside them; ``optimizer`` imports neither runner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from network_data import Network
from optimizer.errors import InvalidInputError, quoted
from optimizer.inputs import MAX_SEED, check_year, table_from_text

__all__ = [
    "INPUT_ERROR",
    "LOCAL",
    "MAX_LOCAL_SECONDS",
    "MAX_ROWS",
    "MAX_SECONDS",
    "JobInput",
    "OneOf",
    "Parsed",
    "Progress",
    "Range",
    "Row",
    "Seed",
    "TimeLimit",
    "checked",
    "input_errors",
    "iso_day",
    "require_columns",
    "table",
    "table_text",
]

#: Called by a running job with its progress in [0, 1]; False means cancel.
Progress = Callable[[float], bool]
#: Rows a job's table may hold (a list of objects or CSV text): a batch of a day's shipments
#: for the largest forwarder of the pilot zones, and the most a 600 s job gets through.
MAX_ROWS = 10_000
#: The longest a job's solver may run, seconds: ten minutes, so that a job slot turns over
#: within the hour an organisation's job seconds are counted over.
MAX_SECONDS = 600.0
#: The shortest time limit a job may ask for, seconds.
MIN_SECONDS = 0.1
#: The longest a solver may run for a command on one's own machine, seconds: a night's run.
MAX_LOCAL_SECONDS = 86_400.0
#: The validation context of a command run on one's own machine: the job slot's limits
#: (:data:`MAX_ROWS`, :data:`MAX_SECONDS`) do not apply.
LOCAL: Mapping[str, bool] = {"local": True}
#: The pydantic error type of Shudao's own messages: its ``msg`` is the words after the field.
INPUT_ERROR = "invalid_input"
#: One row of a table given to a job: column name -> value, as a CSV or JSON list holds it.
Row = dict[str, Any]
Model = TypeVar("Model", bound=BaseModel)


def _refusal(message: str) -> PydanticCustomError:
    return PydanticCustomError(INPUT_ERROR, "{message}", {"message": message})


def _is_local(context: Any) -> bool:
    """Whether a validation's context is :data:`LOCAL`."""
    return isinstance(context, Mapping) and bool(context.get("local"))


class _Before(ABC):
    """A field's check that runs before pydantic reads the field's type, so that a refusal is
    in Shudao's words (``got VALUE; expected ALLOWED``), and what it adds to the JSON schema.
    ``Annotated[T, Check(...)]`` applies it."""

    @abstractmethod
    def check(self, value: Any, source: Any, local: bool) -> Any:
        """The value to read as the field's type (``source``); raise :func:`_refusal` if none.
        ``local``: validated for a command on one's own machine (:data:`LOCAL`)."""

    def keywords(self) -> dict[str, Any]:
        """What the check adds to the field's JSON schema."""
        return {}

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_before_validator_function(
            lambda value, info: self.check(value, source, _is_local(info.context)),
            handler(source),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        document = handler(schema)
        document.update(self.keywords())
        return document


@dataclass(frozen=True)
class Range(_Before):
    """A number field's bounds, inclusive, for ``Annotated[int | float, Range(low, high)]``.

    A value that is not a number (booleans are not), not an integer where one is declared, or
    out of bounds is refused with ``got VALUE; expected ALLOWED``; the JSON schema gets
    ``minimum`` and ``maximum``. ``allowed`` replaces the words generated from the bounds.
    ``local_high``, where given, replaces ``high`` when validating with :data:`LOCAL`: a
    bound that is the job slot's, not the solver's.

    Examples
    --------
    >>> from typing import Annotated
    >>> class Sample(BaseModel):
    ...     seed: Annotated[int, Range(0, 9)] = 0
    >>> Sample(seed=3).seed
    3
    >>> try:
    ...     Sample(seed=True)
    ... except ValidationError as error:
    ...     print(error.errors()[0]["msg"])
    got True; expected an integer in [0, 9]
    >>> Sample.model_json_schema()["properties"]["seed"]["maximum"]
    9
    """

    low: float
    high: float
    allowed: str | None = None
    local_high: float | None = None

    def check(self, value: Any, source: Any, local: bool) -> Any:
        integer = source is int
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        high = self.local_high if local and self.local_high is not None else self.high
        if (
            isinstance(value, bool)
            or not isinstance(value, kinds)
            or not self.low <= cast(float, value) <= high
        ):
            allowed = self.allowed or (
                f"an integer in [{self.low:,}, {high:,}]"
                if integer
                else f"a number in [{self.low:g}, {high:g}]"
            )
            raise _refusal(f"got {quoted(value)}; expected {allowed}")
        return value

    def keywords(self) -> dict[str, Any]:
        return {"minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class OneOf(_Before):
    """A text field's allowed values, for ``Annotated[str, OneOf(choices)]``: anything else is
    refused with ``got VALUE; expected one of A, B``; the JSON schema gets ``enum``.

    Examples
    --------
    >>> from typing import Annotated
    >>> class Sample(BaseModel):
    ...     backend: Annotated[str | None, OneOf(("pyvrp", "ortools"))] = None
    >>> try:
    ...     Sample(backend="x" * 100)
    ... except ValidationError as error:
    ...     print(error.errors()[0]["msg"][-32:])
    ; expected one of pyvrp, ortools
    """

    choices: tuple[str, ...]

    def check(self, value: Any, source: Any, local: bool) -> Any:
        if value is not None and value not in self.choices:
            raise _refusal(f"got {quoted(value)}; expected one of {', '.join(self.choices)}")
        return value

    def keywords(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@dataclass(frozen=True)
class Parsed(_Before):
    """A field read by ``parse`` before its type is checked, for
    ``Annotated[T, Parsed(parse)]``: ``parse`` returns the value to check, or raises an
    :class:`InvalidInputError` whose words the field's error takes (its field is ignored).

    Examples
    --------
    >>> from typing import Annotated
    >>> class Sample(BaseModel):
    ...     day: Annotated[date, Parsed(iso_day)]
    >>> try:
    ...     Sample(day="0001-01-01")
    ... except ValidationError as error:
    ...     print(error.errors()[0]["msg"])
    got '0001-01-01'; expected a date in the years 2000-2199
    """

    parse: Callable[[Any], Any]

    def check(self, value: Any, source: Any, local: bool) -> Any:
        try:
            return self.parse(value)
        except InvalidInputError as exc:
            raise _refusal(exc.message) from exc


def table(description: str) -> Any:
    """A table field of a job input: a list of row objects, at most :data:`MAX_ROWS` in a job
    (:meth:`JobInput._read_tables` counts them)."""
    return Field(
        None,
        json_schema_extra={"maxItems": MAX_ROWS},
        description=f"{description} At most {MAX_ROWS:,} rows.",
    )


def table_text(table_name: str) -> Any:
    """The field giving the table ``table_name`` as CSV text instead (see ``JobInput.TABLES``)."""
    return Field(
        None, description=f"The `{table_name}` table as CSV text with a header line, instead."
    )


def iso_day(value: object) -> date:
    """A day written as an ISO date (``2026-12-01``) within :data:`optimizer.inputs.YEARS`.

    Examples
    --------
    >>> iso_day("2026-12-01")
    datetime.date(2026, 12, 1)
    >>> iso_day("soon")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: day: got 'soon'; expected a date such as 2026-12-01
    """
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInputError("day", value, "a date such as 2026-12-01") from None
    check_year("day", day, value)
    return day


def require_columns(
    rows: list[Row] | None, name: str, required: Sequence[str], *, alternative: str
) -> list[Row]:
    """The rows of the table field ``name`` (given as a list or as the CSV text of
    ``alternative``), each with every ``required`` column.

    Examples
    --------
    >>> require_columns([{"id": "A"}], "lots", ("id", "kg"), alternative="lots_csv")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.lots.0: missing kg
    """
    if rows is None:
        expected = f"'{name}' (a list) or '{alternative}' (CSV text)"
        raise InvalidInputError(f"input.{name}", None, expected, message=f"expected {expected}")
    if not rows:
        raise InvalidInputError(
            f"input.{name}", rows, name, message=f"got no rows; expected {name}"
        )
    for i, row in enumerate(rows):
        missing = set(required) - set(row)
        if missing:
            raise InvalidInputError(
                f"input.{name}.{i}", row, ", ".join(sorted(required)),
                message=f"missing {', '.join(sorted(missing))}",
            )  # fmt: skip
    return rows


#: The time limit of a job's solver, as every solving kind takes it (its default is the solver's).
TimeLimit = Annotated[
    float,
    Range(MIN_SECONDS, MAX_SECONDS, local_high=MAX_LOCAL_SECONDS),
    Field(description="Seconds the solver may take."),
]
#: The seed of a job's solver, as every job kind takes it.
Seed = Annotated[
    int,
    Range(0, MAX_SEED),
    Field(description="Seed of the solver: the same input and seed give the same answer."),
]


@contextmanager
def input_errors() -> Iterator[None]:
    """Inside a model's validator: an :class:`InvalidInputError` on ``input.a.0.b`` becomes a
    pydantic error at ``a.0.b`` (relative to the job's input) with the error's words.

    Examples
    --------
    >>> class Sample(BaseModel):
    ...     rows: list[Row]
    ...     @model_validator(mode="after")
    ...     def _check(self) -> "Sample":
    ...         with input_errors():
    ...             raise InvalidInputError("input.rows.0.kg", -1, "a number >= 0")
    >>> try:
    ...     Sample(rows=[{"kg": -1}])
    ... except ValidationError as error:
    ...     print(error.errors()[0]["loc"], error.errors()[0]["msg"])
    ('rows', '0', 'kg') got -1; expected a number >= 0
    """
    try:
        yield
    except InvalidInputError as exc:
        path = exc.field.removeprefix("input").removeprefix(".")
        location = tuple(path.split(".")) if path else ()
        detail = InitErrorDetails(type=_refusal(exc.message), loc=location, input=exc.value)
        raise ValidationError.from_exception_data("JobInput", [detail]) from exc


def checked(
    model: type[Model], job_input: object, *, root: str | None = "input", local: bool = False
) -> Model:
    """``model`` validated from ``job_input``; the first problem raised as an
    :class:`InvalidInputError` on ``root.PATH`` (``input.seed``, as the service answers it),
    or on ``PATH`` alone with ``root=None`` (the input's own field names). ``local``: for a
    command on one's own machine, without the job slot's limits (:data:`LOCAL`).

    Examples
    --------
    >>> class Sample(BaseModel):
    ...     seed: Seed = 0
    >>> checked(Sample, {"seed": 2**31})
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: input.seed: got 2147483648; expected an integer in ...
    >>> checked(Sample, {"seed": -1}, root=None).field
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: seed: got -1; expected an integer in [0, 2,147,483,647]
    >>> class Solve(BaseModel):
    ...     time_limit_s: TimeLimit = 60.0
    >>> checked(Solve, {"time_limit_s": 3600}, root=None)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: time_limit_s: got 3600; expected a number in [0.1, 600]
    >>> checked(Solve, {"time_limit_s": 3600}, local=True).time_limit_s
    3600.0
    """
    try:
        return model.model_validate(job_input, context=LOCAL if local else None)
    except ValidationError as error:
        first = error.errors()[0]
        parts = [str(part) for part in first["loc"]]
        field = ".".join([root, *parts] if root else parts) or "input"
        message = first["msg"]
        raise InvalidInputError(field, first.get("input"), message, message=message) from error


#: The keywords of a property's schema that hold for its non-null values only.
_TYPED = ("type", "format", "items", "enum")


class JobInput(BaseModel):
    """Base of every job kind's input model.

    ``TABLES`` maps each table field (a list of row objects) to the field that may give the
    same table as CSV text instead; CSV text is read once, at validation, into the rows
    (:func:`optimizer.inputs.table_from_text`), so that what is stored and handed to the worker
    is the rows. A field given as JSON ``null`` takes its default. Fields the model does not
    declare are ignored, as they always were.
    """

    model_config = ConfigDict(populate_by_name=True)
    TABLES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        document = handler(schema)
        definition = handler.resolve_ref_schema(document)
        # The docstring's runnable examples are for readers of the code; the schema has its own.
        if "description" in definition:
            definition["description"] = definition["description"].split("\n\nExamples\n")[0]
        for prop in definition.get("properties", {}).values():
            if "default" in prop and "type" in prop:  # null takes the default (_read_tables)
                typed = {key: prop.pop(key) for key in _TYPED if key in prop}
                prop["anyOf"] = [typed, {"type": "null"}]
        return document

    @model_validator(mode="before")
    @classmethod
    def _read_tables(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if value is not None}
        max_rows = None if _is_local(info.context) else MAX_ROWS
        with input_errors():
            for rows_name, csv_name in cls.TABLES.items():
                if csv_name in data:
                    text = data.pop(csv_name)
                    field = f"input.{csv_name}"
                    if not isinstance(text, str):
                        raise InvalidInputError(field, text, "the CSV text as a string")
                    data[rows_name] = table_from_text(text, field, max_rows=max_rows).rows
                elif (
                    max_rows is not None
                    and isinstance(data.get(rows_name), list)
                    and len(data[rows_name]) > max_rows
                ):
                    rows = data[rows_name]
                    raise InvalidInputError(
                        f"input.{rows_name}", rows, f"at most {MAX_ROWS} rows",
                        message=f"{len(rows)} rows; at most {MAX_ROWS} per job",
                    )  # fmt: skip
        return data

    @abstractmethod
    def run(self, network: Network, progress: Progress, context: Any) -> dict[str, Any]:
        """Run the job on ``network`` with what its kind read from the database (``context``);
        the result as JSON. Every kind defines it, building its solver's problem."""

    def stored(self) -> dict[str, Any]:
        """The input as JSON for the job's row: what :meth:`model_validate` restores."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
