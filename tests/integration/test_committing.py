"""commit_and_publish: a message's events go out after its transaction is durable and before
SQLAlchemy's bookkeeping; subscribers never open a write session in the publisher's task."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import db, events
from handoff_app.domain.messages import Sender
from handoff_app.models import Message
from handoff_app.services import conversations
from handoff_app.services.committing import commit_and_publish
from handoff_app.services.transcript import add_message


async def _started(session: AsyncSession) -> int:
    started = await conversations.start_conversation(session=session)
    assert started.conversation.id is not None
    return started.conversation.id


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_subscribers_read_the_committed_message(session: AsyncSession) -> None:
    cid = await _started(session)
    _message, posted = await add_message(
        session=session, conversation_id=cid, sender=Sender.VISITOR, body="hello"
    )
    seen: list[bool] = []

    async def read_it(event: events.ConversationEvent) -> None:
        async with db.open_read_session() as other:  # another connection
            seen.append(await other.get(Message, posted.message_id) is not None)

    events.subscribe(read_it)
    try:
        await commit_and_publish(session, posted)
    finally:
        events.unsubscribe(read_it)
    assert seen == [True]
    assert not session.sync_session.in_transaction()  # the bookkeeping ran after


async def test_a_write_session_in_the_publishers_task_is_refused_but_a_task_may_write(
    session: AsyncSession,
) -> None:
    """The publisher may still hold the one writer connection: a subscriber writing inline
    would wait for it forever. It is refused at once, with the reason; a task it starts (as
    the webhook and email alerts do) opens one when the publisher is done."""
    cid = await _started(session)
    _message, posted = await add_message(
        session=session, conversation_id=cid, sender=Sender.VISITOR, body="hello"
    )
    refused: list[str] = []
    spawned: list[asyncio.Task[int]] = []

    async def write_later() -> int:
        async with db.open_session() as other:
            _m, again = await add_message(
                session=other, conversation_id=cid, sender=Sender.SYSTEM, body="from a task"
            )
            await other.commit()
            return again.message_id

    async def writer(event: events.ConversationEvent) -> None:
        try:
            db.open_session()
        except RuntimeError as exc:
            refused.append(str(exc))
        spawned.append(asyncio.create_task(write_later()))

    events.subscribe(writer)
    try:
        await commit_and_publish(session, posted)
    finally:
        events.unsubscribe(writer)
    assert refused and "start a task" in refused[0]
    assert await asyncio.wait_for(spawned[0], 10) > posted.message_id
    assert not events.publishing_here()
