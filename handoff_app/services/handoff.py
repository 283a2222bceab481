"""The handoff use cases: request, claim, reply, resolve, hand back, dismiss.

Each status change goes through `transitions.move_conversation` (one conditional UPDATE).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.availability import team_reachable
from handoff_app.domain.lifecycle import (
    ConversationStatus,
    LifecycleAction,
    TriggerType,
)
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.models import (
    Conversation,
    Escalation,
    Message,
    StaffPublic,
    WorkspaceSettings,
    utcnow,
)
from handoff_app.prebuilt_sql import Prebuilt
from handoff_app.services.errors import LiveSupportUnavailable, PermissionDenied
from handoff_app.services.transcript import add_message
from handoff_app.services.transitions import check_actor, lock_conversation, move_conversation
from handoff_app.services.workspace import (
    escalation_allowed,
    get_agent_label,
    get_workspace_settings,
)


@dataclass
class StagedHandoff:
    escalation_id: int
    events: list[events.ConversationEvent] = field(default_factory=list)


async def get_open_escalation(*, session: AsyncSession, conversation_id: int) -> Escalation | None:
    """The conversation's escalation that has not closed yet, if any."""
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


async def stage_joined_message(
    *,
    session: AsyncSession,
    conversation_id: int,
    staff: StaffPublic,
    settings: WorkspaceSettings,
) -> events.MessagePosted:
    """The "<agent> joined" line the visitor sees (the owner's agent label when set)."""
    return await _system_message(
        session=session,
        conversation_id=conversation_id,
        body=settings.agent_joined_message.replace("{agent}", settings.agent_label or staff.label),
    )


async def stage_handoff(
    *,
    session: AsyncSession,
    conversation_id: int,
    trigger: TriggerType,
    reason: str,
    triggering_message: Message | None,
    settings: WorkspaceSettings,
) -> StagedHandoff:
    """Move a bot conversation to pending inside the caller's transaction (caller commits)."""
    await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.REQUEST_HANDOFF,
        assigned_staff_id=None,
    )
    now = utcnow()
    # Outside working hours or with nobody available the request still reaches the queue
    # (nothing is lost), but the visitor is told so at once instead of waiting: no deadline.
    away = not team_reachable(
        now,
        agents_available=settings.agents_available,
        hours_enforced=settings.working_hours_enforced,
        hours=settings.working_hours,
        timezone=settings.timezone,
    )
    escalation = Escalation(
        conversation_id=conversation_id,
        trigger=trigger.value,
        reason=reason[:500],
        triggering_message_id=triggering_message.id if triggering_message else None,
        triggering_text=triggering_message.body if triggering_message else "",
        requested_at=now,
        response_deadline=(
            None if away else now + timedelta(seconds=settings.response_timeout_seconds)
        ),
        away=away,
    )
    session.add(escalation)
    await session.flush()
    assert escalation.id is not None
    posted = await _system_message(
        session=session,
        conversation_id=conversation_id,
        body=settings.away_message if away else settings.handoff_message,
    )
    return StagedHandoff(
        escalation_id=escalation.id,
        events=[
            posted,
            events.HandoffRequested(
                conversation_id=conversation_id, escalation_id=escalation.id, trigger=trigger.value
            ),
        ],
    )


async def request_handoff(
    *,
    session: AsyncSession,
    conversation: Conversation,
    trigger: TriggerType = TriggerType.BUTTON,
    reason: str = "The visitor asked to talk to a human.",
    triggering_message_id: int | None = None,
) -> int:
    """Hand a bot conversation to the human queue; returns the new escalation id.

    LiveSupportUnavailable when the owner's settings do not allow this trigger now.
    """
    settings = await get_workspace_settings(session=session)
    if not escalation_allowed(settings, trigger):
        raise LiveSupportUnavailable("Live chat with our team is not available right now.")
    triggering_message = None
    if triggering_message_id is not None:
        found = await session.get(Message, triggering_message_id)
        if found is not None and found.conversation_id == conversation.id:
            triggering_message = found
    assert conversation.id is not None
    staged = await stage_handoff(
        session=session,
        conversation_id=conversation.id,
        trigger=trigger,
        reason=reason,
        triggering_message=triggering_message,
        settings=settings,
    )
    await session.commit()
    await events.publish(*staged.events)
    return staged.escalation_id


