"""Which browser tabs use which staff session, so ending sessions can sign those tabs out live.

Kept in the database (not a module global): with Redis, a tab's socket may be on any worker,
and the owner's removal can run on another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import StaffSession, StaffTab, utcnow

HEARTBEAT_SECONDS = 30  # how often an open staff page says it is still there
ONLINE_WINDOW = timedelta(seconds=HEARTBEAT_SECONDS * 2 + 15)


async def register_tab(*, session: AsyncSession, session_id: int, client_token: str) -> None:
    """Record that the tab `client_token` uses the staff session `session_id` (a tab that
    signed in again moves to its new session)."""
    if not client_token or len(client_token) > 64:
        return
    await session.execute(sa.delete(StaffTab).where(col(StaffTab.client_token) == client_token))
    session.add(StaffTab(session_id=session_id, client_token=client_token))
    await session.commit()


async def end_sessions(
    *, session: AsyncSession, staff_id: int, keep_session_id: int | None = None
) -> list[str]:
    """Delete the staff member's sessions (all, or all but one) in the caller's transaction;
    return the client tokens of the tabs that used them, to sign out once committed."""
    ended = select(StaffSession.id).where(StaffSession.staff_id == staff_id)
    if keep_session_id is not None:
        ended = ended.where(col(StaffSession.id) != keep_session_id)
    session_ids = list((await session.exec(ended)).all())
    if not session_ids:
        return []
    tokens = list(
        (
            await session.exec(
                select(StaffTab.client_token).where(col(StaffTab.session_id).in_(session_ids))
            )
        ).all()
    )
    await session.execute(sa.delete(StaffTab).where(col(StaffTab.session_id).in_(session_ids)))
    await session.execute(sa.delete(StaffSession).where(col(StaffSession.id).in_(session_ids)))
    return tokens


async def touch_tab(
    *, session: AsyncSession, client_token: str, now: datetime | None = None
) -> None:
    """The page's heartbeat: this tab is still open."""
    await session.execute(
        sa.update(StaffTab)
        .where(col(StaffTab.client_token) == client_token)
        .values(last_seen_at=now or utcnow())
    )
    await session.commit()


async def count_staff_online(*, session: AsyncSession, now: datetime | None = None) -> int:
    """Staff members with an open page that sent a heartbeat within the last ~75 s."""
    since = (now or utcnow()) - ONLINE_WINDOW
    result = await session.exec(
        select(func.count(func.distinct(StaffSession.staff_id)))
        .select_from(StaffTab)
        .join(StaffSession, col(StaffSession.id) == col(StaffTab.session_id))
        .where(col(StaffTab.last_seen_at) >= since, col(StaffSession.expires_at) > utcnow())
    )
    return int(result.one())


async def online_tabs(*, session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Client tokens of the staff tabs open right now (live session, recent heartbeat)."""
    moment = now or utcnow()
    result = await session.exec(
        select(StaffTab.client_token)
        .join(StaffSession, col(StaffSession.id) == col(StaffTab.session_id))
        .where(col(StaffTab.last_seen_at) >= moment - ONLINE_WINDOW)
        .where(col(StaffSession.expires_at) > moment)
    )
    return list(result.all())
