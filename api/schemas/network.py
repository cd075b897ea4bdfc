"""Response models of ``/v1/network``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class NotOperating(BaseModel):
    """A node, corridor or service that is planned or under construction."""

    what: Literal["node", "corridor", "service"]
    id: str
    name: str
    status: Literal["planned", "under_construction"]
    opens_year: int | None


class NetworkSummary(BaseModel):
    version: str
    date: str
    nodes: int
    corridors: int
    services: int
    tariff_rows: int
    nodes_by_kind: dict[str, int]
    corridors_by_mode: dict[str, int]
    corridor_km_by_mode: dict[str, int]
    nodes_by_status: dict[str, int]
    corridors_by_status: dict[str, int]
    services_by_status: dict[str, int]
    not_operating: list[NotOperating]


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class PlaceMatch(BaseModel):
    id: str
    name_en: str
    name_zh: str
    kind: str
    country: str
    modes: list[str]
    lat: float = Field(description="WGS-84 latitude of the node, or of a city's centre.")
    lon: float = Field(description="WGS-84 longitude of the node, or of a city's centre.")
