"""A conversation room reaches its other tabs when it changes, and only then (room_fanout.py).

Reflex 0.10.1 updates every other tab linked to a shared state after any event that loaded
it, changed or not, resending the room's last changed vars. The app patches that out; these
tests drive the real backend over raw websockets: a visitor's events that leave the room alone
must send the agent's tab nothing, while every change still arrives on both tabs.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff

OWNER_EMAIL = "owner@example.test"
OWNER_PASSWORD = "correct horse battery"
QUIET = 0.5  # how long a tab is watched for an update that must not come


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    db = tmp_path_factory.mktemp("fanout") / "app.db"
    with backend_with_staff(db, owner=Account(OWNER_EMAIL, OWNER_PASSWORD)) as app:
        yield app


@asynccontextmanager
async def pending(server: AppServer) -> AsyncIterator[tuple[rs.ReflexSocket, rs.ReflexSocket]]:
    """A visitor's tab and the owner's tab of one conversation waiting for a person."""
    base_url = server.backend_url
    visitor, conversation_id = await rs.visitor_with_conversation(base_url)
    await rs.request_human(visitor)
    token = await rs.sign_in(base_url, OWNER_EMAIL, OWNER_PASSWORD)
    agent = await rs.open_agent_conversation(base_url, token, conversation_id)
    try:
        yield visitor, agent
    finally:
        await agent.close()
        await visitor.close()


@pytest.fixture
async def active(server: AppServer) -> AsyncIterator[tuple[rs.ReflexSocket, rs.ReflexSocket]]:
    """A visitor's tab and the agent's tab of one claimed conversation, both in its room."""
    async with pending(server) as (visitor, agent):
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        await visitor.wait_for(lambda s: s.get(rs.CONVERSATION_ROOM, {}).get("status") == "active")
        await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "Hello there"}})
        for tab in (visitor, agent):
            await tab.wait_for(lambda s: "Hello there" in rs.messages_from(s, "agent"))
        await asyncio.sleep(QUIET)  # let every push of the set-up land
        visitor.record = agent.record = True
        yield visitor, agent


def room_updates(tab: rs.ReflexSocket, since: int) -> list[dict[str, object]]:
    return [a.delta for a in tab.arrivals[since:] if rs.CONVERSATION_ROOM in a.delta]


async def test_events_that_leave_the_room_alone_send_the_other_tab_nothing(
    active: tuple[rs.ReflexSocket, rs.ReflexSocket],
) -> None:
    visitor, agent = active
    before = len(agent.arrivals)
    for seen in range(1, 6):  # the visitor's "seen" receipts: its own state only
        await visitor.send(rs.VISITOR, "note_seen", {"message_id": seen})
        await visitor.wait_for(lambda s, seen=seen: s.get(rs.VISITOR, {}).get("seen_id") == seen)
    await asyncio.sleep(QUIET)
    assert agent.arrivals[before:] == []


async def test_a_change_still_reaches_every_tab_once(
    active: tuple[rs.ReflexSocket, rs.ReflexSocket],
) -> None:
    visitor, agent = active
    seen_by_agent, seen_by_visitor = len(agent.arrivals), len(visitor.arrivals)
    await visitor.send(rs.VISITOR, "send", {"form": {"body": "Thanks, one more thing"}})
    for tab in (visitor, agent):
        await tab.wait_for(lambda s: "Thanks, one more thing" in rs.messages_from(s, "visitor"))
    await asyncio.sleep(QUIET)
    carrying = [
        delta
        for delta in room_updates(agent, seen_by_agent)
        if "Thanks, one more thing" in str(delta[rs.CONVERSATION_ROOM])
    ]
    assert len(carrying) == 1  # sent once, not again with each later event
    # the push resolved the room's delta once and sent that same update to both tabs
    # (room_fanout.emit_to_linked_tabs), and none to the room's own, socketless token
    (to_visitor,) = [
        delta
        for delta in room_updates(visitor, seen_by_visitor)
        if "Thanks, one more thing" in str(delta[rs.CONVERSATION_ROOM])
    ]
    assert to_visitor == carrying[0]
    assert list(to_visitor) == [rs.CONVERSATION_ROOM]  # the room's vars, nothing of the tab's
    # and an event after it that changes nothing does not resend it
    later = len(agent.arrivals)
    await visitor.send(rs.VISITOR, "note_seen", {"message_id": 99})
    await visitor.wait_for(lambda s: s.get(rs.VISITOR, {}).get("seen_id") == 99)
    await asyncio.sleep(QUIET)
    assert room_updates(agent, later) == []
    assert "Thanks, one more thing" in rs.messages_from(visitor.state, "visitor")
    assert len(visitor.arrivals) > seen_by_visitor


async def test_pushes_send_nothing_to_a_room_token(
    server: AppServer, active: tuple[rs.ReflexSocket, rs.ReflexSocket]
) -> None:
    """Reflex would also emit each push's delta to the room's own token, which no socket has
    (a warning in the log per push): the app sends a room's changes to its tabs only."""
    visitor, agent = active
    await visitor.send(rs.VISITOR, "send", {"form": {"body": "Is anyone there?"}})
    await agent.wait_for(lambda s: "Is anyone there?" in rs.messages_from(s, "visitor"))
    log = server.log_path.read_text(errors="replace")
    # (a tab that closed meanwhile may get such a warning for its own state: not a room's)
    assert not re.search(r"disconnected client '(conv|ctx|staff|idle)-", log)


