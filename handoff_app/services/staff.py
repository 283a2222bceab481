"""Staff accounts and their sessions."""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import staff_session_days
from handoff_app.models import StaffPublic, StaffSession, StaffUser, utcnow
from handoff_app.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from handoff_app.services.errors import PermissionDenied, ServiceError

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
    existing = await session.exec(select(StaffUser).where(StaffUser.email == clean_email))
    if existing.first() is not None:
        raise InvalidAccount("A staff account with this email already exists.")
    user = StaffUser(
        email=clean_email,
        password_hash=await asyncio.to_thread(hash_password, clean_password),
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


async def sign_in(*, session: AsyncSession, email: object, password: object) -> SignedIn:
    """Check the password and open a session; the raw token goes to the browser only."""
    if not isinstance(email, str) or not isinstance(password, str):
        raise InvalidCredentials("Wrong email or password.")
    user = (
        await session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    ).first()
    # argon2 takes ~0.3 s of CPU: off the event loop, and just as long for an unknown email
    # (checked against a dummy hash) so timing does not tell which accounts exist.
    valid = await asyncio.to_thread(
        verify_password, password, user.password_hash if user else _dummy_hash()
    )
    if user is None or not valid:
        raise InvalidCredentials("Wrong email or password.")
    token = new_token()
    assert user.id is not None
    session.add(
        StaffSession(
            staff_id=user.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(days=staff_session_days()),
        )
    )
    await session.commit()
    return SignedIn(staff=to_public(user), token=token)


async def get_staff_by_token(*, session: AsyncSession, token: object) -> StaffPublic | None:
    """The staff member a browser token belongs to, if the session is live."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    row = (
        await session.exec(
            select(StaffUser)
            .join(StaffSession, col(StaffSession.staff_id) == col(StaffUser.id))
            .where(StaffSession.token_hash == hash_token(token), StaffSession.expires_at > utcnow())
        )
    ).first()
    return to_public(row) if row is not None else None


async def sign_out(*, session: AsyncSession, token: object) -> None:
    """End the session on the server: the token stops working everywhere at once."""
    if not isinstance(token, str) or not token:
        return
    await session.execute(
        sa.delete(StaffSession).where(col(StaffSession.token_hash) == hash_token(token))
    )
    await session.commit()
