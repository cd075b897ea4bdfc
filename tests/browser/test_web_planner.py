"""The web planner end to end in headless Chromium (issue 9): plan a shipment and select an
option, field errors, the network map and its toggles, the warehouses view, and what a
dispatcher sees on 401 and 429."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2

from api.db import repositories
from api.db.repositories import Actor
from network_data import Network
from tests.browser.conftest import LiveServer, enter_key, screenshot, sync_api

expect = sync_api.expect
READY_DATE = "2026-11-23"  # inside the bundled timetables


def fill_shipment(page: Any) -> None:
    """Linshui -> Duisburg: origin typed in Chinese and picked with the mouse, destination picked
    with the keyboard."""
    page.get_by_label("Origin", exact=True).fill("邻水")
    page.locator("#origin-list [role=option]").filter(has_text="Linshui").first.click()
    expect(page.locator("#origin-picked")).to_contain_text("CN-LINSHUI-PARK")
    destination = page.get_by_label("Destination", exact=True)
    destination.fill("Duisburg")
    options = page.locator("#destination-list [role=option]")
    expect(options.first).to_be_visible()
    index = next(i for i, text in enumerate(options.all_inner_texts()) if text.endswith("· DEDUI"))
    for _ in range(index + 1):
        destination.press("ArrowDown")
    destination.press("Enter")
    expect(page.locator("#destination-picked")).to_contain_text("DEDUI")
    page.get_by_label("Weight (kg)").fill("800")
    page.locator("#shipment-form").get_by_label("Volume (m³)").fill("4.2")
    page.get_by_label("Ready date").fill(READY_DATE)


def test_plan_linshui_to_duisburg_and_select_an_option(page: Any, live_server: LiveServer) -> None:
    enter_key(page, live_server.key())
    fill_shipment(page)
    with page.expect_response("**/v1/route-plans") as answer:
        page.get_by_role("button", name="Find routes").click()
    plan = answer.value.json()
    assert answer.value.status == 201 and plan["options"], plan

    rows = page.locator("#options-table tbody tr")
    expect(rows).to_have_count(len(plan["options"]))
    expect(page.locator("#chart-body .point")).to_have_count(len(plan["options"]))
    expect(rows.first).to_have_class(re.compile(r"\bselected\b"))  # the first is shown at once

    # Select the last option: its row, its dot, its legs listed and drawn on the map.
    last = len(plan["options"]) - 1
    option = plan["options"][last]
    page.get_by_label(f"Option {last + 1}", exact=True).check()
    expect(rows.nth(last)).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator(f'#chart-body .point[data-option="{last}"]')).to_have_class(
        re.compile(r"\bselected\b")
    )
    expect(page.locator("#legs h3")).to_have_text(f"Legs of option {last + 1}")
    expect(page.locator("#legs tbody tr")).to_have_count(len(option["legs"]))
    highlighted = page.locator("#plan-map path.leg-highlight")
    expect(highlighted).to_have_count(len(option["legs"]))
    for leg, mode in zip(option["legs"], _modes_drawn(highlighted), strict=True):
        assert mode == leg["mode"]
    first_leg = page.locator("#legs tbody tr").first
    expect(first_leg).to_contain_text(f"{option['legs'][0]['distance_km']:,.0f}")

    # Each option selected in turn fills the map: all its legs, both ends and their labels.
    for i, each in enumerate(plan["options"]):
        page.get_by_label(f"Option {i + 1}", exact=True).check()
        expect(page.locator("#legs h3")).to_have_text(f"Legs of option {i + 1}")
        _assert_route_in_view(page, len(each["legs"]), ["Linshui Auto and Motorcy…", "Duisburg"])
    page.get_by_label(f"Option {last + 1}", exact=True).check()

    # The options are a radio group: the arrow keys move the selection.
    page.get_by_label(f"Option {last + 1}", exact=True).press("ArrowUp")
    expect(page.locator("#legs h3")).to_have_text(f"Legs of option {last}")
    page.get_by_label(f"Option {last}", exact=True).press("ArrowDown")
    expect(page.locator("#legs h3")).to_have_text(f"Legs of option {last + 1}")

    _assert_every_control_is_labelled(page)
    # The rail option (China-Europe rail via Alashankou) makes the README's picture, in a window
    # tall enough for the whole page: form, map, options and legs.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(height, 2400)})
    rail = next(i for i, o in enumerate(plan["options"]) if o["modes"] == ["road", "rail"])
    page.locator(f'#options-table tr[data-option="{rail}"] td.num').first.click()
    expect(page.locator("#legs h3")).to_have_text(f"Legs of option {rail + 1}")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(600)  # the labels of the option shown before fade out (200 ms)
    screenshot(page, "planner", docs=True)


def _assert_route_in_view(page: Any, legs: int, end_labels: list[str]) -> None:
    """The selected option's legs, its two end markers and their labels (origin first) all lie
    inside the map and clear of what is laid over it (zoom buttons, attribution, legend), and
    the route is zoomed to: it spans at least 60 % of the map's width or of its height."""
    # The labels of the option shown before fade out for 200 ms: wait until only these are left.
    expect(page.locator("#plan-map .end-label")).to_have_text(end_labels)
    seen = page.evaluate(
        """() => {
            const map = document.querySelector('#plan-map').getBoundingClientRect();
            const box = (e) => {
                const r = e.getBoundingClientRect();
                return [r.left - map.left, r.top - map.top, r.right - map.left, r.bottom - map.top];
            };
            const all = (selector) => [...document.querySelectorAll(selector)];
            return {
                size: [map.width, map.height],
                legs: all('#plan-map path.leg-highlight').map(box),
                ends: all('#plan-map path.leg-end').map(box),
                labels: all('#plan-map .end-label').map((e) => [e.textContent, box(e)]),
                over: all('#plan-map .leaflet-control, #plan-legend').map(box),
            };
        }"""
    )
    width, height = seen["size"]
    assert [text for text, _ in seen["labels"]] == end_labels
    assert len(seen["legs"]) == legs and len(seen["ends"]) == 2
    shown = seen["legs"] + seen["ends"] + [b for _, b in seen["labels"]]
    for left, top, right, bottom in shown:
        assert 0 <= left <= right <= width and 0 <= top <= bottom <= height, (seen, left, top)
        for o_left, o_top, o_right, o_bottom in seen["over"]:
            apart = right <= o_left or o_right <= left or bottom <= o_top or o_bottom <= top
            assert apart, (
                f"{[left, top, right, bottom]} is under {[o_left, o_top, o_right, o_bottom]}"
            )
    span_x = max(b[2] for b in shown) - min(b[0] for b in shown)
    span_y = max(b[3] for b in shown) - min(b[1] for b in shown)
    assert span_x >= 0.6 * width or span_y >= 0.6 * height, (span_x, span_y, width, height)


