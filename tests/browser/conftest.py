"""The web planner in a real browser: Debian's Chromium driven by Playwright, against the service
running under uvicorn on a free loopback port with a temporary SQLite database.

Chromium is looked for at ``SHUDAO_CHROMIUM`` (default ``/usr/bin/chromium``, Debian's package
``chromium``, which ``.ci/run`` installs). Where it is missing or cannot start, these tests skip
and say why, unless ``SHUDAO_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.

Screenshots go to ``test-artifacts/browser/`` (ignored by git: the folder carries its own
``.gitignore``). With ``SHUDAO_UPDATE_SCREENSHOTS=1`` the planner and network screenshots are also
written to ``docs/screenshots/``, which the README links.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from api.main import create_app
from api.settings import Settings
from network_data import Network
from tests.api.conftest import issue_key
from tests.live import serving

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SHUDAO_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("SHUDAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
#: A slow machine plans Linshui -> Duisburg in seconds; this allows for a loaded CI runner.
TIMEOUT_MS = 60_000
sync_api.expect.set_options(timeout=20_000)  # for assertions (Playwright's default is 5 s)


def unavailable(reason: str) -> None:
    """Skip (or, in CI, fail) because the browser is not there."""
    if os.environ.get("SHUDAO_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (SHUDAO_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    def key(self, organisation: str = "browser-tests", role: str = "coordinator") -> str:
        """A freshly issued API key (the secret)."""
        header = issue_key(self.app.state.sessions, organisation, role)["Authorization"]
        return header.split(" ", 1)[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, network: Network) -> Iterator[LiveServer]:
    """The service under uvicorn in a thread on a free port of 127.0.0.1, on a new SQLite file."""
    database = tmp_path_factory.mktemp("browser") / "shudao.db"
    app = create_app(
        Settings(database_url=f"sqlite:///{database}", inprocess_worker=False), network=network
    )
    with serving(app) as url:
        yield LiveServer(url, app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's, not a Playwright download), no background networking."""
    executable = shutil.which(CHROMIUM)
    if executable is None:
        unavailable(
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install -y chromium) or set SHUDAO_CHROMIUM"
        )
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except sync_api.Error as exc:
            unavailable(f"Chromium at {executable} cannot be launched: {exc.message}")
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did that a test should not see: script errors, requests off this machine."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, live_server: LiveServer, page_log: PageLog) -> Iterator[Any]:
    """A fresh browser context (its own session storage) at 1280x800, in Chongqing's time zone."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="en-GB",
        timezone_id="Asia/Shanghai",
        base_url=live_server.url,
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def console(message: Any) -> None:
        # Chromium logs every 4xx as "Failed to load resource"; the tests provoke some.
        if message.type == "error" and "Failed to load resource" not in message.text:
            page_log.errors.append(message.text)

    def request(req: Any) -> None:
        if urlsplit(req.url).hostname not in ("127.0.0.1", None) and req.url.startswith("http"):
            page_log.external.append(req.url)

    tab.on("console", console)
    tab.on("pageerror", lambda error: page_log.errors.append(str(error)))
    tab.on("request", request)
    yield tab
    context.close()
    assert page_log.errors == [], page_log.errors
    assert page_log.external == [], f"the page reached beyond this machine: {page_log.external}"


def screenshot(page: Any, name: str, *, docs: bool = False, full_page: bool = False) -> Path:
    """Save a screenshot as a test artefact (and, when asked, as the README's screenshot)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if docs and os.environ.get("SHUDAO_UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / f"{name}.png")
    return path


def enter_key(page: Any, secret: str, path: str = "/") -> None:
    """Open ``path`` and use ``secret`` as the API key."""
    page.goto(path)
    page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Use key").click()
    sync_api.expect(page.locator("#key-status")).to_have_text("✓ Accepted")
