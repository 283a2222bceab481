"""The handoff use cases on a real SQLite database (races on PostgreSQL too: see
test_claim_concurrency.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.domain.messages import InvalidMessage
from handoff_app.models import Conversation, Escalation, Message
from handoff_app.services import conversations, handoff
from handoff_app.services.bot_replies import reply_as_bot
from handoff_app.services.errors import (
    AlreadyClaimed,
    ConversationClosed,
    NotFound,
    PermissionDenied,
)
from handoff_app.services.knowledge import seed_demo_knowledge
from handoff_app.services.queue import count_unclaimed, list_queue
from handoff_app.services.transcript import list_messages
from tests.conftest import make_staff


async def _senders(session: AsyncSession, conversation_id: int) -> list[str]:
    return [m.sender for m in await list_messages(session=session, conversation_id=conversation_id)]


async def test_visitor_message_is_stored_before_the_event_is_published(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    started = await conversations.start_conversation(session=session)
    seen_in_db: list[bool] = []

    async def check(event: events.ConversationEvent) -> None:
        if isinstance(event, events.MessagePosted):
            from handoff_app.db import open_read_session

            # another connection: what it reads is committed
            async with open_read_session() as other:
                seen_in_db.append(await other.get(Message, event.message_id) is not None)

    events.subscribe(check)
    try:
        post = await conversations.post_visitor_message(
            session=session, key=started.key, body="  hello  "
        )
    finally:
        events.unsubscribe(check)
    assert post.message.body == "hello"
    assert seen_in_db == [True]
    assert isinstance(published[-1], events.MessagePosted)


async def test_blank_or_oversized_visitor_message_is_refused_and_nothing_stored(
    session: AsyncSession,
) -> None:
    started = await conversations.start_conversation(session=session)
    for body in ["   ", "x" * 4001]:
        with pytest.raises(InvalidMessage):
            await conversations.post_visitor_message(session=session, key=started.key, body=body)
    assert await _senders(session, started.conversation.id or 0) == []


async def test_unknown_conversation_key_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await conversations.post_visitor_message(session=session, key="nope", body="hi")


async def test_keyword_hands_off_at_once_and_records_the_trigger(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    started = await conversations.start_conversation(session=session)
    post = await conversations.post_visitor_message(
        session=session, key=started.key, body="Can I speak to a HUMAN please?"
    )
    assert post.status == "pending"
    assert not post.bot_should_reply
    escalation = await session.get(Escalation, post.escalation_id)
    assert escalation is not None
    assert escalation.trigger == "keyword"
    assert escalation.triggering_text == "Can I speak to a HUMAN please?"
    assert escalation.response_deadline is not None
    assert await _senders(session, post.conversation_id) == ["visitor", "system"]
    assert any(isinstance(e, events.HandoffRequested) for e in published)


async def test_button_handoff_then_claim_reply_and_resolve(session: AsyncSession) -> None:
    agent = await make_staff(session, name="Ana")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await conversations.post_visitor_message(session=session, key=started.key, body="hi")
    await handoff.request_handoff(session=session, conversation=started.conversation)
    assert await count_unclaimed(session=session) == 1
    rows = await list_queue(session=session)
    assert [(r.conversation_id, r.trigger, r.status) for r in rows] == [(cid, "button", "pending")]
    # visitor messages while pending are kept
    await conversations.post_visitor_message(session=session, key=started.key, body="still there?")
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    assert await count_unclaimed(session=session) == 0
    reply = await handoff.post_agent_reply(
        session=session, conversation_id=cid, staff=agent, body="Hi, I'm Ana"
    )
    assert reply.author_label == "Ana"
    await handoff.resolve_conversation(session=session, conversation_id=cid, staff=agent)
    conv = await session.get(Conversation, cid)
    await session.refresh(conv)
    assert conv is not None and conv.status == "resolved" and conv.closed_at is not None
    assert await _senders(session, cid) == [
        "visitor",
        "system",
        "visitor",
        "system",
        "agent",
        "system",
    ]
    with pytest.raises(ConversationClosed):
        await conversations.post_visitor_message(session=session, key=started.key, body="hello?")
    assert await list_queue(session=session) == []


async def test_second_claim_on_same_conversation_is_refused_with_the_winner(
    session: AsyncSession,
) -> None:
    first = await make_staff(session, name="First")
    second = await make_staff(session, name="Second")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=first)
    with pytest.raises(AlreadyClaimed, match="First"):
        await handoff.claim_conversation(session=session, conversation_id=cid, staff=second)


async def test_only_the_assignee_replies_and_not_before_claiming(session: AsyncSession) -> None:
    first = await make_staff(session, name="First")
    second = await make_staff(session, name="Second")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    with pytest.raises(PermissionDenied, match="Accept & Join"):
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=first, body="x")
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=first)
    with pytest.raises(PermissionDenied, match="First"):
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=second, body="x")
    with pytest.raises(InvalidMessage):
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=first, body=" ")


async def test_an_owner_cannot_reply_in_an_agents_conversation_but_can_resolve_it(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    agent = await make_staff(session, name="Agent")
    owner = await make_staff(session, role="owner", name="Boss")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    count = len(published)
    with pytest.raises(PermissionDenied, match="Agent"):
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=owner, body="x")
    assert len(published) == count, "a refused action publishes nothing"
    await handoff.resolve_conversation(session=session, conversation_id=cid, staff=owner)
    assert isinstance(published[-1], events.ConversationResolved)


async def test_refused_claim_writes_and_publishes_nothing(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    first = await make_staff(session, name="First")
    second = await make_staff(session, name="Second")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=first)
    await session.commit()
    before = (len(published), await _senders(session, cid))
    await session.commit()
    with pytest.raises(AlreadyClaimed):
        await handoff.claim_conversation(session=session, conversation_id=cid, staff=second)
    await session.rollback()
    assert (len(published), await _senders(session, cid)) == before


async def test_claiming_a_bot_conversation_is_not_a_valid_transition(session: AsyncSession) -> None:
    agent = await make_staff(session)
    started = await conversations.start_conversation(session=session)
    with pytest.raises(TransitionNotAllowed):
        await handoff.claim_conversation(
            session=session, conversation_id=started.conversation.id or 0, staff=agent
        )


async def test_bot_answers_from_the_knowledge_base_through_litellm(session: AsyncSession) -> None:
    await seed_demo_knowledge(session=session)
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How long does shipping take?"
    )
    reply = await reply_as_bot(conversation_id=cid)
    assert reply is not None and reply.sender == "bot"
    assert "3 to 5 business days" in reply.body


async def test_bot_is_silent_while_pending_and_answers_again_after_hand_back(
    session: AsyncSession,
) -> None:
    await seed_demo_knowledge(session=session)
    agent = await make_staff(session)
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await conversations.post_visitor_message(session=session, key=started.key, body="real person")
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How do I return an item?"
    )
    assert await reply_as_bot(conversation_id=cid) is None
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    await handoff.hand_back_to_bot(session=session, conversation_id=cid, staff=agent)
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How do I return an item?"
    )
    reply = await reply_as_bot(conversation_id=cid)
    assert reply is not None and "30 days" in reply.body
    bodies = [m.body for m in await list_messages(session=session, conversation_id=cid)]
    assert "You're chatting with our AI assistant again." in bodies
    closed = (await session.exec(select(Escalation).where(Escalation.conversation_id == cid))).one()
    assert closed.outcome == "handed_back"


async def test_resync_after_last_id_returns_only_newer_messages(session: AsyncSession) -> None:
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    ids = []
    for n in range(5):
        post = await conversations.post_visitor_message(
            session=session, key=started.key, body=f"m{n}"
        )
        ids.append(post.message.id)
    newer = await list_messages(session=session, conversation_id=cid, after_id=ids[2] or 0)
    assert [m.body for m in newer] == ["m3", "m4"]


async def test_the_first_agent_reply_of_each_escalation_is_its_response_time(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session, name="Ana")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0

    async def escalations() -> list[Escalation]:
        rows = await session.exec(
            select(Escalation).where(Escalation.conversation_id == cid).order_by(Escalation.id)
        )
        found = list(rows.all())
        for row in found:
            await session.refresh(row)
        return found

    for round_ in range(2):  # escalated, answered, handed back; then again
        await conversations.post_visitor_message(
            session=session, key=started.key, body="real person"
        )
        await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
        assert (await escalations())[round_].first_agent_reply_at is None  # claimed, not answered
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=agent, body="Hi")
        first = (await escalations())[round_].first_agent_reply_at
        assert first is not None
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=agent, body="So")
        assert (await escalations())[round_].first_agent_reply_at == first  # the first one only
        await handoff.hand_back_to_bot(session=session, conversation_id=cid, staff=agent)
    earlier, later = await escalations()
    assert later.first_agent_reply_at > earlier.first_agent_reply_at  # type: ignore[operator]


async def test_a_conversation_is_read_once_per_transaction_by_its_lock(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staff action's access check locks the row; the use case's own lock then reads
    nothing more; a status change in the transaction is seen by the next lock (it reads the
    row again); the next transaction reads again."""
    from handoff_app.domain.lifecycle import LifecycleAction
    from handoff_app.services import transitions
    from handoff_app.services.access import lock_for_staff

    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id
    assert cid is not None
    agent = await make_staff(session)
    await session.commit()
    reads: list[object] = []
    read = transitions._LOCK_ROW.first

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return await read(*args, **kwargs)

    monkeypatch.setattr(transitions._LOCK_ROW, "first", counted)
    lock = transitions.lock_conversation
    await lock_for_staff(session=session, conversation_id=cid, staff=agent)
    assert len(reads) == 1
    again = await lock(session=session, conversation_id=cid)
    assert len(reads) == 1 and again.status == "bot"  # no second read
    await transitions.move_conversation(
        session=session, conversation_id=cid, action=LifecycleAction.REQUEST_HANDOFF
    )
    moved = await lock(session=session, conversation_id=cid)
    assert len(reads) == 2 and moved.status == "pending"  # changed here: read again
    assert await lock(session=session, conversation_id=cid) is moved
    await session.rollback()
    after = await lock(session=session, conversation_id=cid)
    assert len(reads) == 3 and after.status == "bot"  # a new transaction reads it again