async def _announce_and_commit_claim(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """The end of a claim or a take-over: tell the visitor who joined, commit, then publish."""
    posted = await stage_joined_message(
        session=session,
        conversation_id=conversation_id,
        staff=staff,
        settings=await get_workspace_settings(session=session),
    )
    await session.commit()
    await events.publish(
        posted, events.ConversationClaimed(conversation_id=conversation_id, staff_id=staff.id)
    )


async def claim_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Accept & Join: exactly one of any number of simultaneous claims wins.

    Losers get AlreadyClaimed naming the winner.
    """
    now = utcnow()
    await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.CLAIM,
        actor=staff,
        assigned_staff_id=staff.id,
    )
    escalation = await get_open_escalation(session=session, conversation_id=conversation_id)
    if escalation is not None:
        escalation.claimed_by_id = staff.id
        escalation.claimed_at = now
        session.add(escalation)
    await _announce_and_commit_claim(session=session, conversation_id=conversation_id, staff=staff)


async def take_over(*, session: AsyncSession, conversation_id: int, staff: StaffPublic) -> int:
    """A staff member takes a conversation from the bot without an escalation (the "All" tab):
    recorded as an escalation with trigger `takeover`, claimed by them at once. Two staff
    taking over at once: one conditional UPDATE, one winner (AlreadyClaimed for the other)."""
    now = utcnow()
    await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.TAKEOVER,
        actor=staff,
        assigned_staff_id=staff.id,
    )
    escalation = Escalation(
        conversation_id=conversation_id,
        trigger=TriggerType.TAKEOVER.value,
        reason=f"{staff.label} took the conversation over from the bot.",
        requested_at=now,
        claimed_by_id=staff.id,
        claimed_at=now,
    )
    session.add(escalation)
    await session.flush()
    escalation_id = escalation.id
    assert escalation_id is not None
    await _announce_and_commit_claim(session=session, conversation_id=conversation_id, staff=staff)
    return escalation_id


async def _close_escalation(*, session: AsyncSession, conversation_id: int, outcome: str) -> None:
    escalation = await get_open_escalation(session=session, conversation_id=conversation_id)
    if escalation is not None:
        escalation.closed_at = utcnow()
        escalation.outcome = outcome
        session.add(escalation)


async def _end_handoff(
    *,
    session: AsyncSession,
    conversation_id: int,
    staff: StaffPublic | None,
    action: LifecycleAction,
    outcome: str,
    event: events.ConversationEvent,
    notice: Callable[[WorkspaceSettings], str] | None,
    **values: Any,
) -> None:
    """Close the open escalation with `action`; post `notice` to the transcript if given.
    `staff` None: the visitor acts (continue with the AI)."""
    await move_conversation(
        session=session, conversation_id=conversation_id, action=action, actor=staff, **values
    )
    await _close_escalation(session=session, conversation_id=conversation_id, outcome=outcome)
    published: list[events.ConversationEvent] = []
    if notice is not None:
        settings = await get_workspace_settings(session=session)
        published.append(
            await _system_message(
                session=session, conversation_id=conversation_id, body=notice(settings)
            )
        )
    await session.commit()
    await events.publish(*published, event)


async def resolve_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Close the conversation and tell the visitor (the resolution message)."""
    await _end_handoff(
        session=session,
        conversation_id=conversation_id,
        staff=staff,
        action=LifecycleAction.RESOLVE,
        outcome="resolved",
        event=events.ConversationResolved(conversation_id=conversation_id, staff_id=staff.id),
        notice=lambda settings: settings.resolution_message,
    )


async def dismiss_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Close without messaging the visitor (spam, duplicates)."""
    await _end_handoff(
        session=session,
        conversation_id=conversation_id,
        staff=staff,
        action=LifecycleAction.DISMISS,
        outcome="dismissed",
        event=events.ConversationDismissed(conversation_id=conversation_id, staff_id=staff.id),
        notice=None,
    )


async def hand_back_to_bot(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """Give the conversation back to the bot; the transcript records the hand-back, so the
    history the bot reads says so."""
    await _end_handoff(
        session=session,
        conversation_id=conversation_id,
        staff=staff,
        action=LifecycleAction.HAND_BACK,
        outcome="handed_back",
        event=events.ConversationHandedBack(conversation_id=conversation_id, staff_id=staff.id),
        notice=lambda settings: settings.handback_message,
        assigned_staff_id=None,
    )


_ESCALATIONS = Escalation.__table__  # type: ignore[attr-defined]
# the newest open escalation's first reply time, unless set (a Core statement, built once: no
# loaded escalation needs to follow it)
_RECORD_FIRST_REPLY = Prebuilt(
    sa.update(_ESCALATIONS)
    .where(
        _ESCALATIONS.c.id
        == sa.select(sa.func.max(_ESCALATIONS.c.id))
        .where(
            _ESCALATIONS.c.conversation_id == sa.bindparam("conversation"),
            _ESCALATIONS.c.closed_at.is_(None),
        )
        .scalar_subquery(),
        _ESCALATIONS.c.first_agent_reply_at.is_(None),
    )
    .values(first_agent_reply_at=sa.bindparam("at"))
)


async def post_agent_reply(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic, body: object
) -> Message:
    """Persist an agent's reply (the assignee only, while active), then publish it.

    Only the assignee replies, owners included: a visitor never hears from two people at once.
    """
    # Row lock: a hand-back or resolve committing meanwhile waits for this reply (or this
    # read waits for it and then sees the new status), so no reply lands after the close.
    conversation = await lock_conversation(session=session, conversation_id=conversation_id)
    await check_actor(
        session=session,
        status=ConversationStatus(conversation.status),
        assignee=conversation.assigned_staff_id,
        actor=staff,
        owners_too=False,
    )
    if conversation.status != ConversationStatus.ACTIVE:
        raise PermissionDenied("Accept & Join this conversation before replying.")
    label = await get_agent_label(session=session)
    message, posted = await add_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.AGENT,
        body=clean_message_body(body),
        author_staff_id=staff.id,
        author_label=label or staff.label,  # the visitor sees the owner's label
    )
    # the first reply to the open escalation is its response time (one conditional UPDATE: no
    # read on the usual path, where it is already set)
    await _RECORD_FIRST_REPLY.count(session, {"conversation": conversation_id, "at": utcnow()})
    await session.commit()
    await events.publish(posted)
    return message


async def get_latest_escalation(
    *, session: AsyncSession, conversation_id: int
) -> Escalation | None:
    """The conversation's most recent escalation, open or closed (for the context panel)."""
    result = await session.exec(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id)
        .order_by(col(Escalation.id).desc())
    )
    return result.first()


async def continue_with_ai(*, session: AsyncSession, conversation_id: int) -> None:
    """The waiting visitor gives up on a person and goes back to the bot (busy or away).
    Their contact details, if they left some, stay on the closed escalation."""
    await _end_handoff(
        session=session,
        conversation_id=conversation_id,
        staff=None,
        action=LifecycleAction.CONTINUE_WITH_AI,
        outcome="continued_with_ai",
        event=events.ConversationHandedBack(conversation_id=conversation_id, staff_id=None),
        notice=lambda settings: settings.handback_message,
        assigned_staff_id=None,
    )
