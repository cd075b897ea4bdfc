"""The ``shudao`` command line."""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from network_data import Network, NetworkValidationError, load_network
from network_data.export import export_network
from network_data.schema import CUSTOMS_REGIMES, MODES, PARCEL_CONTENTS
from optimizer.allocation.freight import (
    LEAD_TIME_LIMIT_DAYS,
    MAX_WEEKS,
    SERVICE_DAYS,
    UNSERVED_PENALTY_CNY,
    WEEKS,
)
from optimizer.allocation.solve import TIME_LIMIT_S as ALLOCATION_TIME_LIMIT_S
from optimizer.consolidation.problem import HUB_RADIUS_KM
from optimizer.consolidation.problem import MAX_WAIT_DAYS as CONSOLIDATION_MAX_WAIT_DAYS
from optimizer.consolidation.solve import TIME_LIMIT_S as CONSOLIDATION_TIME_LIMIT_S
from optimizer.errors import InvalidInputError
from optimizer.first_mile.solve import BACKENDS
from optimizer.first_mile.solve import TIME_LIMIT_S as PICKUPS_TIME_LIMIT_S
from optimizer.first_mile.travel import TERRAIN, TERRAINS
from optimizer.model import CARGO_CLASSES
from optimizer.quotable import Similarity
from optimizer.routing.batch import BATCH_CHUNK_ROWS
from optimizer.routing.problem import PLAN_TIME_LIMIT_S
from scenarios.cli import scenario_app

if TYPE_CHECKING:
    from pydantic import BaseModel

JobModel = TypeVar("JobModel", bound="BaseModel")

app = typer.Typer(
    help="Shudao: multimodal freight routing for the Sichuan-Chongqing and Anhui corridors.",
    no_args_is_help=True,
)
network_app = typer.Typer(
    help="Inspect, export and draw the corridor network.", no_args_is_help=True
)
app.add_typer(network_app, name="network")
app.add_typer(scenario_app, name="scenario")

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Dataset directory (default: the bundled network).",
        exists=True,
        file_okay=False,
    ),
]
TariffsOption = Annotated[
    Path | None,
    typer.Option(
        "--tariffs", help="CSV of contract rates overriding the bundled tariffs.", exists=True
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display (none either off a terminal).")
]


@contextmanager
def _busy(message: str, quiet: bool) -> Iterator[None]:
    """A spinner saying ``message`` on stderr while the work runs (where stderr is a
    terminal and not ``quiet``)."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


class ExportFormat(StrEnum):
    """File formats of ``shudao network export``."""

    geojson = "geojson"
    gpkg = "gpkg"


def _load(data: Path | None, tariffs: Path | None = None) -> Network:
    try:
        return load_network(data, tariffs=tariffs)
    except NetworkValidationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc


def format_summary(summary: dict[str, Any]) -> str:
    """Render :meth:`Network.summary` as an aligned text table."""
    lines = [
        f"Shudao corridor network {summary['version']} (dataset date {summary['date']})",
        f"{summary['nodes']} nodes, {summary['corridors']} directed corridors, "
        f"{summary['services']} timetabled services, {summary['tariff_rows']} tariff rows",
        "",
        "Corridors by mode        count   total km",
    ]
    km = summary["corridor_km_by_mode"]
    for mode, count in summary["corridors_by_mode"].items():
        lines.append(f"  {mode:<20} {count:>7} {km[mode]:>10,}")
    lines += ["", "Nodes by kind            count"]
    lines += [f"  {kind:<20} {n:>7}" for kind, n in summary["nodes_by_kind"].items()]
    lines += ["", "Nodes by status          count"]
    lines += [f"  {status:<20} {n:>7}" for status, n in summary["nodes_by_status"].items()]
    waiting = summary["not_operating"]
    if waiting:
        lines += ["", "Not operating yet (a scenario's `open` change switches them on)"]
        lines += [
            f"  {row['what']:<9} {row['id']:<34} {row['status']:<19} "
            f"{row['opens_year'] or '':<5} {row['name']}"
            for row in waiting
        ]
    return "\n".join(lines)


@network_app.command("summary")
def summary(
    data: DataOption = None,
    tariffs: TariffsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print counts by mode, node kind and status, the dataset version and date, and the
    facilities and services that are planned or under construction."""
    result = _load(data, tariffs).summary()
    typer.echo(json.dumps(result, indent=2) if as_json else format_summary(result))


@network_app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="File format.")
    ] = ExportFormat.geojson,
    data: DataOption = None,
) -> None:
    """Write nodes and corridors as GeoJSON or GeoPackage (layers ``nodes`` and ``corridors``)."""
    written = export_network(_load(data), output, fmt.value)
    typer.echo(f"wrote {written}")


@network_app.command("map")
def draw_map(
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")] = Path(
        "network.png"
    ),
    data: DataOption = None,
    dpi: Annotated[int, typer.Option(min=50, max=600, help="Resolution.")] = 150,
) -> None:
    """Draw the corridors coloured by mode over country outlines."""
    from network_data.plot import plot_network

    network = _load(data)
    written = plot_network(network.nodes, network.corridors, output, dpi=dpi)
    typer.echo(f"wrote {written}")


def _either(values: tuple[str, ...]) -> str:
    """``a, b or c``, for a help text.

    >>> _either(("road", "rail", "sea"))
    'road, rail or sea'
    """
    return f"{', '.join(values[:-1])} or {values[-1]}"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _cli_words(
    error: ValueError,
    given: Mapping[str, Any],
    options: Mapping[str, str],
    files: Mapping[str, Path],
) -> str:
    """A job input's error in the words of the command: its field as the option that gave it
    (``to`` as ``--to``), a table row by its id or as ``lots.csv row 3`` (``pickups.0.windows``
    as ``P1.windows``).

    Examples
    --------
    >>> error = InvalidInputError("pickups.0.windows", "x", "HH:MM-HH:MM windows")
    >>> _cli_words(error, {"pickups": [{"id": "P1"}]}, {}, {"pickups": Path("lots.csv")})
    "P1.windows: got 'x'; expected HH:MM-HH:MM windows"
    >>> _cli_words(InvalidInputError("fleet.1", {}, "a row"), {"fleet": [{}, {}]}, {},
    ...            {"fleet": Path("trucks.csv")})
    'trucks.csv row 2: got {}; expected a row'
    >>> _cli_words(InvalidInputError("to", "x", "a day"), {}, {"to": "--to"}, {})
    "--to: got 'x'; expected a day"
    """
    if not isinstance(error, InvalidInputError):
        return str(error)
    head, *rest = error.field.split(".")
    if head in options:
        return f"{options[head]}: {error.message}"
    rows = given.get(head)
    if head in files and isinstance(rows, list) and rest and rest[0].isdigit():
        index = int(rest[0])
        row_id = str(rows[index].get("id") or "").strip() if index < len(rows) else ""
        name = row_id or f"{files[head].name} row {index + 1}"
        return ".".join([name, *rest[1:]]) + f": {error.message}"
    return str(error)


