"""The corridor network as a networkx MultiDiGraph."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx


def build_graph(nodes: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> nx.MultiDiGraph:
    """Build a MultiDiGraph with one node per network node and one edge per directed corridor.

    Node attributes are the columns of ``nodes`` (with ``geometry``); edge keys are corridor ids
    and edge attributes the columns of ``corridors``.

    Examples
    --------
    >>> from network_data import load_network
    >>> network = load_network()
    >>> graph = build_graph(network.nodes, network.corridors)
    >>> graph.number_of_edges() == len(network.corridors)
    True
    >>> graph.edges["CNCKG-RLY", "CNQZH", "RAIL-CNCKG-RLY-CNQZH"]["mode"]
    'rail'
    """
    graph = nx.MultiDiGraph(crs=str(nodes.crs))
    graph.add_nodes_from(nodes.to_dict("index").items())
    graph.add_edges_from(
        (row["origin"], row["destination"], corridor_id, row)
        for corridor_id, row in corridors.to_dict("index").items()
    )
    return graph