def test_map_fits_a_route_across_the_pacific_to_a_city(page: Any, live_server: LiveServer) -> None:
    """Chongqing -> Los Angeles: the destination is a city of several terminals (no node), so
    the page finds its centre to draw the last leg and label it; the sea lane runs on across
    the antimeridian (to longitude 241) and the last road leg joins it there."""
    enter_key(page, live_server.key())
    page.get_by_label("Origin", exact=True).fill("CNCKG")
    page.get_by_label("Origin", exact=True).press("Escape")
    page.get_by_label("Destination", exact=True).fill("Los Angeles")
    page.get_by_label("Destination", exact=True).press("Escape")
    page.get_by_label("Ready date").fill(READY_DATE)
    with page.expect_response("**/v1/route-plans") as answer:
        page.get_by_role("button", name="Find routes").click()
    plan = answer.value.json()
    assert answer.value.status == 201 and plan["options"], plan
    assert {o["legs"][-1]["to"] for o in plan["options"]} == {"Los Angeles"}
    for i, option in enumerate(plan["options"]):
        page.get_by_label(f"Option {i + 1}", exact=True).check()
        expect(page.locator("#legs h3")).to_have_text(f"Legs of option {i + 1}")
        _assert_route_in_view(page, len(option["legs"]), ["Chongqing", "Los Angeles"])
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "planner-pacific")


