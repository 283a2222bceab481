"""Database engines: async for the app (never block the event loop), sync for migrations/CLI.

One engine per process (each worker builds its own on first use).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import async_database_url, database_url
from handoff_app.sqlite_on_loop import BUSY_TIMEOUT_MS, LoopConnection, connect_on_loop, is_busy

BUSY_TIMEOUT_S = BUSY_TIMEOUT_MS / 1000


@dataclass(frozen=True)
class _Sessions:
    engines: list[AsyncEngine]
    write: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]
    scan: async_sessionmaker[AsyncSession]


_sessions: _Sessions | None = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits. (The busy timeout, how long a call waits
    # for another connection's lock, is a connect argument: zero on the loop, see sqlite_on_loop.)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(dbapi_connection: Any) -> None:
    """The writer dialect's `do_begin`: every write transaction starts here.

    A dialect hook rather than SQLAlchemy's "begin" event: any engine-level connection event
    gives every Connection its own joined event dispatch, about fifty objects in reference
    cycles per transaction, which only the cyclic garbage collector frees, in pauses of
    10-15 ms on the event loop under the delivery benchmark's load. On an on-loop connection
    the statement goes straight to sqlite3; when the database is busy (another process
    writes), through the driver's cursor, whose call waits on the thread (sqlite_on_loop).
    """
    driver = dbapi_connection.driver_connection
    if isinstance(driver, LoopConnection):
        try:
            driver.sqlite_connection().execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
    finally:
        cursor.close()


def _sqlite_writer_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let the dialect's do_begin issue BEGIN IMMEDIATE instead of the driver's deferred
    # BEGIN: a deferred read that later writes fails at once with "database is locked" when
    # another writer committed in between; IMMEDIATE waits its turn (busy_timeout).
    dbapi_connection.isolation_level = None


def _configure_sqlite(engine: sa.Engine, *, writer: bool = True) -> None:
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    if writer:
        sa.event.listen(engine, "connect", _sqlite_writer_connect)
        engine.dialect.do_begin = _sqlite_begin_immediate  # type: ignore[method-assign]


def make_async_engine(url: str, *, writer: bool = True, on_loop: bool = True) -> AsyncEngine:
    """An async engine; on SQLite, `writer` (BEGIN IMMEDIATE, one connection) or a reader, and
    `on_loop` (calls run on the event loop, see sqlite_on_loop) or on aiosqlite's thread."""
    if url.startswith("sqlite"):
        # SQLite has one write lock, and a writer that finds it taken sleeps in SQLite's busy
        # handler with growing back-off (1, 2, 5, 10 ... 100 ms) instead of being woken when it
        # frees: under load that put ~100 ms steps into message delivery. The writer engine
        # therefore has ONE connection: writers queue for it in the pool, in order, and are
        # woken at once (a session returns it when its transaction ends). Readers have their
        # own engine and pool (WAL lets them read beside the writer).
        pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30} if writer else {}
        memory = ":memory:" in url or "mode=memory" in url
        connect_args: dict[str, Any] = (
            {"async_creator_fn": connect_on_loop} if on_loop else {"timeout": BUSY_TIMEOUT_S}
        )
        engine = create_async_engine(url, connect_args=connect_args, **({} if memory else pool))
        _configure_sqlite(engine.sync_engine, writer=writer)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sync_engine(url: str | None = None) -> sa.Engine:
    url = url or database_url()
    if not url.startswith("sqlite"):
        return sa.create_engine(url)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    _configure_sqlite(engine)
    return engine


def configure_database(async_url: str | None = None) -> None:
    """(Re)build this process's async engines, e.g. when tests point them at another database.

    On SQLite, three engines: sessions that may write use one whose transactions start with
    BEGIN IMMEDIATE (one writer at a time, queued in its one-connection pool); read-only
    sessions use a second with SQLite's deferred transactions, which WAL lets run beside the
    writer; both run their calls on the event loop (sqlite_on_loop). Reads that may scan a
    large table use a third, on aiosqlite's thread. PostgreSQL needs no split: one engine.
    """
    global _sessions
    url = async_url or async_database_url()
    writer = make_async_engine(url)
    reader = scanner = writer
    if url.startswith("sqlite"):
        reader = make_async_engine(url, writer=False)
        scanner = make_async_engine(url, writer=False, on_loop=False)
    write, read, scan = (
        async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        for engine in (writer, reader, scanner)
    )
    engines = [writer, reader, scanner] if reader is not writer else [writer]
    _sessions = _Sessions(engines=engines, write=write, read=read, scan=scan)


async def dispose_engines() -> None:
    """Close every pooled connection of this process (CLI commands and tests call this)."""
    for engine in _sessions.engines if _sessions is not None else ():
        await engine.dispose()


def _configured() -> _Sessions:
    if _sessions is None:
        configure_database()
    assert _sessions is not None
    return _sessions


def open_session() -> AsyncSession:
    """A session for use cases that write: `async with open_session() as session:`.

    Keep it short and never leave a transaction open while awaiting other work: on SQLite its
    transaction holds the single write lock until it ends.
    """
    return _configured().write()


def open_read_session() -> AsyncSession:
    """A session for reads only (queries, room refreshes): never blocks or waits for writers."""
    return _configured().read()


def open_scan_session() -> AsyncSession:
    """A session for reads that may scan a large table (text searches): on SQLite they run on
    a thread, so a slow query never stalls the event loop."""
    return _configured().scan()
