"""The owner's settings page in a real browser: changes apply at once, bad values are refused
next to their field with nothing saved, agents cannot get in.

These tests share the session's app with the other browser tests: each puts back what it
changes (through the CLI or the page) before it ends.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ARTIFACTS,
    Staff,
    db_path,
    screenshot,
    screenshot_widths,
    set_settings,
    sign_in,
    stored,
)
from tests.e2e.test_handoff_loop import expect_state, visitor_says
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


def open_settings(page: Page, app_server: AppServer, owner: Staff) -> None:
    sign_in(page, app_server, owner)
    page.get_by_test_id("nav-settings-link").click()
    page.wait_for_url("**/settings")
    expect(page.get_by_test_id("settings-save-button")).to_be_visible()


def save(page: Page) -> None:
    page.get_by_test_id("settings-save-button").click()


def test_owner_adds_a_keyword_and_a_visitor_typing_it_is_escalated_at_once(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    screenshot_widths(owner, "settings-page")
    keywords = owner.get_by_test_id("settings-handoff-keywords-input")
    keywords.fill(keywords.input_value() + "\nbanana split")
    save(owner)
    expect(owner.get_by_test_id("settings-notice")).to_contain_text("Saved")
    assert "banana split" in str(stored(app_server, "handoff_keywords"))

    visitor = new_page()
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    visitor_says(visitor, "Can I get a BANANA SPLIT delivered?")
    expect_state(visitor, "pending")  # no restart: the running app read the new keyword


def test_owner_teaches_a_sensitive_topic_by_example_and_a_matching_message_reaches_a_person(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    owner.get_by_test_id("settings-sensitive-topics-input").fill(
        "legal threat, account hacked\n"
        "safety hazard: the charger got hot and started smoking; my kettle caught fire"
    )
    save(owner)
    expect(owner.get_by_test_id("settings-notice")).to_contain_text("Saved")
    assert json.loads(str(stored(app_server, "sensitive_topics"))) == [
        "legal threat",
        "account hacked",
        "safety hazard: the charger got hot and started smoking; my kettle caught fire",
    ]
    owner.reload()  # the stored topics come back into the form as written
    expect(owner.get_by_test_id("settings-sensitive-topics-input")).to_have_value(
        "legal threat\naccount hacked\n"
        "safety hazard: the charger got hot and started smoking; my kettle caught fire"
    )
    owner.get_by_test_id("settings-sensitive-topics-input").evaluate(
        "el => el.scrollIntoView({block: 'center'})"
    )
    owner.screenshot(path=str(ARTIFACTS / "settings-sensitive-topics.png"))  # the field in view

    # the owner tries a message against the saved topics before any visitor writes it
    owner.get_by_test_id("settings-try-input").fill("the plug started smoking when I used it")
    owner.get_by_test_id("settings-try-button").click()
    expect(owner.get_by_test_id("settings-try-escalate")).to_have_text("Would escalate")
    expect(owner.get_by_test_id("settings-try-judgment")).to_contain_text("safety hazard")
    owner.get_by_test_id("settings-try-judgment").evaluate(
        "el => el.scrollIntoView({block: 'center'})"
    )
    owner.screenshot(path=str(ARTIFACTS / "settings-try-taught-topic.png"))

    visitor = new_page()
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    visitor_says(visitor, "the plug started smoking when I used it")  # no word of the name
    expect_state(visitor, "pending")
    with sqlite3.connect(db_path(app_server)) as conn:
        reason, text = conn.execute(
            "SELECT reason, triggering_text FROM escalation ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert "safety hazard" in reason and "kettle" not in reason
    assert text == "the plug started smoking when I used it"


def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    owner.get_by_test_id("settings-widget-title-input").fill("Renamed, but must not be saved")
    owner.get_by_test_id("settings-timezone-input").fill("Mars/Olympus_Mons")
    owner.get_by_test_id("settings-response-timeout-seconds-input").fill("-5")
    owner.get_by_test_id("settings-webhook-url-input").fill("ftp://example.com/hook")
    owner.get_by_test_id("settings-smtp-from-input").fill("not-an-email")
    owner.get_by_test_id("settings-handoff-keywords-input").fill("real person\n\nagent please")
    owner.get_by_test_id("settings-hours-mon-open-input").fill("17:00")
    owner.get_by_test_id("settings-hours-mon-close-input").fill("09:00")
    save(owner)
    expect(owner.get_by_test_id("settings-error")).to_contain_text("nothing was saved")
    expect(owner.get_by_test_id("settings-timezone-error")).to_contain_text("not a time zone")
    expect(owner.get_by_test_id("settings-response-timeout-seconds-error")).to_contain_text(
        "between 1 and 86400"
    )
    expect(owner.get_by_test_id("settings-webhook-url-error")).to_contain_text("http")
    expect(owner.get_by_test_id("settings-smtp-from-error")).to_contain_text("email")
    expect(owner.get_by_test_id("settings-handoff-keywords-error")).to_contain_text("empty")
    expect(owner.get_by_test_id("settings-hours-mon-error")).to_contain_text("after the opening")
    # what the owner typed stays in the form to be fixed
    expect(owner.get_by_test_id("settings-timezone-input")).to_have_value("Mars/Olympus_Mons")
    screenshot(owner, "settings-errors")
    assert stored(app_server, "widget_title") == "Northwind Goods"
    assert stored(app_server, "timezone") == "UTC"
    assert stored(app_server, "response_timeout_seconds") == 180


def test_live_support_off_hides_the_button_and_keywords_do_not_escalate(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    owner.get_by_test_id("settings-live-support-enabled-input").click()  # switch off
    save(owner)
    expect(owner.get_by_test_id("settings-notice")).to_contain_text("Saved")
    assert stored(app_server, "live_support_enabled") == 0

    visitor = new_page()
    visitor.goto(app_server.url)
    expect_state(visitor, "bot")
    expect(visitor.get_by_test_id("visitor-talk-to-human-button")).to_have_count(0)
    visitor_says(visitor, "I want a real person")
    expect(visitor.locator('[data-testid="visitor-message"][data-sender="bot"]')).to_have_count(
        1
    )  # the bot answered the message instead
    expect_state(visitor, "bot")


def test_ask_first_keyword_confirms_before_the_handoff(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff], restore_settings: None
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    owner.get_by_test_id("settings-keyword-behaviour-input").select_option("ask")
    owner.get_by_test_id("settings-agent-label-input").fill("Support Agent")
    save(owner)
    expect(owner.get_by_test_id("settings-notice")).to_contain_text("Saved")

    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "can I talk to a real person")
    expect_state(visitor, "confirming")
    screenshot_widths(visitor, "visitor-confirming")
    visitor.get_by_test_id("visitor-confirm-no").click()
    expect_state(visitor, "bot")
    expect(visitor.locator('[data-testid="visitor-message"][data-sender="bot"]')).to_have_count(
        1
    )  # "No thanks": the bot answers the message instead

    visitor_says(visitor, "actually yes, a real person please")
    expect_state(visitor, "confirming")
    visitor.get_by_test_id("visitor-confirm-yes").click()
    expect_state(visitor, "pending")
    with sqlite3.connect(db_path(app_server)) as conn:
        trigger, text = conn.execute(
            "SELECT trigger, triggering_text FROM escalation ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (trigger, text) == ("keyword", "actually yes, a real person please")


def test_knowledge_base_edits_and_try_it_answer_from_them(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    owner = new_page()
    open_settings(owner, app_server, staff["owner"])
    owner.get_by_test_id("settings-article-add-button").click()
    owner.get_by_test_id("settings-article-title-input").fill("Gift wrapping")
    owner.get_by_test_id("settings-article-body-input").fill("")
    owner.get_by_test_id("settings-article-save-button").click()
    expect(owner.get_by_test_id("settings-article-error")).to_contain_text("needs some text")
    owner.get_by_test_id("settings-article-body-input").fill(
        "Gift wrapping costs 4 euros per parcel and includes a handwritten card."
    )
    owner.get_by_test_id("settings-article-save-button").click()
    row = owner.get_by_test_id("settings-article-row").filter(has_text="Gift wrapping")
    expect(row).to_have_count(1)

    owner.get_by_test_id("settings-try-input").fill("How much is gift wrapping?")
    owner.get_by_test_id("settings-try-button").click()
    expect(owner.get_by_test_id("settings-try-answer")).to_contain_text("4 euros")
    expect(owner.get_by_test_id("settings-try-escalate")).to_have_text("Bot answers")
    owner.get_by_test_id("settings-try-input").fill("I need to speak to a human")
    owner.get_by_test_id("settings-try-button").click()
    expect(owner.get_by_test_id("settings-try-escalate")).to_have_text("Would escalate")

    owner.get_by_test_id("settings-article-search-input").fill("handwritten")
    owner.get_by_test_id("settings-article-search-input").press("Enter")
    expect(owner.get_by_test_id("settings-article-row")).to_have_count(1)
    row.get_by_test_id("settings-article-delete-button").click()
    expect(owner.get_by_test_id("settings-article-row")).to_have_count(0)
    with sqlite3.connect(db_path(app_server)) as conn:
        left = conn.execute("SELECT count(*) FROM knowledge_article WHERE title = 'Gift wrapping'")
        assert left.fetchone()[0] == 0


def test_an_agent_cannot_open_settings(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    expect(agent.get_by_test_id("nav-settings-link")).to_have_count(0)
    agent.goto(f"{app_server.url}/settings")
    agent.wait_for_url("**/agent")
    expect(agent.get_by_test_id("settings-save-button")).to_have_count(0)


@pytest.mark.parametrize("path", ["/settings", "/staff", "/account", "/agent"])
def test_staff_pages_over_http_carry_no_data_and_send_strangers_to_login(
    app_server: AppServer, new_page: NewPage, restore_settings: None, path: str
) -> None:
    """The HTML of a page is the same static shell for everyone: data only ever travels over
    the websocket after the server checked who is asking."""
    set_settings(app_server, ai_api_key="sk-e2e-secret-0042", smtp_host="smtp.secret.test")
    with urllib.request.urlopen(f"{app_server.url}{path}", timeout=10) as response:
        assert response.status == 200
        html = response.read().decode()
    for secret in ("sk-e2e-secret-0042", "smtp.secret.test", "owner@example.test"):
        assert secret not in html
    stranger = new_page()
    stranger.goto(f"{app_server.url}{path}")
    stranger.wait_for_url("**/login")
    expect(stranger.get_by_test_id("login-submit-button")).to_be_visible()


def test_an_agent_is_kept_off_the_owner_pages(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    agent = new_page()
    sign_in(agent, app_server, staff["ben"])
    expect(agent.get_by_test_id("nav-staff-link")).to_have_count(0)
    for path in ("/settings", "/staff"):
        agent.goto(f"{app_server.url}{path}")
        agent.wait_for_url("**/agent")
    agent.goto(f"{app_server.url}/account")  # their own account page is theirs
    expect(agent.get_by_test_id("nav-staff-label")).to_have_text("Ben")
    expect(agent).to_have_url(re.compile(r"/account/?$"))
