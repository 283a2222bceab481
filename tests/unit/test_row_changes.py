"""The diff behind the live lists and the order keys browsers sort by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff_app.domain.row_changes import (
    RowChange,
    ascending_key,
    descending_key,
    diff_rows,
    fingerprint,
)

T0 = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def test_an_unchanged_list_has_no_changes_whatever_its_length() -> None:
    rows = {n: fingerprint(f"row {n}") for n in range(500)}
    assert diff_rows(rows, dict(rows)) == []


def test_one_new_row_in_a_long_list_is_one_change() -> None:
    known = {n: fingerprint(f"row {n}") for n in range(500)}
    fresh = {**known, 900: fingerprint("row 900")}
    assert diff_rows(known, fresh) == [RowChange(900)]


def test_a_changed_row_and_a_removed_row_removals_first() -> None:
    known = {1: fingerprint("a"), 2: fingerprint("b"), 3: fingerprint("c")}
    fresh = {1: fingerprint("a"), 3: fingerprint("c, claimed")}
    assert diff_rows(known, fresh) == [RowChange(2, removed=True), RowChange(3)]


def test_an_empty_start_adds_every_row_in_order() -> None:
    fresh = {7: fingerprint("x"), 5: fingerprint("y")}
    assert diff_rows({}, fresh) == [RowChange(7), RowChange(5)]


def test_fingerprints_differ_when_the_row_differs() -> None:
    assert fingerprint('{"unread":1}') != fingerprint('{"unread":2}')
    assert fingerprint('{"unread":1}') == fingerprint('{"unread":1}')


def test_ascending_keys_sort_like_order_by_time_then_id() -> None:
    rows = [
        (T0 + timedelta(seconds=1), 1),
        (T0, 9),
        (T0, 3),
        (T0 + timedelta(microseconds=1), 2),
        (T0.replace(tzinfo=None), 4),  # SQLite hands back naive UTC
    ]
    ordered = sorted(rows, key=lambda r: (r[0].replace(tzinfo=UTC), r[1]))
    assert sorted(rows, key=lambda r: ascending_key(*r)) == ordered


def test_descending_keys_sort_like_order_by_time_desc_then_id_desc() -> None:
    rows = [(T0, 1), (T0 + timedelta(hours=1), 2), (T0, 5), (T0 - timedelta(days=400), 3)]
    ordered = sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)
    assert sorted(rows, key=lambda r: descending_key(*r)) == ordered
