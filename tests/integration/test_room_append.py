"""A posted message reaches a conversation room without a database read only when the room is
known to hold everything before it; otherwise the room reads what it lacks. Real SQLite."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.live_window import room_values, shown
from handoff_app.realtime import ConversationRoom, append_posted, fill_conversation_room
from handoff_app.services import conversations
from handoff_app.services.transcript import list_messages


async def _post(session: AsyncSession, key: str, body: str) -> events.MessagePosted:
    """Post as the visitor; the MessagePosted event the service published."""
    seen: list[events.MessagePosted] = []

    async def record(event: events.ConversationEvent) -> None:
        if isinstance(event, events.MessagePosted):
            seen.append(event)

    events.subscribe(record)
    try:
        await conversations.post_visitor_message(session=session, key=key, body=body)
    finally:
        events.unsubscribe(record)
    (posted,) = [e for e in seen if e.sender == "visitor"]  # (a handoff adds its own)
    return posted


def _room() -> ConversationRoom:
    return ConversationRoom(_reflex_internal_init=True)  # type: ignore[call-arg]


def _shown(room: ConversationRoom) -> list[dict[str, Any]]:
    """What a tab linked to `room` shows (its base window and later changes, merged)."""
    return shown(room_values(room))


def _bodies(room: ConversationRoom) -> list[str]:
    return [m["body"] for m in _shown(room)]


async def test_posted_messages_append_in_order_as_the_database_holds_them(
    session: AsyncSession,
) -> None:
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    room = _room()
    await fill_conversation_room(room, cid)
    assert room.conversation_id == cid and _shown(room) == []

    for text in ("one", "two", "three"):
        assert append_posted(room, await _post(session, started.key, text))

    stored = await list_messages(session=session, conversation_id=cid)
    assert [(m["id"], m["body"]) for m in _shown(room)] == [(m.id, m.body) for m in stored]
    assert [m["created_at"] for m in _shown(room)] == [m.created_at.isoformat() for m in stored]


async def test_a_room_that_missed_a_message_reads_the_database_instead(
    session: AsyncSession,
) -> None:
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    room = _room()
    first = await _post(session, started.key, "first")
    await fill_conversation_room(room, cid)
    await _post(session, started.key, "missed by this room")
    third = await _post(session, started.key, "third")

    assert not append_posted(room, third)  # its predecessor is not the room's newest
    assert _bodies(room) == ["first"]
    await fill_conversation_room(room, cid)
    assert _bodies(room) == ["first", "missed by this room", "third"]

    # an event for a message the room already shows changes nothing (no duplicate)
    assert append_posted(room, first) and append_posted(room, third)
    assert _bodies(room) == ["first", "missed by this room", "third"]


async def test_a_new_or_other_room_never_appends(session: AsyncSession) -> None:
    started = await conversations.start_conversation(session=session)
    posted = await _post(session, started.key, "hello")
    assert not append_posted(_room(), posted)  # an expired/new room: conversation_id is 0
    other = _room()
    other.conversation_id = (started.conversation.id or 0) + 1
    assert not append_posted(other, posted)


async def test_internal_notes_do_not_break_the_chain(session: AsyncSession) -> None:
    from handoff_app.services import handoff, notes
    from tests.conftest import make_staff

    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await _post(session, started.key, "I need to speak to a human")  # a keyword: pending
    agent = await make_staff(session)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    room = _room()
    await fill_conversation_room(room, cid)
    await notes.post_note(session=session, conversation_id=cid, staff=agent, body="VIP")
    posted = await _post(session, started.key, "hello?")
    assert append_posted(room, posted)  # the note is not in the room, nor its predecessor
    assert "VIP" not in _bodies(room)
    assert _bodies(room)[-1] == "hello?"
