"""Fill a database before the app starts: many pending conversations, through the services."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import async_database_url
from handoff_app.db import make_async_engine
from handoff_app.services import conversations, handoff
from handoff_app.services.workspace import update_settings

# long enough that no seeded row turns busy while a test or benchmark runs (the sweeper would
# change them all at once)
RESPONSE_TIMEOUT = 3600


async def seed_pending(db_url: str, count: int) -> list[int]:
    """`count` conversations waiting in the queue (a visitor message, then the button); returns
    their ids. Run it before the app starts (events published here reach no browser)."""
    engine = make_async_engine(async_database_url(db_url))
    ids: list[int] = []
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await update_settings(session=session, response_timeout_seconds=RESPONSE_TIMEOUT)
            for n in range(count):
                started = await conversations.start_conversation(session=session)
                await conversations.post_visitor_message(
                    session=session, key=started.key, body=f"Where is my order #{n}?"
                )
                await handoff.request_handoff(session=session, conversation=started.conversation)
                assert started.conversation.id is not None
                ids.append(started.conversation.id)
    finally:
        await engine.dispose()
    return ids
