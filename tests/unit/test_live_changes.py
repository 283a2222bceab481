"""A live list's room records one change per row that changed, whether it was given the whole
list or only the rows an event touched (`only`): the same changes either way."""

from __future__ import annotations

from handoff_app.live_changes import record_changes, slot_name
from handoff_app.models import QueueRow
from handoff_app.realtime import StaffQueueRoom


def row(cid: int, preview: str = "hello") -> QueueRow:
    return QueueRow(
        conversation_id=cid,
        status="pending",
        visitor_label=f"Visitor {cid}",
        trigger="button",
        reason="",
        requested_at="2026-11-21T10:00:00+00:00",
        claimed_by="",
        preview=preview,
        sort_key=f"{cid:020d}",
    )


def loaded_room(rows: list[QueueRow]) -> StaffQueueRoom:
    room = StaffQueueRoom(_reflex_internal_init=True)  # type: ignore[call-arg]
    assert record_changes(room, rows) == 0  # a new room takes the list as it is
    return room


def sent(room: StaffQueueRoom, count: int) -> list[tuple[int, str | None]]:
    """The newest `count` changes: (key, the row's preview or None when removed)."""
    changes = [getattr(room, slot_name(seq)) for seq in range(room.seq - count + 1, room.seq + 1)]
    return [(c["key"], c["row"]["preview"] if c["row"] else None) for c in changes]


def test_a_partial_read_records_the_same_changes_as_a_whole_one() -> None:
    before = [row(1), row(2), row(3)]
    after = [row(1), row(2, "new words"), row(4)]  # 2 changed, 3 left, 4 came
    whole, partial = loaded_room(before), loaded_room(before)

    assert record_changes(whole, after) == 3
    touched = {2, 3, 4}
    assert record_changes(partial, [r for r in after if r.conversation_id in touched], touched) == 3
    assert sorted(sent(whole, 3), key=str) == sorted(sent(partial, 3), key=str)
    assert (3, None) in sent(partial, 3) and (2, "new words") in sent(partial, 3)
    assert whole._fingerprints == partial._fingerprints


def test_rows_outside_the_partial_read_are_left_alone() -> None:
    room = loaded_room([row(1), row(2)])
    assert record_changes(room, [row(2)], only={2}) == 0  # nothing changed; 1 is not gone
    assert set(room._fingerprints) == {1, 2}
