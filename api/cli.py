"""The ``shudao`` command line."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from network_data import Network, NetworkValidationError, load_network
from network_data.export import export_network

app = typer.Typer(
    help="Shudao: multimodal freight routing for the Sichuan-Chongqing and Anhui corridors.",
    no_args_is_help=True,
)
network_app = typer.Typer(
    help="Inspect, export and draw the corridor network.", no_args_is_help=True
)
app.add_typer(network_app, name="network")

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
    return "\n".join(lines)


@network_app.command("summary")
def summary(
    data: DataOption = None,
    tariffs: TariffsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print counts by mode and node kind, the dataset version and date."""
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
