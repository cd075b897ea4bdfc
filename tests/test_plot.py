"""Tests for the network map picture and the vendored country outlines."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from numpy.typing import NDArray
from shapely.geometry import LineString, Point

from network_data.plot import FIGURE_SIZE_IN, MODE_STYLES, load_outlines, plot_network

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 60
# The main map occupies the top of the figure, above the zoom panel and legend.
MAIN_PANEL_BOTTOM_FRACTION = 0.58

NODE_POSITIONS = {
    "CNCTU-RLY": ("Chengdu International Railway Port", "rail_terminal", (104.20, 30.80)),
    "PLLOD": ("Lodz", "rail_terminal", (19.56, 51.74)),
    "CNSHA-YSN": ("Shanghai Yangshan Deep-water Port", "seaport", (122.07, 30.63)),
    "USLAX": ("Los Angeles / Long Beach", "seaport", (-118.28, 33.72)),
    "CNCKG-PRT": ("Chongqing Guoyuan Port", "river_port", (106.70, 29.60)),
    "CNCTU-TFU": ("Chengdu Tianfu International Airport", "airport", (104.44, 30.29)),
}


def make_nodes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": list(NODE_POSITIONS),
            "name_en": [name for name, _, _ in NODE_POSITIONS.values()],
            "kind": [kind for _, kind, _ in NODE_POSITIONS.values()],
        },
        geometry=[Point(lon_lat) for _, _, lon_lat in NODE_POSITIONS.values()],
        crs="EPSG:4326",
    )


def make_corridors(legs: list[tuple[str, str, str]]) -> gpd.GeoDataFrame:
    """Straight-line corridors for (origin, destination, mode) legs."""
    return gpd.GeoDataFrame(
        {
            "id": [f"{o}>{d}:{mode}" for o, d, mode in legs],
            "origin": [o for o, _, _ in legs],
            "destination": [d for _, d, _ in legs],
            "mode": [mode for _, _, mode in legs],
            "service_name": ["test service"] * len(legs),
        },
        geometry=[LineString([NODE_POSITIONS[o][2], NODE_POSITIONS[d][2]]) for o, d, _ in legs],
        crs="EPSG:4326",
    )


ONE_LEG_PER_MODE = [
    ("CNCTU-RLY", "PLLOD", "rail"),
    ("USLAX", "CNSHA-YSN", "sea"),
    ("CNCKG-PRT", "CNSHA-YSN", "inland_water"),
    ("CNCTU-RLY", "CNCKG-PRT", "road"),
    ("CNCTU-TFU", "PLLOD", "air"),
]


def colour_mask(
    image: NDArray[np.float32], colour: str, tolerance: float = 0.06
) -> NDArray[np.bool_]:
    rgb_distance = np.abs(image[:, :, :3] - np.array(to_rgb(colour))).max(axis=2)
    mask: NDArray[np.bool_] = rgb_distance <= tolerance
    return mask


def test_plot_network_writes_png_of_expected_size_showing_rail(tmp_path: Path) -> None:
    out = plot_network(
        make_nodes(), make_corridors(ONE_LEG_PER_MODE), tmp_path / "network.png", dpi=DPI
    )

    assert out == tmp_path / "network.png"
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(out)
    width_in, height_in = FIGURE_SIZE_IN
    assert image.shape[:2] == (round(height_in * DPI), round(width_in * DPI))
    main_panel = image[: int(image.shape[0] * MAIN_PANEL_BOTTOM_FRACTION)]
    assert colour_mask(main_panel, MODE_STYLES["rail"].colour).sum() > 50


def test_trans_pacific_lane_leaves_east_instead_of_crossing_eurasia(tmp_path: Path) -> None:
    # Given as a raw straight line from Los Angeles, the lane would run west
    # across the whole main panel to reach Shanghai.
    out = plot_network(
        make_nodes(),
        make_corridors([("USLAX", "CNSHA-YSN", "sea")]),
        tmp_path / "pacific.png",
        dpi=DPI,
    )

    image = imread(out)
    main_panel = image[: int(image.shape[0] * MAIN_PANEL_BOTTOM_FRACTION), :, :3]
    # The lane is the only saturated colour in the main panel; its edges are
    # blended with the background, so match saturation rather than the exact RGB.
    saturation = main_panel.max(axis=2) - main_panel.min(axis=2)
    lane_columns = np.nonzero((saturation > 0.25).any(axis=0))[0]
    assert lane_columns.size > 0
    # Shanghai sits about 83 % of the way across the main panel.
    assert lane_columns.min() > 0.7 * image.shape[1]


def test_plot_network_rejects_unknown_mode(tmp_path: Path) -> None:
    corridors = make_corridors([("CNCTU-RLY", "PLLOD", "rail")])
    corridors["mode"] = "hyperloop"

    with pytest.raises(ValueError, match="hyperloop"):
        plot_network(make_nodes(), corridors, tmp_path / "never.png", dpi=DPI)
    assert not (tmp_path / "never.png").exists()


def test_load_outlines_has_world_countries_in_wgs84() -> None:
    countries = load_outlines()

    assert len(countries) > 150
    assert countries.crs.to_epsg() == 4326
    assert {"China", "Germany"} <= set(countries["name"])
    assert countries.geometry.is_valid.all()
