"""Who may open a conversation: checked by every staff handler, not only hidden in the UI."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.access import may_open_conversation
from handoff_app.domain.lifecycle import CLOSED_STATUSES, ConversationStatus
from handoff_app.models import Conversation, Escalation, StaffPublic
from handoff_app.services.errors import NotFound, PermissionDenied
from handoff_app.services.transitions import LockedConversation, lock_conversation

REFUSED = "You can't open this conversation: it is closed and you did not handle it."


async def handled_by(
    *, session: AsyncSession, conversation: Conversation | LockedConversation, staff_id: int
) -> bool:
    """The staff member was assigned to the conversation or claimed one of its escalations."""
    if conversation.assigned_staff_id == staff_id:
        return True
    claimed = await session.exec(
        select(Escalation.id)
        .where(Escalation.conversation_id == conversation.id, Escalation.claimed_by_id == staff_id)
        .limit(1)
    )
    return claimed.first() is not None


async def get_conversation_for_staff(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> Conversation:
    """The conversation if `staff` may open it; NotFound or PermissionDenied otherwise."""
    found = await session.get(Conversation, conversation_id)
    if found is None:
        raise NotFound("This conversation does not exist.")
    await _check_may_open(session=session, conversation=found, staff=staff)
    return found


async def lock_for_staff(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic
) -> None:
    """The access check of a write transaction about to act on the conversation: its row is
    locked (`lock_conversation`), so the use case's own lock then reads nothing more."""
    locked = await lock_conversation(session=session, conversation_id=conversation_id)
    await _check_may_open(session=session, conversation=locked, staff=staff)


async def _check_may_open(
    *, session: AsyncSession, conversation: Conversation | LockedConversation, staff: StaffPublic
) -> None:
    status = ConversationStatus(conversation.status)
    handled = status in CLOSED_STATUSES and await handled_by(
        session=session, conversation=conversation, staff_id=staff.id
    )
    if not may_open_conversation(role=staff.role, status=status, handled=handled):
        raise PermissionDenied(REFUSED)
