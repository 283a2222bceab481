"""Staff accounts and their sessions."""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import staff_session_days
from handoff_app.models import StaffPublic, StaffSession, StaffUser, utcnow
from handoff_app.prebuilt_sql import Prebuilt
from handoff_app.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from handoff_app.services.errors import PermissionDenied, ServiceError
from handoff_app.services.sign_in_throttle import (
    check_sign_in_allowed,
    clean_email,
    clean_ip,
    record_sign_in_attempt,
)
from handoff_app.services.staff_tabs import end_sessions

RENEWAL_STEP = timedelta(hours=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


class InvalidCredentials(ServiceError):
    pass


class InvalidAccount(ServiceError):
    pass


@dataclass
class SignedIn:
    staff: StaffPublic
    token: str


def to_public(user: StaffUser) -> StaffPublic:
    assert user.id is not None
    return StaffPublic(id=user.id, email=user.email, display_name=user.display_name, role=user.role)


def check_email(email: object) -> str:
    """The normalised email, or InvalidAccount."""
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email.strip()):
        raise InvalidAccount("Enter a valid email address.")
    return email.strip().lower()


def check_new_account(email: object, password: object) -> tuple[str, str]:
    """Return (normalised email, password) or raise InvalidAccount saying what is wrong."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise InvalidAccount("Enter a valid email address.")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return email.strip().lower(), password


async def count_staff(*, session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(StaffUser))).one())


async def create_staff(
    *,
    session: AsyncSession,
    email: object,
    password: object,
    role: str = "agent",
    display_name: str = "",
) -> StaffPublic:
    """Create a staff account; InvalidAccount for bad input or an email already in use."""
    clean_email, clean_password = check_new_account(email, password)
    # hashed before the first query: no transaction (on SQLite, the write lock) waits on argon2
    password_hash = await asyncio.to_thread(hash_password, clean_password)
    existing = await session.exec(select(StaffUser).where(StaffUser.email == clean_email))
    if existing.first() is not None:
        raise InvalidAccount("A staff account with this email already exists.")
    user = StaffUser(
        email=clean_email,
        password_hash=password_hash,
        role=role,
        display_name=display_name.strip()[:120] or clean_email.split("@")[0].capitalize(),
    )
    session.add(user)
    await session.commit()
    return to_public(user)


async def create_first_owner(
    *, session: AsyncSession, email: object, password: object, display_name: str = ""
) -> StaffPublic:
    """The set-up path of /login: allowed only while no staff account exists."""
    if session.get_bind().dialect.name == "postgresql":
        # two first visitors racing: the second waits here, then sees the first owner
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))
    if await count_staff(session=session) > 0:
        raise PermissionDenied("The owner account already exists: sign in instead.")
    return await create_staff(
        session=session, email=email, password=password, role="owner", display_name=display_name
    )


async def sign_in(
    *,
    session: AsyncSession,
    email: object,
    password: object,
    ip: str = "",
    now: datetime | None = None,
) -> SignedIn:
    """Check the password and open a session; the raw token goes to the browser only.

    Throttled (see sign_in_throttle) before the password is checked; every checked attempt is
    recorded and logged. Removed staff cannot sign in.
    """
    now = now or utcnow()
    address = clean_ip(ip)
    address_email = clean_email(email)
    await check_sign_in_allowed(session=session, email=address_email, ip=address, now=now)
    if not isinstance(email, str) or not isinstance(password, str):
        record_sign_in_attempt(
            session=session, email=address_email, ip=address, succeeded=False, now=now
        )
        await session.commit()
        raise InvalidCredentials("Wrong email or password.")
    user = (await session.exec(select(StaffUser).where(StaffUser.email == address_email))).first()
    await session.commit()  # end the reads: no transaction is held during the password check
    # argon2 takes ~0.3 s of CPU: off the event loop, and just as long for an unknown email
    # (checked against a dummy hash) so timing does not tell which accounts exist.
    valid = await asyncio.to_thread(
        verify_password, password, user.password_hash if user else _dummy_hash()
    )
    succeeded = user is not None and valid and user.removed_at is None
    record_sign_in_attempt(
        session=session, email=address_email, ip=address, succeeded=succeeded, now=now
    )
    if not succeeded:
        await session.commit()
        if user is not None and valid:  # the right password: say why, it leaks nothing
            raise InvalidCredentials("This account has been removed. Ask the owner for an invite.")
        raise InvalidCredentials("Wrong email or password.")
    assert user is not None
    return SignedIn(staff=to_public(user), token=await open_staff_session(session, user, now))


async def open_staff_session(
    session: AsyncSession, user: StaffUser, now: datetime | None = None
) -> str:
    """Start a session for `user` and commit; returns the raw token (for the browser only).

    The user's expired sessions (and their tab records) are deleted on the way.
    """
    token = new_token()
    assert user.id is not None
    await session.execute(
        sa.delete(StaffSession).where(
            col(StaffSession.staff_id) == user.id,
            col(StaffSession.expires_at) <= (now or utcnow()),
        )
    )
    session.add(
        StaffSession(
            staff_id=user.id,
            token_hash=hash_token(token),
            created_at=now or utcnow(),
            expires_at=(now or utcnow()) + timedelta(days=staff_session_days()),
        )
    )
    await session.commit()
    return token


_USERS = StaffUser.__table__  # type: ignore[attr-defined]
_SESSIONS = StaffSession.__table__  # type: ignore[attr-defined]
_LIVE_SESSION = Prebuilt(
    sa.select(
        _USERS.c.id,
        _USERS.c.email,
        _USERS.c.display_name,
        _USERS.c.role,
        _SESSIONS.c.id,
        _SESSIONS.c.expires_at,
    )
    .join(_SESSIONS, _SESSIONS.c.staff_id == _USERS.c.id)
    .where(
        _SESSIONS.c.token_hash == sa.bindparam("token_hash"),
        _SESSIONS.c.expires_at > sa.bindparam("now"),
        _USERS.c.removed_at.is_(None),
    )
    .limit(1)
)


@dataclass
class LiveSession:
    staff: StaffPublic
    session_id: int
    expires_at: datetime


async def get_live_session(
    *, session: AsyncSession, token: object, now: datetime | None = None
) -> LiveSession | None:
    """The unexpired session behind a browser token, of a staff member not removed."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    # the columns it needs, as one Core statement (`_LIVE_SESSION`): every staff action runs
    # this check, and loading two ORM entities (the password hash among them) cost most of it
    row = await _LIVE_SESSION.first(
        session, {"token_hash": hash_token(token), "now": now or utcnow()}
    )
    if row is None:
        return None
    staff_id, email, display_name, role, session_id, expires_at = row
    staff = StaffPublic(id=staff_id, email=email, display_name=display_name, role=role)
    return LiveSession(staff, session_id, expires_at)


