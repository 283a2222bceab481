"""The live handoff loop in real browsers: one visitor, two agents, no reload needed anywhere."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Staff, screenshot, sign_in
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


def visitor_says(page: Page, text: str) -> None:
    box = page.get_by_test_id("visitor-composer-input")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_test_id("visitor-message").filter(has_text=text).last).to_be_visible()


def agent_says(page: Page, text: str) -> None:
    box = page.get_by_test_id("conversation-reply-input")
    box.fill(text)
    box.press("Enter")


def expect_state(page: Page, state: str) -> None:
    expect(page.get_by_test_id("visitor-status")).to_have_attribute("data-state", state)


def message_ids(page: Page, testid: str) -> list[str]:
    return [el.get_attribute("data-id") or "" for el in page.get_by_test_id(testid).all()]


def queue_row(page: Page, conversation_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="queue-row"][data-conversation-id="{conversation_id}"]')


def newest_pending(page: Page) -> str:
    """The id of the newest pending row (rows are ordered longest waiting first)."""
    rows = page.locator('[data-testid="queue-row"][data-status="pending"]')
    expect(rows.first).to_be_visible()
    return rows.last.get_attribute("data-conversation-id") or ""


def open_escalated_conversation(
    app_server: AppServer, new_page: NewPage, keyword: bool = True
) -> Page:
    """A visitor who chatted with the bot, then asked for a human."""
    visitor = new_page()
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    visitor_says(visitor, "How long does shipping take?")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="3 to 5 business days")
    ).to_be_visible()
    if keyword:
        visitor_says(visitor, "I want to talk to an agent please")
    else:
        visitor.get_by_test_id("visitor-talk-to-human-button").click()
    expect_state(visitor, "pending")
    expect(
        visitor.get_by_test_id("visitor-message").filter(
            has_text="connecting you with a member of our team"
        )
    ).to_be_visible()
    expect(visitor.get_by_test_id("visitor-talk-to-human-button")).to_have_count(0)
    key = visitor.evaluate("() => localStorage.getItem('handoff_conversation_key')")
    assert key, "the conversation key is kept in browser storage"
    return visitor


def claimed_by_ana(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> tuple[Page, Page]:
    """A visitor who asked for a human by keyword, and Ana's page on the conversation she
    claimed from the queue."""
    visitor = open_escalated_conversation(app_server, new_page, keyword=True)
    ana = new_page()
    sign_in(ana, app_server, staff["ana"])
    queue_row(ana, newest_pending(ana)).click()
    ana.get_by_test_id("conversation-claim-button").click()
    expect_state(visitor, "active")
    return visitor, ana


def test_first_run_owner_was_created_from_login_and_login_now_asks_to_sign_in(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    page = new_page()
    page.goto(f"{app_server.url}/login")
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()
    screenshot(page, "login-desktop")
    page.get_by_test_id("login-email-input").fill(staff["owner"].email)
    page.get_by_test_id("login-password-input").fill("wrong password!")
    page.get_by_test_id("login-submit-button").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong email or password")
    sign_in(page, app_server, staff["owner"])


def test_agent_page_without_a_session_redirects_to_login(
    app_server: AppServer, new_page: NewPage
) -> None:
    page = new_page()
    page.goto(f"{app_server.url}/agent")
    page.wait_for_url("**/login")
    page.goto(f"{app_server.url}/agent/conversations/1")
    page.wait_for_url("**/login")


def test_the_whole_loop_live_with_two_agents_and_reloads(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    ana, ben = new_page(), new_page()
    sign_in(ana, app_server, staff["ana"])
    sign_in(ben, app_server, staff["ben"])
    before = int(ana.get_by_test_id("nav-unclaimed-badge").inner_text())

    visitor = open_escalated_conversation(app_server, new_page, keyword=True)
    # the row arrives live on both already-open queue pages, with the unclaimed count
    row = ana.get_by_test_id("queue-row").filter(has_text="talk to an agent")
    expect(row).to_be_visible()
    expect(ben.get_by_test_id("queue-row").filter(has_text="talk to an agent")).to_be_visible()
    expect(ana.get_by_test_id("nav-unclaimed-badge")).to_have_text(str(before + 1))
    expect(row.get_by_test_id("queue-row-trigger")).to_have_text("keyword")
    conv_id = row.get_attribute("data-conversation-id") or ""
    assert conv_id.isdigit()
    screenshot(ana, "agent-queue-desktop")

    # a visitor message while pending is kept and shown to the agent
    visitor_says(visitor, "Is anybody there?")
    expect(queue_row(ana, conv_id)).to_contain_text("Is anybody there?")

    queue_row(ana, conv_id).click()
    ana.wait_for_url(f"**/agent/conversations/{conv_id}")
    ben.goto(f"{app_server.url}/agent/conversations/{conv_id}")
    for page in (ana, ben):
        thread = page.get_by_test_id("conversation-message")
        expect(thread.filter(has_text="How long does shipping take?")).to_be_visible()
        expect(thread.filter(has_text="3 to 5 business days")).to_be_visible()
        expect(thread.filter(has_text="Is anybody there?")).to_be_visible()
    expect(ana.get_by_test_id("conversation-trigger-reason")).to_contain_text("talk to an agent")

    ana.get_by_test_id("conversation-claim-button").click()
    expect(ana.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")
    # Ben's open view changes at once: claimed by Ana, no claim button left
    expect(ben.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")
    expect(ben.get_by_test_id("conversation-claim-button")).to_have_count(0)
    expect(ben.get_by_test_id("conversation-reply-input")).to_be_disabled()
    # the visitor sees that an agent joined
    expect_state(visitor, "active")
    expect(visitor.get_by_test_id("visitor-agent-badge")).to_be_visible()
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="Ana joined")).to_be_visible()
    expect(ben.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")

    agent_says(ana, "Hi, I'm Ana. Let me check your parcel.")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Let me check your parcel")
    ).to_be_visible()
    expect(ana.get_by_test_id("conversation-reply-input")).to_have_value("")
    visitor_says(visitor, "Thanks! Order 1234.")
    expect(ana.get_by_test_id("conversation-message").filter(has_text="Order 1234")).to_be_visible()
    expect(ben.get_by_test_id("conversation-message").filter(has_text="Order 1234")).to_be_visible()
    screenshot(ana, "agent-conversation-desktop")
    screenshot(visitor, "visitor-active-desktop")
    for page, name in ((ana, "agent-conversation"), (visitor, "visitor-active")):
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, f"{name}-phone")
        page.set_viewport_size({"width": 1280, "height": 800})

    # reload both pages mid-conversation: everything is still there, once
    visitor_ids = message_ids(visitor, "visitor-message")
    agent_ids = message_ids(ana, "conversation-message")
    visitor.reload()
    ana.reload()
    expect_state(visitor, "active")
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="Order 1234")).to_be_visible()
    expect(ana.get_by_test_id("conversation-message").filter(has_text="Order 1234")).to_be_visible()
    assert message_ids(visitor, "visitor-message") == visitor_ids
    assert message_ids(ana, "conversation-message") == agent_ids
    assert len(set(visitor_ids)) == len(visitor_ids)
    # and it stays live after the reload, both ways
    agent_says(ana, "Found it: it ships today.")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="it ships today")
    ).to_be_visible()
    visitor_says(visitor, "Great")
    expect(ana.get_by_test_id("conversation-message").filter(has_text="Great")).to_be_visible()

    # resolve (with confirmation): the visitor sees the resolution and can start again
    ana.get_by_test_id("conversation-resolve-button").click()
    ana.get_by_test_id("conversation-resolve-confirm").click()
    expect_state(visitor, "resolved")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="has been resolved")
    ).to_be_visible()
    expect(visitor.get_by_test_id("visitor-composer-input")).to_be_disabled()
    screenshot(visitor, "visitor-resolved-desktop")
    ben.goto(f"{app_server.url}/agent")
    expect(queue_row(ben, conv_id)).to_have_count(0)
    expect(ben.get_by_test_id("nav-unclaimed-badge")).to_have_text(str(before))
    visitor.get_by_test_id("visitor-new-conversation-button").click()
    expect_state(visitor, "bot")
    expect(visitor.get_by_test_id("visitor-message")).to_have_count(0)
    visitor_says(visitor, "How do I return an item?")
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="30 days")).to_be_visible()


def test_second_agent_claim_is_refused_naming_the_winner(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor = open_escalated_conversation(app_server, new_page, keyword=False)
    ana, ben = new_page(), new_page()
    sign_in(ana, app_server, staff["ana"])
    sign_in(ben, app_server, staff["ben"])
    conv_id = newest_pending(ana)
    for page in (ana, ben):
        page.goto(f"{app_server.url}/agent/conversations/{conv_id}")
        expect(page.get_by_test_id("conversation-claim-button")).to_be_visible()
    ana.get_by_test_id("conversation-claim-button").click()
    # Ben's open page changes by itself: claimed by Ana, his claim button is gone
    expect(ben.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")
    expect(ben.get_by_test_id("conversation-claim-button")).to_have_count(0)
    expect_state(visitor, "active")
    # Ben's row on the queue (Active tab) shows who has it
    ben.goto(f"{app_server.url}/agent")
    ben.get_by_test_id("queue-tab-active").click()
    expect(queue_row(ben, conv_id)).to_contain_text("With Ana")


def test_hand_back_to_bot_resumes_the_bot_with_the_hand_back_in_its_history(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by_ana(app_server, staff, new_page)
    ana.get_by_test_id("conversation-handback-button").click()
    expect_state(visitor, "bot")
    expect(
        visitor.get_by_test_id("visitor-message").filter(
            has_text="chatting with our AI assistant again"
        )
    ).to_be_visible()
    expect(visitor.get_by_test_id("visitor-talk-to-human-button")).to_be_visible()
    visitor_says(visitor, "When are you open?")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Monday to Friday")
    ).to_be_visible()
    expect(
        ana.get_by_test_id("conversation-message").filter(has_text="Monday to Friday")
    ).to_be_visible()


def test_a_long_quick_exchange_stays_whole_and_in_order_on_both_pages(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    """Messages reach the tabs one at a time, as changes to the room's window, which the room
    rebases now and then (handoff_app/live_window.py): a burst longer than its 16 change slots,
    then replies one by one, must show every message once, in order, on both pages."""
    visitor, ana = claimed_by_ana(app_server, staff, new_page)
    burst = [f"Step {n} of the burst" for n in range(1, 21)]
    for text in burst:  # typed as fast as the page takes them
        agent_says(ana, text)
    expect(visitor.get_by_test_id("visitor-message").filter(has_text=burst[-1])).to_be_visible()
    for n in range(1, 6):
        visitor_says(visitor, f"Reply {n} from the visitor")
        expect(
            ana.get_by_test_id("conversation-message").filter(has_text=f"Reply {n} from")
        ).to_be_visible()
    ana.wait_for_timeout(800)  # past the room's deferred rebase
    for page, testid in ((visitor, "visitor-message"), (ana, "conversation-message")):
        ids = [int(i) for i in message_ids(page, testid)]
        assert ids == sorted(set(ids)), "each message once, in order"
        texts = page.get_by_test_id(testid).all_inner_texts()
        shown = [t for t in burst if any(t in x for x in texts)]
        assert shown == burst
    assert message_ids(visitor, "visitor-message") == message_ids(ana, "conversation-message")


def test_bad_visitor_input_is_refused_with_a_hint_and_kept_in_the_box(
    app_server: AppServer, new_page: NewPage
) -> None:
    visitor = new_page(width=390, height=844)
    visitor.goto(app_server.url)
    # the page has loaded its settings (the title), so it is connected: a person types later
    expect(visitor.get_by_text("Northwind Goods")).to_be_visible()
    box = visitor.get_by_test_id("visitor-composer-input")
    box.fill("   ")
    box.press("Enter")
    expect(visitor.get_by_test_id("visitor-error")).to_contain_text("Type a message")
    long_text = "x" * 4001
    box.fill(long_text)
    visitor.get_by_test_id("visitor-send-button").click()
    expect(visitor.get_by_test_id("visitor-error")).to_contain_text(re.compile("at most 4,000"))
    expect(box).to_have_value(long_text)
    expect(visitor.get_by_test_id("visitor-message")).to_have_count(0)
    screenshot(visitor, "visitor-error-phone")


def test_unknown_conversation_id_shows_not_found(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, app_server, staff["owner"])
    page.goto(f"{app_server.url}/agent/conversations/999999")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    page.goto(f"{app_server.url}/agent/conversations/abc")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    page.goto(f"{app_server.url}/no/such/page")
    expect(page.get_by_test_id("not-found")).to_be_visible()
