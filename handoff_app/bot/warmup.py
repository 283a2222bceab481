"""Load the sentence-embedding model once when a worker starts (a Reflex lifespan task), then
freeze the start-up heap out of garbage collection (see handoff_app/heap.py)."""

from __future__ import annotations

import asyncio
import logging

from handoff_app.bot.intent import warm_up
from handoff_app.heap import freeze_startup_heap

log = logging.getLogger(__name__)


async def warm_up_models() -> None:
    """Off the event loop, so the first visitor does not wait ~2 s for the model to load."""
    try:
        await asyncio.to_thread(warm_up)
    except Exception:
        log.exception("could not load the embedding model: the lexical fallback is in use")
    freeze_startup_heap()  # the model's arrays and the prototypes are start-up objects too
