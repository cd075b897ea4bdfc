"""Compact numpy views of the network for numba kernels."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt

from network_data.schema import MODES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NetworkArrays:
    """Nodes and corridors as flat arrays, corridors in CSR order by origin node.

    The corridors leaving node ``i`` are ``edge_*[indptr[i]:indptr[i + 1]]``. ``edge_mode``
    indexes :data:`network_data.schema.MODES`.
    """

    node_ids: tuple[str, ...]
    node_lat: FloatArray
    node_lon: FloatArray
    edge_ids: tuple[str, ...]
    indptr: IntArray
    edge_origin: IntArray
    edge_destination: IntArray
    edge_mode: IntArray
    edge_distance_km: FloatArray
    edge_duration_h: FloatArray
    edge_duration_p90_h: FloatArray
    edge_co2e_g_per_tkm: FloatArray

    def node_index(self, node_id: str) -> int:
        """Position of ``node_id`` in the node arrays."""
        return self.node_ids.index(node_id)


def build_arrays(nodes: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> NetworkArrays:
    """Build :class:`NetworkArrays` from the node and corridor tables.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> arrays = build_arrays(network.nodes, network.corridors)
    >>> i = arrays.node_index("CNCTU-RLY")
    >>> leaving = slice(arrays.indptr[i], arrays.indptr[i + 1])
    >>> bool((arrays.edge_origin[leaving] == i).all())
    True
    """
    position = {node_id: i for i, node_id in enumerate(nodes.index)}
    origin = corridors["origin"].map(position).to_numpy(np.int64)
    order = np.argsort(origin, kind="stable")
    sorted_corridors = corridors.iloc[order]
    origin = origin[order]
    mode_code = {mode: i for i, mode in enumerate(MODES)}
    indptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.add.at(indptr, origin + 1, 1)
    return NetworkArrays(
        node_ids=tuple(nodes.index),
        node_lat=nodes["lat"].to_numpy(np.float64),
        node_lon=nodes["lon"].to_numpy(np.float64),
        edge_ids=tuple(sorted_corridors.index),
        indptr=np.cumsum(indptr),
        edge_origin=origin,
        edge_destination=sorted_corridors["destination"].map(position).to_numpy(np.int64),
        edge_mode=sorted_corridors["mode"].map(mode_code).to_numpy(np.int64),
        edge_distance_km=sorted_corridors["distance_km"].to_numpy(np.float64),
        edge_duration_h=sorted_corridors["duration_h"].to_numpy(np.float64),
        edge_duration_p90_h=sorted_corridors["duration_p90_h"].to_numpy(np.float64),
        edge_co2e_g_per_tkm=sorted_corridors["co2e_g_per_tkm"].to_numpy(np.float64),
    )
