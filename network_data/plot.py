"""Render the freight network as a static PNG map.

The map is drawn with matplotlib's object-oriented API on an Agg canvas, so it
never needs a display and never touches pyplot's global figure registry. The
base map is the vendored Natural Earth 1:110m country file
(``data/countries_110m.geojson``, rebuilt by
``python -m network_data.build_outlines``); nothing is downloaded.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, MultipleLocator
from numpy.typing import NDArray

from network_data.geo import OUTLINES_PATH, load_outlines

__all__ = [
    "FIGURE_SIZE_IN",
    "KIND_STYLES",
    "MAIN_EXTENT_DEG",
    "MODE_STYLES",
    "OUTLINES_PATH",
    "ZOOM_EXTENT_DEG",
    "KindStyle",
    "ModeStyle",
    "load_outlines",
    "plot_network",
]


#: Figure size (width, height) in inches; the PNG is this times ``dpi`` pixels.
FIGURE_SIZE_IN: Final = (16.0, 13.5)

#: Main panel (lon_min, lon_max, lat_min, lat_max) in degrees: Europe to East Asia.
MAIN_EXTENT_DEG: Final = (-20.0, 150.0, -15.0, 62.0)

#: Zoom panel extent in degrees: Sichuan, Chongqing, the Yangtze and the Beibu Gulf.
ZOOM_EXTENT_DEG: Final = (102.0, 123.0, 20.5, 33.0)


@dataclass(frozen=True)
class ModeStyle:
    """How corridors of one transport mode are drawn."""

    label: str
    colour: str
    linewidth_pt: float
    linestyle: Literal["-", "--"]
    alpha: float
    zorder: float


@dataclass(frozen=True)
class KindStyle:
    """How nodes of one kind are drawn."""

    label: str
    marker: str


# Okabe-Ito-based colours that stay distinguishable under the common colour
# vision deficiencies; line width and dash pattern separate them further. The
# dict order is the legend order; zorder puts thin, local legs above the long
# lanes they start from.
MODE_STYLES: Final[Mapping[str, ModeStyle]] = {
    "rail": ModeStyle("Rail", "#B2182B", 1.6, "-", 1.0, 2.2),
    "sea": ModeStyle("Sea", "#0072B2", 1.1, "-", 0.8, 2.1),
    "inland_water": ModeStyle("Inland water", "#009E73", 1.6, "-", 1.0, 2.3),
    "road": ModeStyle("Road", "#E69F00", 0.8, "-", 1.0, 2.4),
    "air": ModeStyle("Air", "#762A83", 0.6, "--", 0.45, 2.0),
}

KIND_STYLES: Final[Mapping[str, KindStyle]] = {
    "city": KindStyle("City", "o"),
    "industrial_park": KindStyle("Industrial park", "P"),
    "rail_terminal": KindStyle("Rail terminal", "s"),
    "river_port": KindStyle("River port", "v"),
    "seaport": KindStyle("Seaport", "D"),
    "airport": KindStyle("Airport", "^"),
    "border_crossing": KindStyle("Border crossing", "X"),
    "bonded_zone": KindStyle("Bonded zone", "h"),
    "dry_port": KindStyle("Inland dry port", "d"),
    "express_hub": KindStyle("Express or postal hub", "H"),
    "overseas_warehouse": KindStyle("Overseas warehouse", "p"),
    "market": KindStyle("Market", "*"),
}


@dataclass(frozen=True)
class _Label:
    text: str
    offset_pt: tuple[float, float]
    ha: Literal["left", "right", "center"] = "left"


# Offsets are hand-tuned so that neighbouring labels (Rotterdam/Duisburg,
# Chengdu/Chongqing, the Shanghai cluster) do not collide.
_MAIN_LABELS: Final[Mapping[str, _Label]] = {
    "CNCTU": _Label("Chengdu", (-5, 3), "right"),
    "CNCKG": _Label("Chongqing", (4, -8)),
    "CNSHA-YSN": _Label("Shanghai Yangshan", (5, -2)),
    "CNQZH": _Label("Qinzhou", (0, -10), "center"),
    "CNAKL": _Label("Alashankou", (0, 5), "center"),
    "CNERC": _Label("Erenhot", (-4, 4), "right"),
    "CNMLX": _Label("Manzhouli", (4, 3)),
    "KZALA": _Label("Almaty", (-4, -8), "right"),
    "RUMOW": _Label("Moscow", (4, 3)),
    "PLLOD": _Label("Lodz", (4, 3)),
    "DEDUI": _Label("Duisburg", (3, -9)),
    "NLRTM": _Label("Rotterdam", (-4, 3), "right"),
    "TRIST": _Label("Istanbul", (-4, -8), "right"),
    "AEJEA": _Label("Jebel Ali", (-4, -8), "right"),
    "SGSIN": _Label("Singapore", (0, -10), "center"),
    "IDJKT": _Label("Jakarta", (0, -10), "center"),
}

_ZOOM_LABELS: Final[Mapping[str, _Label]] = {
    "CNCTU": _Label("Chengdu", (-6, 2), "right"),
    "CNMYG": _Label("Mianyang", (-6, 2), "right"),
    "CNDAX": _Label("Dazhou", (5, 3)),
    "CN-GUANGAN": _Label("Guang'an", (5, 2)),
    "CNCKG": _Label("Chongqing", (-6, -9), "right"),
    "CNWZH-PRT": _Label("Wanzhou", (5, 3)),
    "CNWUH": _Label("Wuhan Yangluo", (5, 3)),
    "CNAQG": _Label("Anqing", (-6, -9), "right"),
    "CNWHI": _Label("Wuhu", (5, 3)),
    "CNTAC": _Label("Taicang", (-6, 3), "right"),
    "CNSHA-YSN": _Label("Shanghai Yangshan", (-6, -9), "right"),
    "CNNGB": _Label("Ningbo", (-6, -6), "right"),
    "CNKMG": _Label("Kunming", (5, -3)),
    "CNNNG": _Label("Nanning", (5, 3)),
    "CNQZH": _Label("Qinzhou", (5, -9)),
    "CNPXG": _Label("Pingxiang", (-6, 2), "right"),
    "VNHAN": _Label("Hanoi", (-6, -6), "right"),
    "CNYTN": _Label("Yantian", (5, -6)),
}

_LAND_COLOUR: Final = "#E3E3E3"
_BORDER_COLOUR: Final = "#B5B5B5"
_SEA_COLOUR: Final = "#F6F9FC"
_NODE_COLOUR: Final = "#262626"
_TEXT_COLOUR: Final = "#1A1A1A"
_HALO: Final = [patheffects.withStroke(linewidth=2.2, foreground="white")]

# Marker area in pt^2 grows with the number of corridors touching a node, so
# hubs stand out; the cap keeps the biggest hub from hiding its neighbours.
_MARKER_BASE_PT2: Final = 10.0
_MARKER_PER_CORRIDOR_PT2: Final = 3.0
_MARKER_DEGREE_CAP: Final = 30
_ZOOM_MARKER_SCALE: Final = 2.0


def plot_network(
    nodes: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    outlines: gpd.GeoDataFrame | None = None,
    dpi: int = 150,
) -> Path:
    """Draw the network on a map of Europe to East Asia and save it as PNG.

    The picture has a wide main panel (:data:`MAIN_EXTENT_DEG`), a zoom panel
    on Sichuan-Chongqing and the Yangtze down to Shanghai and the Beibu Gulf
    (:data:`ZOOM_EXTENT_DEG`), and a legend giving the number of corridors per
    mode and nodes per kind. Corridors are coloured by mode
    (:data:`MODE_STYLES`); air legs are thin, dashed and translucent so they do
    not hide surface routes. Node markers depend on the kind
    (:data:`KIND_STYLES`) and grow with the number of corridors at the node.
    A fixed set of key nodes is labelled when present.

    Antimeridian: each corridor's longitudes are made continuous (a jump of
    more than 180 degrees between vertices is undone by adding or subtracting
    360), and a line that would then lie west of -180 is shifted by +360. A
    Los Angeles - Shanghai lane therefore runs east from Shanghai across the
    Pacific and leaves the main panel at its right edge instead of streaking
    west across Eurasia. Lanes leaving the frame sideways are summarised at
    that edge as "country of the off-map endpoint (number of corridors)".

    Parameters
    ----------
    nodes : geopandas.GeoDataFrame
        Columns ``id``, ``name_en``, ``kind`` (a key of :data:`KIND_STYLES`)
        and Point ``geometry``; reprojected to EPSG:4326 if needed.
    corridors : geopandas.GeoDataFrame
        Columns ``id``, ``origin``, ``destination``, ``mode`` (a key of
        :data:`MODE_STYLES`), ``service_name`` and LineString or
        MultiLineString ``geometry``; reprojected to EPSG:4326 if needed.
    path : str or os.PathLike
        Where to write the PNG; the parent directory must exist.
    outlines : geopandas.GeoDataFrame, optional
        Country polygons with a ``name`` column, drawn as the base map and
        used to name off-map endpoints. Defaults to :func:`load_outlines`.
    dpi : int, default 150
        Resolution; the PNG is ``FIGURE_SIZE_IN`` times ``dpi`` pixels.

    Returns
    -------
    pathlib.Path
        The path of the written PNG.

    Raises
    ------
    ValueError
        If a frame has no CRS, or a corridor mode or node kind is unknown.

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import LineString, Point
    >>> nodes = gpd.GeoDataFrame(
    ...     {
    ...         "id": ["CNCTU-RLY", "PLLOD"],
    ...         "name_en": ["Chengdu International Railway Port", "Lodz"],
    ...         "kind": ["rail_terminal", "rail_terminal"],
    ...     },
    ...     geometry=[Point(104.2, 30.8), Point(19.56, 51.74)],
    ...     crs="EPSG:4326",
    ... )
    >>> corridors = gpd.GeoDataFrame(
    ...     {
    ...         "id": ["CTU-LOD-RAIL"],
    ...         "origin": ["CNCTU-RLY"],
    ...         "destination": ["PLLOD"],
    ...         "mode": ["rail"],
    ...         "service_name": ["China-Europe Railway Express"],
    ...     },
    ...     geometry=[LineString([(104.2, 30.8), (19.56, 51.74)])],
    ...     crs="EPSG:4326",
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = plot_network(nodes, corridors, Path(tmp) / "network.png", dpi=40)
    ...     print(png.name, png.stat().st_size > 0)
    network.png True
    """
    nodes = _to_wgs84(nodes, "nodes")
    corridors = _to_wgs84(corridors, "corridors")
    _check_known(corridors["mode"], MODE_STYLES, "corridor mode")
    _check_known(nodes["kind"], KIND_STYLES, "node kind")
    outlines = _to_wgs84(load_outlines() if outlines is None else outlines, "outlines")

    paths_by_mode: dict[str, list[NDArray[np.float64]]] = {mode: [] for mode in MODE_STYLES}
    corridor_paths = [_continuous_longitude_paths(g) for g in corridors.geometry]
    for mode, paths in zip(corridors["mode"], corridor_paths, strict=True):
        paths_by_mode[mode].extend(paths)
    corridor_counts = Counter(corridors["mode"])
    degree = Counter([*corridors["origin"], *corridors["destination"]])
    marker_area_pt2 = np.array(
        [
            _MARKER_BASE_PT2 + _MARKER_PER_CORRIDOR_PT2 * min(degree[i], _MARKER_DEGREE_CAP)
            for i in nodes["id"]
        ]
    )
    land_paths = _land_paths(outlines.geometry)

    figure = Figure(figsize=FIGURE_SIZE_IN, dpi=dpi)
    figure.suptitle(
        f"Shudao multimodal freight network: {len(corridors)} corridors, {len(nodes)} nodes",
        fontsize=15,
        y=0.985,
    )
    main_ax = figure.add_axes((0.035, 0.40, 0.945, 0.555))
    zoom_ax = figure.add_axes((0.50, 0.035, 0.475, 0.33))
    legend_ax = figure.add_axes((0.02, 0.035, 0.46, 0.33))

    for ax, extent, labels, marker_scale, tick_step_deg in (
        (main_ax, MAIN_EXTENT_DEG, _MAIN_LABELS, 1.0, 20.0),
        (zoom_ax, ZOOM_EXTENT_DEG, _ZOOM_LABELS, _ZOOM_MARKER_SCALE, 5.0),
    ):
        _set_up_map_axes(ax, extent, tick_step_deg)
        _draw_land(ax, land_paths)
        _draw_corridors(ax, paths_by_mode)
        _draw_nodes(ax, nodes, marker_area_pt2 * marker_scale)
        _draw_labels(ax, nodes, labels)
    _annotate_off_frame_lanes(main_ax, corridors, corridor_paths, nodes, outlines)
    # Frame only: connector lines to the zoom panel would cut across South-East Asia.
    zoom_lon_min, zoom_lon_max, zoom_lat_min, zoom_lat_max = ZOOM_EXTENT_DEG
    main_ax.indicate_inset(
        (zoom_lon_min, zoom_lat_min, zoom_lon_max - zoom_lon_min, zoom_lat_max - zoom_lat_min),
        edgecolor="#404040",
        linewidth=0.8,
        alpha=0.9,
    )
    zoom_ax.set_title("Zoom: Sichuan-Chongqing, Yangtze and Land-Sea Corridor", fontsize=10)
    _draw_legend(legend_ax, corridor_counts, Counter(nodes["kind"]))

    out_path = Path(path)
    figure.savefig(out_path, format="png", dpi=dpi)
    return out_path


def _to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError(f"{what} has no CRS; expected EPSG:4326 longitude/latitude")
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs(4326)


def _check_known(values: Iterable[str], known: Mapping[str, object], what: str) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {what}(s) {unknown}; expected one of {sorted(known)}")


def _continuous_longitude_paths(geometry: shapely.Geometry | None) -> list[NDArray[np.float64]]:
    """Vertex arrays of each line part with longitudes made continuous."""
    paths = []
    for part in shapely.get_parts(geometry):
        lon_lat = shapely.get_coordinates(part)
        if len(lon_lat) < 2:
            continue
        lon_lat[:, 0] = np.unwrap(lon_lat[:, 0], period=360.0)
        if lon_lat[:, 0].min() < -180.0:
            lon_lat[:, 0] += 360.0
        paths.append(lon_lat)
    return paths


def _land_paths(geometries: Iterable[shapely.Geometry | None]) -> list[MplPath]:
    # Exteriors counter-clockwise and holes clockwise make matplotlib's
    # non-zero fill rule leave holes (e.g. Lesotho in South Africa) unfilled.
    polygons = shapely.get_parts(shapely.orient_polygons(np.asarray(geometries)))
    return [
        MplPath.make_compound_path(
            *(MplPath(shapely.get_coordinates(ring)) for ring in shapely.get_rings(polygon))
        )
        for polygon in polygons
        if isinstance(polygon, shapely.Polygon)
    ]


def _draw_land(ax: Axes, land_paths: list[MplPath]) -> None:
    ax.add_collection(
        PathCollection(
            land_paths, facecolor=_LAND_COLOUR, edgecolor=_BORDER_COLOUR, linewidth=0.4, zorder=1
        )
    )


def _set_up_map_axes(
    ax: Axes, extent: tuple[float, float, float, float], tick_step_deg: float
) -> None:
    lon_min, lon_max, lat_min, lat_max = extent
    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    # Plate carree stretched to true scale at the centre latitude, so shapes
    # near the middle of the panel are not squashed.
    ax.set_aspect(1.0 / math.cos(math.radians((lat_min + lat_max) / 2.0)))
    ax.set_facecolor(_SEA_COLOUR)
    ax.xaxis.set_major_locator(MultipleLocator(tick_step_deg))
    ax.yaxis.set_major_locator(MultipleLocator(tick_step_deg))
    ax.xaxis.set_major_formatter(FuncFormatter(_format_lon))
    ax.yaxis.set_major_formatter(FuncFormatter(_format_lat))
    ax.tick_params(labelsize=7, length=2, colors="#555555")
    ax.grid(color="#FFFFFF", linewidth=0.5, zorder=1.5)
    ax.set_axisbelow(False)


def _format_lon(lon_deg: float, _position: int | None) -> str:
    hemisphere = "E" if lon_deg > 0 else "W" if lon_deg < 0 else ""
    return f"{abs(lon_deg):g}°{hemisphere}"


def _format_lat(lat_deg: float, _position: int | None) -> str:
    hemisphere = "N" if lat_deg > 0 else "S" if lat_deg < 0 else ""
    return f"{abs(lat_deg):g}°{hemisphere}"


def _draw_corridors(ax: Axes, paths_by_mode: Mapping[str, list[NDArray[np.float64]]]) -> None:
    for mode, paths in paths_by_mode.items():
        style = MODE_STYLES[mode]
        ax.add_collection(
            LineCollection(
                paths,
                colors=style.colour,
                linewidths=style.linewidth_pt,
                linestyles=style.linestyle,
                alpha=style.alpha,
                zorder=style.zorder,
                capstyle="round",
                joinstyle="round",
            )
        )


def _draw_nodes(ax: Axes, nodes: gpd.GeoDataFrame, marker_area_pt2: NDArray[np.float64]) -> None:
    lon = nodes.geometry.x.to_numpy()
    lat = nodes.geometry.y.to_numpy()
    kinds = nodes["kind"].to_numpy()
    for kind, style in KIND_STYLES.items():
        of_kind = kinds == kind
        ax.scatter(
            lon[of_kind],
            lat[of_kind],
            s=marker_area_pt2[of_kind],
            marker=style.marker,
            facecolor=_NODE_COLOUR,
            edgecolor="white",
            linewidth=0.4,
            zorder=3,
        )


def _draw_labels(ax: Axes, nodes: gpd.GeoDataFrame, labels: Mapping[str, _Label]) -> None:
    labelled = nodes[nodes["id"].isin(list(labels))]
    for node_id, point in zip(labelled["id"], labelled.geometry, strict=True):
        label = labels[node_id]
        ax.annotate(
            label.text,
            (point.x, point.y),
            xytext=label.offset_pt,
            textcoords="offset points",
            ha=label.ha,
            va="center",
            fontsize=7.5,
            color=_TEXT_COLOUR,
            path_effects=_HALO,
            zorder=4,
            annotation_clip=True,
        )


def _annotate_off_frame_lanes(
    ax: Axes,
    corridors: gpd.GeoDataFrame,
    corridor_paths: list[list[NDArray[np.float64]]],
    nodes: gpd.GeoDataFrame,
    outlines: gpd.GeoDataFrame,
) -> None:
    """Name, at the panel edge, the countries of endpoints lying off the map."""
    lon_min, lon_max, lat_min, lat_max = MAIN_EXTENT_DEG
    frame = shapely.box(lon_min, lat_min, lon_max, lat_max)
    point_by_id = dict(zip(nodes["id"], nodes.geometry, strict=True))
    edge_lines = {
        "right": shapely.LineString([(lon_max, lat_min), (lon_max, lat_max)]),
        "left": shapely.LineString([(lon_min, lat_min), (lon_min, lat_max)]),
    }
    crossing_lats: dict[str, list[float]] = {edge: [] for edge in edge_lines}
    counts: dict[str, Counter[str]] = {edge: Counter() for edge in edge_lines}
    for origin, destination, paths in zip(
        corridors["origin"], corridors["destination"], corridor_paths, strict=True
    ):
        off_frame = [
            point_by_id[i]
            for i in (origin, destination)
            if i in point_by_id and not frame.covers(point_by_id[i])
        ]
        if not off_frame or not paths:
            continue
        lanes = shapely.MultiLineString(paths)
        for edge, edge_line in edge_lines.items():
            crossing = shapely.get_coordinates(lanes.intersection(edge_line))
            if len(crossing):
                crossing_lats[edge].extend(crossing[:, 1])
                counts[edge].update(_country_name(p, outlines) for p in off_frame)
    for edge, edge_counts in counts.items():
        if not edge_counts:
            continue
        arrow_left, arrow_right = ("", " →") if edge == "right" else ("← ", "")
        text = "\n".join(
            f"{arrow_left}{country} ({n}){arrow_right}" for country, n in edge_counts.most_common()
        )
        lat = float(np.clip(np.mean(crossing_lats[edge]), lat_min + 3.0, lat_max - 3.0))
        ax.annotate(
            text,
            (lon_max if edge == "right" else lon_min, lat),
            xytext=(-4 if edge == "right" else 4, 8),
            textcoords="offset points",
            ha=edge,
            va="bottom",
            fontsize=7.5,
            fontstyle="italic",
            color=_TEXT_COLOUR,
            path_effects=_HALO,
            zorder=4,
        )


def _country_name(point: shapely.Point, outlines: gpd.GeoDataFrame) -> str:
    # At 1:110m many ports fall just offshore, so take the nearest country
    # rather than requiring containment.
    distances_deg = shapely.distance(outlines.geometry.to_numpy(), point)
    return str(outlines["name"].iloc[int(np.argmin(distances_deg))])


def _draw_legend(ax: Axes, corridor_counts: Counter[str], node_counts: Counter[str]) -> None:
    ax.set_axis_off()
    mode_handles = [
        Line2D(
            [],
            [],
            color=style.colour,
            linewidth=style.linewidth_pt * 1.8,
            linestyle=style.linestyle,
            alpha=max(style.alpha, 0.7),
            label=f"{style.label} ({corridor_counts[mode]})",
        )
        for mode, style in MODE_STYLES.items()
    ]
    kind_handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker=style.marker,
            markersize=9,
            markerfacecolor=_NODE_COLOUR,
            markeredgecolor="white",
            label=f"{style.label} ({node_counts[kind]})",
        )
        for kind, style in KIND_STYLES.items()
        if node_counts[kind]
    ]
    # Two legends share one Axes, so both are added as artists explicitly.
    ax.add_artist(_legend(ax, mode_handles, "Corridors by mode", anchor_x=0.0))
    ax.add_artist(_legend(ax, kind_handles, "Nodes by kind", anchor_x=0.45))
    ax.text(
        0.0,
        0.0,
        "Marker size grows with the number of corridors at a node.\n"
        "Lanes leaving the map are counted at its edge by country of the off-map end.\n"
        "Country outlines: Natural Earth 1:110m (public domain).",
        transform=ax.transAxes,
        fontsize=8,
        color="#555555",
        va="bottom",
    )


def _legend(ax: Axes, handles: list[Line2D], title: str, *, anchor_x: float) -> Legend:
    return Legend(
        ax,
        handles,
        [str(handle.get_label()) for handle in handles],
        loc="upper left",
        bbox_to_anchor=(anchor_x, 1.0),
        title=title,
        fontsize=9,
        title_fontsize=10,
        frameon=False,
        handlelength=3.0,
    )
