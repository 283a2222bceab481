"""Keep one tab's background events in the order the tab sent them.

Background handlers run outside Reflex's state locks (so rooms shared by many tabs never
queue behind a database write), which also means two events from the same tab could
overtake each other: a visitor's two quick messages stored in the wrong order, or a reply
that runs before the claim clicked just before it. A tab's socket lives on one worker, so a
per-worker lock keyed by the tab's token restores the order without any shared state.
"""

from __future__ import annotations

import asyncio
import weakref

_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def tab_lock(client_token: str) -> asyncio.Lock:
    """The lock serialising this tab's background events (kept alive while anyone holds it)."""
    lock = _locks.get(client_token)
    if lock is None:
        lock = asyncio.Lock()
        _locks[client_token] = lock
    return lock
