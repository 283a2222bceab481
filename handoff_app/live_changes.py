"""Live lists pushed as numbered changes, never resent whole.

Reflex sends a var's whole value whenever it is assigned, so a room holding a 500-row list
would send 500 rows to every tab on each change. Instead:

- each tab loads the list ONCE, into its own state (a snapshot: rows, the room's `epoch` and
  `seq` they are current at), on page load and on resync;
- the shared room holds only the last `CHANGE_SLOTS` changes, one var per slot (a ring:
  change number `seq` lives in slot `seq % CHANGE_SLOTS`), so a change sends one slot, i.e.
  one row, whatever the list's length. Browsers merge deltas into their state var by var, so
  when React renders two deltas at once both slots are still there;
- the browser (components/live_list.py) shows the snapshot with every later change applied,
  sorted by the rows' `sort_key`. A gap (more than `CHANGE_SLOTS` changes it did not see, or
  a new `epoch`: the room expired or the worker restarted) makes it ask for a new snapshot.

The room remembers a fingerprint per row (not the rows): the diff of a fresh database read
against it says which rows changed (domain/row_changes.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from typing import Any, Protocol

import reflex as rx

from handoff_app.domain.row_changes import diff_rows, fingerprint
from handoff_app.room_fanout import forget_last_change

CHANGE_SLOTS = 16
KEY_FIELD = "conversation_id"  # every live list is keyed by conversation


class LiveRow(Protocol):
    conversation_id: int

    def model_dump(self) -> dict[str, Any]: ...

    def model_dump_json(self) -> str: ...


class ChangeSlots(rx.State, mixin=True):
    """The vars of a room that carries changes (mixed into an `rx.SharedState`)."""

    epoch: str = ""  # new for every new room: a browser with another epoch reloads
    seq: int = 0  # the number of the newest change
    # fmt: off
    c0: dict[str, Any] = {}
    c1: dict[str, Any] = {}
    c2: dict[str, Any] = {}
    c3: dict[str, Any] = {}
    c4: dict[str, Any] = {}
    c5: dict[str, Any] = {}
    c6: dict[str, Any] = {}
    c7: dict[str, Any] = {}
    c8: dict[str, Any] = {}
    c9: dict[str, Any] = {}
    c10: dict[str, Any] = {}
    c11: dict[str, Any] = {}
    c12: dict[str, Any] = {}
    c13: dict[str, Any] = {}
    c14: dict[str, Any] = {}
    c15: dict[str, Any] = {}
    # fmt: on
    # backend only (never sent): key -> fingerprint of the rows browsers were last sent
    _fingerprints: dict[int, str] = {}


def slot_name(seq: int) -> str:
    return f"c{seq % CHANGE_SLOTS}"


def record_changes(
    room: ChangeSlots, rows: Sequence[LiveRow], only: Collection[int] | None = None
) -> int:
    """Bring `room` up to `rows` (a fresh read of the whole list, or with `only`, of just those
    keys: a key of `only` missing from `rows` left the list): one numbered change per row
    added, changed or removed, written to its slot. A new room (or one that expired) takes
    the rows as they are, under a new epoch, without changes: its tabs reload (give it the
    whole list). Returns the number of changes."""
    read = {row.conversation_id: fingerprint(row.model_dump_json()) for row in rows}
    fresh = read if only is None else _patched(room._fingerprints, read, only)
    if not room.epoch:
        room.epoch = secrets.token_hex(6)
        room._fingerprints = fresh
        return 0
    changes = diff_rows(room._fingerprints, fresh)
    if not changes:
        forget_last_change(room)  # nothing new to send: not even the last change again
        return 0
    by_key = {row.conversation_id: row for row in rows}
    newest = room.seq + len(changes)
    # only the newest CHANGE_SLOTS can be kept; a browser that needs the others reloads
    kept = changes[-CHANGE_SLOTS:]
    for seq, change in enumerate(kept, start=newest - len(kept) + 1):
        row = None if change.removed else by_key[change.key].model_dump()
        setattr(room, slot_name(seq), {"seq": seq, "key": change.key, "row": row})
    room.seq = newest
    room._fingerprints = fresh
    return len(changes)


def _patched(known: dict[int, str], read: dict[int, str], only: Collection[int]) -> dict[int, str]:
    fresh = dict(known)
    for key in only:
        if key in read:
            fresh[key] = read[key]
        else:
            fresh.pop(key, None)
    return fresh


def snapshot_of(room: ChangeSlots, rows: Sequence[LiveRow], loads: int) -> dict[str, Any]:
    """What a tab loads once: `rows` and the change number they are current at. Records the
    changes first, so the snapshot and the room agree (call it holding the room's lock)."""
    record_changes(room, rows)
    return {"rows": list(rows), "seq": room.seq, "epoch": room.epoch, "loads": loads + 1}
