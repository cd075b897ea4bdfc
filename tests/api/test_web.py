"""The web planner's server side (issue 9): the page and its assets ship with the package and
load nothing from elsewhere; the form's choices come from the API's own schema; the warehouse
ledger splits confirmed bookings from pending ones for the coordinators' view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest
from fastapi.testclient import TestClient

from api.db import repositories
from api.db.repositories import Actor
from api.main import create_app
from api.schemas.route_plans import ShipmentIn
from api.settings import Settings
from api.web.routes import STATIC_DIR
from network_data import Network
from network_data.schema import Mode
from optimizer.model import MAX_WEIGHT_KG
from tests.api.conftest import new_key

VENDOR = STATIC_DIR / "vendor"


@pytest.fixture
def web(tmp_path: Path, network: Network) -> Iterator[TestClient]:
    """The service on SQLite (the page needs no database of a particular kind)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", inprocess_worker=False)
    with TestClient(create_app(settings, network=network)) as client:
        yield client


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "link") and (found.get("src") or found.get("href")):
            self.assets.append(str(found.get("src") or found.get("href")))
        if tag in ("input", "select", "textarea"):
            self.controls.append(found)
        if tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))


def test_page_at_root_with_a_policy_that_keeps_it_on_this_machine(web: TestClient) -> None:
    answer = web.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    page = _Page()
    page.feed(answer.text)
    assert page.assets, "the page loads its scripts and styles"
    for asset in page.assets:
        assert asset.startswith("/web/static/"), asset
        served = web.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["cache-control"] == "no-cache"
    unlabelled = [c for c in page.controls if c.get("id") not in page.label_for]
    assert unlabelled == [], "every input has a <label>"


def test_scripts_and_styles_name_no_other_host() -> None:
    ours = [p for p in STATIC_DIR.rglob("*") if p.suffix in {".js", ".css", ".html"}]
    ours = [p for p in ours if VENDOR not in p.parents]
    assert len(ours) > 5
    for path in ours:
        text = path.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"https?://|//[a-z0-9-]+\.[a-z]{2,}/", text), path


def test_vendored_libraries_carry_licence_and_version() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    libraries = [p for p in VENDOR.iterdir() if p.is_dir()]
    assert libraries
    for library in libraries:
        name, _, version = library.name.rpartition("-")
        assert (library / "LICENSE").is_file(), library
        assert f"{name}@{version}" in readme, library
    assert 'version="1.9.4"' in (VENDOR / "leaflet-1.9.4" / "leaflet.js").read_text()[-300:]


def test_form_choices_come_from_the_shipment_schema(web: TestClient, network: Network) -> None:
    options = web.get("/web/form-options.json").json()
    values = {name: [c["value"] for c in options[name]] for name in
              ("modes", "cargo_classes", "customs_regimes", "passages")}  # fmt: skip
    fields = ShipmentIn.model_fields
    assert values["modes"] == list(get_args(Mode))
    assert values["cargo_classes"] == list(get_args(fields["cargo_class"].annotation))
    assert values["customs_regimes"] == list(get_args(fields["customs_regime"].annotation))
    assert options["currencies"] == list(get_args(fields["currency"].annotation))
    assert values["passages"] == list(network.passages.index)
    assert options["weight_kg"] == {"gt": 0.0, "le": MAX_WEIGHT_KG}


def test_country_outlines_and_web_routes_outside_the_api_schema(web: TestClient) -> None:
    outlines = web.get("/web/countries.geojson")
    assert outlines.status_code == 200
    assert outlines.json()["type"] == "FeatureCollection"
    assert len(outlines.json()["features"]) > 150
    paths = web.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/web")]
    assert web.get("/web/static/nothing.js").status_code == 404


def test_ledger_splits_confirmed_held_and_proposed(client: TestClient) -> None:
    coordinator = new_key(client, "logport", "coordinator")
    key = {"Authorization": coordinator["Authorization"]}
    body = {"name": "Hall 3", "node_id": "WH-DEDUI", "pallets_per_week": 100,
            "volume_m3_per_week": 200.0}  # fmt: skip
    warehouse = client.post("/v1/warehouses", json=body, headers=key).json()["id"]

    def book(first: str, last: str, pallets: int, volume_m3: float) -> str:
        booking = {"warehouse_id": warehouse, "first_week": first, "last_week": last,
                   "pallets": pallets, "volume_m3": volume_m3}  # fmt: skip
        answer = client.post("/v1/bookings", json=booking, headers=key)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    confirmed = book("2026-W49", "2026-W50", 30, 60.0)
    assert client.post(f"/v1/bookings/{confirmed}/confirm", headers=key).status_code == 200
    book("2026-W50", "2026-W51", 20, 25.5)  # held
    cancelled = book("2026-W49", "2026-W51", 5, 5.0)
    assert client.post(f"/v1/bookings/{cancelled}/cancel", headers=key).status_code == 200
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        organisation = repositories.organisation_by_name(session, "logport")
        repositories.create_booking(
            session, Actor(None, None), warehouse_id=warehouse, organisation_id=organisation.id,
            first_week="2026-W51", last_week="2026-W51", pallets=10, volume_m3=12.0,
            status="proposed",
        )  # fmt: skip
        session.commit()

    answer = client.get(
        f"/v1/warehouses/{warehouse}/capacity?first_week=2026-W49&last_week=2026-W52", headers=key
    )
    assert answer.status_code == 200, answer.text
    weeks = {w["week"]: w for w in answer.json()["weeks"]}
    split = {
        week: tuple(w[f"{s}_pallets"] for s in ("confirmed", "held", "proposed"))
        for week, w in weeks.items()
    }
    assert split == {"2026-W49": (30, 0, 0), "2026-W50": (30, 20, 0), "2026-W51": (0, 20, 10),
                     "2026-W52": (0, 0, 0)}  # fmt: skip
    assert weeks["2026-W50"]["held_volume_m3"] == 25.5
    assert weeks["2026-W51"]["proposed_volume_m3"] == 12.0
    for w in weeks.values():  # booked is what takes capacity: confirmed and held, not proposed
        assert w["booked_pallets"] == w["confirmed_pallets"] + w["held_pallets"]
        taken_m3 = w["confirmed_volume_m3"] + w["held_volume_m3"]
        assert w["booked_volume_m3"] == pytest.approx(taken_m3)
