"""The queue page's tabs in real browsers: Pending, Active, Mine, Closed (role-filtered,
searchable), All conversations (live, with take-over); rows turn red past the deadline."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Staff, screenshot, screenshot_widths, set_settings, sign_in
from tests.e2e.test_handoff_loop import expect_state, visitor_says
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


def row(page: Page, testid: str, conversation_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="{testid}"][data-conversation-id="{conversation_id}"]')


def tab(page: Page, name: str) -> None:
    page.get_by_test_id(f"queue-tab-{name}").click()
    expect(page.get_by_test_id(f"queue-tab-{name}")).to_have_attribute("aria-pressed", "true")


def test_tabs_follow_a_conversation_from_the_bot_to_closed(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    marker = uuid.uuid4().hex[:6]
    ana, ben, owner = new_page(), new_page(), new_page()
    sign_in(ana, app_server, staff["ana"])
    sign_in(ben, app_server, staff["ben"])
    sign_in(owner, app_server, staff["owner"])
    tab(ben, "all")

    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, f"Do you sell garden gnomes {marker}?")
    bot_row = ben.get_by_test_id("queue-bot-row").filter(has_text=marker)
    expect(bot_row).to_be_visible()  # live in the All tab while the bot handles it
    conversation_id = bot_row.get_attribute("data-conversation-id") or ""
    screenshot_widths(ben, "agent-queue-all-tab")

    bot_row.get_by_test_id("queue-takeover-button").click()
    ben.wait_for_url(f"**/agent/conversations/{conversation_id}")
    expect(ben.get_by_test_id("conversation-claimed-by")).to_contain_text("Ben")
    expect_state(visitor, "active")

    tab(ana, "active")
    expect(row(ana, "queue-row", conversation_id)).to_contain_text("With Ben")
    tab(ana, "mine")
    expect(row(ana, "queue-row", conversation_id)).to_have_count(0)
    ben.goto(f"{app_server.url}/agent")
    tab(ben, "mine")
    expect(row(ben, "queue-row", conversation_id)).to_be_visible()
    expect(row(ben, "queue-row", conversation_id).get_by_test_id("queue-row-trigger")).to_have_text(
        "takeover"
    )

    ben.goto(f"{app_server.url}/agent/conversations/{conversation_id}")
    ben.get_by_test_id("conversation-resolve-button").click()
    ben.get_by_test_id("conversation-resolve-confirm").click()
    expect_state(visitor, "resolved")

    ben.goto(f"{app_server.url}/agent")
    tab(ben, "resolved")
    expect(row(ben, "queue-closed-row", conversation_id)).to_be_visible()
    tab(ana, "resolved")  # Ana did not handle it: the server does not list it for her
    expect(
        ana.get_by_test_id("queue-empty").or_(ana.get_by_test_id("queue-closed-row")).first
    ).to_be_visible()
    expect(row(ana, "queue-closed-row", conversation_id)).to_have_count(0)
    tab(owner, "resolved")
    owner.get_by_test_id("queue-closed-search-input").fill(f"gnomes {marker}")
    owner.get_by_test_id("queue-closed-search-input").press("Enter")
    expect(owner.get_by_test_id("queue-closed-row")).to_have_count(1)
    expect(row(owner, "queue-closed-row", conversation_id)).to_contain_text("Ben")
    screenshot(owner, "agent-queue-closed-tab")


def test_a_waiting_row_turns_red_past_the_response_deadline(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    set_settings(app_server, response_timeout_seconds=1)
    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Do you gift wrap? (deadline test)")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    late = agent.locator('.queue-row[data-status="pending"]').last
    expect(late).to_have_attribute("data-age", "red", timeout=10_000)
    expect(late).to_contain_text("Waiting too long")
    screenshot(agent, "agent-queue-red-row")
