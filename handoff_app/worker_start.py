"""What each worker does once, as it starts (a Reflex lifespan task): warm the bot, then settle
the heap, then say so on stdout with the server's other start-up lines (the benchmarks wait
for that line before measuring)."""

from __future__ import annotations

from handoff_app.bot.warmup import warm_up_models
from handoff_app.heap import settle_heap

READY = "handoff_app: bot ready"


async def start_worker() -> None:
    how = await warm_up_models()
    settle_heap()
    print(f"{READY} ({how})", flush=True)
