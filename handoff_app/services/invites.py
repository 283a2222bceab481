"""Staff invites: the owner invites by email; the link's token is random, stored hashed,
expires after 7 days, works once and can be revoked. A new token (resend, new link) replaces
the old one, so earlier links stop working."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import StaffInvite, StaffPublic, StaffUser, utcnow
from handoff_app.security import hash_password, hash_token, new_token
from handoff_app.services.errors import NotFound, PermissionDenied, ServiceError
from handoff_app.services.staff import (
    InvalidAccount,
    SignedIn,
    check_email,
    check_password,
    open_staff_session,
    to_public,
)

INVITE_LIFETIME = timedelta(days=7)
ROLES = ("owner", "agent")


class InviteStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class InviteUnusable(ServiceError):
    def __init__(self, status: InviteStatus) -> None:
        super().__init__(STATUS_TEXT[status])
        self.status = status


STATUS_TEXT = {
    InviteStatus.VALID: "",
    InviteStatus.EXPIRED: "This invite has expired. Ask the owner for a new invite.",
    InviteStatus.USED: "This invite has already been used. Sign in, or ask the owner for a new "
    "invite.",
    InviteStatus.REVOKED: "This invite was withdrawn. Ask the owner for a new invite.",
    InviteStatus.UNKNOWN: "This invite link is not valid (a newer link may have replaced it). "
    "Ask the owner for a new invite.",
}


class InviteRow(BaseModel):
    """One pending invite as the owner's staff page shows it."""

    id: int
    email: str
    display_name: str
    role: str
    created_at: str
    expires_at: str
    sent_at: str
    delivery_error: str
    expired: bool
    link: str = ""  # only while the owner's tab knows the raw token


@dataclass
class IssuedInvite:
    """An invite with its raw token (known only now: the database keeps the hash)."""

    invite_id: int
    email: str
    display_name: str
    role: str
    token: str


@dataclass
class InviteLookup:
    status: InviteStatus
    email: str = ""
    display_name: str = ""
    role: str = ""


def _require_owner(actor: StaffPublic | None) -> StaffPublic:
    if actor is None or actor.role != "owner":
        raise PermissionDenied("Only the owner can manage invites.")
    return actor


def _status(invite: StaffInvite | None, now: datetime) -> InviteStatus:
    if invite is None:
        return InviteStatus.UNKNOWN
    if invite.accepted_at is not None:
        return InviteStatus.USED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if invite.expires_at <= now:
        return InviteStatus.EXPIRED
    return InviteStatus.VALID


def _issued(invite: StaffInvite, token: str) -> IssuedInvite:
    assert invite.id is not None
    return IssuedInvite(invite.id, invite.email, invite.display_name, invite.role, token)


