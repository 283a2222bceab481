"""Browser tests: the real app (prod build) on a fresh SQLite database, in Debian's chromium."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from tests.support.server import AppServer, migrate, run_cli, start_app

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return path


@dataclass
class Staff:
    email: str
    name: str


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    workdir = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{workdir / 'e2e.db'}"
    migrate(url)
    run_cli(url, "seed-demo")
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_app(db_url=url, log_path=ARTIFACTS / "e2e-server.log")
    server.db_url = url  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def add_agent(db_url: str, email: str, name: str) -> None:
    run_cli(db_url, "create-agent", "--email", email, "--password", PASSWORD, "--name", name)


@pytest.fixture(scope="session")
def staff(app_server: AppServer, browser: Browser) -> dict[str, Staff]:
    """The owner, created through /login's first-run form (asserted), and two agents."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{app_server.url}/login")
    expect(page.get_by_role("heading", name="Create the owner account")).to_be_visible()
    page.get_by_test_id("login-name-input").fill("Olivia")
    page.get_by_test_id("login-email-input").fill("owner@example.test")
    page.get_by_test_id("login-password-input").fill(PASSWORD)
    page.get_by_test_id("login-submit-button").click()
    page.wait_for_url("**/agent")
    expect(page.get_by_test_id("nav-staff-label")).to_have_text("Olivia")
    context.close()
    url = app_server.db_url  # type: ignore[attr-defined]
    add_agent(url, "ana@example.test", "Ana")
    add_agent(url, "ben@example.test", "Ben")
    return {
        "owner": Staff("owner@example.test", "Olivia"),
        "ana": Staff("ana@example.test", "Ana"),
        "ben": Staff("ben@example.test", "Ben"),
    }


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    """Factory of pages, each in its own browser context (own storage, like another person)."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1280, height: int = 800) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda d: pytest.fail(f"unexpected dialog: {d.message}"))
        return page

    yield make
    for context in contexts:
        context.close()


class HeldSocket:
    """The page's websocket to the app, through Playwright: what the page sends passes at once;
    what the server sends can be held back (`hold`) and delivered later, in order (`release`).
    Makes "the answer arrives after the person has typed on" happen every time, not by luck.
    Install on a new page before it opens the app, and move within the app by its own links:
    a reload's new socket reaches the server before the routed old one is closed there, and
    Reflex then gives the tab a new token (a duplicate tab)."""

    def __init__(self, page: Page) -> None:
        self.holding = False
        self.held: list[str | bytes] = []
        self._page_side: WebSocketRoute | None = None
        page.route_web_socket(re.compile(r"/_event"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def from_server(message: str | bytes) -> None:
            if self.holding:
                self.held.append(message)
            else:
                ws.send(message)

        server.on_message(from_server)
        self._page_side = ws

    def hold(self) -> None:
        self.holding = True

    def release(self) -> None:
        """Deliver what was held, in order (nothing is held before the page opened its socket,
        so a test's `finally` may call this whatever happened)."""
        self.holding = False
        if self._page_side is not None:
            for message in self.held:
                self._page_side.send(message)
        self.held.clear()


def sign_in(page: Page, server: AppServer, who: Staff) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_test_id("login-email-input").fill(who.email)
    page.get_by_test_id("login-password-input").fill(PASSWORD)
    page.get_by_test_id("login-submit-button").click()
    page.wait_for_url("**/agent")
    expect(page.get_by_test_id("nav-staff-label")).to_have_text(who.name)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def db_path(app_server: AppServer) -> str:
    return app_server.db_url.removeprefix("sqlite:///")  # type: ignore[attr-defined, no-any-return]


def stored(app_server: AppServer, column: str) -> object:
    with sqlite3.connect(db_path(app_server)) as conn:
        return conn.execute(f"SELECT {column} FROM workspace_settings WHERE id = 1").fetchone()[0]


@pytest.fixture
def restore_settings(app_server: AppServer) -> Iterator[None]:
    """Put the row back as it was, so the other browser tests see the baseline workspace."""
    with sqlite3.connect(db_path(app_server)) as conn:
        conn.row_factory = sqlite3.Row
        before = dict(conn.execute("SELECT * FROM workspace_settings WHERE id = 1").fetchone())
    yield
    with sqlite3.connect(db_path(app_server)) as conn:
        assignments = ", ".join(f"{name} = ?" for name in before if name != "id")
        values = [v for name, v in before.items() if name != "id"]
        conn.execute(f"UPDATE workspace_settings SET {assignments} WHERE id = 1", values)


def set_settings(app_server: AppServer, **values: object) -> None:
    """Change settings in the app's database directly (the settings page has its own tests);
    the running app reads them on the next use."""
    with sqlite3.connect(db_path(app_server)) as conn:
        assignments = ", ".join(f"{name} = ?" for name in values)
        conn.execute(
            f"UPDATE workspace_settings SET {assignments} WHERE id = 1", list(values.values())
        )


def restart_app(app_server: AppServer) -> None:
    """Kill the app process and start it again on the same port and database (the browser
    pages stay open and must reconnect by themselves)."""
    app_server.stop()
    fresh = start_app(
        db_url=app_server.db_url,  # type: ignore[attr-defined]
        log_path=ARTIFACTS / "e2e-server-restarted.log",
        port=app_server.port,
    )
    app_server.process, app_server.log_path = fresh.process, fresh.log_path


def screenshot_widths(page: Page, name: str) -> None:
    """The page at phone width (360 px) and desktop width, for looking at every state."""
    size = page.viewport_size or {"width": 1280, "height": 800}
    for label, width, height in (("phone", 360, 740), ("desktop", 1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(size)
