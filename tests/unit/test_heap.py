"""The worker's collector settings once warm (handoff_app/heap.py)."""

from __future__ import annotations

import gc

from handoff_app.heap import THRESHOLDS, settle_heap


def test_a_settled_heap_is_frozen_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0  # start-up objects: never scanned again
        assert THRESHOLDS[0] > before[0] and THRESHOLDS[2] >= before[2]
    finally:  # leave this test process as it was
        gc.unfreeze()
        gc.set_threshold(*before)
