"""Load the sentence-embedding model once when a worker starts (a Reflex lifespan task)."""

from __future__ import annotations

import asyncio
import logging

from handoff_app.bot.intent import warm_up
from handoff_app.bot.judge import judge_first_message

log = logging.getLogger(__name__)


async def warm_up_models() -> str:
    """Load the model off the event loop and make one offline litellm call, so the first
    visitor does not wait seconds for either. Returns what the bot uses, for the log."""
    try:
        loaded = await asyncio.to_thread(warm_up)
    except Exception:
        log.exception("could not load the embedding model: the lexical fallback is in use")
        loaded = False
    # litellm imports much on its first call (~2 s here): make that call now, offline
    await judge_first_message("hello", keywords=(), sensitive_topics=())
    return "embedding model loaded" if loaded else "lexical fallback"
