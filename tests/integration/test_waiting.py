"""A visitor waiting for a person: away, busy (the sweeper), contact details, continue with the
AI, place in the queue. On a real database; the sweeper also on PostgreSQL with racing sweeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import db, events
from handoff_app.domain.availability import WEEKDAYS
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.models import Conversation, Escalation, Message, utcnow
from handoff_app.services import conversations, handoff, waiting
from handoff_app.services.bot_replies import reply_as_bot
from handoff_app.services.workspace import update_settings
from tests.conftest import make_staff


async def escalated(session: AsyncSession, text: str = "where is my parcel?") -> int:
    started = await conversations.start_conversation(session=session)
    await conversations.post_visitor_message(session=session, key=started.key, body=text)
    await handoff.request_handoff(session=session, conversation=started.conversation)
    assert started.conversation.id is not None
    return started.conversation.id


async def open_escalation(session: AsyncSession, conversation_id: int) -> Escalation:
    session.expire_all()
    row = (
        await session.exec(
            select(Escalation)
            .where(Escalation.conversation_id == conversation_id)
            .order_by(Escalation.id.desc())  # type: ignore[union-attr]
        )
    ).first()
    assert row is not None
    return row


async def last_system_message(session: AsyncSession, conversation_id: int) -> str:
    rows = (
        await session.exec(
            select(Message.body)
            .where(Message.conversation_id == conversation_id, Message.sender == "system")
            .order_by(Message.id.desc())  # type: ignore[union-attr]
        )
    ).all()
    return rows[0]


async def test_nobody_available_means_away_at_once_and_the_request_stays_queued(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, agents_available=False, away_message="We're out!")
    cid = await escalated(session)
    escalation = await open_escalation(session, cid)
    assert escalation.away and escalation.response_deadline is None
    assert await last_system_message(session, cid) == "We're out!"
    info = await waiting.wait_info(session=session, conversation_id=cid)
    assert info.state == "away"
    assert (await session.get(Conversation, cid)).status == "pending"  # type: ignore[union-attr]


async def test_outside_working_hours_in_a_far_time_zone_is_away(session: AsyncSession) -> None:
    """Hours are read in the owner's time zone (Kiritimati, UTC+14: often another day than
    UTC): open only on another weekday there means away now; open all of today means not."""
    local = utcnow().astimezone(ZoneInfo("Pacific/Kiritimati"))
    today = WEEKDAYS[local.weekday()]
    other_day = WEEKDAYS[(local.weekday() + 3) % 7]
    await update_settings(
        session=session,
        working_hours_enforced=True,
        working_hours={other_day: {"open": "00:00", "close": "23:59"}},
        timezone="Pacific/Kiritimati",
    )
    assert (await open_escalation(session, await escalated(session))).away
    if local.strftime("%H:%M") == "23:59":
        return  # the one minute of the day the "all day" hours below exclude
    await update_settings(
        session=session, working_hours={today: {"open": "00:00", "close": "23:59"}}
    )
    assert not (await open_escalation(session, await escalated(session))).away


async def test_the_sweeper_moves_an_overdue_escalation_to_busy_exactly_once(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    await update_settings(session=session, response_timeout_seconds=2)
    cid = await escalated(session)
    deadline = (await open_escalation(session, cid)).response_deadline
    assert deadline is not None
    assert (
        await waiting.mark_overdue_busy(session=session, now=deadline - timedelta(seconds=1)) == 0
    )
    assert await waiting.mark_overdue_busy(session=session, now=deadline) == 1
    assert (
        await waiting.mark_overdue_busy(session=session, now=deadline + timedelta(seconds=5)) == 0
    )
    busy = [e for e in published if isinstance(e, events.EscalationBusy)]
    assert [(e.conversation_id) for e in busy] == [cid]
    info = await waiting.wait_info(session=session, conversation_id=cid)
    assert info.state == "busy"
    # the request is still in the queue: a late claim upgrades the visitor to a live agent
    agent = await make_staff(session, name="Late Lou")
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    assert (await waiting.wait_info(session=session, conversation_id=cid)).state == ""


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_racing_sweepers_on_several_workers_act_once_each(
    database_url: str, session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    """Eight sweeps at once (as from eight workers) over five overdue escalations: each one is
    moved by exactly one sweep, and a claimed one by none."""
    await update_settings(session=session, response_timeout_seconds=1)
    ids = [await escalated(session, f"question {i}") for i in range(6)]
    agent = await make_staff(session)
    await handoff.claim_conversation(session=session, conversation_id=ids[-1], staff=agent)
    later = utcnow() + timedelta(seconds=5)

    async def sweep() -> int:
        async with db.open_session() as own:
            return await waiting.mark_overdue_busy(session=own, now=later)

    moved = await asyncio.gather(*(sweep() for _ in range(8)))
    assert sum(moved) == 5
    busy = sorted(e.conversation_id for e in published if isinstance(e, events.EscalationBusy))
    assert busy == sorted(ids[:5])


async def test_a_deadline_survives_a_restart(database_url: str) -> None:
    """The deadline is in the database: a fresh process (new engines) still acts on it."""
    db.configure_database(db.async_database_url(database_url))
    async with db.open_session() as first:
        await update_settings(session=first, response_timeout_seconds=1)
        cid = await escalated(first)
    await db.dispose_engines()  # the worker dies mid-wait
    db.configure_database(db.async_database_url(database_url))  # ... and starts again
    async with db.open_session() as second:
        moved = await waiting.mark_overdue_busy(session=second, now=utcnow() + timedelta(seconds=2))
        assert moved == 1
        assert (await waiting.wait_info(session=second, conversation_id=cid)).state == "busy"
    await db.dispose_engines()


async def test_contact_details_are_checked_saved_and_published(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    cid = await escalated(session)
    for bad in ("", "call me", "12", "a@b", None, 42):
        with pytest.raises(waiting.InvalidContact):
            await waiting.leave_contact(session=session, conversation_id=cid, contact=bad)
    saved = await waiting.leave_contact(
        session=session, conversation_id=cid, contact=" +49 30 1234 5678 "
    )
    assert saved == "+49 30 1234 5678"
    assert (await open_escalation(session, cid)).lead_contact == saved
    assert any(isinstance(e, events.LeadCaptured) for e in published)
    await waiting.leave_contact(session=session, conversation_id=cid, contact="ann@example.com")
    assert (await waiting.wait_info(session=session, conversation_id=cid)).lead_contact == (
        "ann@example.com"
    )


async def test_continue_with_ai_returns_to_the_bot_and_keeps_the_contact(
    session: AsyncSession,
) -> None:
    await update_settings(session=session, agents_available=False)
    cid = await escalated(session, "how do I return an item?")
    await waiting.leave_contact(session=session, conversation_id=cid, contact="ann@example.com")
    await handoff.continue_with_ai(session=session, conversation_id=cid)
    escalation = await open_escalation(session, cid)
    assert escalation.outcome == "continued_with_ai" and escalation.closed_at is not None
    assert escalation.lead_contact == "ann@example.com"
    assert (await session.get(Conversation, cid)).status == "bot"  # type: ignore[union-attr]
    with pytest.raises(TransitionNotAllowed):
        await handoff.continue_with_ai(session=session, conversation_id=cid)


async def test_queue_positions_and_the_estimate(session: AsyncSession) -> None:
    first, second, third = [await escalated(session, f"q{i}") for i in range(3)]
    positions = await waiting.queue_positions(session=session)
    assert [positions[c] for c in (first, second, third)] == [1, 2, 3]
    assert (await waiting.wait_info(session=session, conversation_id=third)).estimate == ""
    agent = await make_staff(session)
    await handoff.claim_conversation(session=session, conversation_id=first, staff=agent)
    positions = await waiting.queue_positions(session=session)
    assert first not in positions and positions[second] == 1 and positions[third] == 2
    info = await waiting.wait_info(session=session, conversation_id=third)
    assert info.state == "waiting" and info.position == 2
    assert info.estimate == "less than a minute"  # one claim, a few ms after its request


async def test_the_whole_queue_read_at_once_matches_each_visitor_read_alone(
    session: AsyncSession,
) -> None:
    """`queue_wait_infos` (what every waiting visitor sees, in two queries) agrees with
    `wait_info` for each: places, estimates, busy, and contact details."""
    cids = [await escalated(session, f"w{i}") for i in range(5)]
    agent = await make_staff(session)
    await handoff.claim_conversation(session=session, conversation_id=cids[0], staff=agent)
    await waiting.leave_contact(session=session, conversation_id=cids[2], contact="a@b.example")
    await waiting.mark_overdue_busy(session=session, now=utcnow() + timedelta(days=1))
    session.expire_all()
    everyone = await waiting.queue_wait_infos(session=session)
    assert sorted(everyone) == sorted(cids[1:])  # the claimed one is no longer waiting
    for cid in cids[1:]:
        assert everyone[cid] == await waiting.wait_info(session=session, conversation_id=cid)
    assert [everyone[c].position for c in cids[1:]] == [1, 2, 3, 4]
    assert everyone[cids[2]].lead_contact == "a@b.example"


async def test_the_bot_answers_again_after_continue_with_ai(session: AsyncSession) -> None:
    started = await conversations.start_conversation(session=session)
    assert started.conversation.id is not None
    cid = started.conversation.id
    await conversations.post_visitor_message(session=session, key=started.key, body="hi")
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.continue_with_ai(session=session, conversation_id=cid)
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How long does shipping take?"
    )
    assert await reply_as_bot(conversation_id=cid) is not None
