"""A message's write leaves no reference cycles behind: everything it allocated is freed by
reference counting the moment it is done with, so the cyclic garbage collector has nothing
of it to find. (Cycles from every write transaction made the collector run 10-15 ms pauses
on the event loop a few times a minute under the delivery benchmark's load.)"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import db
from handoff_app.services import conversations, handoff, queue
from handoff_app.services.access import lock_for_staff
from handoff_app.services.staff import sign_in, staff_in_transaction
from tests.conftest import make_staff


@pytest.fixture
def cycles() -> Iterator[Callable[[], Counter[str]]]:
    """Counts, by type, the objects the collector finds in reference cycles."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()

    def found() -> Counter[str]:
        gc.collect()
        kinds = Counter(type(o).__qualname__ for o in gc.garbage)
        gc.garbage.clear()
        return kinds

    try:
        yield found
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def _repeat(action: Callable[[int], Awaitable[object]], times: int = 20) -> None:
    for n in range(times):
        await action(n)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_visitor_messages_and_agent_replies_leave_no_cycles(
    session: AsyncSession, cycles: Callable[[], Counter[str]]
) -> None:
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id
    assert cid is not None
    agent = await make_staff(session)
    token = (
        await sign_in(session=session, email=agent.email, password="correct horse battery")
    ).token
    await handoff.request_handoff(session=session, conversation=started.conversation)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)

    async def visitor(n: int) -> None:
        async with db.open_session() as write:
            await conversations.post_visitor_message(session=write, key=started.key, body=f"v{n}")

    async def reply(n: int) -> None:  # as a staff action runs it: one write transaction
        async with db.open_session() as write:
            staff = await staff_in_transaction(session=write, token=token)
            assert staff is not None
            await lock_for_staff(session=write, conversation_id=cid, staff=staff)
            await handoff.post_agent_reply(
                session=write, conversation_id=cid, staff=staff, body=f"a{n}"
            )

    # first uses (statements compiled, caches filled) and what the set-up left to the collector
    # are not the point: a first round takes them
    await _repeat(visitor)
    await _repeat(reply)
    cycles()
    await _repeat(visitor)
    await _repeat(reply)
    found = cycles()
    # Forty writes made some two thousand objects in cycles before. What may remain is not
    # theirs and does not grow with them (importlib.metadata drops a path lookup now and then).
    assert sum(found.values()) < 20, found
    assert not {"Session", "SessionTransaction", "Connection", "AsyncSession"} & set(found)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_the_live_queues_reads_leave_no_cycles(
    session: AsyncSession, cycles: Callable[[], Counter[str]]
) -> None:
    """What every queue change and preview refresh reads (the rows, the unread counts, who
    returned a conversation, the unclaimed count)."""
    ids = []
    for _ in range(3):
        started = await conversations.start_conversation(session=session)
        await conversations.post_visitor_message(session=session, key=started.key, body="hi")
        await handoff.request_handoff(session=session, conversation=started.conversation)
        assert started.conversation.id is not None
        ids.append(started.conversation.id)

    async def read(_n: int) -> None:
        async with db.open_read_session() as reader:
            assert len(await queue.list_queue(session=reader)) == 3
            assert len(await queue.list_queue(session=reader, conversation_ids=ids[:2])) == 2
            assert await queue.count_unclaimed(session=reader) == 3

    await _repeat(read)
    cycles()
    await _repeat(read)
    found = cycles()
    assert sum(found.values()) < 20, found
