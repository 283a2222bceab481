"""The deadline sweeper: a loop in every worker that moves overdue escalations to busy.

Deadlines live in the database (`escalation.response_deadline`), so a restart loses none: the
next sweep after start-up acts on whatever came due meanwhile. Each sweep is one conditional
UPDATE (`services.waiting.mark_overdue_busy`): with several workers sweeping, each overdue
escalation is moved exactly once, and the worker that moved it publishes the event.
"""

from __future__ import annotations

import asyncio
import logging
import os

from handoff_app.db import open_session
from handoff_app.services.waiting import mark_overdue_busy

log = logging.getLogger(__name__)


def sweep_interval() -> float:
    """Seconds between sweeps (`HANDOFF_SWEEP_SECONDS`, default 1): how late "busy" may show."""
    return max(0.2, float(os.environ.get("HANDOFF_SWEEP_SECONDS", "1")))


async def sweep_once() -> int:
    async with open_session() as session:
        return await mark_overdue_busy(session=session)


async def run_sweeper() -> None:
    """Sweep forever (a Reflex lifespan task: one per worker); errors are logged, not fatal."""
    interval = sweep_interval()
    while True:
        try:
            moved = await sweep_once()
            if moved:
                log.info("sweeper: %d escalation(s) past their response deadline", moved)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sweeper step failed; retrying")
        await asyncio.sleep(interval)
