"""The agent's context panel and the conversation view in real browsers: what the bot tried
(its answers, their outcome, the articles they came from), the visitor's local time in their
own time zone and their time on site, and older messages loading as the agent scrolls up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Staff, screenshot, sign_in
from tests.e2e.test_handoff_loop import expect_state, newest_pending, queue_row, visitor_says
from tests.support.server import AppServer, query

pytestmark = pytest.mark.browser
VISITOR_ZONE = "Asia/Tokyo"
AGENT_ZONE = "America/New_York"  # the panel must show the visitor's time, not the agent's


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_page(
    browser: Browser, contexts: list[BrowserContext], zone: str, width: int = 1280
) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 800}, timezone_id=zone, locale="en-US"
    )
    contexts.append(context)
    return context.new_page()


def bot_answer(page: Page, text: str):  # type: ignore[no-untyped-def]
    found = page.locator('[data-testid="visitor-message"][data-sender="bot"]').filter(has_text=text)
    # the first answer after the server starts may wait for the embedding model to load
    expect(found).to_be_visible(timeout=30_000)
    return found


def test_the_panel_shows_what_the_bot_tried_and_the_visitors_own_clock(
    app_server: AppServer,
    browser: Browser,
    contexts: list[BrowserContext],
    staff: dict[str, Staff],
) -> None:
    visitor = open_page(browser, contexts, VISITOR_ZONE)
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    visitor_says(visitor, "How long does shipping take?")
    shipping = bot_answer(visitor, "3 to 5 business days")
    # the answer names the article it came from, for the visitor too
    expect(shipping).to_contain_text("(Source: Shipping times and costs)")
    shipping.get_by_test_id("visitor-thumbs-down-button").click()
    visitor_says(visitor, "What is the airspeed velocity of an unladen swallow?")
    bot_answer(visitor, "I'm not sure")
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "pending")

    agent = open_page(browser, contexts, AGENT_ZONE)
    sign_in(agent, app_server, staff["ana"])
    conversation_id = newest_pending(agent)
    queue_row(agent, conversation_id).click()
    panel = agent.get_by_test_id("conversation-context-panel")
    attempts = panel.get_by_test_id("conversation-bot-attempt")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0).get_by_test_id("conversation-bot-attempt-outcome")).to_have_text(
        "Answered"
    )
    expect(attempts.nth(0).get_by_test_id("conversation-bot-attempt-article")).to_have_text(
        "Shipping times and costs"
    )
    expect(attempts.nth(0).get_by_test_id("conversation-bot-attempt-thumbs-down")).to_be_visible()
    expect(attempts.nth(1).get_by_test_id("conversation-bot-attempt-outcome")).to_have_text(
        "No answer"
    )
    expect(attempts.nth(1).get_by_test_id("conversation-bot-attempt-article")).to_have_count(0)
    expect(attempts.nth(1)).to_contain_text("No article used")

    # the visitor's local time, in their zone (Tokyo), not the agent's (New York)
    local = panel.get_by_test_id("conversation-visitor-local-time")
    expect(local).to_contain_text(f"({VISITOR_ZONE})")
    clock = panel.get_by_test_id("conversation-visitor-clock")
    expect(clock).to_have_text(re.compile(r"^\d\d:\d\d$"))
    tokyo_now = datetime.now(ZoneInfo(VISITOR_ZONE))
    allowed = {(tokyo_now - timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}
    allowed.add((tokyo_now + timedelta(minutes=1)).strftime("%H:%M"))
    assert clock.inner_text() in allowed
    assert clock.inner_text() != datetime.now(ZoneInfo(AGENT_ZONE)).strftime("%H:%M")
    expect(panel.get_by_test_id("conversation-visitor-on-site")).to_have_text(
        re.compile(r"^(less than a minute|\d+ min)$")
    )
    # stored: the zone, and an arrival no later than the conversation's start
    db = Path(app_server.db_url.removeprefix("sqlite:///"))  # type: ignore[attr-defined]
    ((zone, arrived, started),) = query(
        db,
        "SELECT visitor_timezone, arrived_at, created_at FROM conversation WHERE id = ?",
        int(conversation_id),
    )
    assert zone == VISITOR_ZONE and arrived is not None and arrived <= started
    screenshot(agent, "context-panel-desktop")
    agent.set_viewport_size({"width": 390, "height": 844})
    expect(attempts).to_have_count(2)
    screenshot(agent, "context-panel-phone")


def seed_messages(db: Path, conversation_id: int, count: int) -> None:
    """`count` visitor messages appended straight into the database (quicker than typing)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        (created,) = conn.execute(
            "SELECT MIN(created_at) FROM message WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        conn.executemany(
            "INSERT INTO message (conversation_id, sender, author_label, body, created_at, "
            "bot_outcome, feedback, bot_sources) VALUES (?, 'visitor', '', ?, ?, '', '', '[]')",
            [(conversation_id, f"Seeded message {n:03d}", created) for n in range(1, count + 1)],
        )


def top_of(page: Page, locator) -> float:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None
    return float(box["y"])


def test_scrolling_to_the_top_loads_older_messages_without_a_jump(
    app_server: AppServer,
    browser: Browser,
    contexts: list[BrowserContext],
    staff: dict[str, Staff],
) -> None:
    visitor = open_page(browser, contexts, "Europe/Berlin")
    visitor.goto(app_server.url)
    visitor_says(visitor, "How long does shipping take?")
    bot_answer(visitor, "3 to 5 business days")
    db = Path(app_server.db_url.removeprefix("sqlite:///"))  # type: ignore[attr-defined]
    ((conversation_id,),) = query(db, "SELECT MAX(id) FROM conversation")
    seed_messages(db, conversation_id, 120)  # 122 in all: the window holds the newest 50

    agent = open_page(browser, contexts, "Europe/Berlin")
    sign_in(agent, app_server, staff["owner"])
    agent.goto(f"{app_server.url}/agent/conversations/{conversation_id}")
    messages = agent.get_by_test_id("conversation-message")
    expect(messages.last).to_contain_text("Seeded message 120")
    expect(messages).to_have_count(50)
    button = agent.get_by_test_id("conversation-message-load-earlier")
    expect(button).to_be_visible()  # the fallback stays

    thread = agent.get_by_test_id("conversation-message-list")
    oldest_shown = messages.first
    expect(oldest_shown).to_contain_text("Seeded message 071")
    thread.hover()
    agent.mouse.wheel(0, -20_000)  # to the top: the next 50 load by themselves
    expect(messages).to_have_count(100)
    # the message that was at the top stays where the reader left it (no jump to the top)
    anchor = messages.filter(has_text="Seeded message 071")
    thread_box = thread.bounding_box()
    assert thread_box is not None
    # (at the top the sentinel, the button and the gaps sit above it: about 80 px)
    assert 0 < top_of(agent, anchor) - thread_box["y"] < 150
    assert top_of(agent, messages.first) < thread_box["y"]  # the new ones are above, unseen

    agent.mouse.wheel(0, -20_000)
    expect(messages).to_have_count(122)
    expect(messages.first).to_contain_text("How long does shipping take?")
    expect(button).to_have_count(0)  # nothing older: no button, no more loads
    loads = agent.evaluate("() => window.__handoffHistoryScroll.loads")
    agent.mouse.wheel(0, 500)
    agent.mouse.wheel(0, -20_000)
    agent.wait_for_timeout(500)
    assert agent.evaluate("() => window.__handoffHistoryScroll.loads") == loads
