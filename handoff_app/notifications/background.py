"""Notifications run in their own tasks after the event that caused them has committed: the
visitor's turn never waits for a webhook or a mail server. The tasks live in the worker that
published the event (so each is sent once even with several workers)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
_tasks: set[asyncio.Task[None]] = set()


def spawn(work: Coroutine[Any, Any, object], what: str) -> None:
    """Run `work` in the background; a crash is logged with `what`."""

    async def guarded() -> None:
        try:
            await work
        except Exception:
            log.exception("notification failed: %s", what)

    task = asyncio.get_running_loop().create_task(guarded())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def drain() -> None:
    """Wait for the notifications under way (tests; a graceful shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)
