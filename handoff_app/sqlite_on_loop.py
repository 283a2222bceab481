"""SQLite connections whose calls run on the event loop instead of aiosqlite's thread.

aiosqlite runs every call (cursor, execute, fetch, close cursor, commit) on the connection's own
thread and wakes the event loop when it is done: about three hand-offs per statement, ~10 per
write transaction. On a machine with slow wake-ups (a round trip measured at 1.5-2 ms here)
that is most of a request's time. Worse, SQLite has ONE write lock: every hand-off inside a
write transaction is time the lock is held while the other writers queue. Under the delivery
benchmark's load a message's transaction held it 20-400 ms, and that queue was nearly all of
the delivery latency (README, "Delivery").

A statement on a local SQLite file takes 20-400 microseconds (a commit's fsync included), far
less than one hand-off, so these connections run their calls directly on the loop: a write
transaction never yields between its statements and holds the lock only for SQLite's own work.

The loop must never sleep on a lock, so the connection's busy timeout is zero: a call that
finds the database busy (another process holds the write lock: a CLI command, a second
worker, a test's own connection) fails at once and is retried on aiosqlite's thread, with the
full timeout. Closing also goes through the thread (aiosqlite stops its thread after it).

Reads that may scan a large table (searches over closed conversations) use an ordinary
aiosqlite connection instead (`db.open_scan_session`), so a slow query never stalls the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 15000


def _is_connection_close(fn: Callable[..., Any]) -> bool:
    return isinstance(getattr(fn, "__self__", None), sqlite3.Connection) and (
        getattr(fn, "__name__", "") == "close"
    )


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "database is locked" in text or "database is busy" in text


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run inline on the event loop (see the module)."""

    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if _is_connection_close(fn):
            return await super()._execute(fn, *args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        # another process holds the lock: wait for it on the thread, never on the loop
        return await super()._execute(self._waiting, fn, *args, **kwargs)

    def sqlite_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for callers on the loop that run statements on it
        directly (`prebuilt_sql`); each call must be awaited-free and short, as here."""
        return self._conn

    def _waiting(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        """`fn` with the full busy timeout (on aiosqlite's thread)."""
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            return fn(*args, **kwargs)
        finally:
            connection.execute("PRAGMA busy_timeout=0")


def connect_on_loop(
    database: str, *, iter_chunk_size: int = 64, **kwargs: Any
) -> aiosqlite.Connection:
    """SQLAlchemy's `async_creator_fn`: `aiosqlite.connect`, but the connection runs its calls
    on the loop, so two threads use its sqlite3 object (one at a time: each call is awaited
    before the next), hence `check_same_thread` off. Busy timeout zero, see the module."""
    kwargs["check_same_thread"] = False
    kwargs["timeout"] = 0
    connection = LoopConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