def _modes_drawn(paths: Any) -> list[str]:
    classes = paths.evaluate_all("els => els.map(e => e.getAttribute('class'))")
    return [re.search(r"mode-(\w+)", c).group(1) for c in classes]  # type: ignore[union-attr]


def _assert_every_control_is_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.type !== 'hidden' && !e.closest('[hidden]'))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.outerHTML.slice(0, 120))"""
    )
    assert unlabelled == []


def test_bad_weight_is_shown_next_to_the_field(page: Any, live_server: LiveServer) -> None:
    enter_key(page, live_server.key())
    page.get_by_label("Origin", exact=True).fill("Linshui")
    page.get_by_label("Destination", exact=True).fill("Duisburg")
    page.get_by_label("Weight (kg)").fill("-5")
    with page.expect_response("**/v1/route-plans") as answer:
        page.get_by_role("button", name="Find routes").click()
    assert answer.value.status == 422
    error = page.locator("#weight_kg-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Must be more than 0.")
    expect(page.get_by_label("Weight (kg)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Weight (kg)")).to_be_focused()
    expect(page.locator("#banner")).to_contain_text("Please correct the highlighted field")
    expect(page.locator("#volume_m3-error")).to_be_hidden()
    screenshot(page, "planner-field-error")

    # Corrected, the error goes; an unknown place is then named by the planner next to origin.
    page.get_by_label("Weight (kg)").fill("800")
    page.get_by_label("Origin", exact=True).fill("Atlantis")
    page.get_by_label("Origin", exact=True).press("Escape")
    page.get_by_label("Ready date").fill(READY_DATE)
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator("#origin-error")).to_contain_text("Atlantis")
    expect(page.locator("#weight_kg-error")).to_be_hidden()


def test_no_option_shows_the_planners_reason(page: Any, live_server: LiveServer) -> None:
    enter_key(page, live_server.key())
    page.get_by_label("Origin", exact=True).fill("CNCTU-TFU")
    page.get_by_label("Destination", exact=True).fill("SGSIN-SIN")
    page.get_by_label("Destination", exact=True).press("Escape")
    page.get_by_label("Cargo class").select_option("battery")
    for mode in ("Road", "Rail", "Inland waterway", "Sea"):
        page.get_by_label(mode, exact=True).uncheck()
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator("#no-route")).to_contain_text("No route found")
    expect(page.locator("#no-route .reason")).to_contain_text("lithium batteries")


def test_unknown_key_and_rate_limit_are_explained(page: Any, live_server: LiveServer) -> None:
    page.goto("/")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Use key").click()
    expect(page.locator("#key-status")).to_have_text("✗ Not accepted")
    expect(page.locator("#banner")).to_contain_text("Your API key was not accepted")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")

    # A 429 from the service: the wait in words, the button off until it is over.
    enter_key(page, live_server.key())
    problem = {"type": "about:blank", "title": "Too many requests", "status": 429,
               "detail": "rate limit reached for this key; retry in 2 s"}  # fmt: skip
    page.route(
        "**/v1/route-plans",
        lambda route: route.fulfill(
            status=429, headers={"Retry-After": "2"}, content_type="application/problem+json",
            body=json.dumps(problem),
        ),
    )  # fmt: skip
    fill_shipment(page)
    button = page.get_by_role("button", name="Find routes")
    button.click()
    expect(page.locator("#banner")).to_contain_text("Too many requests with this key")
    expect(page.locator("#banner")).to_contain_text("wait")
    expect(button).to_be_disabled()
    expect(button).to_be_enabled(timeout=10_000)
    expect(page.locator("#banner")).to_contain_text("You can send requests again")


def test_network_map_toggles_a_mode(page: Any, live_server: LiveServer, network: Network) -> None:
    enter_key(page, live_server.key())
    page.get_by_role("link", name="Network map").click()
    expect(page.locator("#dataset-version")).to_have_text(network.version)
    sea = page.locator("#network-map path.corridor-sea")
    sea_count = int((network.corridors["mode"] == "sea").sum())
    expect(sea).to_have_count(sea_count)
    expect(page.locator("#network-map path.corridor-rail")).to_have_count(
        int((network.corridors["mode"] == "rail").sum())
    )
    markets = int((network.nodes["kind"] == "market").sum())
    expect(page.locator("#network-map path.node-market")).to_have_count(3 * markets)  # 3 worlds
    screenshot(page, "network", docs=True)

    toggle = page.get_by_label(re.compile(r"^Sea \d"))
    toggle.focus()
    page.keyboard.press("Space")  # keyboard, as a dispatcher without a mouse would
    expect(toggle).not_to_be_checked()
    expect(sea).to_have_count(0)
    expect(page.locator("#network-map path.corridor-rail")).not_to_have_count(0)
    screenshot(page, "network-without-sea")
    toggle.check()
    expect(sea).to_have_count(sea_count)


def test_warehouses_show_capacity_against_bookings(page: Any, live_server: LiveServer) -> None:
    secret = live_server.key("logport-coordinators", "coordinator")
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx2.Client(base_url=live_server.url, headers=auth, timeout=30) as http:
        created = http.post("/v1/warehouses", json={
            "name": "Duisburg logport hall 3", "node_id": "WH-DEDUI", "pallets_per_week": 400,
            "volume_m3_per_week": 900.0,
        })  # fmt: skip
        assert created.status_code == 201, created.text
        warehouse = created.json()["id"]

        def book(first: str, last: str, pallets: int, volume_m3: float) -> str:
            answer = http.post("/v1/bookings", json={
                "warehouse_id": warehouse, "first_week": first, "last_week": last,
                "pallets": pallets, "volume_m3": volume_m3,
            })  # fmt: skip
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

        confirmed = book("2026-W48", "2026-W51", 120, 300.0)
        assert http.post(f"/v1/bookings/{confirmed}/confirm").status_code == 200
        book("2026-W49", "2026-W50", 40, 90.0)  # held
    with live_server.app.state.sessions() as session:  # an allocation job's proposal
        organisation = repositories.organisation_by_name(session, "logport-coordinators")
        repositories.create_booking(
            session, Actor(None, None, job_id=None), warehouse_id=warehouse,
            organisation_id=organisation.id, first_week="2026-W50", last_week="2026-W50",
            pallets=25, volume_m3=50.0, status="proposed",
        )  # fmt: skip
        session.commit()

    enter_key(page, secret, "/#warehouses")
    page.get_by_label("From week").fill("2026-W48")
    page.get_by_role("button", name="Show", exact=True).click()
    card = page.locator(f'article[data-warehouse="{warehouse}"]')
    expect(card).to_contain_text("Duisburg logport hall 3")
    expect(card).to_contain_text("Your organisation")
    expect(card.locator(".confirmed-now")).to_have_text("120")  # 2026-W48
    expect(card.locator(".pending-now")).to_have_text("0")
    card.get_by_text("Weekly figures").click()
    w50 = card.locator("tbody tr").filter(has_text="2026-W50")
    expect(w50.locator("td")).to_have_text(["400", "120", "40", "25", "240"])
    expect(card.locator("svg rect.bar-confirmed")).to_have_count(4)
    expect(card.locator("svg rect.bar-held")).to_have_count(2)
    expect(card.locator("svg rect.bar-proposed")).to_have_count(1)
    expect(card.locator("svg .axis-title")).to_have_text("Pallets per week")  # the value axis

    page.locator("label[for=wh-unit-m3]").click()
    expect(w50.locator("td")).to_have_text(["900.0", "300.0", "90.0", "50.0", "510.0"])
    expect(card.locator("svg .axis-title")).to_have_text("m³ per week")
    screenshot(page, "warehouses", full_page=True)


def test_narrow_window_keeps_the_planner_usable(page: Any, live_server: LiveServer) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    enter_key(page, live_server.key())
    fill_shipment(page)
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator("#options-table tbody tr").first).to_be_visible()
    _assert_route_in_view(
        page, page.locator("#legs tbody tr").count(), ["Linshui Auto and Motorcy…", "Duisburg"]
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px window"
    screenshot(page, "planner-narrow", full_page=True)


def test_api_docs_render_offline(page: Any, live_server: LiveServer, page_log: Any) -> None:
    """/docs draws Swagger UI from the service's own copy: no request leaves the machine."""
    page.goto("/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Shudao")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert page_log.external == []


