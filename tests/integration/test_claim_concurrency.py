"""Many agents press Accept & Join at once: exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.db import open_session
from handoff_app.models import Conversation, Escalation, Message
from handoff_app.services import conversations, handoff
from handoff_app.services.errors import AlreadyClaimed
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
