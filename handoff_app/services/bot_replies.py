"""The bot's turn: read the thread, ask the model (holding no transaction), post the answer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from handoff_app import events
from handoff_app.bot.replies import ModelSettings, Turn, generate_reply
from handoff_app.bot.retrieval import Passage
from handoff_app.db import open_read_session, open_session
from handoff_app.domain.keywords import find_handoff_keyword
from handoff_app.domain.lifecycle import ConversationStatus, TriggerType
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.domain.triggers import KeywordBehaviour
from handoff_app.models import Conversation, Message, WorkspaceSettings
from handoff_app.services.knowledge import list_articles
from handoff_app.services.transcript import add_message, list_messages
from handoff_app.services.workspace import escalation_allowed, get_workspace_settings

HISTORY_TURNS = 20
_ROLES = {
    Sender.VISITOR.value: "user",
    Sender.BOT.value: "assistant",
    Sender.AGENT.value: "assistant",
    Sender.SYSTEM.value: "system",
}


def model_settings(settings: WorkspaceSettings) -> ModelSettings:
    return ModelSettings(
        model=settings.ai_model,
        api_key=settings.ai_api_key,
        api_base=settings.ai_api_base,
        system_prompt=settings.ai_system_prompt,
        temperature=settings.ai_temperature,
        timeout=float(settings.ai_reply_timeout_seconds),
    )


def to_turn(message: Message) -> Turn:
    content = message.body
    if message.sender == Sender.AGENT.value:
        content = f"(human agent {message.author_label}) {content}"
    return Turn(role=_ROLES[message.sender], content=content)


async def reply_as_bot(*, conversation_id: int) -> Message | None:
    """Answer the visitor's latest message, unless a human owns the conversation by then.

    The bot is silent while pending or active: no model call is made at all. The answer is
    posted only if the message it answers is still the newest one: two quick visitor messages
    (or a replayed trigger) get one answer, to the latest, never a stack of duplicates.
    """
    async with open_read_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.status != ConversationStatus.BOT:
            return None
        settings = await get_workspace_settings(session=session)
        thread = await list_messages(
            session=session, conversation_id=conversation_id, limit=HISTORY_TURNS
        )
        articles = [Passage(a.title, a.body) for a in await list_articles(session=session)]
        model = model_settings(settings)
    if not thread or thread[-1].sender != Sender.VISITOR.value:
        return None  # nothing new to answer (e.g. a duplicate trigger)
    answering = thread[-1].id
    answer = await generate_reply(
        settings=model, history=[to_turn(m) for m in thread], articles=articles
    )
    async with open_session() as session:
        # Re-check under the row lock: a handoff during the model call silences this answer,
        # and so does a newer message (its own task answers it).
        status = (
            await session.exec(
                select(Conversation.status)
                .where(Conversation.id == conversation_id)
                .with_for_update()
            )
        ).first()
        newest = await list_messages(session=session, conversation_id=conversation_id, limit=1)
        if status != ConversationStatus.BOT or not newest or newest[-1].id != answering:
            return None
        message, posted = await add_message(
            session=session,
            conversation_id=conversation_id,
            sender=Sender.BOT,
            body=answer.text,
            author_label="AI assistant",
        )
        await session.commit()
    await events.publish(posted)
    return message


@dataclass(frozen=True)
class Preview:
    """The settings page's "try it": what the bot would answer and whether it would escalate."""

    answer: str
    answered: bool
    escalate: bool
    judgment: str


async def preview_turn(*, text: object) -> Preview:
    """Judge `text` as the first message of a fresh conversation under the saved settings, and
    ask the configured model for its answer. Nothing is stored."""
    body = clean_message_body(text)
    async with open_read_session() as session:
        settings = await get_workspace_settings(session=session)
        articles = [Passage(a.title, a.body) for a in await list_articles(session=session)]
    keyword = find_handoff_keyword(body, settings.handoff_keywords)
    if not settings.live_support_enabled:
        escalate, judgment = False, "No escalation: live support is off."
    elif keyword is not None and escalation_allowed(settings, TriggerType.KEYWORD):
        escalate = True
        ask = settings.keyword_behaviour == KeywordBehaviour.ASK
        judgment = f'Keyword "{keyword}": ' + (
            "the visitor is asked to confirm, then handed off."
            if ask
            else "handed off to the team at once."
        )
    elif keyword is not None:
        escalate, judgment = False, f'Keyword "{keyword}" matched, but the trigger mode is button.'
    else:
        escalate, judgment = False, "No escalation: the bot answers."
    answer = await generate_reply(
        settings=model_settings(settings), history=[Turn("user", body)], articles=articles
    )
    return Preview(answer=answer.text, answered=answer.ok, escalate=escalate, judgment=judgment)
