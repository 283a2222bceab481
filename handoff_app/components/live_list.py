"""The browser's half of a live list (see live_changes.py): the rows shown are the tab's
snapshot with every later change applied, in `sort_key` order, computed by a small inline
JavaScript function over the state vars, so `rx.foreach` renders them with ordinary
components. A per-tab cache on `window` applies each change once. On a gap the function
clicks the list's hidden resync button, whose handler loads a new snapshot."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.base import Var
from reflex.vars.function import FunctionStringVar, FunctionVar

from handoff_app.live_changes import CHANGE_SLOTS, KEY_FIELD, ChangeSlots, slot_name

RESYNC_ID = "live-resync-"

# (name, snapshot {rows, seq, epoch, loads}, room epoch, room seq, ...change slots) -> rows.
# `window.__handoffLive.resyncs` counts the resyncs asked for (the browser tests read it).
MERGE_JS = """(name, snap, epoch, seq, ...slots) => {
  if (typeof window === "undefined") return snap.rows || [];  // the build's prerender
  const live = (window.__handoffLive ??= { resyncs: 0 });
  let c = live[name];
  if (!c || c.snap !== snap) {
    c = live[name] = { snap, seq: snap.seq, rows: new Map(), shown: null, asked: false };
    for (const row of snap.rows || []) c.rows.set(row.@KEY@, row);
  }
  if (!snap.epoch) return [];
  let gap = epoch !== snap.epoch || seq < c.seq;
  if (!gap && seq > c.seq) {
    const found = new Map();
    for (const s of slots) if (s && s.seq > c.seq && s.seq <= seq) found.set(s.seq, s);
    gap = found.size !== seq - c.seq;
    if (!gap) {
      for (let n = c.seq + 1; n <= seq; n++) {
        const change = found.get(n);
        if (change.row) c.rows.set(change.key, change.row);
        else c.rows.delete(change.key);
      }
      c.seq = seq;
      c.shown = null;
    }
  }
  if (gap && !c.asked) {
    c.asked = true;
    live.resyncs += 1;
    setTimeout(() => document.getElementById("@RESYNC@" + name)?.click(), 0);
  }
  if (c.shown === null) {
    c.shown = [...c.rows.values()].sort((a, b) =>
      a.sort_key < b.sort_key ? -1 : a.sort_key > b.sort_key ? 1 : 0);
  }
  return c.shown;
}""".replace("@KEY@", KEY_FIELD).replace("@RESYNC@", RESYNC_ID)

_merge: FunctionVar[Any] = FunctionStringVar.create(MERGE_JS)


def live_rows(name: str, snapshot: Any, room: type[ChangeSlots], row_type: Any) -> Var[Any]:
    """The rows to show: `snapshot` (a per-tab var) with `room`'s later changes applied."""
    slots = [getattr(room, slot_name(i)) for i in range(CHANGE_SLOTS)]
    return _merge.call(name, snapshot, room.epoch, room.seq, *slots).to(row_type)


def resync_button(name: str, on_click: Any) -> rx.Component:
    """Hidden; clicked by the merge function when the tab must reload the list."""
    return rx.el.button(
        type="button",
        id=RESYNC_ID + name,
        on_click=on_click,
        hidden=True,
        tab_index=-1,
        custom_attrs={"aria-hidden": "true", "data-testid": RESYNC_ID + name},
    )
