"""What the bot tried before a person was asked for: its last answers, how each went, and
the knowledge articles each one cited (for the agent's context panel)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.messages import Sender
from handoff_app.models import ArticleRef, BotAttempt, Message
from handoff_app.services.transcript import list_from_sender

RECENT_ATTEMPTS = 3
PREVIEW_CHARS = 400


def _article_refs(raw: Any) -> list[ArticleRef]:
    """The stored sources, skipping anything malformed (the column is plain JSON)."""
    if not isinstance(raw, list):
        return []
    return [
        ArticleRef(id=item["id"], title=item["title"])
        for item in raw
        if isinstance(item, dict)
        and isinstance(item.get("id"), int)
        and isinstance(item.get("title"), str)
    ]


def to_attempt(message: Message) -> BotAttempt:
    assert message.id is not None
    body = message.body
    if len(body) > PREVIEW_CHARS:
        body = body[: PREVIEW_CHARS - 1].rstrip() + "…"
    return BotAttempt(
        message_id=message.id,
        body=body,
        outcome=message.bot_outcome,
        feedback=message.feedback,
        created_at=message.created_at.isoformat(),
        sources=_article_refs(message.bot_sources),
    )


async def list_bot_attempts(
    *, session: AsyncSession, conversation_id: int, limit: int = RECENT_ATTEMPTS
) -> list[BotAttempt]:
    """The bot's newest `limit` answers, oldest first.

    The bot is silent from a handoff until the conversation is handed back to it (a resolved
    or dismissed conversation never is), so outside the bot's status these are its last answers
    before the handoff, including a failed answer that fired it (stored in the same
    transaction); while the bot handles the conversation, its latest ones.
    """
    rows = await list_from_sender(
        session=session, conversation_id=conversation_id, sender=Sender.BOT, limit=limit
    )
    return [to_attempt(m) for m in rows]
