"""``/v1/network``: summary, GeoJSON of nodes and corridors, place search."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

import geopandas as gpd
import shapely
from fastapi import APIRouter, Query

from api.deps import KeyDep, NetworkDep, SessionRoute
from api.problems import HttpProblem
from api.schemas.network import FeatureCollection, NetworkSummary, PlaceMatch
from network_data import Network, UnknownPlaceError
from network_data.export import flatten_lists
from network_data.geo import City
from network_data.schema import MODES, NODE_KINDS

router = APIRouter(prefix="/v1/network", tags=["network"], route_class=SessionRoute)
# The allowed values are in the schema (``enum``) and checked by ``_choice``, which names them.
ModeQuery = Annotated[
    str | None,
    Query(description=f"One of {', '.join(MODES)}.", json_schema_extra={"enum": list(MODES)}),
]
KindQuery = Annotated[
    str | None,
    Query(
        description=f"One of {', '.join(NODE_KINDS)}.", json_schema_extra={"enum": list(NODE_KINDS)}
    ),
]
BboxQuery = Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat (WGS-84).")]


def _bbox(value: str | None) -> shapely.Polygon | None:
    if value is None:
        return None
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError:
        west = south = east = north = float("nan")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        detail = f"bbox: got {value!r}; expected min_lon,min_lat,max_lon,max_lat within WGS-84"
        raise HttpProblem(
            422, "Invalid bbox", detail, errors=[{"field": "bbox", "message": detail}]
        )
    return shapely.box(west, south, east, north)


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        detail = f"{name}: got {value!r}; expected one of {', '.join(allowed)}"
        raise HttpProblem(
            422, f"Invalid {name}", detail, errors=[{"field": name, "message": detail}]
        )


def _features(frame: gpd.GeoDataFrame) -> FeatureCollection:
    collection: dict[str, Any] = json.loads(flatten_lists(frame).to_json(na="null", drop_id=False))
    for feature in collection["features"]:
        feature["id"] = str(feature["properties"]["id"])
    return FeatureCollection.model_validate(collection)


@router.get("", response_model=NetworkSummary)
def network_summary(_: KeyDep, network: NetworkDep) -> NetworkSummary:
    """Counts by mode and node kind, the dataset version and date."""
    return NetworkSummary.model_validate(network.summary())


@router.get("/nodes", response_model=FeatureCollection)
def network_nodes(
    _: KeyDep,
    network: NetworkDep,
    mode: ModeQuery = None,
    kind: KindQuery = None,
    bbox: BboxQuery = None,
) -> FeatureCollection:
    """Nodes as a GeoJSON FeatureCollection, filtered by mode, kind and bounding box."""
    _choice("mode", mode, MODES)
    _choice("kind", kind, NODE_KINDS)
    nodes = network.nodes
    if mode is not None:
        nodes = nodes[nodes["modes"].map(lambda modes: mode in modes)]
    if kind is not None:
        nodes = nodes[nodes["kind"] == kind]
    box = _bbox(bbox)
    if box is not None:
        nodes = nodes[nodes.intersects(box)]
    return _features(nodes)


@router.get("/corridors", response_model=FeatureCollection)
def network_corridors(
    _: KeyDep, network: NetworkDep, mode: ModeQuery = None, bbox: BboxQuery = None
) -> FeatureCollection:
    """Directed corridors as a GeoJSON FeatureCollection, filtered by mode and bounding box."""
    _choice("mode", mode, MODES)
    corridors = network.corridors
    if mode is not None:
        corridors = corridors[corridors["mode"] == mode]
    box = _bbox(bbox)
    if box is not None:
        corridors = corridors[corridors.intersects(box)]
    return _features(corridors.drop(columns=["via"]))


@router.get("/search", response_model=list[PlaceMatch])
def network_search(
    _: KeyDep,
    network: NetworkDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Start of a name or id.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[PlaceMatch]:
    """Type-ahead over ids, codes, English and Chinese names and aliases of nodes and cities:
    first what a plan would take ``q`` for (a city of several terminals, or a node), then
    prefix matches, then other matches."""
    matches: list[PlaceMatch] = []
    city = network.find_city(q)
    if city is not None:
        matches.append(_city_match(network, city))
    else:
        with contextlib.suppress(UnknownPlaceError, ValueError):
            matches.append(_node_match(network, network.find_node(q)))
    shown = {match.id for match in matches}
    for place in network.places_matching(q):
        match = (
            _node_match(network, place) if isinstance(place, str) else _city_match(network, place)
        )
        if match.id not in shown:
            matches.append(match)
            shown.add(match.id)
    return matches[:limit]


def _node_match(network: Network, node_id: str) -> PlaceMatch:
    nodes = network.nodes
    return PlaceMatch(
        id=node_id,
        name_en=str(nodes.at[node_id, "name_en"]),
        name_zh=str(nodes.at[node_id, "name_zh"]),
        kind=str(nodes.at[node_id, "kind"]),
        country=str(nodes.at[node_id, "country"]),
        modes=list(nodes.at[node_id, "modes"]),
        lat=float(nodes.at[node_id, "lat"]),
        lon=float(nodes.at[node_id, "lon"]),
    )


def _city_match(network: Network, city: City) -> PlaceMatch:
    """A city of several terminals: the modes any of them handles."""
    modes = {mode for member in city.members for mode in network.nodes.at[member, "modes"]}
    return PlaceMatch(
        id=city.id, name_en=city.name, name_zh=city.name_zh, kind="city", country=city.country,
        modes=sorted(modes, key=MODES.index), lat=city.lat, lon=city.lon,
    )  # fmt: skip
