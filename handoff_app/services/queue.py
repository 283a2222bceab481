"""What the staff queue shows: open handoffs, longest waiting first."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.lifecycle import CLOSED_STATUSES, HUMAN_STATUSES, ConversationStatus
from handoff_app.domain.markdown import plain_text
from handoff_app.domain.row_changes import ascending_key, descending_key
from handoff_app.models import (
    Conversation,
    ConversationRow,
    Escalation,
    Message,
    QueueRow,
    StaffPublic,
    StaffUser,
)

# Browsers get the queue once per page load and then only the rows that change, so the
# limit is a safety net, not a cost cap.
QUEUE_LIMIT = 1000
BOT_LIST_LIMIT = 200
PREVIEW_CHARS = 90

# The statements the live queue runs on every change (and every preview refresh), built once
# with their ids as expanding parameters: one built per call made SQLAlchemy objects in
# reference cycles (a subquery and its columns) for the cyclic garbage collector each time,
# and compiled its cache key again.


def _ids() -> sa.BindParameter[list[int]]:
    return sa.bindparam("ids", expanding=True)


# the newest message of the row's conversation that is neither a system line nor an internal
# note (the preview)
_LAST_BODY = (
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
_OPEN_ESCALATION_IDS = (
    select(func.max(Escalation.id))
    .where(col(Escalation.closed_at).is_(None))
    .group_by(col(Escalation.conversation_id))
)
_QUEUE = (
    select(Conversation, Escalation, StaffUser, _LAST_BODY)
    .join(Escalation, col(Escalation.conversation_id) == col(Conversation.id))
    .outerjoin(StaffUser, col(StaffUser.id) == col(Conversation.assigned_staff_id))
    .where(
        col(Conversation.status).in_([status.value for status in HUMAN_STATUSES]),
        col(Escalation.id).in_(_OPEN_ESCALATION_IDS),
    )
    .order_by(col(Escalation.requested_at), col(Escalation.id))
    .limit(QUEUE_LIMIT)
)
_QUEUE_ROWS = _QUEUE.where(col(Conversation.id).in_(_ids()))
# per conversation, the newest agent message; then the visitor messages after it (unread)
_LAST_AGENT = (
    select(Message.conversation_id, func.max(Message.id).label("last_id"))
    .where(col(Message.conversation_id).in_(_ids()), Message.sender == "agent")
    .group_by(col(Message.conversation_id))
    .subquery()
)
_UNANSWERED = (
    select(Message.conversation_id, func.count())
    .outerjoin(_LAST_AGENT, _LAST_AGENT.c.conversation_id == col(Message.conversation_id))
    .where(
        col(Message.conversation_id).in_(_ids()),
        Message.sender == "visitor",
        col(Message.id) > func.coalesce(_LAST_AGENT.c.last_id, 0),
    )
    .group_by(col(Message.conversation_id))
)
# per conversation, its newest closed escalation, if it was rejected: by whom
_PREVIOUS_ESCALATION_IDS = (
    select(func.max(Escalation.id))
    .where(col(Escalation.conversation_id).in_(_ids()), col(Escalation.closed_at).is_not(None))
    .group_by(col(Escalation.conversation_id))
)
_RETURNED = (
    select(Escalation, StaffUser)
    .join(StaffUser, col(StaffUser.id) == col(Escalation.claimed_by_id))
    .where(col(Escalation.id).in_(_PREVIOUS_ESCALATION_IDS), Escalation.outcome == "rejected")
)
_UNCLAIMED = (
    select(func.count())
    .select_from(Conversation)
    .where(Conversation.status == ConversationStatus.PENDING.value)
)


async def list_queue(
    *, session: AsyncSession, conversation_ids: Collection[int] | None = None
) -> list[QueueRow]:
    """Pending and active conversations with their open escalation, oldest request first;
    with `conversation_ids`, only those that are in the queue (the rows an event changed)."""
    if conversation_ids is None:
        found = list((await session.exec(_QUEUE)).all())
    else:
        ids = list(conversation_ids)
        found = list((await session.exec(_QUEUE_ROWS, params={"ids": ids})).all())
    unread = await _unanswered(session, [c.id for c, *_ in found if c.id is not None])
    returned = await _returned_by(
        session=session, open_ids={e.conversation_id: e.id or 0 for _c, e, _s, _b in found}
    )
    rows: list[QueueRow] = []
    for conversation, escalation, staff, body in found:
        assert conversation.id is not None
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
                preview=_preview(body),
                deadline=(
                    escalation.response_deadline.isoformat() if escalation.response_deadline else ""
                ),
                busy=escalation.busy_at is not None,
                unread=unread.get(conversation.id, 0),
                sort_key=ascending_key(escalation.requested_at, escalation.id or 0),
            )
        )
    return rows


def _preview(body: str | None) -> str:
    """One line of plain text (markdown marks removed) for a row."""
    text = plain_text(body or "")
    return text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else "")


async def _unanswered(session: AsyncSession, conversation_ids: list[int]) -> dict[int, int]:
    """Per conversation: visitor messages after the last agent message (the unread count)."""
    if not conversation_ids:
        return {}
    counted = await session.exec(_UNANSWERED, params={"ids": conversation_ids})
    return {cid: int(n) for cid, n in counted.all()}


async def list_bot_conversations(
    *, session: AsyncSession, limit: int = BOT_LIST_LIMIT
) -> list[ConversationRow]:
    """Every conversation the bot is handling now, latest activity first (the "All" tab)."""
    query = (
        select(Conversation, _LAST_BODY)
        .where(Conversation.status == ConversationStatus.BOT.value)
        .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
        .limit(limit)
    )
    rows: list[ConversationRow] = []
    for conversation, body in (await session.exec(query)).all():
        assert conversation.id is not None
        if body is None:
            continue  # opened, nothing said yet
        rows.append(
            ConversationRow(
                conversation_id=conversation.id,
                status=conversation.status,
                visitor_label=conversation.visitor_label,
                preview=_preview(body),
                updated_at=conversation.updated_at.isoformat(),
                sort_key=descending_key(conversation.updated_at, conversation.id),
            )
        )
    return rows


async def list_closed(
    *, session: AsyncSession, staff: StaffPublic, search: object = "", limit: int = 100
) -> list[ConversationRow]:
    """Resolved and dismissed conversations, newest first, matching `search` (visitor label or
    any message text). Owners see all; agents only those they handled (assigned, or claimed
    one of its escalations): enforced here, not only hidden in the page."""
    text = search.strip()[:100] if isinstance(search, str) else ""
    query = (
        select(Conversation, _LAST_BODY, StaffUser)
        .outerjoin(StaffUser, col(StaffUser.id) == col(Conversation.assigned_staff_id))
        .where(col(Conversation.status).in_([s.value for s in CLOSED_STATUSES]))
    )
    if staff.role != "owner":
        handled = select(Escalation.conversation_id).where(Escalation.claimed_by_id == staff.id)
        query = query.where(
            (col(Conversation.assigned_staff_id) == staff.id) | col(Conversation.id).in_(handled)
        )
    if text:
        pattern = f"%{text.lower()}%"
        matching = select(Message.conversation_id).where(func.lower(Message.body).like(pattern))
        query = query.where(
            func.lower(Conversation.visitor_label).like(pattern)
            | col(Conversation.id).in_(matching)
        )
    query = query.order_by(col(Conversation.closed_at).desc()).limit(limit)
    rows: list[ConversationRow] = []
    for conversation, body, holder in (await session.exec(query)).all():
        assert conversation.id is not None
        rows.append(
            ConversationRow(
                conversation_id=conversation.id,
                status=conversation.status,
                visitor_label=conversation.visitor_label,
                preview=_preview(body),
                updated_at=(conversation.closed_at or conversation.updated_at).isoformat(),
                handled_by=(holder.display_name or holder.email) if holder is not None else "",
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
    result: dict[int, tuple[int, str]] = {}
    rejected = await session.exec(_RETURNED, params={"ids": list(open_ids)})
    for escalation, staff in rejected.all():
        if (escalation.id or 0) < open_ids.get(escalation.conversation_id, 0):
            assert staff.id is not None
            result[escalation.conversation_id] = (staff.id, staff.display_name or staff.email)
    return result


async def count_unclaimed(*, session: AsyncSession) -> int:
    return int((await session.exec(_UNCLAIMED)).one())


async def previous_conversations(
    *, session: AsyncSession, conversation: Conversation, limit: int = 5
) -> list[ConversationRow]:
    """The same visitor's other conversations (same browser id), newest first."""
    if not conversation.visitor_id_hash:
        return []
    query = (
        select(Conversation, _LAST_BODY)
        .where(
            Conversation.visitor_id_hash == conversation.visitor_id_hash,
            col(Conversation.id) != conversation.id,
        )
        .order_by(col(Conversation.id).desc())
        .limit(limit)
    )
    return [
        ConversationRow(
            conversation_id=other.id or 0,
            status=other.status,
            visitor_label=other.visitor_label,
            preview=_preview(body),
            updated_at=other.updated_at.isoformat(),
        )
        for other, body in (await session.exec(query)).all()
    ]
