"""Check that the event loop keeps running while a task waits (for a lock held elsewhere)."""

from __future__ import annotations

import asyncio


async def assert_waits_while_loop_runs(task: asyncio.Future[object], ticks: int = 20) -> None:
    """`ticks` turns of 10 ms pass on the loop and `task` is still waiting after each."""
    for _ in range(ticks):
        await asyncio.sleep(0.01)
        assert not task.done()
