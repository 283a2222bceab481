"""Every state the visitor sees, and the transitions between them, in a real browser:
confirming → pending → busy (a 2 s response timeout, acted on by the server's sweeper) →
contact left → the agent sees it → late claim → active; continue with the AI; away when nobody
is available or outside working hours in a time zone far from UTC."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from handoff_app.domain.availability import WEEKDAYS
from tests.e2e.conftest import Staff, restart_app, screenshot_widths, set_settings, sign_in
from tests.e2e.test_handoff_loop import (
    agent_says,
    expect_state,
    message_ids,
    newest_pending,
    queue_row,
    visitor_says,
)
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


def test_confirm_then_busy_then_contact_then_a_late_claim(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    set_settings(app_server, keyword_behaviour="ask", response_timeout_seconds=2)
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "I'd like to speak to a human about my order")
    expect_state(visitor, "confirming")
    visitor.get_by_test_id("visitor-confirm-yes").click()
    expect_state(visitor, "pending")
    expect(visitor.get_by_test_id("visitor-queue-position")).to_contain_text("in the queue")
    screenshot_widths(visitor, "visitor-pending")

    expect_state(visitor, "busy")  # nobody claimed within 2 s: the sweeper said so
    expect(visitor.get_by_test_id("visitor-status")).to_contain_text("All our agents are busy")
    visitor.get_by_test_id("visitor-lead-input").fill("call me maybe")
    visitor.get_by_test_id("visitor-lead-submit").click()
    expect(visitor.get_by_role("alert")).to_contain_text("phone number or an email")
    visitor.get_by_test_id("visitor-lead-input").fill("+44 20 7946 0958")
    visitor.get_by_test_id("visitor-lead-submit").click()
    expect(visitor.get_by_test_id("visitor-lead-saved")).to_contain_text("+44 20 7946 0958")
    screenshot_widths(visitor, "visitor-busy")

    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    row = agent.get_by_test_id("queue-row").filter(has_text="speak to a human about my order")
    expect(row).to_be_visible()
    conversation_id = row.get_attribute("data-conversation-id") or ""
    queue_row(agent, conversation_id).click()
    expect(agent.get_by_test_id("conversation-lead-contact")).to_have_text("+44 20 7946 0958")
    agent.get_by_test_id("conversation-claim-button").click()
    expect_state(visitor, "active")  # the late claim upgrades the visitor's page by itself
    expect(visitor.get_by_test_id("visitor-agent-badge")).to_be_visible()


def test_continue_with_ai_from_busy(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    set_settings(app_server, response_timeout_seconds=1)
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Hello")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "busy")
    visitor.get_by_test_id("visitor-continue-ai-button").click()
    expect_state(visitor, "bot")
    visitor_says(visitor, "How do I return an item?")
    expect(
        visitor.locator('[data-testid="visitor-message"][data-sender="bot"]').filter(
            has_text="30 days"
        )
    ).to_be_visible()


def test_agents_unavailable_means_away_with_a_contact_field(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    set_settings(app_server, agents_available=0)
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Hi")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "away")
    expect(visitor.get_by_test_id("visitor-status")).to_contain_text("Our team is away")
    expect(visitor.get_by_test_id("visitor-lead-input")).to_be_visible()
    visitor.get_by_test_id("visitor-lead-input").fill("ann@example.com")
    visitor.get_by_test_id("visitor-lead-input").press("Enter")
    expect(visitor.get_by_test_id("visitor-lead-saved")).to_contain_text("ann@example.com")
    screenshot_widths(visitor, "visitor-away")


def test_outside_working_hours_in_a_far_time_zone_is_away(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    """Kiritimati is UTC+14: the test opens the team only on a weekday that is not today
    there, so now is outside the hours whatever the time in UTC."""
    local = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati"))
    other_day = WEEKDAYS[(local + timedelta(days=3)).weekday()]
    set_settings(
        app_server,
        working_hours_enforced=1,
        timezone="Pacific/Kiritimati",
        working_hours=json.dumps({other_day: {"open": "00:00", "close": "23:59"}}),
    )
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Do you ship to Norway?")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "away")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Our team is away")
    ).to_be_visible()


def test_reconnect_after_a_backend_restart_loses_and_duplicates_nothing(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Before the restart")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "pending")
    agent = new_page()
    sign_in(agent, app_server, staff["ben"])
    conversation_id = newest_pending(agent)
    queue_row(agent, conversation_id).click()
    agent.get_by_test_id("conversation-claim-button").click()
    expect_state(visitor, "active")
    before = message_ids(visitor, "visitor-message")

    app_server.stop()
    expect(visitor.get_by_test_id("visitor-reconnecting")).to_be_visible(timeout=20_000)
    screenshot_widths(visitor, "visitor-reconnecting")
    box = visitor.get_by_test_id("visitor-composer-input")
    box.fill("Typed while the server was down")
    box.press("Enter")
    restart_app(app_server)

    expect(visitor.get_by_test_id("visitor-reconnecting")).to_be_hidden(timeout=60_000)
    sent = visitor.get_by_test_id("visitor-message").filter(
        has_text="Typed while the server was down"
    )
    expect(sent).to_have_count(1, timeout=20_000)
    expect_state(visitor, "active")
    after = message_ids(visitor, "visitor-message")
    assert after[: len(before)] == before and len(set(after)) == len(after)
    # the agent's page reconnected too and is live again both ways
    expect(
        agent.get_by_test_id("conversation-message").filter(
            has_text="Typed while the server was down"
        )
    ).to_have_count(1, timeout=20_000)
    agent_says(agent, "Still here after the restart")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Still here after the restart")
    ).to_have_count(1)


def test_the_dashboard_shows_staff_online_and_the_owner_switches_availability(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    owner = new_page()
    sign_in(owner, app_server, staff["owner"])
    # Ana's page and the owner's (other tests' pages may still be counted for a minute)
    expect(owner.get_by_test_id("queue-staff-online")).to_have_text(
        re.compile(r"^([2-9]|\d\d+) staff online$")
    )
    expect(agent.get_by_test_id("queue-agents-available-switch")).to_have_count(0)

    switch = owner.get_by_test_id("queue-agents-available-switch")
    expect(switch).to_have_attribute("data-state", "checked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "unchecked")
    screenshot_widths(owner, "agent-queue-away")
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Hello")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "away")


def focus_by_tab(page: Page, testid: str, presses: int = 25) -> None:
    """Press Tab until the element with `testid` has the focus (keyboard-only use)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.testid") == testid:
            return
    raise AssertionError(f"{testid} cannot be reached with the Tab key")


def test_the_visitor_can_do_everything_with_the_keyboard_only(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    set_settings(app_server, agents_available=0)
    visitor = new_page()
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    focus_by_tab(visitor, "visitor-composer-input")
    visitor.keyboard.type("How do I return an item?")
    visitor.keyboard.press("Enter")
    expect(
        visitor.locator('[data-testid="visitor-message"][data-sender="bot"]').filter(
            has_text="30 days"
        )
    ).to_be_visible()
    focus_by_tab(visitor, "visitor-talk-to-human-button")
    visitor.keyboard.press("Enter")
    expect_state(visitor, "away")
    focus_by_tab(visitor, "visitor-lead-input")
    visitor.keyboard.type("ann@example.com")
    visitor.keyboard.press("Enter")
    expect(visitor.get_by_test_id("visitor-lead-saved")).to_contain_text("ann@example.com")
    focus_by_tab(visitor, "visitor-continue-ai-button")
    visitor.keyboard.press("Enter")
    expect_state(visitor, "bot")
