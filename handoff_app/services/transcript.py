"""The append-only transcript: stage a message, read messages back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.messages import Sender
from handoff_app.models import Conversation, Message, MessagePublic, utcnow
from handoff_app.prebuilt_sql import Prebuilt

LIVE_MESSAGE_WINDOW = 50
# one statement object each, values passed at execution: compiled once, not keyed every time.
# (Core statements on the tables: an ORM-enabled INSERT or UPDATE runs the ORM's bulk and
# synchronisation machinery, about a tenth of a message's Python work; no loaded object
# needs to follow these: nothing reads a loaded conversation's updated_at)
_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]
_INSERT_MESSAGE = Prebuilt(sa.insert(_MESSAGES).returning(_MESSAGES.c.id))
_TOUCH_CONVERSATION = Prebuilt(
    sa.update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == sa.bindparam("conversation"))
    .values(updated_at=sa.bindparam("at"))
)
# the newest message of the public thread (rooms never show internal notes)
_LAST_PUBLIC_MESSAGE = Prebuilt(
    sa.select(_MESSAGES.c.id)
    .where(
        _MESSAGES.c.conversation_id == sa.bindparam("conversation"),
        _MESSAGES.c.sender != Sender.NOTE.value,
    )
    .order_by(_MESSAGES.c.id.desc())
    .limit(1)
)


def to_public(message: Message) -> MessagePublic:
    assert message.id is not None
    return MessagePublic(
        id=message.id,
        sender=message.sender,
        author_label=message.author_label,
        body=message.body,
        created_at=message.created_at.isoformat(),
        feedback=message.feedback,
    )


def message_row(
    *,
    conversation_id: int,
    sender: Sender,
    body: str,
    author_staff_id: int | None,
    author_label: str,
    bot_outcome: str,
    bot_sources: list[dict[str, int | str]],
) -> dict[str, Any]:
    """Every column of a new message but its id, as `add_message` inserts it."""
    return {
        "conversation_id": conversation_id,
        "sender": sender.value,
        "author_staff_id": author_staff_id,
        "author_label": author_label,
        "body": body,
        "created_at": utcnow(),
        "bot_outcome": bot_outcome,
        "feedback": "",
        "bot_sources": bot_sources,
    }


async def add_message(
    *,
    session: AsyncSession,
    conversation_id: int,
    sender: Sender,
    body: str,
    author_staff_id: int | None = None,
    author_label: str = "",
    bot_outcome: str = "",
    bot_sources: list[dict[str, int | str]] | None = None,
) -> tuple[Message, events.MessagePosted]:
    """Stage a message in the caller's transaction; publish the returned event after commit.

    Callers hold the conversation's row lock (FOR UPDATE, or the conditional UPDATE of a
    transition) while they add messages, so within a conversation ids are committed in
    increasing order: "everything after the last id I have" never skips a message.
    """
    # the message before this one in the public thread
    previous_id = await _LAST_PUBLIC_MESSAGE.scalar(session, {"conversation": conversation_id}) or 0
    values = message_row(
        conversation_id=conversation_id,
        sender=sender,
        body=body,
        author_staff_id=author_staff_id,
        author_label=author_label,
        bot_outcome=bot_outcome,
        bot_sources=bot_sources or [],
    )
    # one INSERT ... RETURNING id, not the ORM's unit of work (a flush cost about as much as
    # the rest of an agent's reply): the row is never changed in this transaction
    message_id = await _INSERT_MESSAGE.scalar(session, values)
    # The row as stored, built without the model's validation and ORM instrumentation (they
    # cost as much as two of the message's statements): a read-only record outside the
    # session, for callers that only read it. Never add it to a session.
    message = Message.model_construct(id=message_id, **values)
    await _TOUCH_CONVERSATION.count(
        session, {"conversation": conversation_id, "at": message.created_at}
    )
    return message, events.MessagePosted(
        conversation_id=conversation_id,
        message_id=message_id,
        sender=sender.value,
        previous_id=previous_id,
        message=to_public(message),
    )


async def list_messages(
    *,
    session: AsyncSession,
    conversation_id: int,
    after_id: int = 0,
    before_id: int | None = None,
    limit: int = LIVE_MESSAGE_WINDOW,
    include_notes: bool = False,
) -> list[Message]:
    """The newest `limit` messages with after_id < id < before_id, oldest first.

    Internal notes are left out unless `include_notes` (staff readers only): whatever feeds
    the visitor's room, page or the bot's prompt calls this with the default.
    """
    query = select(Message).where(
        Message.conversation_id == conversation_id, col(Message.id) > after_id
    )
    if not include_notes:
        query = query.where(Message.sender != Sender.NOTE.value)
    if before_id is not None:
        query = query.where(col(Message.id) < before_id)
    query = query.order_by(col(Message.id).desc()).limit(limit)
    rows = list((await session.exec(query)).all())
    rows.reverse()
    return rows


async def list_from_sender(
    *,
    session: AsyncSession,
    conversation_id: int,
    sender: Sender,
    limit: int = LIVE_MESSAGE_WINDOW,
) -> list[Message]:
    """The newest `limit` messages of one sender in a conversation, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.sender == sender.value)
        .order_by(col(Message.id).desc())
        .limit(limit)
    )
    rows = list((await session.exec(query)).all())
    rows.reverse()
    return rows


async def list_notes(
    *, session: AsyncSession, conversation_id: int, limit: int = LIVE_MESSAGE_WINDOW
) -> list[Message]:
    """The newest `limit` internal notes of a conversation, oldest first (staff only)."""
    return await list_from_sender(
        session=session, conversation_id=conversation_id, sender=Sender.NOTE, limit=limit
    )
