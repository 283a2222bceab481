"""The bot's turn: read the thread, ask the model (holding no transaction), post the answer,
and hand off when the model judges it, when the provider is down, or after N failures in a row.

Deterministic signals (the button, keywords) run before this, in `conversations`; nothing the
model says can cancel them. While a conversation is pending or active no model call is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.bot.intent import FRUSTRATION, HUMAN_REQUEST, SENSITIVE, detect_escalation
from handoff_app.bot.replies import BotAnswer, ModelSettings, Turn, generate_reply
from handoff_app.bot.retrieval import Passage
from handoff_app.db import open_read_session, open_session
from handoff_app.domain.keywords import find_handoff_keyword
from handoff_app.domain.lifecycle import ConversationStatus, TransitionNotAllowed, TriggerType
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.domain.triggers import KeywordBehaviour
from handoff_app.models import Conversation, Message, WorkspaceSettings
from handoff_app.services import handoff
from handoff_app.services.errors import NotFound
from handoff_app.services.knowledge import list_articles, to_passage
from handoff_app.services.transcript import add_message, list_messages
from handoff_app.services.transitions import lock_conversation
from handoff_app.services.workspace import escalation_allowed, get_workspace_settings

HISTORY_TURNS = 20
REPEAT_WINDOW = 4  # "asked for a person again": the visitor's last few messages
BOT_LABEL = "AI assistant"
SUCCESS = "answered"
NO_HANDOFF_REPLY = (
    "I can't connect you with a member of our team right now, but I'm happy to help: "
    "tell me a bit more about what you need."
)
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


async def consecutive_failures(*, session: AsyncSession, conversation_id: int) -> int:
    """Bot answers that did not help, newest first, until one did or the bot was handed the
    conversation again (a system message). A thumbs-down turns an answer into a failure."""
    recent = (
        await session.exec(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                col(Message.sender).in_([Sender.BOT.value, Sender.SYSTEM.value]),
            )
            .order_by(col(Message.id).desc())
            .limit(50)
        )
    ).all()
    count = 0
    for message in recent:
        if message.sender == Sender.SYSTEM.value:
            break
        if message.bot_outcome == SUCCESS and message.feedback != "down":
            break
        count += 1
    return count


def _handoff_for(
    answer: BotAnswer, failures: int, settings: WorkspaceSettings
) -> tuple[TriggerType, str] | None:
    """Which automatic trigger, if any, this turn fires (the settings decide if it may)."""
    if answer.escalate:
        return TriggerType.AI, answer.reason or "The assistant judged that a person should help."
    if answer.provider_down:
        return TriggerType.FAILURES, f"The AI provider is not working ({answer.failure})."
    threshold = settings.failure_threshold
    if threshold and failures >= threshold:
        return TriggerType.FAILURES, f"{failures} bot answers in a row did not help."
    return None


async def _stage_automatic_handoff(
    *,
    session: AsyncSession,
    conversation_id: int,
    trigger: TriggerType,
    reason: str,
    triggering: Message | None,
    settings: WorkspaceSettings,
) -> list[events.ConversationEvent]:
    """Hand off inside the caller's transaction if the settings allow this trigger now."""
    if not escalation_allowed(settings, trigger):
        return []
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.status != ConversationStatus.BOT:
        return []
    try:
        staged = await handoff.stage_handoff(
            session=session,
            conversation_id=conversation_id,
            trigger=trigger,
            reason=reason,
            triggering_message=triggering,
            settings=settings,
        )
    except TransitionNotAllowed:
        return []
    return staged.events


async def deterministic_signal(
    thread: Sequence[Message], settings: WorkspaceSettings, articles: Sequence[Passage]
) -> tuple[TriggerType, str] | None:
    """Signals judged before the model is asked, the same whatever model is configured, that
    nothing the model says can cancel: clear frustration, and a visitor asking for a person
    again (the same sentence-embedding judgment as the offline model; CPU work, in a thread)."""
    if not escalation_allowed(settings, TriggerType.FRUSTRATION):
        return None
    stint: list[Message] = []  # the visitor's messages since the bot last took over
    for message in reversed(thread):
        if message.sender == Sender.SYSTEM.value:
            break
        if message.sender == Sender.VISITOR.value:
            stint.append(message)
    if not stint:
        return None
    latest = await asyncio.to_thread(
        detect_escalation, stint[0].body, settings.sensitive_topics, knowledge=articles
    )
    if latest is None or latest.kind == SENSITIVE:
        return None  # sensitive topics are the model's judgment (trigger "ai")
    if latest.kind == FRUSTRATION:
        return TriggerType.FRUSTRATION, latest.reason
    for earlier in stint[1:REPEAT_WINDOW]:
        before = await asyncio.to_thread(detect_escalation, earlier.body, (), knowledge=articles)
        if before is not None and before.kind == HUMAN_REQUEST:
            return TriggerType.FRUSTRATION, "The visitor asked for a person again."
    return None


async def _hand_off_before_answering(
    *, conversation_id: int, answering_id: int, signal: tuple[TriggerType, str]
) -> bool:
    async with open_session() as session:
        await lock_conversation(session=session, conversation_id=conversation_id)
        newest = await list_messages(session=session, conversation_id=conversation_id, limit=1)
        if not newest or newest[-1].id != answering_id:
            return False
        published = await _stage_automatic_handoff(
            session=session,
            conversation_id=conversation_id,
            trigger=signal[0],
            reason=signal[1],
            triggering=await session.get(Message, answering_id),
            settings=await get_workspace_settings(session=session),
        )
        await session.commit()
    await events.publish(*published)
    return bool(published)


