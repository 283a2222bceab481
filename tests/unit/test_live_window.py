"""A conversation room pushes each message as one change, not the whole window, and what a tab
shows (base window + newer changes, `shown`) is always the room's current window
(handoff_app/live_window.py)."""

from __future__ import annotations

from handoff_app.live_window import (
    REBASE_AFTER,
    SLOT_NAMES,
    WINDOW_SLOTS,
    add_messages,
    newest_id,
    rebase,
    room_values,
    show_window,
    shown,
    wants_rebase,
)
from handoff_app.models import MessagePublic
from handoff_app.realtime import ConversationRoom
from handoff_app.services.transcript import LIVE_MESSAGE_WINDOW


def _message(n: int, body: str = "", feedback: str = "") -> MessagePublic:
    return MessagePublic(
        id=n,
        sender="visitor",
        author_label="",
        body=body or f"m{n}",
        created_at="2026-12-07T10:00:00+00:00",
        feedback=feedback,
    )


def _room(*ids: int) -> ConversationRoom:
    room = ConversationRoom(_reflex_internal_init=True)  # type: ignore[call-arg]
    show_window(room, [_message(n) for n in ids], 0)
    return room


def _shown_ids(room: ConversationRoom) -> list[int]:
    return [m["id"] for m in shown(room_values(room))]


def _sent_on_next_push(room: ConversationRoom) -> set[str]:
    """The vars the room's next delta carries (Reflex's own delta, as pushed to the tabs)."""
    (changes,) = room.get_delta().values()
    return {name.removesuffix("_rx_state_") for name in changes}


def test_a_new_message_is_one_change_and_the_base_is_not_resent() -> None:
    room = _room(1, 2, 3)
    room.dirty_vars.clear()
    add_messages(room, [_message(4)])
    # the push carries the new slot and the change number, not the window
    assert _sent_on_next_push(room) == {"m1", "seq"}
    assert room.m1 == {"seq": 1, "row": _message(4).model_dump()}
    assert [m.id for m in room.messages] == [1, 2, 3]
    assert _shown_ids(room) == [1, 2, 3, 4] and newest_id(room) == 4


def test_what_a_tab_shows_is_always_the_current_window() -> None:
    room = _room()
    for n in range(1, 200):
        add_messages(room, [_message(n)])
        assert room.seq - room.base_seq <= WINDOW_SLOTS  # the ring never wraps past the base
        if n % 7 == 0 and wants_rebase(room):  # the deferred rebase, now and then
            rebase(room)
        expected = list(range(max(1, n - LIVE_MESSAGE_WINDOW + 1), n + 1))
        assert _shown_ids(room)[-LIVE_MESSAGE_WINDOW:] == expected
        assert set(_shown_ids(room)) >= set(expected)
        assert len(_shown_ids(room)) <= LIVE_MESSAGE_WINDOW + WINDOW_SLOTS
    rebase(room)
    assert _shown_ids(room) == list(range(150, 200))
    assert room.before_window_id == 149  # the newest message older than the window


def test_a_burst_that_fills_the_ring_rebases_at_once() -> None:
    room = _room(1)
    add_messages(room, [_message(n) for n in range(2, 2 + WINDOW_SLOTS + 5)])
    assert room.seq == room.base_seq  # the rebase carries everything
    assert [m.id for m in room.messages] == list(range(1, 2 + WINDOW_SLOTS + 5))
    assert _shown_ids(room) == [m.id for m in room.messages]


def test_a_rebase_is_asked_for_halfway_and_makes_every_slot_old_news() -> None:
    room = _room(1)
    for n in range(2, 2 + REBASE_AFTER - 1):
        add_messages(room, [_message(n)])
    assert not wants_rebase(room)
    add_messages(room, [_message(100)])
    assert wants_rebase(room)
    rebase(room)
    assert not wants_rebase(room)
    # the slots still hold their changes, but none is newer than the base: nothing doubles
    assert any(getattr(room, name) for name in SLOT_NAMES)
    assert _shown_ids(room) == [m.id for m in room.messages]


def test_a_new_version_of_a_shown_message_replaces_it() -> None:
    room = _room(1, 2, 3)
    add_messages(room, [_message(2, "m2", feedback="up")])
    merged = shown(room_values(room))
    assert [m["id"] for m in merged] == [1, 2, 3]
    assert merged[1]["feedback"] == "up"
    assert newest_id(room) == 3


def test_a_full_reload_shows_exactly_what_was_read() -> None:
    room = _room(1, 2, 3)
    add_messages(room, [_message(4), _message(5)])
    show_window(room, [_message(n) for n in (4, 5, 6)], 3)
    assert _shown_ids(room) == [4, 5, 6]
    assert room.before_window_id == 3
    # a read longer than the window keeps its newest, and the boundary follows them
    show_window(room, [_message(n) for n in range(1, LIVE_MESSAGE_WINDOW + 3)], 0)
    assert _shown_ids(room) == list(range(3, LIVE_MESSAGE_WINDOW + 3))
    assert room.before_window_id == 2


def test_shown_ignores_empty_slots_and_a_room_with_nothing() -> None:
    assert shown({}) == []
    assert shown(room_values(_room())) == []