def _job_input(
    model: type[JobModel],
    given: dict[str, Any],
    *,
    options: Mapping[str, str],
    files: Mapping[str, Path] | None = None,
) -> JobModel:
    """The job kind's input ``model`` built from a command's arguments, checked by the job's
    own rules without the job slot's limits (:data:`optimizer.jobs.LOCAL`); a refusal fails
    in the command's words (:func:`_cli_words`)."""
    from optimizer.jobs import checked

    try:
        return checked(model, given, root=None, local=True)
    except InvalidInputError as exc:
        _fail(_cli_words(exc, given, options, files or {}))


def _parse_time(
    name: str, value: str | None, local_day: Callable[[date], datetime] | None = None
) -> datetime | None:
    """An ISO 8601 time with its offset; with ``local_day``, a date alone is the moment it
    gives for that day."""
    if value is None:
        return None
    expected = "an ISO 8601 time with its UTC offset, such as 2026-11-23T08:00+08:00"
    if local_day is not None:
        expected += ", or a date such as 2026-11-23"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                _fail(f"{name}: got {value!r}; expected {expected}")
            return local_day(day)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: got {value!r}; expected {expected}")
    if moment.tzinfo is None:
        _fail(f"{name}: got {value!r} without a UTC offset; expected {expected}")
    return moment


def _zone_of(network: Network, place: str) -> str:
    """The time zone of the node a place resolves to (UTC where it resolves to none)."""
    if place in network.nodes.index:
        return str(network.nodes.at[place, "timezone"])
    try:
        return str(network.nodes.at[network.find_node(place), "timezone"])
    except ValueError:
        return "UTC"  # the shipment's own check names the unknown place


def _split(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


def _local(moment: str, zone: str) -> str:
    """An ISO time as it reads in ``zone``: ``2026-12-07 10:00 +08:00``.

    Examples
    --------
    >>> _local("2026-12-07T02:00:00+00:00", "Asia/Shanghai")
    '2026-12-07 10:00 +08:00'
    """
    text = datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).isoformat(" ", "minutes")
    return f"{text[:16]} {text[16:]}"


def _plan_table(plan_doc: dict[str, Any], zone_of: Callable[[str], str]) -> str:
    """The plan as text; times in the local time of the place they happen at (``zone_of``:
    a leg's end as the document names it -> its time zone)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160, record=True, file=io.StringIO())
    for warning in plan_doc["warnings"]:
        console.print(f"Warning: {warning}", markup=False)
    if plan_doc["warnings"]:
        console.print()
    if not plan_doc["options"]:
        console.print(f"No option: {plan_doc['infeasible_reason']}")
    for number, option in enumerate(plan_doc["options"], 1):
        label = f" ({option['family']})" if option.get("family") else ""
        hidden = f" [not quoted: {option['hidden']}]" if option.get("hidden") else ""
        console.print(f"[bold]Option {number}{label}{hidden}[/bold]: {option['summary']}")
        table = Table(show_edge=False)
        for column in ("from", "to", "mode", "service", "depart (local)", "arrive (local)", "km",
                       f"cost {plan_doc['currency']}", "kg CO2e"):  # fmt: skip
            table.add_column(column)
        for leg in option["legs"]:
            table.add_row(
                leg["from"], leg["to"], leg["mode"], leg["service"] or "",
                _local(leg["depart"], zone_of(leg["from"])),
                _local(leg["arrive"], zone_of(leg["to"])), f"{leg['distance_km']:,.0f}",
                f"{leg['cost']:,.2f}", f"{leg['co2e_kg']:,.1f}",
            )  # fmt: skip
        console.print(table)
        charges = [
            f"{c['kind'].replace('_', ' ')} {c['amount']:,.2f} ({c['basis']})"
            for leg in option["legs"] for c in leg["charges"] if c["kind"] != "line_haul"
        ]  # fmt: skip
        if charges:
            console.print("besides line haul: " + "; ".join(charges), markup=False)
        end = zone_of(option["legs"][-1]["to"])
        console.print(
            f"total {plan_doc['currency']} {option['total_cost']:,.2f}; arrival "
            f"{_local(option['arrival'], end)} (p90 {_local(option['arrival_p90'], end)}); "
            f"{option['transit_hours'] / 24:.1f} days; {option['co2e_kg']:,.1f} kg CO2e\n"
        )
    if plan_doc.get("parcel_channels"):
        console.print(_channels_table(plan_doc))
    not_shown = Counter(j["hidden"] for j in plan_doc.get("front", []) if j["hidden"])
    if not_shown and not any(option.get("hidden") for option in plan_doc["options"]):
        reasons = ", ".join(f"{count} {reason}" for reason, count in not_shown.most_common())
        console.print(
            f"{sum(not_shown.values())} more Pareto-best journeys not shown ({reasons}); "
            "--all shows every one"
        )
    return console.export_text()


#: The plan command's parcel options, by the shipment field each gives.
_PARCEL_OPTIONS = {
    "piece_dimensions_cm": "--piece-cm",
    "contents": "--contents",
    "destination_postcode": "--postcode",
}


def _channels_table(plan_doc: dict[str, Any]) -> Any:
    """The parcel channels' quotes: price, days and duties, or why each refuses."""
    from rich.table import Table

    table = Table(title="Parcel channels", show_edge=False, title_justify="left")
    for column in ("channel", f"cost {plan_doc['currency']}", "days", "duties", "refused"):
        table.add_column(column)
    for quote in plan_doc["parcel_channels"]:
        if quote["offered"]:
            days = f"{quote['transit_days_min']:g}-{quote['transit_days_max']:g}"
            table.add_row(quote["name"], f"{quote['cost']:,.2f}", days, quote["duties"], "")
        else:
            table.add_row(quote["name"], "", "", "", quote["reason"])
    return table


_SIMILAR_KEYS = {"cost": "cost_pct", "days": "time_days", "time": "time_pct", "co2e": "co2e_pct"}


