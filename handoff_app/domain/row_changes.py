"""Live lists sent as changes: what changed between two reads of a list, and the order keys.

A live list (the staff queue, the bot's conversations) is read from the database after every
event (whole, or the staff queue only for the conversations the events touched), but browsers
are sent only the rows that changed: each tab loads the list once, then applies numbered
changes. Here is the pure part: the diff, and the keys that let a browser sort rows exactly as
the database query does without knowing the query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_KEY_MAX = 10**20  # above any microsecond timestamp or id this app will see


@dataclass(frozen=True)
class RowChange(Generic[K]):
    """One row added or changed (`removed` False: send its new value) or gone (`removed`)."""

    key: K
    removed: bool = False


def fingerprint(serialized: str) -> str:
    """A short digest of a row's serialized form: the server keeps these, not the rows."""
    return hashlib.blake2b(serialized.encode(), digest_size=8).hexdigest()


def diff_rows(known: Mapping[K, str], fresh: Mapping[K, str]) -> list[RowChange[K]]:
    """The changes that turn `known` into `fresh` (both map a row key to its fingerprint):
    removals first, then added or changed rows in `fresh`'s order. Unchanged rows produce
    nothing, so one event costs one change whatever the list's length."""
    removed = [RowChange(key, removed=True) for key in known if key not in fresh]
    changed = [RowChange(key) for key, digest in fresh.items() if known.get(key) != digest]
    return removed + changed


def _microseconds(at: datetime) -> int:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND


def ascending_key(at: datetime, tie: int) -> str:
    """Sorts (as a string) like ORDER BY at, tie."""
    return f"{_microseconds(at):020d}:{tie:020d}"


def descending_key(at: datetime, tie: int) -> str:
    """Sorts (as a string) like ORDER BY at DESC, tie DESC."""
    return f"{_KEY_MAX - _microseconds(at):020d}:{_KEY_MAX - tie:020d}"