async def test_a_claims_joined_line_never_shows_under_waiting(server: AppServer) -> None:
    """The claim's "joined" line and the agent's first reply reach the visitor's tab only
    with (or after) the status they belong to: replies are pushed in the replying handler's
    own task, a claim's line travels with its status change."""
    async with pending(server) as (visitor, agent):
        status = rs.room(visitor.state).get("status")
        assert status == "pending"
        visitor.record = True
        since = len(visitor.arrivals)
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "First words"}})
        await visitor.wait_for(lambda s: "First words" in rs.messages_from(s, "agent"))
        shown: set[str] = set()
        for arrival in visitor.arrivals[since:]:
            changes = arrival.delta.get(rs.CONVERSATION_ROOM, {})
            status = changes.get("status", status)
            for message in rs.messages_in_delta(changes):
                body = message["body"]
                if body == "First words" or (message["sender"] == "system" and "joined" in body):
                    shown.add(body)
                    assert status == "active", (body, status)
        assert "First words" in shown and any("joined" in body for body in shown)


async def test_a_keyword_handoffs_message_never_shows_under_the_bot(server: AppServer) -> None:
    """A visitor's message that hands off by keyword commits three things at once: the message,
    the handoff line and the status. The line reaches the tab only with the pending status."""
    visitor, _conversation_id = await rs.visitor_with_conversation(server.backend_url)
    try:
        status = rs.room(visitor.state).get("status")
        assert status == "bot"
        visitor.record = True
        since = len(visitor.arrivals)
        await visitor.send(rs.VISITOR, "send", {"form": {"body": "speak to a human please"}})
        await visitor.wait_for(lambda s: rs.room(s).get("status") == "pending")
        shown = False
        for arrival in visitor.arrivals[since:]:
            changes = arrival.delta.get(rs.CONVERSATION_ROOM, {})
            status = changes.get("status", status)
            for message in rs.messages_in_delta(changes):
                if message["sender"] == "system" and "connecting you" in message["body"]:
                    shown = True
                    assert status == "pending", status
        assert shown
    finally:
        await visitor.close()


def _clears(tab: rs.ReflexSocket, since: int, box: str) -> list[dict[str, object]]:
    """The events since `since` that empty the element `box` if it still holds what was
    sent (handoff_app/states/sent_box.py)."""
    return [
        e
        for e in tab.frontend_events[since:]
        if e.get("name") == "_call_script"
        and f"document.getElementById({json.dumps(box)})" in str(e.get("payload"))
    ]


async def test_a_sent_message_clears_its_senders_box_only(
    active: tuple[rs.ReflexSocket, rs.ReflexSocket],
) -> None:
    """The sender's composer is cleared once its message is stored, by one event to the
    sender's tab; the other tab gets no such event."""
    visitor, agent = active
    marks = len(visitor.frontend_events), len(agent.frontend_events)
    await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "Let me check"}})
    await visitor.wait_for(lambda s: "Let me check" in rs.messages_from(s, "agent"))
    await agent.wait_for(lambda _s: _clears(agent, marks[1], "conversation-reply-box"))
    await visitor.send(rs.VISITOR, "send", {"form": {"body": "Sure"}})
    await agent.wait_for(lambda s: "Sure" in rs.messages_from(s, "visitor"))
    await visitor.wait_for(lambda _s: _clears(visitor, marks[0], "visitor-composer"))
    await asyncio.sleep(QUIET)
    assert len(_clears(agent, marks[1], "conversation-reply-box")) == 1
    assert len(_clears(visitor, marks[0], "visitor-composer")) == 1
    assert _clears(visitor, marks[0], "conversation-reply-box") == []
    assert _clears(agent, marks[1], "visitor-composer") == []
