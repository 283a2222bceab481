"""The bot's turn: read the thread, ask the model (holding no transaction), post the answer."""

from __future__ import annotations

from sqlmodel import select

from handoff_app import events
from handoff_app.bot.replies import Turn, generate_reply
from handoff_app.bot.retrieval import Passage
from handoff_app.db import open_read_session, open_session
from handoff_app.domain.lifecycle import ConversationStatus
from handoff_app.domain.messages import Sender
from handoff_app.models import Conversation, Message
from handoff_app.services.knowledge import list_articles
from handoff_app.services.transcript import add_message, list_messages
from handoff_app.services.workspace import get_workspace_settings

HISTORY_TURNS = 20
_ROLES = {
    Sender.VISITOR.value: "user",
    Sender.BOT.value: "assistant",
    Sender.AGENT.value: "assistant",
    Sender.SYSTEM.value: "system",
}


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
        model = settings.ai_model
    if not thread or thread[-1].sender != Sender.VISITOR.value:
        return None  # nothing new to answer (e.g. a duplicate trigger)
    answering = thread[-1].id
    answer = await generate_reply(
        model=model, history=[to_turn(m) for m in thread], articles=articles
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
