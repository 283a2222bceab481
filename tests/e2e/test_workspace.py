"""The agent workspace in real browsers: sanitised markdown, internal notes, reject, transfer,
typing indicators, and agents kept out of closed conversations they did not handle."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from handoff_app.components.composer import TYPING_EVERY_MS
from tests.e2e.conftest import HeldSocket, Staff, screenshot, sign_in
from tests.e2e.test_handoff_loop import (
    agent_says,
    expect_state,
    open_escalated_conversation,
    queue_row,
    visitor_says,
)
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]

XSS_PAYLOADS = [
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "[click me](javascript:alert('link'))",
    '<svg onload=alert("svg")><circle r="5"/></svg>',
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]
MARKDOWN = (
    "**Bold words** and _slanted_ text, see [our site](https://example.com/help).\n\n"
    "- first point\n- second point\n\n"
    "Run `npm ci`:\n\n```\nnpm ci\nnpm test\n```"
)


def conversation_id_of(page: Page) -> str:
    match = re.search(r"/agent/conversations/(\d+)", page.url)
    assert match, page.url
    return match.group(1)


def claimed_by(app_server: AppServer, new_page: NewPage, who: Staff) -> tuple[Page, Page]:
    """A visitor waiting, then `who` opens the newest row and accepts it."""
    visitor = open_escalated_conversation(app_server, new_page, keyword=False)
    agent = new_page()
    sign_in(agent, app_server, who)
    rows = agent.locator('[data-testid="queue-row"][data-status="pending"]')
    expect(rows.first).to_be_visible()
    rows.last.click()
    agent.wait_for_url("**/agent/conversations/*")
    agent.get_by_test_id("conversation-claim-button").click()
    expect(agent.get_by_test_id("conversation-claimed-by")).to_contain_text(who.name)
    expect_state(visitor, "active")
    return visitor, agent


def bodies(page: Page, testid: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="{testid}-body"]')


def expect_inert(page: Page, testid: str) -> None:
    """No element a payload could have injected exists inside any message body."""
    inside = bodies(page, testid)
    for selector in ("script", "img", "svg", "iframe", "object", "embed", 'a[href^="javascript"]'):
        expect(inside.locator(selector)).to_have_count(0)
    expect(inside.locator("a[href^='data']")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None


def expect_count(page: Page, testid: str, count: int) -> None:
    """Like to_have_count, but a failure lists the bubbles (sender: text)."""
    try:
        expect(page.get_by_test_id(testid)).to_have_count(count)
    except AssertionError:
        shown = [
            f"{el.get_attribute('data-id')} {el.get_attribute('data-sender')}: {el.inner_text()!r}"
            for el in page.get_by_test_id(testid).all()
        ]
        raise AssertionError(f"expected {count} bubbles, got:\n" + "\n".join(shown)) from None


def send_as_visitor(page: Page, text: str) -> int:
    """Send `text` (rendered, it may not read the same); returns the visitor's message count."""
    sent = page.get_by_test_id("visitor-message").count()
    box = page.get_by_test_id("visitor-composer-input")
    box.fill(text)
    box.press("Enter")
    expect_count(page, "visitor-message", sent + 1)
    return sent + 1


def note(page: Page, text: str) -> None:
    page.get_by_test_id("conversation-mode-note").click()
    box = page.get_by_test_id("conversation-reply-input")
    expect(box).to_have_attribute("placeholder", "Internal note for staff…")  # what they see
    expect(box).to_be_enabled()
    agent_says(page, text)
    expect(page.get_by_test_id("conversation-reply-input")).to_have_value("")


