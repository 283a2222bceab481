"""Commit a use case's transaction, then publish its events: the message hot path's order.

Events are published only after their transaction is durable (DESIGN.md, rule 3). On SQLite
the durable part of a commit is SQLite's COMMIT; SQLAlchemy's bookkeeping around it (its
transaction object, the connection's return to the pool) can wait until the events are out,
so a message reaches the screens it is pushed to that much sooner (`prebuilt_sql.commit_first`).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.prebuilt_sql import commit_first


async def commit_and_publish(session: AsyncSession, *published: events.ConversationEvent) -> None:
    """Commit, publish `published`, then finish the commit's bookkeeping (also if publishing
    fails: a subscriber's error is logged by `events.publish`, a cancellation propagates)."""
    finish = await commit_first(session)
    try:
        await events.publish(*published)
    finally:
        await finish()
