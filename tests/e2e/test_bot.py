"""The bot in a real browser: the answer streams in, thumbs-down N times hands off, and a
provider that is down gives a clear message and a handoff. The "provider" is a real
OpenAI-compatible server on loopback that the app process calls through litellm."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot_widths, set_settings
from tests.e2e.test_handoff_loop import expect_state, visitor_says
from tests.support import openai_server as oa
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]
SLOW_ANSWER = "Our express service delivers next business day to every address in the country."


@pytest.fixture
def provider(app_server: AppServer, restore_settings: None) -> Iterator[oa.OpenAIServer]:
    server = oa.OpenAIServer(default=oa.text(SLOW_ANSWER, per_word=0.25))
    set_settings(
        app_server,
        ai_model="openai/gpt-4o-mini",
        ai_api_base=server.base,
        ai_api_key="sk-e2e-0000000000",
        ai_reply_timeout_seconds=5,
    )
    yield server
    server.close()


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="visitor-message"][data-sender="bot"]')


def test_the_answer_grows_word_by_word_then_is_stored(
    provider: oa.OpenAIServer, app_server: AppServer, new_page: NewPage
) -> None:
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "Do you deliver fast?")
    draft = visitor.get_by_test_id("visitor-bot-draft")
    expect(draft).to_contain_text("Our express")  # part of the answer, while it streams
    expect(bot_messages(visitor)).to_have_count(0)
    screenshot_widths(visitor, "visitor-bot-streaming")
    expect(bot_messages(visitor)).to_have_count(1, timeout=15_000)
    expect(bot_messages(visitor)).to_contain_text(SLOW_ANSWER)
    expect(draft).to_have_count(0)  # the stored message replaced the draft
    visitor.reload()
    expect(bot_messages(visitor)).to_contain_text(SLOW_ANSWER)


def test_thumbs_down_twice_hands_off(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    set_settings(app_server, failure_threshold=2)
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "How long does shipping take?")
    expect(bot_messages(visitor)).to_have_count(1)
    visitor_says(visitor, "How do I return an item?")
    expect(bot_messages(visitor)).to_have_count(2)
    bot_messages(visitor).nth(0).get_by_test_id("visitor-thumbs-down-button").click()
    expect_state(visitor, "bot")  # the newer answer still counts as helpful
    bot_messages(visitor).nth(1).get_by_test_id("visitor-thumbs-down-button").click()
    expect_state(visitor, "pending")


def test_a_provider_that_is_down_gives_a_clear_message_and_a_handoff(
    app_server: AppServer, new_page: NewPage, restore_settings: None
) -> None:
    dead = oa.OpenAIServer()
    dead.close()  # nothing listens there: connection refused
    set_settings(
        app_server,
        ai_model="openai/gpt-4o-mini",
        ai_api_base=dead.base,
        ai_api_key="sk-e2e-0000000000",
        ai_reply_timeout_seconds=5,
    )
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, "How do I return an item?")
    answer = bot_messages(visitor)
    expect(answer).to_contain_text("30 days", timeout=20_000)  # from the help articles
    expect(answer).to_contain_text("AI assistant is unavailable")
    expect_state(visitor, "pending")
    screenshot_widths(visitor, "visitor-provider-down")