def test_redoc_renders_offline(page: Any, live_server: LiveServer, page_log: Any) -> None:
    """/redoc draws the API reference from the service's own copy of ReDoc: no request leaves
    the machine."""
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("Shudao")
    expect(page.get_by_text("/v1/route-plans").first).to_be_attached()
    assert page_log.external == []


def test_find_routes_in_view_and_dates_written_iso(page: Any, live_server: LiveServer) -> None:
    """At 1280x800 the Find routes button is in view without scrolling; dates read and are
    typed YYYY-MM-DD whatever the browser's locale, and a date that is not one is named."""
    enter_key(page, live_server.key())
    expect(page.get_by_role("button", name="Find routes")).to_be_in_viewport()
    ready = page.get_by_label("Ready date")
    expect(ready).to_have_attribute("placeholder", "YYYY-MM-DD")
    page.get_by_label("Origin", exact=True).fill("Linshui")
    page.get_by_label("Destination", exact=True).fill("Duisburg")
    page.get_by_label("Weight (kg)").fill("800")
    page.locator("#shipment-form").get_by_label("Volume (m³)").fill("4.2")
    ready.fill("11/23/2026")
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator("#ready_at-error")).to_contain_text("YYYY-MM-DD")
    ready.fill("2026-02-30")
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator("#ready_at-error")).to_contain_text("YYYY-MM-DD")
    ready.fill(READY_DATE)
    with page.expect_response("**/v1/route-plans") as answer:
        page.get_by_role("button", name="Find routes").click()
    assert answer.value.status == 201
    expect(page.locator("#ready_at-error")).to_be_hidden()