def renewal_due(live: LiveSession, now: datetime | None = None) -> bool:
    """Sliding expiry: due when the expiry lags "now + session days" by more than an hour."""
    target = (now or utcnow()) + timedelta(days=staff_session_days())
    return target - live.expires_at > RENEWAL_STEP


async def renew_session(
    *, session: AsyncSession, live: LiveSession, now: datetime | None = None
) -> bool:
    """Push the session's expiry forward; a conditional UPDATE, so tabs racing to renew the
    same session write once (at most one write per hour per session). True if it wrote."""
    now = now or utcnow()
    target = now + timedelta(days=staff_session_days())
    result = await session.execute(
        sa.update(StaffSession)
        .where(
            col(StaffSession.id) == live.session_id,
            col(StaffSession.expires_at) < target - RENEWAL_STEP,
            col(StaffSession.expires_at) > now,
        )
        .values(expires_at=target)
    )
    await session.commit()
    renewed = bool(result.rowcount)  # type: ignore[attr-defined]
    if renewed:
        live.expires_at = target
    return renewed


async def get_staff_by_token(
    *, session: AsyncSession, token: object, now: datetime | None = None
) -> StaffPublic | None:
    """The staff member a browser token belongs to, if the session is live (read only)."""
    live = await get_live_session(session=session, token=token, now=now)
    return live.staff if live else None


async def staff_in_transaction(*, session: AsyncSession, token: object) -> StaffPublic | None:
    """The staff member a browser token belongs to, checked in the caller's write transaction
    (so an action needs one transaction, not a read and then a write). Renewing the sliding
    expiry, when due, commits what the transaction did before it."""
    live = await get_live_session(session=session, token=token)
    if live is None:
        return None
    if renewal_due(live):
        await renew_session(session=session, live=live)
    return live.staff


async def sign_out(*, session: AsyncSession, token: object) -> None:
    """End the session on the server: the token stops working everywhere at once."""
    if not isinstance(token, str) or not token:
        return
    await session.execute(
        sa.delete(StaffSession).where(col(StaffSession.token_hash) == hash_token(token))
    )
    await session.commit()


def check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1000:
        raise InvalidAccount("The password is too long.")
    return password


async def change_password(
    *, session: AsyncSession, token: object, current_password: object, new_password: object
) -> list[str]:
    """A staff member changes their own password (the current one is required). Their other
    sessions end; returns the client tokens of the tabs that used them."""
    clean = check_password(new_password)
    live = await get_live_session(session=session, token=token)
    if live is None:
        raise PermissionDenied("Your session has ended. Sign in again.")
    user = await session.get(StaffUser, live.staff.id)
    assert user is not None
    await session.commit()  # no transaction is held while argon2 runs
    if not isinstance(current_password, str) or not await asyncio.to_thread(
        verify_password, current_password, user.password_hash
    ):
        raise InvalidCredentials("The current password is wrong.")
    password_hash = await asyncio.to_thread(hash_password, clean)
    await session.execute(
        sa.update(StaffUser)
        .where(col(StaffUser.id) == live.staff.id)
        .values(password_hash=password_hash)
    )
    ended = await end_sessions(
        session=session, staff_id=live.staff.id, keep_session_id=live.session_id
    )
    await session.commit()
    return ended
