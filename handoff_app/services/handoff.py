"""The handoff lifecycle: request, claim, reject, resolve, hand back, dismiss.

Every status change is one conditional UPDATE (`... WHERE id = :id AND status = :seen`) whose
target comes from the transition table, so concurrent actors on any number of workers cannot
both win: the loser's UPDATE matches no row and is told what happened instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.lifecycle import (
    ConversationStatus,
    LifecycleAction,
    TransitionNotAllowed,
    TriggerType,
    next_status,
)
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.models import (
    Conversation,
    Escalation,
    Message,
    StaffPublic,
    StaffUser,
    WorkspaceSettings,
    utcnow,
)
from handoff_app.services.errors import AlreadyClaimed, NotFound, PermissionDenied
from handoff_app.services.transcript import add_message
from handoff_app.services.workspace import get_workspace_settings


@dataclass
class StagedHandoff:
    escalation_id: int
    events: list[events.ConversationEvent] = field(default_factory=list)


async def _move(
    *,
    session: AsyncSession,
    conversation_id: int,
    action: LifecycleAction,
    **values: object,
) -> tuple[ConversationStatus, ConversationStatus]:
    """Apply `action` with one conditional UPDATE; return (from, to) or raise.

    Raises NotFound, TransitionNotAllowed, or (for a claim that lost the race) AlreadyClaimed.
    """
    seen = (
        await session.exec(select(Conversation.status).where(Conversation.id == conversation_id))
    ).first()
    if seen is None:
        raise NotFound("This conversation does not exist.")
    current = ConversationStatus(seen)
    try:
        target = next_status(current, action)
    except TransitionNotAllowed:
        await _explain_lost_race(session=session, conversation_id=conversation_id, action=action)
        raise
    now = utcnow()
    extra: dict[str, object] = {"status": target.value, "updated_at": now, **values}
    if target in (ConversationStatus.RESOLVED, ConversationStatus.DISMISSED):
        extra["closed_at"] = now
    result = await session.execute(
        sa.update(Conversation)
        .where(col(Conversation.id) == conversation_id, col(Conversation.status) == current.value)
        .values(**extra)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await _explain_lost_race(session=session, conversation_id=conversation_id, action=action)
    return current, target


async def _explain_lost_race(
    *, session: AsyncSession, conversation_id: int, action: LifecycleAction
) -> None:
    row = (
        await session.exec(
            select(Conversation.status, Conversation.assigned_staff_id).where(
                Conversation.id == conversation_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("This conversation does not exist.")
    status, holder_id = row
    if action is LifecycleAction.CLAIM and status == ConversationStatus.ACTIVE:
        raise AlreadyClaimed(await staff_label(session=session, staff_id=holder_id))
    raise TransitionNotAllowed(ConversationStatus(status), action)


async def staff_label(*, session: AsyncSession, staff_id: int | None) -> str:
    if staff_id is None:
        return "Nobody"
    staff = await session.get(StaffUser, staff_id)
    if staff is None:
        return "A former agent"
    return staff.display_name or staff.email.split("@")[0]


async def _open_escalation(*, session: AsyncSession, conversation_id: int) -> Escalation | None:
    result = await session.exec(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id, col(Escalation.closed_at).is_(None))
        .order_by(col(Escalation.id).desc())
    )
    return result.first()


async def _system_message(
    *, session: AsyncSession, conversation_id: int, body: str
) -> events.MessagePosted:
    _message, posted = await add_message(
        session=session, conversation_id=conversation_id, sender=Sender.SYSTEM, body=body
    )
    return posted


async def stage_handoff(
    *,
    session: AsyncSession,
    conversation: Conversation,
    trigger: TriggerType,
    reason: str,
    triggering_message: Message | None,
    settings: WorkspaceSettings,
) -> StagedHandoff:
    """Move a bot conversation to pending inside the caller's transaction (caller commits)."""
    assert conversation.id is not None
    await _move(
        session=session,
        conversation_id=conversation.id,
        action=LifecycleAction.REQUEST_HANDOFF,
        assigned_staff_id=None,
    )
    now = utcnow()
    escalation = Escalation(
        conversation_id=conversation.id,
        trigger=trigger.value,
        reason=reason[:500],
        triggering_message_id=triggering_message.id if triggering_message else None,
        triggering_text=triggering_message.body if triggering_message else "",
        requested_at=now,
        response_deadline=now + timedelta(seconds=settings.response_timeout_seconds),
    )
    session.add(escalation)
    await session.flush()
    assert escalation.id is not None
    posted = await _system_message(
        session=session, conversation_id=conversation.id, body=settings.handoff_message
    )
    return StagedHandoff(
        escalation_id=escalation.id,
        events=[
            posted,
            events.HandoffRequested(
                conversation_id=conversation.id, escalation_id=escalation.id, trigger=trigger.value
            ),
        ],
    )


