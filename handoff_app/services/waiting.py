"""A visitor waiting for a person: place in the queue, estimated wait, the response deadline
(busy), and the contact details they leave when nobody can come."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.availability import describe_wait, estimate_wait_seconds
from handoff_app.domain.lifecycle import ConversationStatus
from handoff_app.models import Conversation, Escalation, utcnow
from handoff_app.services.errors import ServiceError

RECENT_WAITS = 20  # claims the estimate looks at
RECENT_WINDOW = timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")


class InvalidContact(ServiceError):
    pass


class WaitState:
    WAITING = "waiting"
    BUSY = "busy"
    AWAY = "away"


@dataclass(frozen=True)
class WaitInfo:
    """What the waiting visitor is shown (empty for a conversation not in the queue)."""

    state: str = ""  # waiting | busy | away | ""
    position: int = 0  # 1 = next; 0 unknown or not waiting
    estimate: str = ""  # "about 3 minutes"; "" without history
    lead_contact: str = ""


def clean_contact(raw: object) -> str:
    """A phone number or an email address, or InvalidContact saying what to enter."""
    text = raw.strip() if isinstance(raw, str) else ""
    if _EMAIL.match(text) and len(text) <= 254:
        return text
    if _PHONE.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        return text
    raise InvalidContact("Enter a phone number or an email address so we can reach you.")


async def _open_escalation(session: AsyncSession, conversation_id: int) -> Escalation | None:
    result = await session.exec(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id, col(Escalation.closed_at).is_(None))
        .order_by(col(Escalation.id).desc())
    )
    return result.first()


async def leave_contact(*, session: AsyncSession, conversation_id: int, contact: object) -> str:
    """Save the visitor's phone or email on the open escalation; agents see it at once."""
    clean = clean_contact(contact)
    escalation = await _open_escalation(session, conversation_id)
    if escalation is None or escalation.claimed_at is not None:
        raise InvalidContact("An agent is already with you: just write here.")
    escalation.lead_contact = clean
    session.add(escalation)
    await session.commit()
    assert escalation.id is not None
    await events.publish(
        events.LeadCaptured(conversation_id=conversation_id, escalation_id=escalation.id)
    )
    return clean


async def mark_overdue_busy(*, session: AsyncSession, now: datetime | None = None) -> int:
    """The sweeper's step: every unclaimed escalation past its response deadline becomes busy,
    exactly once. One conditional UPDATE decides, so several workers (or a restart in the middle
    of a wait) never act twice; returns how many this call moved."""
    moment = now or utcnow()
    overdue = (
        sa.update(Escalation)
        .where(
            col(Escalation.busy_at).is_(None),
            col(Escalation.closed_at).is_(None),
            col(Escalation.claimed_at).is_(None),
            col(Escalation.response_deadline).is_not(None),
            col(Escalation.response_deadline) <= moment,
        )
        .values(busy_at=moment)
        .returning(col(Escalation.id), col(Escalation.conversation_id))
    )
    rows = (await session.execute(overdue)).all()
    await session.commit()
    await events.publish(
        *(events.EscalationBusy(conversation_id=conv, escalation_id=esc) for esc, conv in rows)
    )
    return len(rows)


def _in_queue_order(selected):  # type: ignore[no-untyped-def]
    """`selected` (a select) narrowed to the open escalations of pending conversations, in
    queue order: longest waiting first."""
    return (
        selected.join(Conversation, col(Conversation.id) == col(Escalation.conversation_id))
        .where(
            Conversation.status == ConversationStatus.PENDING,
            col(Escalation.closed_at).is_(None),
        )
        .order_by(col(Escalation.requested_at), col(Escalation.id))
    )


async def queue_positions(*, session: AsyncSession) -> dict[int, int]:
    """Place in the queue of every pending conversation (1 = longest waiting)."""
    result = await session.exec(_in_queue_order(select(Escalation.conversation_id)))
    positions: dict[int, int] = {}
    for conversation_id in result.all():
        positions.setdefault(conversation_id, len(positions) + 1)
    return positions


async def recent_waits(*, session: AsyncSession, now: datetime | None = None) -> list[float]:
    """Seconds from request to claim of the latest claims (the estimate's history)."""
    since = (now or utcnow()) - RECENT_WINDOW
    result = await session.exec(
        select(Escalation.requested_at, Escalation.claimed_at)
        .where(col(Escalation.claimed_at).is_not(None), col(Escalation.claimed_at) >= since)
        .order_by(col(Escalation.claimed_at).desc())
        .limit(RECENT_WAITS)
    )
    return [
        (claimed - requested).total_seconds()
        for requested, claimed in result.all()
        if claimed is not None
    ]


async def wait_info(*, session: AsyncSession, conversation_id: int) -> WaitInfo:
    """What a visitor in the queue sees."""
    escalation = await _open_escalation(session, conversation_id)
    if escalation is None or escalation.claimed_at is not None:
        return WaitInfo()
    position = (await queue_positions(session=session)).get(conversation_id, 0)
    waits = await recent_waits(session=session) if _state(escalation) == WaitState.WAITING else []
    return _describe(escalation, position, waits)


async def queue_wait_infos(*, session: AsyncSession) -> dict[int, WaitInfo]:
    """What every visitor in the queue sees, by conversation, in two queries (the queue changed:
    everybody's place may have)."""
    result = await session.exec(_in_queue_order(select(Escalation)))
    positions: dict[int, int] = {}
    newest: dict[int, Escalation] = {}  # as _open_escalation: the latest open one counts
    for escalation in result.all():
        cid = escalation.conversation_id
        positions.setdefault(cid, len(positions) + 1)
        if cid not in newest or (escalation.id or 0) > (newest[cid].id or 0):
            newest[cid] = escalation
    waits = await recent_waits(session=session)
    return {
        cid: _describe(escalation, positions[cid], waits)
        for cid, escalation in newest.items()
        if escalation.claimed_at is None
    }


def _state(escalation: Escalation) -> str:
    if escalation.away:
        return WaitState.AWAY
    return WaitState.BUSY if escalation.busy_at is not None else WaitState.WAITING


def _describe(escalation: Escalation, position: int, waits: list[float]) -> WaitInfo:
    state = _state(escalation)
    estimate = (
        describe_wait(estimate_wait_seconds(waits, position)) if state == WaitState.WAITING else ""
    )
    return WaitInfo(
        state=state,
        position=position,
        estimate=estimate,
        lead_contact=escalation.lead_contact or "",
    )