async def reply_as_bot(*, conversation_id: int, declined_message_id: int = 0) -> Message | None:
    """Answer the visitor's latest message, unless a human owns the conversation by then.

    The answer streams into the conversation's room as a draft (`events.BotDraft`), then is
    posted only if the message it answers is still the newest one: two quick visitor messages
    (or a replayed trigger) get one answer, to the latest, never a stack of duplicates.
    When the visitor declined a handoff for the message being answered, the model is not
    offered the escalation tool.
    """
    async with open_read_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.status != ConversationStatus.BOT:
            return None
        settings = await get_workspace_settings(session=session)
        thread = await list_messages(
            session=session, conversation_id=conversation_id, limit=HISTORY_TURNS
        )
        articles = [to_passage(a) for a in await list_articles(session=session)]
    if not thread or thread[-1].sender != Sender.VISITOR.value:
        return None  # nothing new to answer (e.g. a duplicate trigger)
    answering = thread[-1]
    assert answering.id is not None
    answering_id = answering.id
    if answering_id != declined_message_id:
        signal = await deterministic_signal(thread, settings, articles)
        if signal is not None and await _hand_off_before_answering(
            conversation_id=conversation_id, answering_id=answering_id, signal=signal
        ):
            return None  # handed off: no model call at all

    async def draft(text: str) -> None:
        await events.publish(
            events.BotDraft(conversation_id=conversation_id, after_id=answering_id, text=text)
        )

    answer = await generate_reply(
        settings=model_settings(settings),
        history=[to_turn(m) for m in thread],
        articles=articles,
        sensitive_topics=settings.sensitive_topics,
        on_text=draft,
        may_escalate=answering_id != declined_message_id,
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
        if status != ConversationStatus.BOT or not newest or newest[-1].id != answering_id:
            await draft("")  # withdraw the draft
            return None
        settings = await get_workspace_settings(session=session)
        published: list[events.ConversationEvent] = []
        message = None
        # this answer is not stored yet: it extends the run of failures, or ends it
        failures = (
            await consecutive_failures(session=session, conversation_id=conversation_id) + 1
            if answer.outcome != SUCCESS
            else 0
        )
        fired = _handoff_for(answer, failures, settings)
        handed_off: list[events.ConversationEvent] = []
        if fired is not None:
            handed_off = await _stage_automatic_handoff(
                session=session,
                conversation_id=conversation_id,
                trigger=fired[0],
                reason=fired[1],
                triggering=await session.get(Message, answering_id),
                settings=settings,
            )
        text = answer.text
        if not text and not handed_off:  # the model asked for a person we cannot give now
            text = NO_HANDOFF_REPLY
        if text:  # a bare tool call that handed off posts no text: the handoff message says it
            message, posted = await add_message(
                session=session,
                conversation_id=conversation_id,
                sender=Sender.BOT,
                body=text,
                author_label=BOT_LABEL,
                bot_outcome=answer.outcome,
                bot_sources=[{"id": p.article_id, "title": p.title} for p in answer.sources],
            )
            published.append(posted)
        published += handed_off
        await session.commit()
    await events.publish(*published)
    return message


async def rate_bot_message(
    *, session: AsyncSession, conversation_id: int, message_id: object, helpful: bool
) -> bool:
    """The visitor's thumbs up/down on one of the bot's answers in their conversation.

    A thumbs-down counts as a failure: at N in a row (settings) the conversation is handed off.
    Returns True when this vote handed it off.
    """
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise NotFound("No such message.")
    conversation = await lock_conversation(session=session, conversation_id=conversation_id)
    message = await session.get(Message, message_id)
    if (
        message is None
        or message.conversation_id != conversation_id
        or message.sender != Sender.BOT.value
    ):
        raise NotFound("No such message.")
    message.feedback = "up" if helpful else "down"
    session.add(message)
    await session.flush()
    published: list[events.ConversationEvent] = []
    if not helpful and conversation.status == ConversationStatus.BOT:
        settings = await get_workspace_settings(session=session)
        failures = await consecutive_failures(session=session, conversation_id=conversation_id)
        if settings.failure_threshold and failures >= settings.failure_threshold:
            published = await _stage_automatic_handoff(
                session=session,
                conversation_id=conversation_id,
                trigger=TriggerType.FAILURES,
                reason=f"The visitor marked {failures} answers in a row as unhelpful.",
                triggering=message,
                settings=settings,
            )
    await session.commit()
    await events.publish(
        events.MessageRated(conversation_id=conversation_id, message_id=message_id), *published
    )
    return any(isinstance(e, events.HandoffRequested) for e in published)


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
        articles = [to_passage(a) for a in await list_articles(session=session)]
    answer = await generate_reply(
        settings=model_settings(settings),
        history=[Turn("user", body)],
        articles=articles,
        sensitive_topics=settings.sensitive_topics,
    )
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
    elif answer.escalate and escalation_allowed(settings, TriggerType.AI):
        escalate, judgment = True, f"The AI hands off: {answer.reason}"
    elif answer.provider_down and escalation_allowed(settings, TriggerType.FAILURES):
        escalate, judgment = True, f"The AI provider failed ({answer.failure}): handed off."
    elif answer.escalate:
        escalate, judgment = False, "The AI would hand off, but the trigger mode is button."
    else:
        escalate, judgment = False, "No escalation: the bot answers."
    text_shown = answer.text or "(no text: the bot hands off)"
    return Preview(answer=text_shown, answered=answer.ok, escalate=escalate, judgment=judgment)
