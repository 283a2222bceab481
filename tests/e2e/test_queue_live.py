"""The live queue in a real browser: rows arrive as changes merged into the rows the page
loaded once, in the queue's order (DOM order = visual order), and a page that missed changes
reloads the list by itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Staff, screenshot, sign_in
from tests.e2e.test_handoff_loop import expect_state, visitor_says
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]
CACHE = "window.__handoffLive"


def escalate(new_page: NewPage, server: AppServer, text: str) -> Page:
    visitor = new_page()
    visitor.goto(server.url)
    visitor_says(visitor, text)
    visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "pending")
    return visitor


def row_ids(page: Page) -> list[str]:
    return [
        el.get_attribute("data-conversation-id") or ""
        for el in page.locator('[data-testid="queue-row"]').all()
    ]


def test_new_rows_arrive_in_order_and_a_tab_that_missed_changes_resyncs(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    marker = uuid.uuid4().hex[:6]
    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    # the rows earlier tests left waiting: read them once the page shows its loaded list
    agent.wait_for_function(f"() => {CACHE}?.['staff-queue']?.snap?.epoch")
    before = row_ids(agent)
    for n in range(3):
        escalate(new_page, app_server, f"Can I change the address on order {marker}-{n}?")
        expect(agent.locator('[data-testid="queue-row"]')).to_have_count(len(before) + n + 1)
    ids = row_ids(agent)
    new = ids[len(before) :]
    # oldest request first, in the DOM as on screen; nothing shown twice
    assert ids[: len(before)] == before and len(set(ids)) == len(ids)
    assert [int(i) for i in new] == sorted(int(i) for i in new)
    for cid in new:
        row = agent.locator(f'[data-testid="queue-row"][data-conversation-id="{cid}"]')
        expect(row).to_have_attribute("data-status", "pending")
    screenshot(agent, "agent-queue-live-rows")
    resyncs = agent.evaluate(f"() => {CACHE}.resyncs")

    # The page misses changes (as if more arrived between two renders than the room keeps)
    # and, to prove the list is reloaded, loses one row from what it shows.
    agent.evaluate(
        f"""() => {{
            const c = {CACHE}["staff-queue"];
            c.seq -= 100;
            c.rows.delete({int(new[0])});
        }}"""
    )
    escalate(new_page, app_server, f"Can I change the address on order {marker}-late?")
    expect(agent.locator('[data-testid="queue-row"]')).to_have_count(len(ids) + 1)
    assert agent.evaluate(f"() => {CACHE}.resyncs") == resyncs + 1
    now = row_ids(agent)
    assert now[: len(ids)] == ids  # the lost row is back, in its place
    assert int(now[-1]) > max(int(i) for i in ids)  # the late one, last
    expect(agent.get_by_test_id("nav-unclaimed-badge")).to_have_text(str(len(ids) + 1))
