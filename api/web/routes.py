"""The web planner's routes: the page at ``/``, its static assets under ``/web/static``, the
form's choices and the country outlines it draws the map on.

Everything the page needs ships with the package (``api/web/static``, vendored libraries in
``static/vendor``, outlines from ``network_data``): it makes no request beyond this service,
which its Content-Security-Policy enforces. The data itself comes from the ``/v1`` API with the
API key the user types in; the routes here need no key, as they serve nothing that
``/openapi.json`` and the bundled files do not already show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Scope

from api.deps import NetworkDep, SessionRoute
from api.schemas.route_plans import ShipmentIn
from network_data.geo import OUTLINES_PATH
from network_data.schema import NODE_KINDS, PARCEL_CONTENTS, Mode

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/web/static"
#: The page may load and fetch from this service only (no CDN, no map tiles).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False, route_class=SessionRoute)


class Choice(BaseModel):
    value: str
    label: str


class FormOptions(BaseModel):
    """The values the shipment form offers, taken from :class:`ShipmentIn` and the network."""

    modes: list[Choice]
    cargo_classes: list[Choice]
    customs_regimes: list[Choice]
    currencies: list[str]
    passages: list[Choice]
    node_kinds: list[Choice]
    weight_kg: dict[str, float]
    volume_m3: dict[str, float]
    max_options: int
    contents: list[Choice]


#: Dispatcher's words for the API's enumerations (the value itself is shown if one is missing).
LABELS = {
    "road": "Road",
    "rail": "Rail",
    "inland_water": "Inland waterway",
    "sea": "Sea",
    "air": "Air",
    "general": "General cargo",
    "battery": "Lithium batteries",
    "perishable": "Perishable (reefer)",
    "high_value": "High value",
    "9610": "9610 · B2C parcels, direct mail",
    "9710": "9710 · B2B direct export",
    "9810": "9810 · B2B via overseas warehouse",
    "1210": "1210 · Bonded e-commerce",
    "city": "City",
    "industrial_park": "Industrial park",
    "rail_terminal": "Rail terminal",
    "river_port": "River port",
    "seaport": "Seaport",
    "airport": "Airport",
    "border_crossing": "Border crossing",
    "bonded_zone": "Bonded zone",
    "dry_port": "Inland dry port",
    "express_hub": "Express or postal hub",
    "overseas_warehouse": "Overseas warehouse",
    "market": "Market",
    "express": "Express parcels",
    "lithium_alone": "Lithium batteries alone",
    "lithium_in_equipment": "Batteries in equipment",
    "liquids": "Liquids",
    "powders": "Powders",
}
#: ``customs_regime`` "general" is ordinary trade, not general cargo.
REGIME_LABELS = {"general": "General trade"}


def _choices(values: tuple[Any, ...], labels: dict[str, str] | None = None) -> list[Choice]:
    words = {**LABELS, **(labels or {})}
    return [Choice(value=str(v), label=words.get(str(v), str(v))) for v in values]


def _field_choices(name: str) -> tuple[Any, ...]:
    return get_args(ShipmentIn.model_fields[name].annotation)


def _bounds(name: str) -> dict[str, float]:
    bounds: dict[str, float] = {}
    for item in ShipmentIn.model_fields[name].metadata:
        for attribute in ("gt", "ge", "lt", "le"):
            value = getattr(item, attribute, None)
            if value is not None:
                bounds[attribute] = float(value)
    return bounds


class Assets(StaticFiles):
    """The static files, revalidated on every load (``no-cache``: a cheap 304 when unchanged)
    so that a browser never runs the scripts of an older release against a newer API."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@router.get("/", response_class=HTMLResponse)
def page() -> FileResponse:
    """The web planner."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/web/form-options.json", response_model=FormOptions)
def form_options(network: NetworkDep) -> FormOptions:
    """Modes, cargo classes, customs regimes, currencies and passages for the shipment form."""
    passages = network.passages
    return FormOptions(
        modes=_choices(get_args(Mode)),
        cargo_classes=_choices(_field_choices("cargo_class")),
        customs_regimes=_choices(_field_choices("customs_regime"), REGIME_LABELS),
        currencies=[str(c) for c in _field_choices("currency")],
        passages=[Choice(value=str(i), label=str(passages.at[i, "name"])) for i in passages.index],
        node_kinds=_choices(NODE_KINDS),
        weight_kg=_bounds("weight_kg"),
        volume_m3=_bounds("volume_m3"),
        max_options=int(_bounds("max_options")["le"]),
        contents=_choices(PARCEL_CONTENTS),
    )


@router.get("/web/countries.geojson")
def countries() -> FileResponse:
    """Country outlines (Natural Earth 1:110m) for the map's background."""
    return FileResponse(OUTLINES_PATH, media_type="application/geo+json")


def install(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/web/static``."""
    app.include_router(router)
    app.mount(STATIC_URL, Assets(directory=STATIC_DIR), name="web-static")
