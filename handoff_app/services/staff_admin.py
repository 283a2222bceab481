"""The owner's staff administration: list, change role, remove, reset a password.

Every function takes the acting staff member and refuses anyone but an owner, so a state that
forgot its own check still changes nothing. The workspace always keeps at least one owner.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import StaffPublic, StaffUser, utcnow
from handoff_app.security import hash_password
from handoff_app.services.errors import NotFound, PermissionDenied, ServiceError
from handoff_app.services.staff import check_password
from handoff_app.services.staff_tabs import end_sessions

ROLES = ("owner", "agent")


class LastOwner(ServiceError):
    pass


class StaffRow(BaseModel):
    """One line of the staff table."""

    id: int
    email: str
    display_name: str
    role: str
    joined: str  # ISO 8601, UTC
    is_you: bool = False


@dataclass
class SessionsEnded:
    """What a change did to sessions: the client tokens of tabs to sign out live."""

    client_tokens: list[str] = field(default_factory=list)


def _require_owner(actor: StaffPublic | None) -> StaffPublic:
    if actor is None or actor.role != "owner":
        raise PermissionDenied("Only the owner can manage staff.")
    return actor


async def _lock_staff_changes(session: AsyncSession) -> None:
    """Serialise role changes and removals, so two owners demoting each other at once cannot
    leave the workspace without one (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(727002)"))


async def _active_member(session: AsyncSession, staff_id: object) -> StaffUser:
    if not isinstance(staff_id, int) or isinstance(staff_id, bool):
        raise NotFound("No such staff member.")
    user = await session.get(StaffUser, staff_id)
    if user is None or user.removed_at is not None:
        raise NotFound("No such staff member.")
    return user


async def _count_owners(session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == "owner", col(StaffUser.removed_at).is_(None))
    )
    return int((await session.exec(query)).one())


async def list_staff(*, session: AsyncSession, actor: StaffPublic | None) -> list[StaffRow]:
    """Active staff, owners first, then by name."""
    me = _require_owner(actor)
    users = (
        await session.exec(
            select(StaffUser)
            .where(col(StaffUser.removed_at).is_(None))
            .order_by(col(StaffUser.role).desc(), col(StaffUser.display_name), col(StaffUser.id))
        )
    ).all()
    return [
        StaffRow(
            id=u.id or 0,
            email=u.email,
            display_name=u.display_name,
            role=u.role,
            joined=u.created_at.isoformat(),
            is_you=u.id == me.id,
        )
        for u in users
    ]


async def change_role(
    *, session: AsyncSession, actor: StaffPublic | None, staff_id: object, role: object
) -> None:
    """Make a staff member an owner or an agent; the last owner cannot be demoted."""
    _require_owner(actor)
    if role not in ROLES:
        raise ServiceError("The role must be owner or agent.")
    await _lock_staff_changes(session)
    user = await _active_member(session, staff_id)
    if user.role == "owner" and role == "agent" and await _count_owners(session) <= 1:
        raise LastOwner("The workspace needs an owner: make someone else owner first.")
    user.role = str(role)
    session.add(user)
    await session.commit()


async def remove_staff(
    *,
    session: AsyncSession,
    actor: StaffPublic | None,
    staff_id: object,
    now: datetime | None = None,
) -> SessionsEnded:
    """Soft-remove a staff member: they cannot sign in and every session of theirs ends now."""
    _require_owner(actor)
    await _lock_staff_changes(session)
    user = await _active_member(session, staff_id)
    if user.role == "owner" and await _count_owners(session) <= 1:
        raise LastOwner("The last owner cannot be removed.")
    user.removed_at = now or utcnow()
    session.add(user)
    assert user.id is not None
    tokens = await end_sessions(session=session, staff_id=user.id)
    await session.commit()
    return SessionsEnded(tokens)


async def reset_password(
    *, session: AsyncSession, actor: StaffPublic | None, staff_id: object, password: object
) -> SessionsEnded:
    """The owner sets a new password for a staff member; their sessions end."""
    me = _require_owner(actor)
    if staff_id == me.id:
        raise ServiceError("Change your own password on your account page.")
    # hashed before the first query: no transaction waits on argon2
    password_hash = await asyncio.to_thread(hash_password, check_password(password))
    user = await _active_member(session, staff_id)
    user.password_hash = password_hash
    session.add(user)
    tokens = await end_sessions(session=session, staff_id=user.id or 0)
    await session.commit()
    return SessionsEnded(tokens)
