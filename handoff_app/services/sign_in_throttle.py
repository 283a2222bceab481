"""Sign-in throttling: every attempt is recorded; too many failures refuse further attempts.

After `MAX_FAILURES` failed attempts for one email (since its last successful sign-in), or
from one IP address, within `WINDOW`, further attempts are refused without checking the
password until the oldest of those failures leaves the window.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import SignInAttempt, utcnow
from handoff_app.services.errors import ServiceError

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)

log = logging.getLogger("handoff_app.auth")


class SignInThrottled(ServiceError):
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many failed sign-ins. Try again in {minutes} {unit}.")
        self.minutes = minutes


def clean_email(email: object) -> str:
    return email.strip().lower()[:254] if isinstance(email, str) else ""


def clean_ip(ip: object) -> str:
    return ip.strip()[:64] if isinstance(ip, str) and ip.strip() else "unknown"


async def _recent_failures(
    session: AsyncSession, *conditions: object, since: datetime
) -> list[datetime]:
    """Times of the failures matching `conditions` after `since`, newest first."""
    rows = await session.exec(
        select(SignInAttempt.created_at)
        .where(
            col(SignInAttempt.succeeded).is_(False),
            col(SignInAttempt.created_at) > since,
            *conditions,  # type: ignore[arg-type]
        )
        .order_by(col(SignInAttempt.created_at).desc())
        .limit(MAX_FAILURES)
    )
    return list(rows.all())


async def check_sign_in_allowed(
    *, session: AsyncSession, email: str, ip: str, now: datetime | None = None
) -> None:
    """Raise SignInThrottled when this email or this IP has too many recent failures."""
    now = now or utcnow()
    window_start = now - WINDOW
    last_success = (
        await session.exec(
            select(SignInAttempt.created_at)
            .where(SignInAttempt.email == email, col(SignInAttempt.succeeded).is_(True))
            .order_by(col(SignInAttempt.created_at).desc())
            .limit(1)
        )
    ).first()
    email_since = max(window_start, last_success) if last_success else window_start
    retry_at: datetime | None = None
    for failures in (
        await _recent_failures(session, SignInAttempt.email == email, since=email_since),
        await _recent_failures(session, SignInAttempt.ip == ip, since=window_start),
    ):
        if len(failures) >= MAX_FAILURES:
            # allowed again when the oldest of the last MAX_FAILURES failures leaves the window
            free_at = failures[MAX_FAILURES - 1] + WINDOW
            retry_at = max(retry_at, free_at) if retry_at else free_at
    if retry_at is not None:
        log.warning("sign-in email=%s ip=%s outcome=throttled", email, ip)
        raise SignInThrottled(retry_at - now)


def record_sign_in_attempt(
    *, session: AsyncSession, email: str, ip: str, succeeded: bool, now: datetime | None = None
) -> None:
    """Add the attempt to the session (the caller commits) and log it (never the password)."""
    session.add(SignInAttempt(email=email, ip=ip, succeeded=succeeded, created_at=now or utcnow()))
    outcome = "success" if succeeded else "failure"
    (log.info if succeeded else log.warning)(
        "sign-in email=%s ip=%s outcome=%s", email, ip, outcome
    )
