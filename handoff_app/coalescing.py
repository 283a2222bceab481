"""Coalesce bursts of the same background job (per key, per worker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Coalescer:
    """Per key, at most one push runs and one more waits; a burst of events costs two pushes.

    `min_interval` spaces a key's pushes out (for cosmetic updates such as queue previews).
    """

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[Any] | None] = {}
        self._again: dict[str, Callable[[], Awaitable[None]]] = {}

    def schedule(
        self, key: str, push: Callable[[], Awaitable[None]], min_interval: float = 0.0
    ) -> None:
        if key in self._running:
            self._again[key] = push
            return
        task = asyncio.get_running_loop().create_task(self._run(key, push, min_interval))
        self._running[key] = task

    async def run_here(self, key: str, push: Callable[[], Awaitable[None]]) -> None:
        """`push` in the caller's task, now, when nothing runs for `key` (a task of its own
        starts a turn of the event loop later, behind whatever else is ready); otherwise it
        waits its turn as with `schedule`. For callers that hold no lock the push may need,
        with no `min_interval` key."""
        if key in self._running:
            self._again[key] = push
            return
        self._running[key] = asyncio.current_task()
        try:
            await push()
        except Exception:
            log.exception("realtime push failed: %s", key)
        finally:
            del self._running[key]
            next_push = self._again.pop(key, None)
            if next_push is not None:  # arrived meanwhile: it runs as scheduled work does
                self.schedule(key, next_push)

    async def _run(
        self, key: str, push: Callable[[], Awaitable[None]], min_interval: float
    ) -> None:
        try:
            while True:
                try:
                    await push()
                except Exception:
                    log.exception("realtime push failed: %s", key)
                if min_interval:
                    await asyncio.sleep(min_interval)
                next_push = self._again.pop(key, None)
                if next_push is None:
                    return
                push = next_push
        finally:
            self._running.pop(key, None)
