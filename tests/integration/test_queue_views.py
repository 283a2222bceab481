"""The queue page's lists: unread counts, the bot's conversations, take-over, and closed
conversations filtered by role on the server."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import db
from handoff_app.domain.visitor_context import VisitorContext
from handoff_app.models import Escalation
from handoff_app.services import conversations, handoff, queue
from handoff_app.services.errors import AlreadyClaimed
from tests.conftest import make_staff


async def started_with(session: AsyncSession, *texts: str) -> tuple[int, str]:
    started = await conversations.start_conversation(session=session)
    for text in texts:
        await conversations.post_visitor_message(session=session, key=started.key, body=text)
    assert started.conversation.id is not None
    return started.conversation.id, started.key


async def test_unread_counts_visitor_messages_since_the_last_agent_reply(
    session: AsyncSession,
) -> None:
    cid, key = await started_with(session, "hello", "talk to an agent")
    agent = await make_staff(session, name="Ana")
    row = next(r for r in await queue.list_queue(session=session) if r.conversation_id == cid)
    assert row.unread == 2 and row.status == "pending" and row.deadline
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    await handoff.post_agent_reply(session=session, conversation_id=cid, staff=agent, body="Hi!")
    await conversations.post_visitor_message(session=session, key=key, body="thanks")
    row = next(r for r in await queue.list_queue(session=session) if r.conversation_id == cid)
    assert row.unread == 1 and row.assigned_staff_id == agent.id


async def test_the_all_tab_lists_the_bots_conversations_and_a_takeover_claims_one(
    session: AsyncSession,
) -> None:
    cid, _ = await started_with(session, "what are your opening hours?")
    await conversations.start_conversation(session=session)  # nothing said yet: not listed
    rows = await queue.list_bot_conversations(session=session)
    assert [r.conversation_id for r in rows] == [cid]
    assert rows[0].preview == "what are your opening hours?"
    ana = await make_staff(session, name="Ana")
    await handoff.take_over(session=session, conversation_id=cid, staff=ana)
    assert await queue.list_bot_conversations(session=session) == []
    escalation = (
        await session.exec(select(Escalation).where(Escalation.conversation_id == cid))
    ).one()
    assert escalation.trigger == "takeover" and escalation.claimed_by_id == ana.id
    live = next(r for r in await queue.list_queue(session=session) if r.conversation_id == cid)
    assert live.status == "active" and live.claimed_by == "Ana"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_two_takeovers_at_once_have_one_winner(
    database_url: str, session: AsyncSession
) -> None:
    cid, _ = await started_with(session, "hello")
    staff = [await make_staff(session, name=f"Agent {i}") for i in range(5)]

    async def attempt(member):  # type: ignore[no-untyped-def]
        async with db.open_session() as own:
            try:
                await handoff.take_over(session=own, conversation_id=cid, staff=member)
                return "won"
            except AlreadyClaimed:
                return "lost"

    results = await asyncio.gather(*(attempt(m) for m in staff))
    assert results.count("won") == 1


async def test_agents_see_only_the_closed_conversations_they_handled(
    session: AsyncSession,
) -> None:
    owner = await make_staff(session, role="owner", name="Olivia")
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    mine, _ = await started_with(session, "refund for order 77", "real person please")
    other, _ = await started_with(session, "broken parcel", "real person please")
    for cid, agent in ((mine, ana), (other, ben)):
        await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
        await handoff.resolve_conversation(session=session, conversation_id=cid, staff=agent)
    seen_by_ana = [r.conversation_id for r in await queue.list_closed(session=session, staff=ana)]
    assert seen_by_ana == [mine]
    seen_by_owner = {
        r.conversation_id for r in await queue.list_closed(session=session, staff=owner)
    }
    assert seen_by_owner == {mine, other}
    found = await queue.list_closed(session=session, staff=owner, search="PARCEL")
    assert [r.conversation_id for r in found] == [other]
    assert found[0].handled_by == "Ben"


async def test_the_context_panel_facts_and_previous_conversations(session: AsyncSession) -> None:
    context = VisitorContext(
        ip="203.0.113.9", user_agent="Firefox/128.0 (X11; Linux)", page_url="https://s.example/"
    )
    browser = "b" * 43
    first = await conversations.start_conversation(
        session=session, context=context, visitor_id=browser
    )
    second = await conversations.start_conversation(
        session=session, context=context, visitor_id=browser
    )
    stranger = await conversations.start_conversation(session=session, visitor_id="c" * 43)
    assert second.conversation.visitor_ip == "203.0.113.9"
    assert second.conversation.page_url == "https://s.example/"
    assert (
        second.conversation.visitor_id_hash and browser not in second.conversation.visitor_id_hash
    )
    earlier = await queue.previous_conversations(session=session, conversation=second.conversation)
    assert [r.conversation_id for r in earlier] == [first.conversation.id]
    assert (
        await queue.previous_conversations(session=session, conversation=stranger.conversation)
        == []
    )