def test_parcel_mode_prices_the_pieces_on_every_channel(page: Any, live_server: LiveServer) -> None:
    """Parcels: weight and size per piece and pieces; the channels shown, cheapest first, with
    those that refuse saying why (issue 21)."""
    enter_key(page, live_server.key())
    page.get_by_label("Parcels").check()
    expect(page.get_by_label("Weight (kg)")).to_be_hidden()
    page.get_by_label("Origin", exact=True).fill("Chengdu")
    page.get_by_label("Origin", exact=True).press("Escape")
    page.get_by_label("Destination", exact=True).fill("Los Angeles")
    page.get_by_label("Destination", exact=True).press("Escape")
    page.get_by_label("Weight per piece (kg)").fill("2")
    page.get_by_label("Pieces").fill("3")
    for side, value in (("Length", "30"), ("Width", "20"), ("Height", "15")):
        page.get_by_label(side, exact=True).fill(value)
    page.get_by_label("Destination postcode").fill("90001")
    page.get_by_label("Ready date").fill("2026-12-08")
    with (
        page.expect_request("**/v1/route-plans") as sent,
        page.expect_response("**/v1/route-plans") as answer,
    ):
        page.get_by_role("button", name="Find routes").click()
    body = json.loads(sent.value.post_data)
    assert body["cargo_class"] == "express" and body["pieces"] == 3
    assert body["weight_kg"] == 6 and body["volume_m3"] == 0.027
    assert body["piece_dimensions_cm"] == [30, 20, 15]
    plan = answer.value.json()
    assert answer.value.status == 201, plan
    channels = page.locator("#parcel-channels tbody tr")
    expect(channels).to_have_count(len(plan["parcel_channels"]))
    offered = sorted((q for q in plan["parcel_channels"] if q["offered"]), key=lambda q: q["cost"])
    expect(channels.first).to_contain_text(offered[0]["name"])
    expect(page.locator('#parcel-channels tr[data-channel="RAIL-EU"]')).to_contain_text(
        "does not serve US"
    )
    expect(page.locator("#options-table")).to_contain_text("Parcels:")
    screenshot(page, "planner-parcels")

    # Batteries alone: the channels that refuse them say so.
    page.get_by_label("Lithium batteries alone").check()
    page.get_by_role("button", name="Find routes").click()
    expect(page.locator('#parcel-channels tr[data-channel="POST-EPACKET"]')).to_contain_text(
        "lithium batteries alone: refused by China Post ePacket"
    )