def test_markdown_renders_and_html_or_script_links_never_run(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    for payload in XSS_PAYLOADS:
        sent = send_as_visitor(visitor, payload)
        expect(ana.get_by_test_id("conversation-message").last).to_have_attribute(
            "data-sender", "visitor"
        )
        agent_says(ana, payload)
        expect_count(visitor, "visitor-message", sent + 1)
        expect(visitor.get_by_test_id("visitor-message").last).to_have_attribute(
            "data-sender", "agent"
        )
    # raw HTML is shown as the text that was typed, on both sides
    for page, testid in ((visitor, "visitor-message"), (ana, "conversation-message")):
        thread = page.get_by_test_id(testid)
        expect(thread.filter(has_text="<img src=x onerror=alert('img')>")).to_have_count(2)
        expect(thread.filter(has_text="<script>window.__pwned")).to_have_count(2)
        expect(thread.filter(has_text="<svg onload=")).to_have_count(2)
        # a javascript: or data: link is its text only, not a link
        expect(thread.filter(has_text="click me")).to_have_count(2)
        expect(bodies(page, testid).locator("a", has_text="click me")).to_have_count(0)
        expect(bodies(page, testid).locator("a", has_text="data link")).to_have_count(0)
        expect_inert(page, testid)

    agent_says(ana, MARKDOWN)
    expect(bodies(visitor, "visitor-message").filter(has_text="Bold words")).to_be_visible()
    send_as_visitor(visitor, "Thanks, **that** helps:\n\n1. one\n2. two")
    for page, testid in ((visitor, "visitor-message"), (ana, "conversation-message")):
        agent_bubble = bodies(page, testid).filter(has_text="Bold words").last
        expect(agent_bubble.locator("strong", has_text="Bold words")).to_be_visible()
        expect(agent_bubble.locator("em", has_text="slanted")).to_be_visible()
        link = agent_bubble.locator("a", has_text="our site")
        expect(link).to_have_attribute("href", "https://example.com/help")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(agent_bubble.locator("li")).to_have_count(2)
        expect(agent_bubble.locator("code", has_text="npm ci").first).to_be_visible()
        expect(agent_bubble.locator("pre")).to_contain_text("npm test")
        visitor_bubble = bodies(page, testid).filter(has_text="helps").last
        expect(visitor_bubble.locator("strong", has_text="that")).to_be_visible()
        expect(visitor_bubble.locator("ol li")).to_have_count(2)
        expect_inert(page, testid)
    # the reloaded pages (rebuilt from the database) are just as inert
    visitor.reload()
    ana.reload()
    expect(bodies(visitor, "visitor-message").locator("strong").first).to_be_visible()
    expect(bodies(ana, "conversation-message").locator("strong").first).to_be_visible()
    expect_inert(visitor, "visitor-message")
    expect_inert(ana, "conversation-message")
    screenshot(visitor, "workspace-visitor-markdown")


def test_internal_notes_reach_staff_only(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor = open_escalated_conversation(app_server, new_page, keyword=False)
    frames: list[str] = []
    visitor.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))),
    )
    visitor.reload()  # from now on every frame the visitor's browser receives is recorded
    expect_state(visitor, "pending")
    ana, ben = new_page(), new_page()
    sign_in(ana, app_server, staff["ana"])
    sign_in(ben, app_server, staff["ben"])
    conv_id = ana.locator('[data-testid="queue-row"][data-status="pending"]').last.get_attribute(
        "data-conversation-id"
    )
    for page in (ana, ben):
        page.goto(f"{app_server.url}/agent/conversations/{conv_id}")
        expect(page.get_by_test_id("conversation-claim-button")).to_be_visible()
    # any agent may write a note, before anyone claims it
    secret = "NOTE-7731 customer is a **VIP**, refund approved"
    note(ben, secret)
    for page in (ana, ben):
        shown = page.get_by_test_id("conversation-message").filter(has_text="NOTE-7731")
        expect(shown).to_have_attribute("data-sender", "note")
        expect(shown.get_by_test_id("conversation-message-note-label")).to_have_text(
            "Internal note"
        )
        expect(shown.locator("strong", has_text="VIP")).to_be_visible()
    ana.get_by_test_id("conversation-claim-button").click()
    agent_says(ana, "Hello from Ana")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Hello from Ana")
    ).to_be_visible()
    note(ana, "NOTE-8842 second note after the claim")
    expect(ben.get_by_test_id("conversation-message").filter(has_text="NOTE-8842")).to_be_visible()
    visitor_says(visitor, "Still there?")
    # order on the agent's page: the notes sit among the messages by time
    texts = ana.get_by_test_id("conversation-message").all_inner_texts()
    order = [i for i, t in enumerate(texts) if "NOTE-7731" in t or "Hello from Ana" in t]
    assert len(order) == 2 and "NOTE-7731" in texts[order[0]]
    # the visitor never sees them, nor does their browser ever receive them, reload or not
    for _ in range(2):
        expect(
            visitor.get_by_test_id("visitor-message").filter(has_text="Still there?")
        ).to_be_visible()
        page_text = visitor.content()
        assert "NOTE-7731" not in page_text and "NOTE-8842" not in page_text
        assert not [
            m
            for m in visitor.get_by_test_id("visitor-message").all()
            if m.get_attribute("data-sender") == "note"
        ]
        visitor.reload()
        expect_state(visitor, "active")
    assert frames, "the visitor's websocket frames were recorded"
    assert not [f for f in frames if "NOTE-7731" in f or "NOTE-8842" in f]
    screenshot(ana, "workspace-agent-note")


