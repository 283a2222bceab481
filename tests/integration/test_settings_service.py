"""Saving settings (all or nothing, secrets write-only) and their effect on the next use."""

from __future__ import annotations

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.db import open_session
from handoff_app.domain.lifecycle import TriggerType
from handoff_app.domain.settings_form import settings_to_form
from handoff_app.models import Escalation, WorkspaceSettings
from handoff_app.services import conversations, handoff
from handoff_app.services.bot_replies import preview_turn, reply_as_bot
from handoff_app.services.errors import LiveSupportUnavailable
from handoff_app.services.workspace import (
    SETTINGS_ID,
    SettingsInvalid,
    get_workspace_settings,
    save_settings,
    settings_view,
    update_settings,
)
from tests.support import openai_server as oa


async def current_form(session: AsyncSession) -> dict[str, str]:
    settings = await get_workspace_settings(session=session)
    return settings_to_form(settings.model_dump())


async def fresh(session: AsyncSession) -> WorkspaceSettings:
    session.expire_all()
    found = await session.get(WorkspaceSettings, SETTINGS_ID)
    assert found is not None
    return found


async def test_a_valid_form_saves_every_field(session: AsyncSession) -> None:
    form = await current_form(session) | {
        "handoff_keywords": "real person\nbanana split",
        "timezone": "Pacific/Auckland",
        "trigger_mode": "auto",
        "failure_threshold": "3",
        "hours_fri_open": "08:00",
        "hours_fri_close": "12:00",
        "ai_api_key": "sk-secret-abcdef123456",
    }
    view = await save_settings(session=session, form=form)
    stored = await fresh(session)
    assert stored.handoff_keywords == ["real person", "banana split"]
    assert stored.timezone == "Pacific/Auckland"
    assert stored.trigger_mode == "auto"
    assert stored.failure_threshold == 3
    assert stored.working_hours == {"fri": {"open": "08:00", "close": "12:00"}}
    assert stored.ai_api_key == "sk-secret-abcdef123456"
    # the page gets the key masked, never the key
    assert "ai_api_key" not in view.form
    assert view.masked_secrets["ai_api_key"].endswith("3456")
    assert "sk-secret" not in str(view)


async def test_one_bad_field_saves_nothing(session: AsyncSession) -> None:
    before = (await fresh(session)).model_dump()
    form = await current_form(session) | {
        "widget_title": "A new title",
        "handoff_keywords": "a new keyword",
        "timezone": "Atlantis/Capital",
    }
    with pytest.raises(SettingsInvalid) as refused:
        await save_settings(session=session, form=form)
    assert set(refused.value.errors) == {"timezone"}
    assert (await fresh(session)).model_dump() == before


async def test_a_blank_secret_keeps_the_stored_one_and_clear_empties_it(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, smtp_password="hunter2-hunter2")
    await save_settings(session=session, form=await current_form(session))
    assert (await fresh(session)).smtp_password == "hunter2-hunter2"
    await save_settings(
        session=session, form=await current_form(session) | {"clear_smtp_password": "on"}
    )
    assert (await fresh(session)).smtp_password == ""
    assert settings_view(await fresh(session)).masked_secrets["smtp_password"] == ""


async def test_live_support_off_refuses_the_button_and_ignores_keywords(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, live_support_enabled=False)
    started = await conversations.start_conversation(session=session)
    with pytest.raises(LiveSupportUnavailable):
        await handoff.request_handoff(session=session, conversation=started.conversation)
    post = await conversations.post_visitor_message(
        session=session, key=started.key, body="I want a real person"
    )
    assert post.escalation_id is None
    assert post.bot_should_reply  # the bot answers instead


async def test_trigger_mode_button_ignores_keywords_and_auto_refuses_the_button(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, trigger_mode="button")
    started = await conversations.start_conversation(session=session)
    post = await conversations.post_visitor_message(
        session=session, key=started.key, body="real person please"
    )
    assert post.escalation_id is None
    await update_settings(session=session, trigger_mode="auto")
    with pytest.raises(LiveSupportUnavailable):
        await handoff.request_handoff(session=session, conversation=started.conversation)


async def test_ask_first_holds_the_bot_and_a_yes_records_the_keyword_message(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, keyword_behaviour="ask")
    started = await conversations.start_conversation(session=session)
    post = await conversations.post_visitor_message(
        session=session, key=started.key, body="can I talk to an agent?"
    )
    assert post.confirm_keyword == "talk to an agent"
    assert post.escalation_id is None and not post.bot_should_reply
    escalation_id = await handoff.request_handoff(
        session=session,
        conversation=started.conversation,
        trigger=TriggerType.KEYWORD,
        reason="confirmed",
        triggering_message_id=post.message.id,
    )
    escalation = await session.get(Escalation, escalation_id)
    assert escalation is not None
    assert escalation.trigger == "keyword"
    assert escalation.triggering_text == "can I talk to an agent?"


async def test_a_keyword_added_in_settings_applies_to_the_next_message(
    session: AsyncSession,
) -> None:
    started = await conversations.start_conversation(session=session)
    first = await conversations.post_visitor_message(
        session=session, key=started.key, body="I'd like a banana split"
    )
    assert first.escalation_id is None
    form = await current_form(session)
    await save_settings(
        session=session,
        form=form | {"handoff_keywords": form["handoff_keywords"] + "\nbanana split"},
    )
    second = await conversations.post_visitor_message(
        session=session, key=started.key, body="BANANA SPLIT now"
    )
    assert second.escalation_id is not None


async def test_the_ai_settings_reach_a_real_provider_route(session: AsyncSession) -> None:
    """An OpenAI-compatible server on loopback: the model, key, base URL, temperature and
    system prompt from settings are what litellm sends."""
    server = oa.OpenAIServer(default=oa.text("Hello from the test server."))
    try:
        await update_settings(
            session=session,
            ai_model="openai/gpt-4o-mini",
            ai_api_base=server.base,
            ai_api_key="sk-test-key-0123456789",
            ai_temperature=0.7,
            ai_system_prompt="You are the Northwind helper. Be brief.",
        )
        preview = await preview_turn(text="Where is my parcel?")
        started = await conversations.start_conversation(session=session)
        await conversations.post_visitor_message(
            session=session, key=started.key, body="Do you ship to Norway?"
        )
        assert started.conversation.id is not None
        answer = await reply_as_bot(conversation_id=started.conversation.id)
    finally:
        server.close()
    assert preview.answer == "Hello from the test server." and preview.answered
    assert answer is not None and answer.body == "Hello from the test server."
    assert len(server.requests) == 2
    sent = server.requests[1]
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.7
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][0]["content"].startswith("You are the Northwind helper.")
    assert sent["messages"][-1] == {"role": "user", "content": "Do you ship to Norway?"}
    assert server.headers[1]["authorization"] == "Bearer sk-test-key-0123456789"


async def test_try_it_reports_the_judgment_without_storing_anything(
    session: AsyncSession,
) -> None:
    preview = await preview_turn(text="please get me a real person")
    assert preview.escalate and '"real person"' in preview.judgment
    await update_settings(session=session, live_support_enabled=False)
    assert not (await preview_turn(text="please get me a real person")).escalate
    async with open_session() as check:
        assert (await check.exec(select(Escalation))).first() is None
