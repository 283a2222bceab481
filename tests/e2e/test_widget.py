"""The embeddable widget for real: a plain HTML page on another origin pastes the snippet, and a
visitor chats through the iframe end to end, including a handoff, the unread dot, and a reload."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from handoff_app.domain.settings_form import embed_snippet
from tests.e2e.conftest import Staff, screenshot, sign_in
from tests.e2e.test_handoff_loop import agent_says, newest_pending, queue_row
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


@pytest.fixture
def customer_site(app_server: AppServer) -> Iterator[str]:
    """A customer's page on another origin (127.0.0.1, another port) with the snippet pasted."""
    snippet = embed_snippet(app_server.url, accent="#d6336c", title="Northwind help")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Northwind shop</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family:sans-serif;margin:2rem'><h1>Northwind shop</h1>"
        "<p>Garden tools, delivered.</p>" + snippet + "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def widget(page: Page) -> FrameLocator:
    return page.frame_locator('iframe[data-handoff="frame"]')


def say(frame: FrameLocator, text: str) -> None:
    box = frame.get_by_test_id("visitor-composer-input")
    box.fill(text)
    box.press("Enter")
    expect(frame.get_by_test_id("visitor-message").filter(has_text=text)).to_be_visible()


def test_chat_through_the_embedded_widget_with_a_handoff_and_the_unread_dot(
    app_server: AppServer, customer_site: str, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    site = new_page()
    site.goto(customer_site)
    launcher = site.locator('[data-handoff="launcher"]')
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(site.locator('iframe[data-handoff="frame"]')).to_be_hidden()
    screenshot(site, "widget-closed")

    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    chat = widget(site)
    expect(chat.get_by_test_id("visitor-status")).to_have_attribute("data-state", "bot")
    say(chat, "Do you offer express delivery?")
    expect(
        chat.locator('[data-testid="visitor-message"][data-sender="bot"]').filter(
            has_text="Express"
        )
    ).to_be_visible()
    chat.get_by_test_id("visitor-talk-to-human-button").click()
    expect(chat.get_by_test_id("visitor-status")).to_have_attribute("data-state", "pending")
    screenshot(site, "widget-open-pending")

    # an agent takes it; the visitor closed the chat meanwhile
    agent = new_page()
    sign_in(agent, app_server, staff["ben"])
    conversation_id = newest_pending(agent)
    chat.get_by_test_id("widget-close-button").click()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    queue_row(agent, conversation_id).click()
    # the context panel knows the page the widget sits on, and the visitor's browser
    expect(agent.get_by_test_id("conversation-visitor-page")).to_have_text(customer_site)
    expect(agent.get_by_test_id("conversation-visitor-browser")).to_contain_text("Chrome")
    # how long they have been on the customer's site (embed.js passes it) and their clock
    expect(agent.get_by_test_id("conversation-visitor-on-site")).to_have_text(
        re.compile(r"^(less than a minute|\d+ min)$")
    )
    expect(agent.get_by_test_id("conversation-visitor-local-time")).to_contain_text("(")
    agent.get_by_test_id("conversation-claim-button").click()
    expect(agent.get_by_test_id("conversation-claimed-by")).to_contain_text("Ben")
    unread = site.locator('[data-handoff="unread"]')
    expect(unread).to_be_hidden()  # "Ben joined" is a system line, not a reply
    agent_says(agent, "Hi, Ben here: express is next day.")
    expect(unread).to_be_visible()  # a reply while the chat is closed
    screenshot(site, "widget-unread")

    launcher.click()
    expect(unread).to_be_hidden()
    expect(chat.get_by_test_id("visitor-status")).to_have_attribute("data-state", "active")
    expect(
        chat.get_by_test_id("visitor-message").filter(has_text="express is next day")
    ).to_be_visible()

    # a later page load of the same site: same conversation, no dot for what was already read
    site.reload()
    expect(site.locator('[data-handoff="unread"]')).to_be_hidden()
    chat = widget(site)
    expect(site.locator('[data-handoff="launcher"]')).to_have_attribute("aria-expanded", "true")
    expect(
        chat.get_by_test_id("visitor-message").filter(has_text="express is next day")
    ).to_be_visible()
    say(chat, "Perfect, thanks!")
    expect(
        agent.get_by_test_id("conversation-message").filter(has_text="Perfect, thanks!")
    ).to_be_visible()
    site.set_viewport_size({"width": 360, "height": 740})
    screenshot(site, "widget-open-phone")
    site.keyboard.press("Escape")
    expect(site.locator('[data-handoff="launcher"]')).to_have_attribute("aria-expanded", "false")


def test_the_settings_page_shows_the_snippet_with_the_saved_colour(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    owner = new_page()
    sign_in(owner, app_server, staff["owner"])
    owner.goto(f"{app_server.url}/settings")
    snippet = owner.get_by_test_id("settings-embed-snippet")
    expect(snippet).to_contain_text(f'src="{app_server.url}/embed.js"')
    expect(snippet).to_contain_text('data-accent="#2563eb"')
