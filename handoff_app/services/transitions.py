"""Status changes as single conditional UPDATEs, and who may make them.

Every status change is one `UPDATE ... WHERE id = :id AND status = :seen AND assignee = :seen`
whose target comes from the transition table, so concurrent actors on any number of workers
cannot both win: the loser's UPDATE matches no row and is told what happened instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import transaction_cache
from handoff_app.domain.lifecycle import (
    ConversationStatus,
    LifecycleAction,
    TransitionNotAllowed,
    next_status,
)
from handoff_app.models import Conversation, StaffPublic, StaffUser, utcnow
from handoff_app.prebuilt_sql import Prebuilt
from handoff_app.services.errors import AlreadyClaimed, NotFound, PermissionDenied


async def move_conversation(
    *,
    session: AsyncSession,
    conversation_id: int,
    action: LifecycleAction,
    actor: StaffPublic | None = None,
    retry: bool = True,
    **values: object,
) -> tuple[ConversationStatus, ConversationStatus]:
    """Apply `action` with one conditional UPDATE; return (from, to) or raise.

    `actor` is the staff member acting (None for the visitor or the bot): on an active
    conversation only its assignee, or an owner supervising, may act. The UPDATE repeats the
    status and assignee it checked in its WHERE clause, so nothing can slip in between the
    check and the write on any number of workers; if something did, the check runs again on
    the fresh row and gives the right refusal (AlreadyClaimed, PermissionDenied,
    TransitionNotAllowed, NotFound).
    """
    _forget_locked(session, conversation_id)  # changed, or found changed: read again after
    row = (
        await session.exec(
            select(Conversation.status, Conversation.assigned_staff_id).where(
                Conversation.id == conversation_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("This conversation does not exist.")
    current, assignee = ConversationStatus(row[0]), row[1]
    try:
        target = next_status(current, action)
    except TransitionNotAllowed:
        taking = action in (LifecycleAction.CLAIM, LifecycleAction.TAKEOVER)
        if taking and current is ConversationStatus.ACTIVE:
            raise AlreadyClaimed(await staff_label(session=session, staff_id=assignee)) from None
        raise
    if actor is not None:
        await check_actor(session=session, status=current, assignee=assignee, actor=actor)
    now = utcnow()
    extra: dict[str, object] = {"status": target.value, "updated_at": now, **values}
    if target in (ConversationStatus.RESOLVED, ConversationStatus.DISMISSED):
        extra["closed_at"] = now
    result = await session.execute(
        sa.update(Conversation)
        .where(
            col(Conversation.id) == conversation_id,
            col(Conversation.status) == current.value,
            col(Conversation.assigned_staff_id).is_not_distinct_from(assignee),
        )
        .values(**extra)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return current, target
    if not retry:
        raise TransitionNotAllowed(current, action)
    return await move_conversation(
        session=session,
        conversation_id=conversation_id,
        action=action,
        actor=actor,
        retry=False,
        **values,
    )


async def check_actor(
    *,
    session: AsyncSession,
    status: ConversationStatus,
    assignee: int | None,
    actor: StaffPublic,
    owners_too: bool = True,
) -> None:
    """Refuse a staff member acting on someone else's active conversation."""
    if status is not ConversationStatus.ACTIVE or assignee == actor.id:
        return
    if owners_too and actor.role == "owner":
        return
    holder = await staff_label(session=session, staff_id=assignee)
    raise PermissionDenied(f"{holder} is handling this conversation.")


async def staff_label(*, session: AsyncSession, staff_id: int | None) -> str:
    if staff_id is None:
        return "Nobody"
    staff = await session.get(StaffUser, staff_id)
    if staff is None:
        return "A former agent"
    return staff.display_name or staff.email.split("@")[0]


@dataclass
class LockedConversation:
    """What the write paths decide on, of a conversation row their transaction has locked."""

    id: int
    status: str
    assigned_staff_id: int | None


_CONVERSATIONS = Conversation.__table__  # type: ignore[attr-defined]
# the three columns every writer decides on, as one prebuilt statement: a writer runs this on
# every message, and loading the ORM row (all its columns, a model instance) cost more than
# the rest of an agent's access check
_LOCKED_COLUMNS = (
    _CONVERSATIONS.c.id,
    _CONVERSATIONS.c.status,
    _CONVERSATIONS.c.assigned_staff_id,
)
_LOCK_ROW = Prebuilt(
    sa.select(*_LOCKED_COLUMNS)
    .where(_CONVERSATIONS.c.id == sa.bindparam("conversation"))
    .with_for_update()
)
_LOCK_ROW_BY_KEY = Prebuilt(
    sa.select(*_LOCKED_COLUMNS)
    .where(_CONVERSATIONS.c.visitor_key_hash == sa.bindparam("key_hash"))
    .with_for_update()
)


async def lock_conversation(*, session: AsyncSession, conversation_id: int) -> LockedConversation:
    """The conversation's status and assignee, its row locked until the transaction ends (FOR
    UPDATE; SQLite's write transaction holds it anyway): writers that add to a conversation
    take it first, so its message ids are committed in order and no write slips past a
    concurrent close.

    Locked once per transaction: a second call in the same transaction (a staff action's
    access check, then its use case) returns the row it locked without reading it again. It
    is current: nobody else can change it while the lock is held, and `move_conversation`,
    the one place a status or assignee changes, forgets it, so the next call reads it again
    (whether the move was made or refused).
    """
    held = _locked_rows(session)
    if held is not None and conversation_id in held:
        return held[conversation_id]
    row = await _LOCK_ROW.first(session, {"conversation": conversation_id})
    if row is None:
        raise NotFound("This conversation does not exist.")
    return _remember_locked(session, row)


async def lock_conversation_by_key(
    *, session: AsyncSession, key_hash: str
) -> LockedConversation | None:
    """`lock_conversation` for the conversation a visitor's key opens (None: no such key)."""
    row = await _LOCK_ROW_BY_KEY.first(session, {"key_hash": key_hash})
    return _remember_locked(session, row) if row is not None else None


def _remember_locked(session: AsyncSession, row: tuple[Any, ...]) -> LockedConversation:
    locked = LockedConversation(id=row[0], status=row[1], assigned_staff_id=row[2])
    held = _locked_rows(session)
    if held is None:  # the read began this transaction
        held = {}
        transaction_cache.keep(session, _LOCKED, held)
    held[locked.id] = locked
    return locked


def _locked_rows(session: AsyncSession) -> dict[int, LockedConversation] | None:
    """The rows this session's current transaction has locked (None: none yet)."""
    return transaction_cache.current(session, _LOCKED)  # type: ignore[no-any-return]


def _forget_locked(session: AsyncSession, conversation_id: int) -> None:
    """After this transaction changed the row: the next `lock_conversation` reads it again
    (the lock is still held, so what it reads is current)."""
    held = _locked_rows(session)
    if held is not None:
        held.pop(conversation_id, None)


_LOCKED = "handoff_locked_conversations"  # per transaction: {id: locked row}