async def request_handoff(
    *,
    session: AsyncSession,
    conversation: Conversation,
    trigger: TriggerType = TriggerType.BUTTON,
    reason: str = "The visitor asked to talk to a human.",
) -> int:
    """Hand a bot conversation to the human queue; returns the new escalation id."""
    settings = await get_workspace_settings(session=session)
    staged = await stage_handoff(
        session=session,
        conversation=conversation,
        trigger=trigger,
        reason=reason,
        triggering_message=None,
        settings=settings,
    )
    await session.commit()
    await events.publish(*staged.events)
    return staged.escalation_id


async def claim_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Accept & Join: exactly one of any number of simultaneous claims wins.

    Losers get AlreadyClaimed naming the winner.
    """
    now = utcnow()
    await _move(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.CLAIM,
        assigned_staff_id=staff.id,
    )
    escalation = await _open_escalation(session=session, conversation_id=conversation_id)
    if escalation is not None:
        escalation.claimed_by_id = staff.id
        escalation.claimed_at = now
        session.add(escalation)
    settings = await get_workspace_settings(session=session)
    posted = await _system_message(
        session=session,
        conversation_id=conversation_id,
        body=settings.agent_joined_message.replace("{agent}", staff.label),
    )
    await session.commit()
    await events.publish(
        posted, events.ConversationClaimed(conversation_id=conversation_id, staff_id=staff.id)
    )


async def require_assignee(
    *,
    session: AsyncSession,
    conversation_id: int,
    staff: StaffPublic,
    owners_too: bool = True,
) -> Conversation:
    """The conversation, if `staff` may act in it now: its assignee (or, for closing and
    handing back, an owner supervising). Anyone may act on a pending one."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("This conversation does not exist.")
    supervising = owners_too and staff.role == "owner"
    if (
        conversation.status == ConversationStatus.ACTIVE
        and conversation.assigned_staff_id != staff.id
        and not supervising
    ):
        holder = await staff_label(session=session, staff_id=conversation.assigned_staff_id)
        raise PermissionDenied(f"{holder} is handling this conversation.")
    return conversation


async def _close_escalation(*, session: AsyncSession, conversation_id: int, outcome: str) -> None:
    escalation = await _open_escalation(session=session, conversation_id=conversation_id)
    if escalation is not None:
        escalation.closed_at = utcnow()
        escalation.outcome = outcome
        session.add(escalation)


async def resolve_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Close the conversation and tell the visitor (the resolution message)."""
    await require_assignee(session=session, conversation_id=conversation_id, staff=staff)
    await _move(session=session, conversation_id=conversation_id, action=LifecycleAction.RESOLVE)
    await _close_escalation(session=session, conversation_id=conversation_id, outcome="resolved")
    settings = await get_workspace_settings(session=session)
    posted = await _system_message(
        session=session, conversation_id=conversation_id, body=settings.resolution_message
    )
    await session.commit()
    await events.publish(
        posted, events.ConversationResolved(conversation_id=conversation_id, staff_id=staff.id)
    )


async def dismiss_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Close without messaging the visitor (spam, duplicates)."""
    await require_assignee(session=session, conversation_id=conversation_id, staff=staff)
    await _move(session=session, conversation_id=conversation_id, action=LifecycleAction.DISMISS)
    await _close_escalation(session=session, conversation_id=conversation_id, outcome="dismissed")
    await session.commit()
    await events.publish(
        events.ConversationDismissed(conversation_id=conversation_id, staff_id=staff.id)
    )


async def hand_back_to_bot(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Give the conversation back to the bot; the transcript records the hand-back."""
    await require_assignee(session=session, conversation_id=conversation_id, staff=staff)
    await _move(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.HAND_BACK,
        assigned_staff_id=None,
    )
    await _close_escalation(session=session, conversation_id=conversation_id, outcome="handed_back")
    settings = await get_workspace_settings(session=session)
    posted = await _system_message(
        session=session, conversation_id=conversation_id, body=settings.handback_message
    )
    await session.commit()
    await events.publish(
        posted, events.ConversationHandedBack(conversation_id=conversation_id, staff_id=staff.id)
    )


async def post_agent_reply(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic, body: object
) -> Message:
    """Persist an agent's reply (the assignee only, while active), then publish it.

    Only the assignee replies, owners included: a visitor never hears from two people at once.
    """
    conversation = await require_assignee(
        session=session, conversation_id=conversation_id, staff=staff, owners_too=False
    )
    if conversation.status != ConversationStatus.ACTIVE:
        raise PermissionDenied("Accept & Join this conversation before replying.")
    message, posted = await add_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.AGENT,
        body=clean_message_body(body),
        author_staff_id=staff.id,
        author_label=staff.label,
    )
    escalation = await _open_escalation(session=session, conversation_id=conversation_id)
    if escalation is not None and escalation.first_agent_reply_at is None:
        escalation.first_agent_reply_at = utcnow()
        session.add(escalation)
    await session.commit()
    await events.publish(posted)
    return message


async def get_open_escalation(*, session: AsyncSession, conversation_id: int) -> Escalation | None:
    return await _open_escalation(session=session, conversation_id=conversation_id)
