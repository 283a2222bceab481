"""What the staff queue shows: open handoffs, longest waiting first."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.lifecycle import HUMAN_STATUSES, ConversationStatus
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
        .where(col(Message.conversation_id) == col(Conversation.id), Message.sender != "system")
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
    rows: list[QueueRow] = []
    for conversation, escalation, staff, body in (await session.exec(query)).all():
        assert conversation.id is not None
        preview = body or ""
        rows.append(
            QueueRow(
                conversation_id=conversation.id,
                status=conversation.status,
                visitor_label=conversation.visitor_label,
                trigger=escalation.trigger,
                reason=escalation.reason,
                requested_at=escalation.requested_at.isoformat(),
                claimed_by=(staff.display_name or staff.email) if staff is not None else "",
                preview=preview[:PREVIEW_CHARS] + ("…" if len(preview) > PREVIEW_CHARS else ""),
            )
        )
    return rows


async def count_unclaimed(*, session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == ConversationStatus.PENDING.value)
    )
    return int(result.one())
