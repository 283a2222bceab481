"""Which posted messages `realtime` pushes in the publisher's own task: only under
`pushes_in_this_task`, and only when their commit published nothing but messages for that
conversation (a status change in the same commit keeps the lane, so its line and its status
go out together)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff_app import events, realtime


@pytest.fixture
def decisions() -> Iterator[list[bool]]:
    """For every MessagePosted published during the test: would it be pushed here?"""
    seen: list[bool] = []

    async def record(event: events.ConversationEvent) -> None:
        if isinstance(event, events.MessagePosted):
            seen.append(realtime._pushed_here(event))

    events.subscribe(record)
    yield seen
    events.unsubscribe(record)


def posted(conversation_id: int, message_id: int) -> events.MessagePosted:
    return events.MessagePosted(
        conversation_id=conversation_id, message_id=message_id, sender="agent"
    )


def claimed(conversation_id: int) -> events.ConversationClaimed:
    return events.ConversationClaimed(conversation_id=conversation_id, staff_id=2)


async def test_a_reply_alone_is_pushed_here(decisions: list[bool]) -> None:
    with realtime.pushes_in_this_task(""):
        await events.publish(posted(1, 10))
        await events.publish(posted(1, 11), posted(1, 12))  # messages only: still here
    assert decisions == [True, True, True]


async def test_a_status_change_in_the_same_commit_keeps_the_lane(decisions: list[bool]) -> None:
    with realtime.pushes_in_this_task(""):
        await events.publish(posted(1, 10), claimed(1))
        # another conversation's change does not hold this one's message back
        await events.publish(posted(1, 11), claimed(2))
    assert decisions == [False, True]


async def test_outside_the_context_every_message_keeps_the_lane(decisions: list[bool]) -> None:
    await events.publish(posted(1, 10))
    with realtime.pushes_in_this_task(""):
        pass
    await events.publish(posted(1, 11))
    assert decisions == [False, False]
    assert events.published_together() == ()  # nothing left over between calls
