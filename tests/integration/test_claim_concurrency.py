"""Races: many claims at once, a resolve racing a claim, repeated bot triggers (SQLite, PG)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.db import open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.models import Conversation, Escalation, Message
from handoff_app.services import conversations, handoff
from handoff_app.services.bot_replies import reply_as_bot
from handoff_app.services.errors import AlreadyClaimed, PermissionDenied, ServiceError
from handoff_app.services.knowledge import seed_demo_knowledge
from handoff_app.services.transcript import list_messages
from tests.conftest import make_staff

CLAIMANTS = 20


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_twenty_simultaneous_claims_have_exactly_one_winner(session: AsyncSession) -> None:
    agents = [await make_staff(session, name=f"Agent {n}") for n in range(CLAIMANTS)]
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await session.commit()

    gate = asyncio.Event()

    async def claim(agent_index: int) -> str:
        await gate.wait()
        async with open_session() as own:
            try:
                await handoff.claim_conversation(
                    session=own, conversation_id=cid, staff=agents[agent_index]
                )
            except AlreadyClaimed as lost:
                return f"lost:{lost.holder_label}"
        return "won"

    tasks = [asyncio.create_task(claim(n)) for n in range(CLAIMANTS)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks)

    winners = [n for n, r in enumerate(results) if r == "won"]
    assert len(winners) == 1
    winner = agents[winners[0]]
    assert all(r == f"lost:{winner.label}" for r in results if r != "won")

    async with open_session() as check:
        conversation = await check.get(Conversation, cid)
        assert conversation is not None
        assert conversation.status == "active" and conversation.assigned_staff_id == winner.id
        escalation = (
            await check.exec(select(Escalation).where(Escalation.conversation_id == cid))
        ).one()
        assert escalation.claimed_by_id == winner.id
        joined = (
            await check.exec(
                select(Message).where(Message.conversation_id == cid, Message.sender == "system")
            )
        ).all()
        # one handoff notice and exactly one "joined" notice
        assert len(joined) == 2


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_resolve_racing_a_claim_never_closes_the_winners_conversation(
    session: AsyncSession,
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    for _ in range(8):
        started = await conversations.start_conversation(session=session)
        cid = started.conversation.id or 0
        await handoff.request_handoff(session=session, conversation=started.conversation)
        await session.commit()
        gate = asyncio.Event()

        async def act(use_case, staff, gate=gate, cid=cid):  # type: ignore[no-untyped-def]
            await gate.wait()
            async with open_session() as own:
                try:
                    await use_case(session=own, conversation_id=cid, staff=staff)
                except (ServiceError, TransitionNotAllowed) as refused:
                    return refused
            return None

        resolving = asyncio.create_task(act(handoff.resolve_conversation, ana))
        claiming = asyncio.create_task(act(handoff.claim_conversation, ben))
        await asyncio.sleep(0.01)
        gate.set()
        resolve_error, claim_error = await asyncio.gather(resolving, claiming)
        async with open_session() as check:
            conversation = await check.get(Conversation, cid)
        assert conversation is not None
        if claim_error is None:  # Ben won: Ana's resolve was refused, naming him
            assert conversation.status == "active" and conversation.assigned_staff_id == ben.id
            assert isinstance(resolve_error, PermissionDenied) and "Ben" in str(resolve_error)
        else:  # Ana resolved the pending conversation first: Ben's claim was refused
            assert resolve_error is None
            assert conversation.status == "resolved"


async def test_concurrent_bot_triggers_give_one_answer(session: AsyncSession) -> None:
    await seed_demo_knowledge(session=session)
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How long does shipping take?"
    )
    await asyncio.gather(*(reply_as_bot(conversation_id=cid) for _ in range(5)))
    async with open_session() as check:
        senders = [m.sender for m in await list_messages(session=check, conversation_id=cid)]
    assert senders == ["visitor", "bot"]
