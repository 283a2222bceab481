"""Moving a held conversation between people: reject (back to the queue) and transfer.

Each move is recorded on the escalations: the holder's escalation closes with outcome
"rejected" or "transferred" (its `claimed_by_id` says who held it) and a new one opens with the
same trigger, reason and request time, so the trigger and the visitor's wait are kept, every
stint has its own claim and first-reply times, and "who handled this" stays answerable. The
transcript gets an internal note (staff only): the visitor just sees the state change.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.lifecycle import ConversationStatus, LifecycleAction
from handoff_app.models import Escalation, StaffPublic, StaffUser, utcnow
from handoff_app.services.errors import PermissionDenied, ServiceError
from handoff_app.services.handoff import get_open_escalation, stage_joined_message
from handoff_app.services.notes import stage_note
from handoff_app.services.transitions import (
    LockedConversation,
    lock_conversation,
    move_conversation,
    staff_label,
)
from handoff_app.services.workspace import get_workspace_settings

MAX_REASON_LENGTH = 500


class InvalidTransfer(ServiceError):
    pass


def clean_reason(reason: object) -> str:
    """An optional free-text reason or note: text, at most MAX_REASON_LENGTH characters."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InvalidTransfer("The note must be text.")
    text = reason.strip()
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidTransfer(f"Keep the note under {MAX_REASON_LENGTH} characters.")
    return text


async def _lock_held_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> LockedConversation:
    """The conversation, row-locked, if `staff` holds it (active and assigned to them)."""
    conversation = await lock_conversation(session=session, conversation_id=conversation_id)
    if conversation.status != ConversationStatus.ACTIVE:
        raise PermissionDenied("Only a conversation someone holds can be passed on.")
    if conversation.assigned_staff_id != staff.id:
        holder = await staff_label(session=session, staff_id=conversation.assigned_staff_id)
        raise PermissionDenied(f"{holder} is handling this conversation.")
    return conversation


async def _reopen_escalation(
    *,
    session: AsyncSession,
    conversation_id: int,
    outcome: str,
    claimed_by_id: int | None = None,
) -> None:
    """Close the open escalation with `outcome` and open its successor (same trigger, reason
    and request time; a fresh response deadline while it waits)."""
    now = utcnow()
    previous = await get_open_escalation(session=session, conversation_id=conversation_id)
    settings = await get_workspace_settings(session=session)
    if previous is not None:
        previous.closed_at = now
        previous.outcome = outcome
        session.add(previous)
    session.add(
        Escalation(
            conversation_id=conversation_id,
            trigger=previous.trigger if previous else "takeover",
            reason=previous.reason if previous else "",
            triggering_message_id=previous.triggering_message_id if previous else None,
            triggering_text=previous.triggering_text if previous else "",
            requested_at=previous.requested_at if previous else now,
            response_deadline=(
                None
                if claimed_by_id
                else now + timedelta(seconds=settings.response_timeout_seconds)
            ),
            claimed_by_id=claimed_by_id,
            claimed_at=now if claimed_by_id else None,
        )
    )
    await session.flush()


async def reject_conversation(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic, reason: object = None
) -> None:
    """The holder returns the conversation to the pending queue (any agent may claim it).

    The visitor sees "waiting" again; staff see an internal note saying who returned it, why.
    """
    text = clean_reason(reason)
    await _lock_held_conversation(session=session, conversation_id=conversation_id, staff=staff)
    await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.REJECT,
        actor=staff,
        assigned_staff_id=None,
    )
    await _reopen_escalation(session=session, conversation_id=conversation_id, outcome="rejected")
    body = f"{staff.label} returned this conversation to the queue."
    _note, posted = await stage_note(
        session=session,
        conversation_id=conversation_id,
        author=staff,
        body=body + (f"\n\n{text}" if text else ""),
    )
    await session.commit()
    await events.publish(
        posted, events.ConversationRejected(conversation_id=conversation_id, staff_id=staff.id)
    )


async def list_transfer_targets(*, session: AsyncSession, staff_id: int) -> list[StaffPublic]:
    """Every current staff member except `staff_id`, by name."""
    result = await session.exec(
        select(StaffUser)
        .where(col(StaffUser.removed_at).is_(None), StaffUser.id != staff_id)
        .order_by(col(StaffUser.display_name), col(StaffUser.email))
    )
    return [
        StaffPublic(id=u.id, email=u.email, display_name=u.display_name, role=u.role)
        for u in result.all()
        if u.id is not None
    ]


async def transfer_conversation(
    *,
    session: AsyncSession,
    conversation_id: int,
    staff: StaffPublic,
    to_staff_id: object,
    note: object = None,
) -> StaffPublic:
    """The holder hands the conversation to another current staff member; it stays active.

    Staff see an internal note with the holder's note; the visitor sees the joined message
    only when the name they see changes (no workspace-wide agent label). Returns the target.
    """
    text = clean_reason(note)
    if isinstance(to_staff_id, str) and to_staff_id.isdigit():
        to_staff_id = int(to_staff_id)
    if not isinstance(to_staff_id, int) or isinstance(to_staff_id, bool):
        raise InvalidTransfer("Choose who should take over.")
    await _lock_held_conversation(session=session, conversation_id=conversation_id, staff=staff)
    target_row = await session.get(StaffUser, to_staff_id)
    if target_row is None or target_row.removed_at is not None or target_row.id is None:
        raise InvalidTransfer("That staff member is not available.")
    if target_row.id == staff.id:
        raise InvalidTransfer("You already hold this conversation.")
    target = StaffPublic(
        id=target_row.id,
        email=target_row.email,
        display_name=target_row.display_name,
        role=target_row.role,
    )
    await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=LifecycleAction.TRANSFER,
        actor=staff,
        assigned_staff_id=target.id,
    )
    await _reopen_escalation(
        session=session,
        conversation_id=conversation_id,
        outcome="transferred",
        claimed_by_id=target.id,
    )
    body = f"{staff.label} transferred this conversation to {target.label}."
    _note, note_posted = await stage_note(
        session=session,
        conversation_id=conversation_id,
        author=staff,
        body=body + (f"\n\n{text}" if text else ""),
    )
    published: list[events.ConversationEvent] = [note_posted]
    settings = await get_workspace_settings(session=session)
    if not settings.agent_label:  # the visitor sees names: tell them who is with them now
        published.append(
            await stage_joined_message(
                session=session, conversation_id=conversation_id, staff=target, settings=settings
            )
        )
    await session.commit()
    published.append(
        events.ConversationTransferred(
            conversation_id=conversation_id, staff_id=staff.id, to_staff_id=target.id
        )
    )
    await events.publish(*published)
    return target
