"""Database engines: async for the app (never block the event loop), sync for migrations/CLI.

One engine per process (each worker builds its own on first use).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import async_database_url, database_url

_async_engine: AsyncEngine | None = None
_session_factory: async_sessionmaker[AsyncSession] | None = None
_read_session_factory: async_sessionmaker[AsyncSession] | None = None
_read_engine: AsyncEngine | None = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; busy_timeout makes writers queue, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_writer_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of the driver's deferred
    # BEGIN: a deferred read that later writes fails at once with "database is locked" when
    # another writer committed in between; IMMEDIATE waits its turn (busy_timeout).
    dbapi_connection.isolation_level = None


def _configure_sqlite(engine: sa.Engine, *, writer: bool = True) -> None:
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    if writer:
        sa.event.listen(engine, "connect", _sqlite_writer_connect)
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)


def make_async_engine(url: str, *, writer: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        # SQLite has one write lock, and a writer that finds it taken sleeps in SQLite's busy
        # handler with growing back-off (1, 2, 5, 10 ... 100 ms) instead of being woken when it
        # frees: under load that put ~100 ms steps into message delivery. The writer engine
        # therefore has ONE connection: writers queue for it in the pool, in order, and are
        # woken at once (a session returns it when its transaction ends). Readers have their
        # own engine and pool (WAL lets them read beside the writer).
        pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30} if writer else {}
        memory = ":memory:" in url or "mode=memory" in url
        engine = create_async_engine(url, connect_args={"timeout": 15}, **({} if memory else pool))
        _configure_sqlite(engine.sync_engine, writer=writer)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sync_engine(url: str | None = None) -> sa.Engine:
    url = url or database_url()
    engine = sa.create_engine(url)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine


def configure_database(async_url: str | None = None) -> None:
    """(Re)build this process's async engines, e.g. when tests point them at another database.

    On SQLite, sessions that may write use an engine whose transactions start with BEGIN
    IMMEDIATE (one writer at a time, queued by busy_timeout); read-only sessions use a second
    engine with SQLite's default deferred transactions, which WAL lets run beside the writer.
    PostgreSQL needs no such split: both names share one engine.
    """
    global _async_engine, _session_factory, _read_session_factory, _read_engine
    url = async_url or async_database_url()
    _async_engine = make_async_engine(url)
    _read_engine = read_engine = (
        make_async_engine(url, writer=False) if url.startswith("sqlite") else None
    )
    _session_factory = async_sessionmaker(
        _async_engine, class_=AsyncSession, expire_on_commit=False
    )
    _read_session_factory = async_sessionmaker(
        read_engine or _async_engine, class_=AsyncSession, expire_on_commit=False
    )


async def dispose_engines() -> None:
    """Close every pooled connection of this process (CLI commands and tests call this)."""
    for engine in (_async_engine, _read_engine):
        if engine is not None:
            await engine.dispose()


def open_session() -> AsyncSession:
    """A session for use cases that write: `async with open_session() as session:`.

    Keep it short and never leave a transaction open while awaiting other work: on SQLite its
    transaction holds the single write lock until it ends.
    """
    if _session_factory is None:
        configure_database()
    assert _session_factory is not None
    return _session_factory()


def open_read_session() -> AsyncSession:
    """A session for reads only (queries, room refreshes): never blocks or waits for writers."""
    if _read_session_factory is None:
        configure_database()
    assert _read_session_factory is not None
    return _read_session_factory()