async def create_invite(
    *,
    session: AsyncSession,
    actor: StaffPublic | None,
    email: object,
    display_name: object,
    role: object = "agent",
    now: datetime | None = None,
) -> IssuedInvite:
    """Invite someone by name and email; refused for an active account or a pending invite."""
    me = _require_owner(actor)
    now = now or utcnow()
    address = check_email(email)
    name = display_name.strip()[:120] if isinstance(display_name, str) else ""
    if not name:
        raise InvalidAccount("Enter the person's name.")
    if role not in ROLES:
        raise InvalidAccount("The role must be owner or agent.")
    existing = (await session.exec(select(StaffUser).where(StaffUser.email == address))).first()
    if existing is not None and existing.removed_at is None:
        raise InvalidAccount("A staff account with this email already exists.")
    pending = (
        await session.exec(
            select(StaffInvite).where(
                StaffInvite.email == address,
                col(StaffInvite.accepted_at).is_(None),
                col(StaffInvite.revoked_at).is_(None),
                col(StaffInvite.expires_at) > now,
            )
        )
    ).first()
    if pending is not None:
        raise InvalidAccount("This email already has a pending invite: resend it instead.")
    token = new_token()
    invite = StaffInvite(
        email=address,
        display_name=name,
        role=str(role),
        token_hash=hash_token(token),
        invited_by_id=me.id,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    session.add(invite)
    await session.commit()
    return _issued(invite, token)


async def list_pending_invites(
    *, session: AsyncSession, actor: StaffPublic | None, now: datetime | None = None
) -> list[InviteRow]:
    """Invites neither accepted nor revoked (expired ones too, marked, to resend or revoke)."""
    _require_owner(actor)
    now = now or utcnow()
    invites = (
        await session.exec(
            select(StaffInvite)
            .where(col(StaffInvite.accepted_at).is_(None), col(StaffInvite.revoked_at).is_(None))
            .order_by(col(StaffInvite.created_at).desc(), col(StaffInvite.id).desc())
        )
    ).all()
    return [
        InviteRow(
            id=i.id or 0,
            email=i.email,
            display_name=i.display_name,
            role=i.role,
            created_at=i.created_at.isoformat(),
            expires_at=i.expires_at.isoformat(),
            sent_at=i.sent_at.isoformat() if i.sent_at else "",
            delivery_error=i.delivery_error,
            expired=i.expires_at <= now,
        )
        for i in invites
    ]


async def _pending(session: AsyncSession, invite_id: object) -> StaffInvite:
    if not isinstance(invite_id, int) or isinstance(invite_id, bool):
        raise NotFound("No such invite.")
    invite = await session.get(StaffInvite, invite_id)
    if invite is None or invite.accepted_at is not None or invite.revoked_at is not None:
        raise NotFound("This invite is no longer pending.")
    return invite


async def rotate_invite_token(
    *,
    session: AsyncSession,
    actor: StaffPublic | None,
    invite_id: object,
    now: datetime | None = None,
) -> IssuedInvite:
    """A new link for a pending invite (and seven more days); earlier links stop working."""
    _require_owner(actor)
    now = now or utcnow()
    invite = await _pending(session, invite_id)
    token = new_token()
    invite.token_hash = hash_token(token)
    invite.expires_at = now + INVITE_LIFETIME
    invite.sent_at = None
    invite.delivery_error = ""
    session.add(invite)
    await session.commit()
    return _issued(invite, token)


async def revoke_invite(
    *,
    session: AsyncSession,
    actor: StaffPublic | None,
    invite_id: object,
    now: datetime | None = None,
) -> None:
    _require_owner(actor)
    invite = await _pending(session, invite_id)
    invite.revoked_at = now or utcnow()
    session.add(invite)
    await session.commit()


async def _by_token(session: AsyncSession, token: object) -> StaffInvite | None:
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    found = await session.exec(
        select(StaffInvite).where(StaffInvite.token_hash == hash_token(token))
    )
    return found.first()


async def _active_account_exists(session: AsyncSession, email: str) -> bool:
    found = await session.exec(
        select(StaffUser.id).where(StaffUser.email == email, col(StaffUser.removed_at).is_(None))
    )
    return found.first() is not None


async def look_up_invite(
    *, session: AsyncSession, token: object, now: datetime | None = None
) -> InviteLookup:
    """What the accept page shows: who is invited, or why the link no longer works."""
    invite = await _by_token(session, token)
    status = _status(invite, now or utcnow())
    if invite is None or status is not InviteStatus.VALID:
        return InviteLookup(status)
    return InviteLookup(status, invite.email, invite.display_name, invite.role)


async def accept_invite(
    *,
    session: AsyncSession,
    token: object,
    display_name: object,
    password: object,
    now: datetime | None = None,
) -> SignedIn:
    """Create the account (or re-activate a removed one) and sign in. Single use: a
    conditional UPDATE marks the invite accepted, so two racing accepts give one account."""
    now = now or utcnow()
    invite = await _by_token(session, token)
    status = _status(invite, now)
    if invite is None or status is not InviteStatus.VALID:
        raise InviteUnusable(status)
    clean_password = check_password(password)
    name = display_name.strip()[:120] if isinstance(display_name, str) else ""
    name = name or invite.display_name
    if await _active_account_exists(session, invite.email):
        raise InvalidAccount("A staff account with this email already exists: sign in instead.")
    await session.commit()  # no transaction is held while argon2 runs
    password_hash = await asyncio.to_thread(hash_password, clean_password)
    claimed = await session.execute(
        sa.update(StaffInvite)
        .where(
            col(StaffInvite.id) == invite.id,
            col(StaffInvite.accepted_at).is_(None),
            col(StaffInvite.revoked_at).is_(None),
            col(StaffInvite.expires_at) > now,
        )
        .values(accepted_at=now)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        raise InviteUnusable(InviteStatus.USED)
    # read again inside the writing transaction: an account may have appeared meanwhile
    existing = (
        await session.exec(select(StaffUser).where(StaffUser.email == invite.email))
    ).first()
    if existing is not None and existing.removed_at is None:
        await session.rollback()
        raise InvalidAccount("A staff account with this email already exists: sign in instead.")
    if existing is not None:  # a removed account comes back with the new password
        user = existing
        user.removed_at = None
        user.password_hash = password_hash
        user.display_name = name
        user.role = invite.role
    else:
        user = StaffUser(
            email=invite.email,
            display_name=name,
            role=invite.role,
            password_hash=password_hash,
            created_at=now,
        )
    session.add(user)
    await session.flush()
    return SignedIn(staff=to_public(user), token=await open_staff_session(session, user, now))
