"""The push lanes (handoff_app/coalescing.py): per key one push runs and one more waits, in
order; `run_here` runs a push in the caller's own task when its lane is idle."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handoff_app.coalescing import Coalescer


async def test_run_here_runs_in_the_callers_task_when_the_lane_is_idle() -> None:
    lanes = Coalescer()
    ran_in: list[asyncio.Task[object] | None] = []

    async def push() -> None:
        ran_in.append(asyncio.current_task())

    await lanes.run_here("room-1", push)
    assert ran_in == [asyncio.current_task()]  # done before run_here returned: no task hop
    await lanes.run_here("room-1", push)  # the lane is free again
    assert len(ran_in) == 2


async def test_run_here_waits_its_turn_behind_a_running_push() -> None:
    lanes = Coalescer()
    order: list[str] = []
    release = asyncio.Event()

    async def slow() -> None:
        order.append("slow starts")
        await release.wait()
        order.append("slow ends")

    def named(name: str):  # type: ignore[no-untyped-def]
        async def push() -> None:
            order.append(name)

        return push

    lanes.schedule("room-1", slow)
    await asyncio.sleep(0)  # the scheduled push is running
    await lanes.run_here("room-1", named("first"))  # returns at once: queued, not run
    await lanes.run_here("room-1", named("second"))  # replaces the waiting one (a burst)
    await lanes.run_here("room-2", named("other lane"))  # another key is not held up
    assert order == ["slow starts", "other lane"]
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["slow starts", "other lane", "slow ends", "second"]


async def test_a_push_arriving_during_an_inline_push_runs_after_it() -> None:
    lanes = Coalescer()
    order: list[str] = []
    release = asyncio.Event()

    async def inline() -> None:
        order.append("inline starts")
        await release.wait()
        order.append("inline ends")

    async def later() -> None:
        order.append("later")

    running = asyncio.create_task(lanes.run_here("room-1", inline))
    await asyncio.sleep(0)
    lanes.schedule("room-1", later)
    await asyncio.sleep(0)
    assert order == ["inline starts"]
    release.set()
    await running
    for _ in range(3):
        await asyncio.sleep(0)
    assert order == ["inline starts", "inline ends", "later"]


async def test_a_failing_inline_push_is_logged_and_frees_its_lane(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lanes = Coalescer()

    async def broken() -> None:
        raise RuntimeError("socket gone")

    with caplog.at_level(logging.ERROR, logger="handoff_app.coalescing"):
        await lanes.run_here("room-1", broken)
    assert "realtime push failed: room-1" in caplog.text
    done: list[bool] = []

    async def works() -> None:
        done.append(True)

    await lanes.run_here("room-1", works)
    assert done == [True]
