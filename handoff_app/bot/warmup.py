"""Load the sentence-embedding model once when a worker starts (a Reflex lifespan task)."""

from __future__ import annotations

import asyncio
import logging

from handoff_app.bot.intent import warm_up

log = logging.getLogger(__name__)


async def warm_up_models() -> None:
    """Off the event loop, so the first visitor does not wait ~2 s for the model to load."""
    try:
        await asyncio.to_thread(warm_up)
    except Exception:
        log.exception("could not load the embedding model: the lexical fallback is in use")
