"""Write the network to GeoJSON or GeoPackage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from network_data.load import Network

ExportFormat = Literal["geojson", "gpkg"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("geojson", "gpkg")


def flatten_lists(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Join list-valued columns with ``|`` so that every GIS format can store them."""
    flat = frame.copy()
    for column in flat.columns:
        if column != flat.geometry.name and flat[column].map(lambda x: isinstance(x, list)).any():
            flat[column] = flat[column].map(lambda x: "|".join(x) if isinstance(x, list) else x)
    return flat


def export_network(network: Network, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write nodes and corridors to ``path``.

    GeoPackage gets two layers, ``nodes`` and ``corridors``; GeoJSON gets one
    FeatureCollection whose features carry ``layer`` = ``nodes`` or ``corridors``.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> from network_data import load_network
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = export_network(load_network(), pathlib.Path(tmp) / "n.geojson", "geojson")
    ...     features = json.loads(out.read_text())["features"]
    >>> sorted({f["properties"]["layer"] for f in features})
    ['corridors', 'nodes']
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    layers = {
        "nodes": flatten_lists(network.nodes.reset_index(drop=True)),
        "corridors": flatten_lists(network.corridors.reset_index(drop=True)),
    }
    if fmt == "gpkg":
        target.unlink(missing_ok=True)
        for name, layer in layers.items():
            layer.to_file(target, layer=name, driver="GPKG", engine="pyogrio")
        return target
    combined = pd.concat(
        [layer.assign(layer=name) for name, layer in layers.items()], ignore_index=True
    )
    gpd.GeoDataFrame(combined, geometry="geometry", crs=network.nodes.crs).to_file(
        target, driver="GeoJSON", engine="pyogrio"
    )
    return target
