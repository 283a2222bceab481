"""A conversation room's messages pushed one at a time, not as the whole window.

Reflex sends a var's whole value whenever it is assigned, so a room holding its newest 50
messages in one list sent all 50 (10 KB and more) to every tab with each new message, and every
tab parsed and re-rendered them all: the longer the conversation, the slower each message. In
the delivery benchmark a message's p50 grew by ~1 ms as a conversation reached 40 messages,
and a run of 3,000 messages per direction (conversations past 50 messages) had a p50 of 10 ms
against 6-7 ms in shorter runs. Instead the room holds:

- `messages`, the window as of change number `base_seq` (the base, assigned rarely);
- one var per change since (`m0` ... `m15`, a ring: change `seq` lives in slot
  `seq % WINDOW_SLOTS`), each carrying one message: a new one, or a new version of one shown.

A browser shows the base with every slot newer than `base_seq` applied by message id
(components/messages.py does it in JavaScript; `shown` below is the same rule, for tests). It is a
function of the room's vars alone, which Reflex keeps current in every linked tab, so there is
no per-tab bookkeeping and no gap to detect: the room never lets more than WINDOW_SLOTS changes
pile up past its base. Half that many, and a rebase (base := the current window) is pushed on
its own a moment later (`REBASE_DELAY`, realtime.py), off the messages' path; a burst that fills
the ring rebases at once.

`_window` (backend only, never sent) is the current window itself: the newest
LIVE_MESSAGE_WINDOW messages, and `_before_id` the id of the newest message older than them.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.models import MessagePublic
from handoff_app.services.transcript import LIVE_MESSAGE_WINDOW

WINDOW_SLOTS = 16
REBASE_AFTER = WINDOW_SLOTS // 2  # changes past the base that ask for a rebase
REBASE_DELAY = 0.5  # seconds between those changes and the rebase's own push


class MessageSlots(rx.State, mixin=True):
    """The vars of a room whose messages arrive as changes (mixed into an `rx.SharedState`)."""

    messages: list[MessagePublic] = []  # the base: the window as of change `base_seq`
    before_window_id: int = 0  # the newest message older than the base (0: none)
    seq: int = 0  # the number of the newest change
    base_seq: int = 0
    # fmt: off
    m0: dict[str, Any] = {}
    m1: dict[str, Any] = {}
    m2: dict[str, Any] = {}
    m3: dict[str, Any] = {}
    m4: dict[str, Any] = {}
    m5: dict[str, Any] = {}
    m6: dict[str, Any] = {}
    m7: dict[str, Any] = {}
    m8: dict[str, Any] = {}
    m9: dict[str, Any] = {}
    m10: dict[str, Any] = {}
    m11: dict[str, Any] = {}
    m12: dict[str, Any] = {}
    m13: dict[str, Any] = {}
    m14: dict[str, Any] = {}
    m15: dict[str, Any] = {}
    # fmt: on
    _window: list[MessagePublic] = []
    _before_id: int = 0


def slot_name(seq: int) -> str:
    return f"m{seq % WINDOW_SLOTS}"


SLOT_NAMES = [slot_name(i) for i in range(WINDOW_SLOTS)]


def newest_id(room: MessageSlots) -> int:
    """The id of the newest message the room shows (0: none)."""
    return room._window[-1].id if room._window else 0


def show_window(room: MessageSlots, window: list[MessagePublic], before_id: int) -> None:
    """Show `window` (a fresh read: the newest messages, in id order; `before_id` the newest
    one older than them), at once. Longer than LIVE_MESSAGE_WINDOW, only its newest are kept."""
    dropped = window[:-LIVE_MESSAGE_WINDOW]
    room._window = list(window[-LIVE_MESSAGE_WINDOW:])
    room._before_id = dropped[-1].id if dropped else before_id
    rebase(room)


def add_messages(room: MessageSlots, rows: list[MessagePublic]) -> None:
    """Show `rows` (new messages, or new versions of shown ones), one change each."""
    window = list(room._window)
    full = False
    for row in rows:
        _put(window, row)
        if room.seq - room.base_seq >= WINDOW_SLOTS:
            full = True  # the ring holds no more: the rebase below carries the rest
            continue
        room.seq += 1
        setattr(room, slot_name(room.seq), {"seq": room.seq, "row": row.model_dump()})
    dropped = window[:-LIVE_MESSAGE_WINDOW]
    if dropped:
        room._before_id = dropped[-1].id
        window = window[-LIVE_MESSAGE_WINDOW:]
    room._window = window
    if full:
        rebase(room)


def _put(window: list[MessagePublic], row: MessagePublic) -> None:
    """`row` into `window` (id order): replaces the message with its id, else goes in order."""
    for i in range(len(window) - 1, -1, -1):
        if window[i].id == row.id:
            window[i] = row
            return
        if window[i].id < row.id:
            window.insert(i + 1, row)
            return
    window.insert(0, row)


def wants_rebase(room: MessageSlots) -> bool:
    return room.seq - room.base_seq >= REBASE_AFTER


def rebase(room: MessageSlots) -> None:
    """Send the current window as the new base: every slot so far becomes old news."""
    room.messages = list(room._window)
    if room.before_window_id != room._before_id:
        room.before_window_id = room._before_id
    room.base_seq = room.seq


def shown(state: dict[str, Any]) -> list[dict[str, Any]]:
    """What a browser shows, from the room's vars as plain values (`messages`, `base_seq` and
    the slots): the base with every newer change applied by id, in id order. The browser's
    own version is components/messages.py's MERGE_JS."""
    rows = {m["id"]: m for m in state.get("messages") or []}
    base_seq = state.get("base_seq") or 0
    slots = (state.get(name) or {} for name in SLOT_NAMES)
    newer = [slot for slot in slots if slot.get("seq", 0) > base_seq]
    for change in sorted(newer, key=lambda slot: slot["seq"]):
        rows[change["row"]["id"]] = change["row"]
    return [rows[key] for key in sorted(rows)]


def room_values(room: MessageSlots) -> dict[str, Any]:
    """The room's message vars as a browser holds them (for `shown`)."""
    values: dict[str, Any] = {name: getattr(room, name) for name in SLOT_NAMES}
    values["messages"] = [m.model_dump() for m in room.messages]
    values["base_seq"] = room.base_seq
    return values