async def test_a_posted_message_is_stored_as_returned(session: AsyncSession) -> None:
    """Messages are written with one INSERT ... RETURNING: what the caller gets is the row."""
    started = await conversations.start_conversation(session=session)
    first = await conversations.post_visitor_message(session=session, key=started.key, body="a")
    second = await conversations.post_visitor_message(session=session, key=started.key, body="b")
    cid = started.conversation.id
    assert cid is not None
    stored = await list_messages(session=session, conversation_id=cid)
    assert [(m.id, m.body, m.sender) for m in stored] == [
        (first.message.id, "a", "visitor"),
        (second.message.id, "b", "visitor"),
    ]
    assert stored[0].created_at == first.message.created_at
    assert second.message.id > first.message.id  # type: ignore[operator]
    # the conversation's last activity is the message's time (as stored: the loaded row is
    # not kept in step with this Core UPDATE, and nothing reads its updated_at)
    touched = (
        await session.execute(select(Conversation.updated_at).where(Conversation.id == cid))
    ).scalar_one()
    assert touched == second.message.created_at


async def test_an_agent_reply_goes_by_the_workspace_agent_label_when_one_is_set(
    session: AsyncSession,
) -> None:
    from handoff_app.services.workspace import update_settings

    agent = await make_staff(session, name="Ana")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    first = await handoff.post_agent_reply(
        session=session, conversation_id=cid, staff=agent, body="a"
    )
    assert first.author_label == "Ana"  # no label set: the agent's own name
    await update_settings(session=session, agent_label="Support team")
    await session.commit()
    second = await handoff.post_agent_reply(
        session=session, conversation_id=cid, staff=agent, body="b"
    )
    assert second.author_label == "Support team"