def _similarity(text: str | None) -> Similarity:
    """``--similar cost=5,days=1,time=10,co2e=10`` (any of them; the others keep defaults)."""
    if not text:
        return Similarity()
    values: dict[str, float] = {}
    for part in text.split(","):
        key, _, number = part.partition("=")
        if key.strip() not in _SIMILAR_KEYS:
            _fail(f"similar: got {part.strip()!r}; expected cost=, days=, time= or co2e= numbers")
        try:
            values[_SIMILAR_KEYS[key.strip()]] = float(number)
        except ValueError:
            _fail(f"similar: got {part.strip()!r}; expected {key.strip()}=<number>")
    return Similarity(**values)


@app.command("plan")
def plan(
    origin: Annotated[str, typer.Option("--from", help="Node id, name or 'lat,lon'.")],
    destination: Annotated[str, typer.Option("--to", help="Node id, name or 'lat,lon'.")],
    weight_kg: Annotated[float, typer.Option("--weight-kg")],
    volume_m3: Annotated[float, typer.Option("--volume-m3")],
    ready: Annotated[
        str | None,
        typer.Option(
            help="ISO time the cargo is ready (default now); a date alone is the start of that "
            "day at the origin."
        ),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(
            help="ISO latest arrival; a date alone is the end of that day at the destination."
        ),
    ] = None,
    cargo: Annotated[str, typer.Option(help=f"{_either(CARGO_CLASSES)}.")] = "general",
    regime: Annotated[str, typer.Option(help=f"{_either(CUSTOMS_REGIMES)}.")] = "general",
    avoid: Annotated[
        str | None, typer.Option(help="Comma list: node/corridor ids, passages.")
    ] = None,
    modes: Annotated[
        str | None, typer.Option(help=f"Comma list of allowed modes: {', '.join(MODES)}.")
    ] = None,
    use_passages: Annotated[
        str | None,
        typer.Option(help="Comma list of passages to use even when the main carriers avoid them."),
    ] = None,
    pieces: Annotated[int, typer.Option()] = 1,
    piece_cm: Annotated[
        str | None,
        typer.Option(help="Size of one piece, cm, e.g. 30x20x15 (parcel channels' limits)."),
    ] = None,
    contents: Annotated[
        str | None,
        typer.Option(
            help=f"Comma list of what parcel channels may refuse: {', '.join(PARCEL_CONTENTS)}."
        ),
    ] = None,
    postcode: Annotated[
        str, typer.Option(help="Destination postcode, for parcel lines that zone by it.")
    ] = "",
    max_options: Annotated[int, typer.Option()] = 5,
    similar: Annotated[
        str | None,
        typer.Option(
            help="When two options are the same offer, e.g. 'cost=5,days=1,time=10,co2e=10' "
            "(per cent, days, per cent, per cent: the defaults)."
        ),
    ] = None,
    every_journey: Annotated[
        bool,
        typer.Option("--all", help="Show every Pareto-best journey, with why a plan hides it."),
    ] = False,
    currency: Annotated[str, typer.Option(help="CNY, USD or EUR.")] = "CNY",
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            help="Seconds the search may take (inf: no limit); a plan stopped there says "
            "what it may miss.",
        ),
    ] = PLAN_TIME_LIMIT_S,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    data: DataOption = None,
    tariffs: TariffsOption = None,
) -> None:
    """Plan the door-to-door options a forwarder would quote for one shipment."""
    from optimizer.model import Shipment
    from optimizer.routing import plan_routes
    from optimizer.routing.places import local_day
    from optimizer.routing.problem import shipment_from_record

    network = _load(data, tariffs)
    try:
        optional: dict[str, Any] = {}
        ready_at = _parse_time(
            "ready", ready, lambda day: local_day(network, "origin", origin, day)
        )
        if ready_at is not None:
            optional["ready_at"] = ready_at
        by = _parse_time(
            "deadline", deadline,
            lambda day: local_day(network, "destination", destination, day, end=True),
        )  # fmt: skip
        parcel = shipment_from_record(
            {
                "origin": origin,
                "destination": destination,
                "weight_kg": weight_kg,
                "volume_m3": volume_m3,
                "piece_dimensions_cm": piece_cm,
                "contents": contents,
            }
        )
        shipment = Shipment(
            origin, destination, weight_kg, volume_m3, deadline=by,
            pieces=pieces, cargo_class=cargo, customs_regime=regime, avoid=_split(avoid),
            allowed_modes=_split(modes) or None, max_options=max_options,
            use_passages=_split(use_passages), similar_within=_similarity(similar),
            piece_dimensions_cm=parcel.piece_dimensions_cm, contents=parcel.contents,
            destination_postcode=postcode, **optional,
        )  # fmt: skip
        document = plan_routes(
            network, shipment, every_journey=every_journey, time_limit_s=time_limit
        ).to_dict(currency)
    except ValueError as exc:
        _fail(_cli_words(exc, {}, {**_PARCEL_OPTIONS, "time_limit_s": "--time-limit"}, {}))
    typer.echo(
        json.dumps(document, ensure_ascii=False, indent=2)
        if as_json
        else _plan_table(document, lambda place: _zone_of(network, place))
    )


#: Output names of a route batch written as one file; a directory is written a chunk at a time.
BATCH_FILE_SUFFIXES = (".parquet", ".csv")
ShipmentsArgument = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False,
        help="Shipments (columns origin, destination, weight_kg, volume_m3 and optional ones): "
        "CSV in UTF-8, GBK or UTF-16; also .xlsx or .json when -o is a file, .parquet when "
        "-o is a directory.",
    ),
]  # fmt: skip
ChunkSizeOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=f"Directory output only: rows per Dask task and per Parquet file (default "
        f"{BATCH_CHUNK_ROWS:,}).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Directory output only: the Dask scheduler's address, tcp://host:8786 (default: "
        "a local cluster of --workers processes)."
    ),
]


def _batch_directory(output: str) -> Path | None:
    """The directory that a route batch's ``output`` names (it ends in a slash, is a
    directory, or has no suffix), or None for a .parquet or .csv file; another suffix fails
    (``plans.parqet`` is a typo more often than a directory)."""
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        return path
    if path.suffix not in BATCH_FILE_SUFFIXES:
        _fail(
            f"output: got {path.name!r}; expected a .parquet or .csv file name, or a directory "
            f"(a name without a suffix, or ending in /: {path.name}/)"
        )
    return None