def test_reject_returns_the_conversation_to_the_pending_queue_of_others(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    conv_id = conversation_id_of(ana)
    ben = new_page()
    sign_in(ben, app_server, staff["ben"])
    ben.get_by_test_id("queue-tab-active").click()
    expect(queue_row(ben, conv_id)).to_have_attribute("data-status", "active")
    ben.get_by_test_id("queue-tab-pending").click()
    ana.get_by_test_id("conversation-reject-button").click()
    ana.get_by_test_id("conversation-reject-reason-input").fill("Needs someone from billing")
    expect(ana.get_by_test_id("conversation-reject-confirm")).to_be_visible()
    screenshot(ana, "workspace-reject-dialog")
    ana.get_by_test_id("conversation-reject-confirm").click()
    expect(ana.get_by_test_id("conversation-reject-confirm")).to_have_count(0)  # dialog closed
    # Ben's open queue: pending again, marked as returned by Ana
    row = queue_row(ben, conv_id)
    expect(row).to_have_attribute("data-status", "pending")
    expect(row.get_by_test_id("queue-row-returned")).to_have_text("Returned by Ana")
    expect(row).to_have_attribute("data-returned-by-me", "false")
    # the visitor is simply waiting again (no message about it)
    expect_state(visitor, "pending")
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="billing")).to_have_count(0)
    # Ana's page: pending, claimable, her reason recorded as an internal note
    expect(ana.get_by_test_id("conversation-status")).to_have_attribute("data-state", "pending")
    expect(
        ana.get_by_test_id("conversation-message").filter(has_text="Needs someone from billing")
    ).to_have_attribute("data-sender", "note")
    # Ana's own queue does not present it as new to her
    ana.goto(f"{app_server.url}/agent")
    expect(queue_row(ana, conv_id)).to_have_attribute("data-returned-by-me", "true")
    expect(queue_row(ana, conv_id).get_by_test_id("queue-row-returned")).to_have_text(
        "You returned this"
    )
    screenshot(ana, "workspace-queue-returned")
    # Ben takes it
    queue_row(ben, conv_id).click()
    ben.get_by_test_id("conversation-claim-button").click()
    expect(ben.get_by_test_id("conversation-claimed-by")).to_contain_text("Ben")
    expect_state(visitor, "active")


def test_transfer_hands_the_conversation_to_another_agent_with_a_note(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    conv_id = conversation_id_of(ana)
    ben = new_page()
    sign_in(ben, app_server, staff["ben"])
    ana.get_by_test_id("conversation-transfer-button").click()
    ana.get_by_test_id("conversation-transfer-select").select_option(label="Ben")
    ana.get_by_test_id("conversation-transfer-note-input").fill("Wants a refund on order 77")
    screenshot(ana, "workspace-transfer-dialog")
    ana.get_by_test_id("conversation-transfer-confirm").click()
    expect(ana.get_by_test_id("conversation-transfer-confirm")).to_have_count(0)  # closed
    expect(ana.get_by_test_id("conversation-claimed-by")).to_contain_text("Ben")
    expect(ana.get_by_test_id("conversation-reply-input")).to_be_disabled()
    transfer_note = ana.get_by_test_id("conversation-message").filter(
        has_text="Ana transferred this conversation to Ben"
    )
    expect(transfer_note).to_have_attribute("data-sender", "note")
    expect(transfer_note).to_contain_text("refund on order 77")
    # Ben's queue (the Mine tab) shows it as his, live
    ben.get_by_test_id("queue-tab-mine").click()
    row = queue_row(ben, conv_id)
    expect(row).to_have_attribute("data-mine", "true")
    expect(row.get_by_test_id("queue-row-mine")).to_have_text("With you")
    row.click()
    expect(ben.get_by_test_id("conversation-reply-input")).to_be_enabled()
    agent_says(ben, "Hi, Ben here, I'll handle the refund.")
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="Ben here")).to_be_visible()
    expect_state(visitor, "active")
    assert "refund on order 77" not in visitor.content()


