"""What the staff queue shows: open handoffs, longest waiting first."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.lifecycle import HUMAN_STATUSES, ConversationStatus
from handoff_app.domain.markdown import plain_text
from handoff_app.models import Conversation, Escalation, Message, QueueRow, StaffUser

QUEUE_LIMIT = 200
PREVIEW_CHARS = 90


async def list_queue(*, session: AsyncSession) -> list[QueueRow]:
    """Pending and active conversations with their open escalation, oldest request first."""
    open_escalation_ids = (
        select(func.max(Escalation.id))
        .where(col(Escalation.closed_at).is_(None))
        .group_by(col(Escalation.conversation_id))
    )
    last_body = (
        select(Message.body)
        .where(
            col(Message.conversation_id) == col(Conversation.id),
            col(Message.sender).not_in(["system", "note"]),
        )
        .order_by(col(Message.id).desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    query = (
        select(Conversation, Escalation, StaffUser, last_body)
        .join(Escalation, col(Escalation.conversation_id) == col(Conversation.id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(Conversation.assigned_staff_id))
        .where(
            col(Conversation.status).in_([status.value for status in HUMAN_STATUSES]),
            col(Escalation.id).in_(open_escalation_ids),
        )
        .order_by(col(Escalation.requested_at))
        .limit(QUEUE_LIMIT)
    )
    found = list((await session.exec(query)).all())
    returned = await _returned_by(
        session=session, open_ids={e.conversation_id: e.id or 0 for _c, e, _s, _b in found}
    )
    rows: list[QueueRow] = []
    for conversation, escalation, staff, body in found:
        assert conversation.id is not None
        preview = plain_text(body or "")
        waiting = conversation.status == ConversationStatus.PENDING
        returned_by_id, returned_by = returned.get(conversation.id, (0, "")) if waiting else (0, "")
        rows.append(
            QueueRow(
                conversation_id=conversation.id,
                status=conversation.status,
                visitor_label=conversation.visitor_label,
                trigger=escalation.trigger,
                reason=escalation.reason,
                requested_at=escalation.requested_at.isoformat(),
                claimed_by=(staff.display_name or staff.email) if staff is not None else "",
                assigned_staff_id=conversation.assigned_staff_id or 0,
                returned_by_id=returned_by_id,
                returned_by=returned_by,
                preview=preview[:PREVIEW_CHARS] + ("…" if len(preview) > PREVIEW_CHARS else ""),
            )
        )
    return rows


async def _returned_by(
    *, session: AsyncSession, open_ids: dict[int, int]
) -> dict[int, tuple[int, str]]:
    """Per conversation, who returned it to the queue (rejected it) just before its open
    escalation, if anyone: the rejecting agent's own queue must not present it as new."""
    if not open_ids:
        return {}
    previous_ids = (
        select(func.max(Escalation.id))
        .where(
            col(Escalation.conversation_id).in_(list(open_ids)),
            col(Escalation.closed_at).is_not(None),
        )
        .group_by(col(Escalation.conversation_id))
    )
    query = (
        select(Escalation, StaffUser)
        .join(StaffUser, col(StaffUser.id) == col(Escalation.claimed_by_id))
        .where(col(Escalation.id).in_(previous_ids), Escalation.outcome == "rejected")
    )
    result: dict[int, tuple[int, str]] = {}
    for escalation, staff in (await session.exec(query)).all():
        if (escalation.id or 0) < open_ids.get(escalation.conversation_id, 0):
            assert staff.id is not None
            result[escalation.conversation_id] = (staff.id, staff.display_name or staff.email)
    return result


async def count_unclaimed(*, session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == ConversationStatus.PENDING.value)
    )
    return int(result.one())