@app.command("plan-batch")
def plan_batch_command(
    shipments: ShipmentsArgument,
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="plans.parquet or plans.csv: one file, the batch planned in memory. A "
            "directory (plans/, a name without a suffix, or an existing directory): a batch "
            "of any size planned on Dask, written a chunk at a time to DIR/chunks/*.parquet "
            "with DIR/manifest.json; run the same command again to resume.",
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes: for a file, default all cores; for a directory, local Dask "
            "worker processes, default 2."
        ),
    ] = None,
    chunk_size: ChunkSizeOption = None,
    scheduler: SchedulerOption = None,
    data: DataOption = None,
    tariffs: TariffsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Plan a table of shipments into one file, or into a directory on Dask (any size).

    One row per shipment. A .parquet or .csv OUTPUT is planned in memory in --workers
    processes and written whole. To a directory, rows go to OUTPUT/chunks/*.parquet as
    chunks finish (one dataset in input order: pandas.read_parquet("OUTPUT/chunks")), each
    with its input row number, id and plan summary. Run the same command again after an
    interruption to plan only the missing chunks; a killed worker's chunks are planned again
    by the others. Workers on a cluster elsewhere need the same --data and --tariffs paths
    (nothing for the bundled dataset).
    """
    directory = _batch_directory(output)
    if directory is not None:
        if workers is not None and workers < 1:
            _fail(f"--workers: got {workers}; expected at least 1 Dask worker process")
        _plan_batch_to_directory(
            shipments, directory, chunk_size=chunk_size or BATCH_CHUNK_ROWS,
            scheduler=scheduler, workers=workers or 2, data=data, tariffs=tariffs, quiet=quiet,
        )  # fmt: skip
        return
    given = {"--chunk-size": chunk_size, "--scheduler": scheduler}
    for option, value in given.items():
        if value is not None:
            _fail(
                f"{option}: given with -o {Path(output).name}, one file planned in memory; it "
                "applies only to a directory output (-o plans/), planned on Dask in chunks"
            )
    _plan_batch_to_file(shipments, Path(output), workers=workers, data=data, tariffs=tariffs,
                        quiet=quiet)  # fmt: skip


def _plan_batch_to_file(
    shipments: Path,
    output: Path,
    *,
    workers: int | None,
    data: Path | None,
    tariffs: Path | None,
    quiet: bool,
) -> None:
    """``plan-batch`` to a .parquet or .csv file: the rows read and checked by the
    route-batch job's model, planned in ``workers`` processes, written at once."""
    import pandas as pd

    from api.jobs.route_batch import RouteBatchInput
    from optimizer.routing import plan_batch

    network = _load(data, tariffs)
    batch = _job_input(
        RouteBatchInput, {"shipments": _read_rows(shipments)}, options={},
        files={"shipments": shipments},
    )  # fmt: skip
    result = plan_batch(network, pd.DataFrame(batch.shipments), workers=workers, progress=not quiet)
    if output.suffix == ".parquet":
        result.to_parquet(output, index=False)
    else:
        result.to_csv(output, index=False)
    counts = result["status"].value_counts().to_dict()
    typer.echo(f"wrote {len(result)} plans to {output} ({counts})")


def _plan_batch_to_directory(
    shipments: Path,
    output: Path,
    *,
    chunk_size: int,
    scheduler: str | None,
    workers: int,
    data: Path | None,
    tariffs: Path | None,
    quiet: bool,
) -> None:
    """``plan-batch`` to a directory: :func:`optimizer.routing.plan_batch_to_parquet`."""
    from optimizer.errors import ShudaoError
    from optimizer.routing.batch import plan_batch_to_parquet

    try:
        run = plan_batch_to_parquet(
            shipments, output, chunk_size=chunk_size, network_dir=data, tariffs=tariffs,
            scheduler=scheduler, workers=workers, progress=not quiet,
        )  # fmt: skip
    except ShudaoError as exc:
        _fail(str(exc))
    counts = ", ".join(f"{status} {count:,}" for status, count in run.by_status.items())
    resumed = f"; {run.resumed} of {run.chunks} chunks were on disk already" if run.resumed else ""
    typer.echo(f"wrote {run.rows:,} plans to {run.parts_dir} ({counts}) in {run.elapsed_s:.1f} s"
               f"{resumed}")  # fmt: skip


@app.command("plan-batch-dask")
def plan_batch_dask(
    shipments: ShipmentsArgument,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory of the batch (rerun to resume).")
    ],
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Rows per Dask task and file.")
    ] = BATCH_CHUNK_ROWS,
    scheduler: SchedulerOption = None,
    workers: Annotated[int, typer.Option(min=1, help="Local Dask worker processes.")] = 2,
    data: DataOption = None,
    tariffs: TariffsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Deprecated, goes in the next release: use plan-batch SHIPMENTS -o DIR/ (same options)."""
    typer.echo(
        "warning: plan-batch-dask is deprecated and goes in the next release; use "
        "shudao plan-batch SHIPMENTS -o DIR/ (the same options)", err=True,
    )  # fmt: skip
    _plan_batch_to_directory(
        shipments, output, chunk_size=chunk_size, scheduler=scheduler, workers=workers,
        data=data, tariffs=tariffs, quiet=quiet,
    )  # fmt: skip


def _read_rows(path: Path, *, required: bool = True) -> list[dict[str, Any]]:
    """Rows of a CSV file (UTF-8, GBK or UTF-16) or of a JSON list of objects, read by
    :func:`optimizer.inputs.read_rows` for every command; a file that cannot be read fails in
    words (exit 2), as does one without rows when ``required``."""
    from optimizer.inputs import TableError, read_rows

    try:
        return read_rows(path, required=required)
    except TableError as exc:
        _fail(str(exc))


def _parse_day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: got {value!r}; expected a date such as 2026-12-01")


def _consolidation_text(
    document: dict[str, Any],
    zone_of: Callable[[str], str] = lambda _: "UTC",
    departures_shown: int = 12,
) -> str:
    """The loading plan as text; departures in the local time of their hub (``zone_of``)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160, record=True, file=io.StringIO())
    console.print(
        f"[bold]{document['status']}[/bold]: CNY {document['objective_cny']:,.2f} "
        f"(bound {document['bound_cny']:,.2f}, gap {100 * document['gap']:.2f}%) in "
        f"{document['runtime_s']:.1f} s, seed {document['seed']}"
    )
    console.print(
        f"booked alone: CNY {document['baseline_cny']:,.2f}; saving CNY "
        f"{document['savings_cny']:,.2f} ({document['savings_pct']:.1f}%); CO2e "
        f"{document['co2e_kg']:,.0f} kg against {document['baseline_co2e_kg']:,.0f} kg alone"
    )
    kinds: dict[str, int] = {}
    for placement in document["placements"]:
        kinds[placement["kind"]] = kinds.get(placement["kind"], 0) + 1
    console.print(
        f"{len(document['placements'])} lots placed ({kinds}); {len(document['unplaced'])} unplaced"
    )
    trucked = document.get("pre_carriage", [])
    if trucked:
        hubs = Counter(p["hub"] for p in trucked)
        console.print(
            f"pre-carriage: {len(trucked)} lots trucked to the hub from beyond "
            f"{HUB_RADIUS_KM:g} km ({', '.join(f'{n} to {h}' for h, n in hubs.items())}), "
            f"CNY {document['pre_carriage_cny']:,.2f} (the same whichever departure; not in the "
            "cost above)"
        )
    table = Table(show_edge=False)
    for column in ("departure", "service", "depart (local)", "slots", "boxes to", "lots",
                   "volume use", "weight use", "cost CNY"):  # fmt: skip
        table.add_column(column)
    for departure in document["departures"][:departures_shown]:
        units = departure["units"]
        boxes = Counter((u["container_type"], u["destination"]) for u in units)
        table.add_row(
            departure["departure_id"].split("@")[0], departure["service"][:40],
            _local(departure["depart"], zone_of(departure["hub"])),
            f"{departure['slots_used']:g}/{departure['slots']:g} {departure['slot_unit']}",
            "; ".join(
                f"{kind}{f' x{n}' if n > 1 else ''} → {to}"
                for (kind, to), n in sorted(boxes.items())
            ),
            str(sum(len(u["shipments"]) for u in units)),
            f"{sum(u['volume_utilisation'] for u in units) / len(units):.0%}",
            f"{sum(u['weight_utilisation'] for u in units) / len(units):.0%}",
            f"{sum(u['cost_cny'] for u in units):,.0f}",
        )  # fmt: skip
    if document["departures"]:
        console.print(table)
    hidden = len(document["departures"]) - departures_shown
    if hidden > 0:
        console.print(f"... and {hidden} more departures with boxes (see the JSON)")
    _print_some(
        console, [f"unplaced {u['shipment_id']}: {u['reason']}" for u in document["unplaced"]]
    )
    return console.export_text()


def _print_some(console: Any, lines: list[str], shown: int = 10) -> None:
    """The first ``shown`` lines, then how many more the JSON holds."""
    for line in lines[:shown]:
        console.print(line)
    if len(lines) > shown:
        console.print(f"... and {len(lines) - shown} more (see the JSON)")


@app.command("consolidate")
def consolidate(
    shipments: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV (or JSON list) of lots.")
    ],
    hub: Annotated[
        str, typer.Option(help="Hub(s), comma list; a city stands for its rail port and airports.")
    ],
    first_day: Annotated[str, typer.Option("--from", help="First departure day (UTC date).")],
    last_day: Annotated[str, typer.Option("--to", help="Last departure day (inclusive).")],
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds.")] = (
        CONSOLIDATION_TIME_LIMIT_S
    ),
    seed: Annotated[int, typer.Option()] = 0,
    slots_teu: Annotated[
        float | None, typer.Option(help="TEU allotment per departure (default: capacity).")
    ] = None,
    max_late_days: Annotated[float, typer.Option(help="Allowed lateness, days.")] = 0.0,
    max_wait_days: Annotated[
        float, typer.Option(help="Longest wait at the hub, days.")
    ] = CONSOLIDATION_MAX_WAIT_DAYS,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="plan.json")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    data: DataOption = None,
    tariffs: TariffsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Pool a hub's lots into boxes on its departures at least cost; print the loading plan."""
    from api.jobs.consolidation import ConsolidationInput
    from optimizer._ortools import native_stdout_silenced
    from optimizer.consolidation import solve_consolidation

    network = _load(data, tariffs)
    given = {
        "shipments": _read_rows(shipments), "hubs": sorted(_split(hub), key=hub.index),
        "from": first_day, "to": last_day, "time_limit_s": time_limit, "seed": seed,
        "slots_teu": slots_teu, "max_late_days": max_late_days, "max_wait_days": max_wait_days,
    }  # fmt: skip
    options = {
        "from": "--from", "to": "--to", "hubs": "--hub", "hub": "--hub",
        "time_limit_s": "--time-limit", "seed": "--seed", "slots_teu": "--slots-teu",
        "max_late_days": "--max-late-days", "max_wait_days": "--max-wait-days",
    }  # fmt: skip
    job = _job_input(ConsolidationInput, given, options=options, files={"shipments": shipments})
    lots = len(job.shipments or [])
    try:
        with _busy(f"pricing {lots} lots and pooling them (at most {time_limit:g} s)", quiet):
            problem = job.problem(network)
            with native_stdout_silenced():
                result = solve_consolidation(
                    problem, time_limit_s=job.time_limit_s, seed=job.seed, workers=workers
                )
    except ValueError as exc:
        _fail(_cli_words(exc, given, options, {"shipments": shipments}))
    document = result.to_dict()
    if output is not None:
        output.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    typer.echo(_consolidation_text(document, lambda place: _zone_of(network, place)))
    if output is not None:
        typer.echo(f"wrote the plan to {output}")


def _first_monday(start: str | None, dataset_day: date) -> date:
    """The Monday an ISO week (``2026-W49``) or a date's week starts on; with none, the
    Monday on or after ``dataset_day``.

    Examples
    --------
    >>> _first_monday("2026-W49", date(2026, 11, 22)), _first_monday("2026-12-03", date.today())
    (datetime.date(2026, 11, 30), datetime.date(2026, 11, 30))
    >>> _first_monday(None, date(2026, 11, 22))  # a Sunday
    datetime.date(2026, 11, 23)
    """
    from api.weeks import week_monday

    if start is None:
        return dataset_day + timedelta(days=(7 - dataset_day.weekday()) % 7)
    if re.fullmatch(r"\s*\d{4}-W\d{2}\s*", start):
        try:
            return week_monday(start.strip(), "start")
        except ValueError as exc:
            _fail(str(exc))
    day = _parse_day("start", start)
    return day - timedelta(days=day.weekday())


def _allocation_text(document: dict[str, Any], start: date) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160, record=True, file=io.StringIO())

    def cny(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    console.print(
        f"[bold]{document['status']}[/bold]: CNY {cny(document['objective'])} (bound "
        f"{cny(document['bound'])}, gap {100 * (document['gap'] or 0):.2f}%) in "
        f"{document['runtime_s']:.1f} s, seed {document['seed']}"
    )
    demand = sum(c["demand"] for c in document["customers"])
    unserved = sum(c["unserved"] for c in document["customers"])
    console.print(
        f"orders: {demand:,.0f} forecast, {demand - unserved:,.0f} served, {unserved:,.0f} "
        f"unserved; warehouses used: {', '.join(document['open_warehouses']) or 'none'}"
    )
    costs = Table(title="Cost by component (CNY)", show_edge=False)
    for column in ("inbound", "storage", "handling", "last mile", "warehouse fees",
                   "unserved penalty", "total"):  # fmt: skip
        costs.add_column(column, justify="right")
    parts = document["breakdown_cny"]
    costs.add_row(
        *(cny(parts.get(f"{name}_cny", 0.0)) for name in ("inbound", "storage", "handling",
                                                          "last_mile")),
        cny(document["fixed_cost_cny"]), cny(document["penalty_cny"]),
        cny(document["objective"]),
    )  # fmt: skip
    console.print(costs)
    from api.weeks import iso_week

    loads = Table(title="Utilisation per warehouse and week", show_edge=False)
    for column in ("warehouse", "week", "pallets planned + booked / capacity", "use",
                   "m3 planned + booked / capacity", "use"):  # fmt: skip
        loads.add_column(column, justify="left" if column == "warehouse" else "right")
    for load in document["loads"]:
        week = start + timedelta(weeks=load["week"] - 1)
        cells = []
        for k in range(len(load["capacity"])):
            taken = load["planned"][k] + load["booked"][k]
            capacity = load["capacity"][k] or 0.0
            cells += [
                f"{load['planned'][k]:,.1f} + {load['booked'][k]:,.1f} / {capacity:,.1f}",
                f"{taken / capacity:.0%}" if capacity else "-",
            ]
        loads.add_row(load["warehouse_id"], f"{iso_week(week)} ({week:%d %b})", *cells)
    console.print(loads)
    shares = Table(title="Who serves whom (orders over the horizon)", show_edge=False)
    for column in ("seller / market", "forecast", "served by", "unserved"):
        shares.add_column(column, justify="left" if column != "forecast" else "right")
    for customer in document["customers"]:
        shares.add_row(
            customer["customer_id"], f"{customer['demand']:,.0f}",
            ", ".join(f"{w} {q:,.0f}" for w, q in customer["by_warehouse"].items()) or "-",
            f"{customer['unserved']:,.0f}" if customer["unserved"] else "",
        )  # fmt: skip
    console.print(shares)
    _print_some(
        console,
        [
            f"unserved {entry['customer_id']} week {entry['week']}: {entry['quantity']:,.1f} "
            f"orders (penalty CNY {entry['penalty_cny']:,.0f})"
            for entry in document["unserved"]
        ],
    )
    return console.export_text()


@app.command("allocate")
def allocate(
    sellers: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV (or JSON list) of sellers' forecasts."
        ),
    ],
    warehouses: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="CSV (or JSON list) of warehouse terms."),
    ],
    bookings: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Confirmed bookings kept fixed."),
    ] = None,
    weeks: Annotated[int, typer.Option(help=f"Weeks planned, 1 to {MAX_WEEKS}.")] = WEEKS,
    start: Annotated[
        str | None,
        typer.Option(
            help="First ISO week (2026-W49, or a date: its week); default: the first week "
            "after the dataset's date."
        ),
    ] = None,
    service_days: Annotated[
        float, typer.Option(help="Delivery within this many days counts as on time.")
    ] = SERVICE_DAYS,
    service_level: Annotated[
        float, typer.Option(help="Share of each market's orders on time.")
    ] = 0.0,
    fairness: Annotated[
        float, typer.Option(help="Each seller keeps this share of the fill rate.")
    ] = 0.0,
    single_sourcing: Annotated[
        bool, typer.Option(help="One warehouse per seller and market.")
    ] = False,
    lead_time_limit: Annotated[
        float, typer.Option("--lead-time-limit", help="Inbound days at most.")
    ] = LEAD_TIME_LIMIT_DAYS,
    unserved_penalty: Annotated[
        float, typer.Option("--unserved-penalty", help="CNY per order not served.")
    ] = UNSERVED_PENALTY_CNY,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds.")] = (
        ALLOCATION_TIME_LIMIT_S
    ),
    seed: Annotated[int, typer.Option()] = 0,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="allocation.json")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    data: DataOption = None,
    tariffs: TariffsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Allocate sellers' stock to shared overseas warehouses at least landed cost."""
    from api.jobs.allocation import AllocationRules
    from optimizer._ortools import native_stdout_silenced
    from optimizer.allocation import (
        allocation_problem,
        bookings_from_records,
        sellers_from_records,
        solve_allocation,
        warehouses_from_records,
    )

    network = _load(data, tariffs)
    given = {
        "weeks": weeks, "service_days": service_days, "service_level": service_level,
        "fairness": fairness, "single_sourcing": single_sourcing,
        "lead_time_limit_days": lead_time_limit, "unserved_penalty_cny": unserved_penalty,
        "time_limit_s": time_limit, "seed": seed,
    }  # fmt: skip
    options = {name: "--" + name.replace("_", "-") for name in given} | {
        "lead_time_limit_days": "--lead-time-limit", "unserved_penalty_cny": "--unserved-penalty",
        "time_limit_s": "--time-limit",
    }  # fmt: skip
    rules = _job_input(AllocationRules, given, options=options)
    first_day = _first_monday(start, date.fromisoformat(network.date))
    try:
        problem = allocation_problem(
            network, sellers_from_records(_read_rows(sellers)),
            warehouses_from_records(_read_rows(warehouses)), start=first_day,
            confirmed=bookings_from_records(_read_rows(bookings, required=False))
            if bookings else (),
            workers=workers, **rules.settings(),
        )  # fmt: skip
        with _busy(f"allocating (at most {time_limit:g} s)", quiet), native_stdout_silenced():
            result = solve_allocation(problem, time_limit_s=rules.time_limit_s, seed=rules.seed)
    except ValueError as exc:
        _fail(str(exc))
    document = result.to_dict(problem)
    if output is not None:
        output.write_text(json.dumps(document, ensure_ascii=False, indent=2))
    typer.echo(_allocation_text(document, first_day))
    if output is not None:
        typer.echo(f"wrote the allocation to {output}")


def _pickups_text(document: dict[str, Any]) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160, record=True, file=io.StringIO())
    totals = document["totals"]
    console.print(
        f"[bold]{document['status']}[/bold] ({document['backend']}): CNY "
        f"{document['objective']:,.2f} in {document['runtime_s']:.1f} s, seed {document['seed']}"
    )
    console.print(
        f"{totals['routes']} trucks, {totals['served']} pickups served, {totals['unserved']} "
        f"unserved; {totals['distance_km']:,.1f} km, {totals['duration_h']:,.1f} h, CNY "
        f"{totals['cost_cny']:,.2f} (+ CNY {totals['penalty_cny']:,.0f} penalties), CO2e "
        f"{totals['co2e_kg']:,.1f} kg"
    )
    table = Table(show_edge=False)
    for column in ("truck", "stops (arrival)", "km", "hours", "load kg / m3", "cost CNY"):
        table.add_column(column, justify="right" if column in ("km", "hours") else "left")
    for route in document["routes"]:
        stops = " → ".join(
            f"{stop['pickup_id'] or stop['place']} {stop['arrival'][11:16]}"
            for stop in route["stops"]
        )
        last = route["stops"][-1]
        table.add_row(
            route["vehicle_type"], stops, f"{route['distance_km']:,.1f}",
            f"{route['duration_h']:.1f}", f"{last['load_kg']:,.0f} / {last['load_m3']:,.1f}",
            f"{route['cost_cny']:,.0f}",
        )  # fmt: skip
    if document["routes"]:
        console.print(table)
    _print_some(
        console, [f"unserved {u['pickup_id']}: {u['reason']}" for u in document["unserved"]]
    )
    return console.export_text()


@app.command("pickups")
def pickups(
    lots: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV (or JSON list) of pickups.")
    ],
    hub: Annotated[str, typer.Option(help="Where the lots go: node id, name or 'lat,lon'.")],
    cutoff: Annotated[
        str, typer.Option(help="Booking cut-off at the hub, e.g. 2026-12-03T18:00+08:00.")
    ],
    fleet: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="CSV (or JSON list) of trucks.")
    ],
    start: Annotated[
        str | None, typer.Option(help="Earliest truck departure (default: 24 h before cut-off).")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds.")] = (
        PICKUPS_TIME_LIMIT_S
    ),
    seed: Annotated[int, typer.Option()] = 0,
    backend: Annotated[
        str | None, typer.Option(help=f"{_either(BACKENDS)} (default: the first).")
    ] = None,
    terrain: Annotated[
        str, typer.Option(help=f"Terrain where a row gives none: {_either(TERRAINS)}.")
    ] = TERRAIN,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="routes.geojson (GeoJSON), or .json for the plan."),
    ] = None,
    data: DataOption = None,
    quiet: QuietOption = False,
) -> None:
    """Route trucks to collect lots and unload them at the hub by the cut-off."""
    from api.jobs.pickups import PickupsInput
    from optimizer.first_mile import solve_pickups

    network = _load(data)
    given = {
        "pickups": _read_rows(lots), "fleet": _read_rows(fleet), "hub": hub, "cutoff": cutoff,
        "start": start, "time_limit_s": time_limit, "seed": seed, "backend": backend,
        "terrain": terrain,
    }  # fmt: skip
    files = {"pickups": lots, "fleet": fleet}
    options = {name: f"--{name}" for name in given if name not in files} | {
        "time_limit_s": "--time-limit"
    }
    job = _job_input(PickupsInput, given, options=options, files=files)
    try:
        problem = job.problem(network)
        with _busy(f"routing the pickups (at most {time_limit:g} s)", quiet):
            result = solve_pickups(
                problem, time_limit_s=job.time_limit_s, seed=job.seed, backend=job.backend
            )
    except ValueError as exc:
        _fail(_cli_words(exc, given, options, files))
    document = result.to_dict()
    if output is not None:
        written = result.to_geojson() if output.suffix.lower() != ".json" else document
        output.write_text(json.dumps(written, ensure_ascii=False, indent=2))
    typer.echo(_pickups_text(document))
    if output is not None:
        typer.echo(f"wrote the routes to {output}")


def _parcels_text(result: dict[str, Any], shown: int = 20) -> list[str]:
    """``shudao parcels``' report: channel by channel, the chosen channel per parcel (the
    first ``shown``), and the total."""
    promise = result["promise_days"]
    within = f", delivery within {promise:g} days" if promise is not None else ""
    lines = [f"{result['parcels']} parcels handed over on {result['ship_on']}{within}", ""]
    lines.append(f"{'channel':<14}{'offers':>8}{'cost_cny':>14}   (every parcel it offers for)")
    for row in result["channels"]:
        lines.append(f"{row['channel']:<14}{row['offered']:>8}{row['cost_cny']:>14,.2f}")
    lines += ["", "cheapest channel per parcel:"]
    for row in result["rows"][:shown]:
        if row["channel"]:
            lines.append(
                f"  {row['id']:<12}{row['channel']:<14}{row['cost_cny']:>10,.2f} CNY  "
                f"{row['days_max']:g} days at most"
            )
        else:
            lines.append(f"  {row['id']:<12}{row['reason']}")
    if len(result["rows"]) > shown:
        lines.append(f"  ... and {len(result['rows']) - shown} more (see -o)")
    lines += ["", "by chosen channel:"]
    for row in result["chosen"]:
        lines.append(f"  {row['channel']:<14}{row['parcels']:>8}{row['cost_cny']:>14,.2f}")
    served = result["parcels"] - result["unserved"]
    lines.append(
        f"total {result['total_cny']:,.2f} CNY for {served} of {result['parcels']} parcels"
        + (f" ({result['unserved']} no channel serves)" if result["unserved"] else "")
    )
    return lines


@app.command("parcels")
def parcels(
    parcels_csv: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            metavar="FILE.csv",
            help="CSV of parcels: id, country, postcode, weight_kg, length_cm, width_cm, "
            "height_cm, pieces, contents, origin.",
        ),
    ],
    promise_days: Annotated[
        float | None, typer.Option("--promise-days", help="Delivery promise in days.")
    ] = None,
    ship_on: Annotated[
        str | None, typer.Option("--ship-on", help="Hand-over day, e.g. 2026-12-07 (today).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="OUT.csv: one row per parcel.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job's JSON result.")] = False,
    data: DataOption = None,
) -> None:
    """Price a day of parcels on every parcel channel; the cheapest channel per parcel that
    meets the promise, and the total."""
    import pandas as pd

    from api.jobs.parcel_batch import ParcelBatchInput
    from optimizer.parcels import ParcelChannels

    given = {"parcels": _read_rows(parcels_csv), "promise_days": promise_days, "ship_on": ship_on}
    options = {"promise_days": "--promise-days", "ship_on": "--ship-on"}
    job = _job_input(ParcelBatchInput, given, options=options, files={"parcels": parcels_csv})
    try:
        channels = ParcelChannels.load(data)
    except NetworkValidationError as exc:
        _fail(str(exc))
    result = job.price(channels)
    if output is not None:
        pd.DataFrame(result["rows"]).to_csv(output, index=False)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo("\n".join(_parcels_text(result)))
    if output is not None:
        typer.echo(f"wrote {len(result['rows'])} rows to {output}")


admin_app = typer.Typer(help="Organisations and API keys.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
DEMO_ORGANISATION = "demo"
DEMO_KEY_FILE = Path(".shudao-demo-key")
#: The shared warehouse the README's allocation example books: the Duisburg site of
#: docs/examples/warehouses.csv, with its weekly capacity.
DEMO_WAREHOUSE = ("Duisburg logport", "WH-DEDUI", 250, 360.0)


@contextmanager
def _session() -> Iterator[Any]:
    """A session on the migrated database of SHUDAO_DATABASE_URL; the engine is disposed after."""
    from api.db.session import make_engine, make_sessionmaker, migrate
    from api.settings import Settings

    engine = make_engine(Settings().database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@admin_app.command("create-org")
def create_org(name: Annotated[str, typer.Argument(help="Organisation name.")]) -> None:
    """Create an organisation."""
    from api.db import repositories

    with _session() as session:
        try:
            organisation = repositories.create_organisation(session, name)
        except repositories.ConflictError as exc:
            _fail(str(exc))
        session.commit()
        typer.echo(f"created organisation {organisation.name} ({organisation.id})")


@admin_app.command("create-key")
def create_key(
    org: Annotated[str, typer.Option("--org", help="Organisation name.")],
    role: Annotated[str, typer.Option(help="forwarder, planner, coordinator or admin.")],
) -> None:
    """Issue an API key; the key is printed once, alone on the last line."""
    from api.db import repositories

    with _session() as session:
        try:
            issued = repositories.create_key(session, org, role)
        except (repositories.NotFoundError, ValueError) as exc:
            _fail(str(exc))
        session.commit()
    typer.echo(f"key {issued.id} for {issued.organisation} ({issued.role}); store it now:")
    typer.echo(issued.secret)


@admin_app.command("revoke-key")
def revoke_key(key_id: Annotated[str, typer.Argument(help="Key id (not the key).")]) -> None:
    """Revoke an API key."""
    from api.db import repositories

    with _session() as session:
        try:
            repositories.revoke_key(session, key_id)
        except repositories.NotFoundError as exc:
            _fail(str(exc))
        session.commit()
    typer.echo(f"revoked key {key_id}")


@admin_app.command("demo")
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Make sure a demo organisation, its admin key and the shared warehouse of README's
    allocation example exist; print the key and a curl example."""
    from api.db import repositories

    with _session() as session:
        secret = DEMO_KEY_FILE.read_text().strip() if DEMO_KEY_FILE.is_file() else ""
        if not secret or repositories.authenticate(session, secret) is None:
            try:
                repositories.organisation_by_name(session, DEMO_ORGANISATION)
            except repositories.NotFoundError:
                repositories.create_organisation(session, DEMO_ORGANISATION)
            secret = repositories.create_key(session, DEMO_ORGANISATION, "admin").secret
            session.commit()
            DEMO_KEY_FILE.write_text(secret + "\n")
            DEMO_KEY_FILE.chmod(0o600)
        caller = repositories.authenticate(session, secret)
        assert caller is not None
        name, node_id, pallets, volume_m3 = DEMO_WAREHOUSE
        try:
            repositories.create_warehouse(
                session, repositories.Actor.of_key(caller), name, node_id, pallets, volume_m3
            )
            session.commit()
        except repositories.ConflictError:
            session.rollback()  # registered by an earlier run
    url = f"http://{host}:{port}"
    body = '{"origin": "Linshui", "destination": "Duisburg", "weight_kg": 800, "volume_m3": 4.2}'
    typer.echo(f"Shudao at {url} (docs: {url}/docs)")
    typer.echo(f"demo API key: {secret}")
    typer.echo(
        f"try: curl -s -X POST {url}/v1/route-plans -H 'Authorization: Bearer {secret}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
) -> None:
    """Start the HTTP service (database from SHUDAO_DATABASE_URL, SQLite ./shudao.db if unset).

    With several workers the processes share one socket, and each new connection goes to the
    worker holding the fewest; a worker that dies is started again.
    """
    from api.serve import serve as run_server

    run_server(host, port, workers)


@app.command("worker")
def worker(
    poll_seconds: Annotated[
        float, typer.Option("--poll", min=0.05, help="Idle poll interval.")
    ] = 0.5,
    data: DataOption = None,
    tariffs: TariffsOption = None,
) -> None:
    """Run queued jobs until stopped (database from SHUDAO_DATABASE_URL).

    Nothing but Ctrl-C or SIGTERM ends it: a database that does not answer, at start or
    later, is waited for (backing off up to 30 s), and the jobs in hand are queued again on
    the way out.
    """
    import signal

    from api.db.session import make_engine, make_sessionmaker, migrate
    from api.jobs.worker import Backoff, Worker
    from api.settings import Settings

    settings = Settings()
    engine = make_engine(settings.database_url)
    runner = Worker(
        make_sessionmaker(engine), _load(data, tariffs),
        lease_seconds=settings.job_lease_seconds, poll_seconds=poll_seconds,
        dask_scheduler=settings.dask_scheduler, slots=settings.job_slots,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())
    backoff = Backoff()
    try:
        while not runner.stop.is_set():
            try:
                migrate(engine)
                break
            except Exception as exc:  # the database is not there yet: wait for it
                delay_s = backoff.next_s()
                typer.echo(f"database not ready ({type(exc).__name__}); again in {delay_s} s")
                runner.stop.wait(delay_s)
        typer.echo(f"worker {runner.name} waiting for jobs ({settings.job_slots} slots)")
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop.set()
    finally:
        runner.close()
        engine.dispose()


if __name__ == "__main__":
    app()