def test_typing_indicators_both_ways(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    note(ana, "Customer sounds **upset**: be gentle")
    ana.get_by_test_id("conversation-mode-reply").click()
    expect(ana.get_by_test_id("conversation-reply-input")).to_have_attribute(
        "placeholder", "Reply to the visitor…"
    )
    agent_says(
        ana,
        "Here is what I found:\n\n- **Order 1234**: shipped\n- [Track it](https://example.com/track)",
    )
    expect(visitor.get_by_test_id("visitor-message").filter(has_text="Order 1234")).to_be_visible()

    # the page sends "typing" at most once per TYPING_EVERY_MS and drops the rest: a burst that
    # starts within that window of the visitor's last one (their first message, seconds ago
    # when the machine is quick) would send nothing
    visitor.wait_for_timeout(TYPING_EVERY_MS)
    visitor.get_by_test_id("visitor-composer-input").press_sequentially("Where is my", delay=60)
    visitor_typing = ana.get_by_test_id("conversation-visitor-typing")
    expect(visitor_typing).to_have_text("Visitor is typing…")
    screenshot(ana, "workspace-agent-typing-note-markdown")
    ana.set_viewport_size({"width": 390, "height": 844})
    screenshot(ana, "workspace-agent-typing-phone")
    ana.set_viewport_size({"width": 1280, "height": 800})
    # idle: it goes away by itself
    expect(visitor_typing).to_have_count(0, timeout=10_000)

    ana.get_by_test_id("conversation-reply-input").press_sequentially("Let me check", delay=60)
    agent_typing = visitor.get_by_test_id("visitor-agent-typing")
    expect(agent_typing).to_have_text(re.compile(r"^Ana is typing…$"))
    screenshot(visitor, "workspace-visitor-agent-typing")
    ana.get_by_test_id("conversation-reply-input").press("Enter")
    expect(
        visitor.get_by_test_id("visitor-message").filter(has_text="Let me check")
    ).to_be_visible()
    expect(agent_typing).to_have_count(0)  # sending clears it at once

    visitor.get_by_test_id("visitor-composer-input").press_sequentially(" parcel?", delay=60)
    expect(visitor_typing).to_be_visible()
    visitor.get_by_test_id("visitor-composer-input").press("Enter")
    expect(
        ana.get_by_test_id("conversation-message").filter(has_text="Where is my parcel?")
    ).to_be_visible()
    expect(visitor_typing).to_have_count(0)


def test_agents_cannot_open_closed_conversations_they_did_not_handle(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    conv_id = conversation_id_of(ana)
    agent_says(ana, "PRIVATE-5521 your address is on file")
    ana.get_by_test_id("conversation-resolve-button").click()
    ana.get_by_test_id("conversation-resolve-confirm").click()
    expect_state(visitor, "resolved")
    ben = new_page()
    sign_in(ben, app_server, staff["ben"])
    ben.goto(f"{app_server.url}/agent/conversations/{conv_id}")
    expect(ben.get_by_test_id("conversation-refused")).to_contain_text("did not handle it")
    expect(ben.get_by_test_id("conversation-message")).to_have_count(0)
    assert "PRIVATE-5521" not in ben.content()
    screenshot(ben, "workspace-refused")
    # the one who handled it, and the owner, still can
    ana.reload()
    expect(
        ana.get_by_test_id("conversation-message").filter(has_text="PRIVATE-5521")
    ).to_be_visible()
    owner = new_page()
    sign_in(owner, app_server, staff["owner"])
    owner.goto(f"{app_server.url}/agent/conversations/{conv_id}")
    expect(
        owner.get_by_test_id("conversation-message").filter(has_text="PRIVATE-5521")
    ).to_be_visible()


def test_canned_responses_are_managed_on_the_queue_and_inserted_with_a_slash(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    visitor, ana = claimed_by(app_server, new_page, staff["ana"])
    conv_url = ana.url
    ana.goto(f"{app_server.url}/agent")
    section = ana.get_by_test_id("canned-section")
    section.get_by_test_id("canned-name-input").fill("refund-policy")
    section.get_by_test_id("canned-body-input").fill("Refunds take **5 business days**.")
    section.get_by_test_id("canned-save-button").click()
    row = section.locator('[data-testid="canned-row"][data-name="refund-policy"]')
    expect(row).to_be_visible()
    expect(section.get_by_test_id("canned-name-input")).to_have_value("")  # ready for the next
    section.get_by_test_id("canned-name-input").fill("refund-policy")
    section.get_by_test_id("canned-body-input").fill("duplicate")
    section.get_by_test_id("canned-save-button").click()
    expect(section.get_by_test_id("canned-error")).to_contain_text("already exists")
    expect(section.get_by_test_id("canned-body-input")).to_have_value("duplicate")  # kept
    screenshot(ana, "workspace-canned-section")
    try:
        ana.goto(conv_url)
        box = ana.get_by_test_id("conversation-reply-input")
        expect(ana.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")
        expect(box).to_be_enabled()
        box.press_sequentially("/ref", delay=40)
        expect(box).to_have_value("/ref")
        option = ana.get_by_test_id("conversation-canned-option")
        expect(option).to_have_count(1)
        expect(option).to_have_attribute("data-name", "refund-policy")
        screenshot(ana, "workspace-canned-menu")
        option.click()
        expect(box).to_have_value("Refunds take **5 business days**.")
        expect(ana.get_by_test_id("conversation-canned-menu")).to_have_count(0)
        box.press("Enter")
        expect(
            visitor.get_by_test_id("visitor-message").locator("strong", has_text="5 business days")
        ).to_be_visible()
        # "/refund" then Enter expands it in the box instead of sending the shortcut
        box.press_sequentially("/refund", delay=40)
        box.press("Enter")
        expect(box).to_have_value("Refunds take **5 business days**.")
        expect(visitor.get_by_test_id("visitor-message").filter(has_text="/refund")).to_have_count(
            0
        )
    finally:  # the app server is shared by every browser test: leave no canned response
        delete_canned(ana, app_server, "refund-policy")


def add_canned(page: Page, name: str, body: str) -> None:
    section = page.get_by_test_id("canned-section")
    section.get_by_test_id("canned-name-input").fill(name)
    section.get_by_test_id("canned-body-input").fill(body)
    section.get_by_test_id("canned-save-button").click()
    expect(section.locator(f'[data-testid="canned-row"][data-name="{name}"]')).to_be_visible()


def delete_canned(page: Page, app_server: AppServer, name: str) -> None:
    page.goto(f"{app_server.url}/agent")
    section = page.get_by_test_id("canned-section")
    section.locator(f'[data-testid="canned-row"][data-name="{name}"]').get_by_test_id(
        "canned-delete-button"
    ).click()
    expect(section.get_by_test_id("canned-row")).to_have_count(0)


def test_a_late_answer_to_a_send_keeps_what_the_agent_typed_since(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    """The reply box keeps its text until the server has stored the reply (a refused reply
    stays to be fixed). The server's answer is held back here until the agent has typed the
    start of a canned response over the sent text: the box keeps it and so does the "/" menu."""
    visitor = open_escalated_conversation(app_server, new_page, keyword=False)
    ana = new_page()
    socket = HeldSocket(ana)
    sign_in(ana, app_server, staff["ana"])
    add_canned(ana, "late-answer", "We answer within the hour.")
    try:
        rows = ana.locator('[data-testid="queue-row"][data-status="pending"]')
        expect(rows.first).to_be_visible()
        rows.last.click()  # within the app: the same socket
        ana.get_by_test_id("conversation-claim-button").click()
        expect(ana.get_by_test_id("conversation-claimed-by")).to_contain_text("Ana")
        box = ana.get_by_test_id("conversation-reply-input")
        box.fill("Let me check that for you.")
        socket.hold()
        box.press("Enter")
        expect(
            visitor.get_by_test_id("visitor-message").filter(has_text="Let me check that")
        ).to_be_visible()  # stored and pushed: only the sender's own answer is held
        ana.wait_for_timeout(300)
        expect(box).to_have_value("Let me check that for you.")
        box.fill("")  # the agent types over the sent text
        box.press_sequentially("/late", delay=40)
        option = ana.get_by_test_id("conversation-canned-option")
        expect(option).to_have_count(1)
        socket.release()
        ana.wait_for_timeout(500)  # the answer's events have run
        expect(box).to_have_value("/late")
        expect(option).to_have_count(1)
        expect(option).to_have_attribute("data-name", "late-answer")
    finally:
        socket.release()
        cleaner = new_page()  # a page of its own: the routed one is left as it is
        sign_in(cleaner, app_server, staff["ana"])
        delete_canned(cleaner, app_server, "late-answer")
