"""SQLite connections that run their calls on the event loop (handoff_app/sqlite_on_loop.py):
no thread hand-off per call, yet the loop never sleeps on another process's lock. Real SQLite
files; the "other process" is a plain sqlite3 connection holding the write lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlmodel import text

from handoff_app import db
from handoff_app.config import async_database_url
from handoff_app.sqlite_on_loop import connect_on_loop
from tests.support.loop_watch import assert_waits_while_loop_runs


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "loop.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    return path


async def _open(path: Path) -> sqlite3.Connection:
    connection = await connect_on_loop(str(path), isolation_level=None)
    connection._conn.create_function("thread_id", 0, threading.get_ident)
    return connection


async def test_calls_run_on_the_loop_thread(tmp_path: Path) -> None:
    connection = await _open(_database(tmp_path))
    try:
        async with connection.execute("SELECT thread_id()") as cursor:
            (ran_on,) = await cursor.fetchone()
        assert ran_on == threading.get_ident()
        await connection.execute("INSERT INTO note (body) VALUES ('kept')")
        async with connection.execute("SELECT body FROM note") as cursor:
            assert await cursor.fetchall() == [("kept",)]
    finally:
        await connection.close()


async def test_a_locked_database_is_waited_for_on_the_thread_not_the_loop(
    tmp_path: Path,
) -> None:
    path = _database(tmp_path)
    other = sqlite3.connect(path, isolation_level=None)  # another process, say
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (body) VALUES ('theirs')")
    connection = await _open(path)
    try:
        begin = asyncio.create_task(connection.execute("BEGIN IMMEDIATE"))
        await assert_waits_while_loop_runs(begin)  # the loop runs on while BEGIN waits
        other.execute("COMMIT")
        await asyncio.wait_for(begin, 10)
        await connection.execute("INSERT INTO note (body) VALUES ('ours')")
        await connection.execute("COMMIT")
        async with connection.execute("SELECT body FROM note ORDER BY id") as cursor:
            assert await cursor.fetchall() == [("theirs",), ("ours",)]
        # after the wait, calls run on the loop again, with no busy timeout left behind
        async with connection.execute("SELECT thread_id()") as cursor:
            assert (await cursor.fetchone())[0] == threading.get_ident()
        async with connection.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone())[0] == 0
    finally:
        await connection.close()
        other.close()


async def test_app_sessions_write_read_and_scan_beside_another_writer(tmp_path: Path) -> None:
    path = _database(tmp_path)
    db.configure_database(async_database_url(f"sqlite:///{path}"))
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.open_session() as session:
                await session.exec(text("INSERT INTO note (body) VALUES ('app')"))  # type: ignore[call-overload]
                await session.commit()

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not writing.done()  # queued behind the other writer ...
        async with db.open_read_session() as session:  # ... while reads go on (WAL)
            assert (await session.exec(text("SELECT count(*) FROM note"))).one()[0] == 0  # type: ignore[call-overload]
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
        for open_reader in (db.open_read_session, db.open_scan_session):
            async with open_reader() as session:
                rows = (await session.exec(text("SELECT body FROM note"))).all()  # type: ignore[call-overload]
                assert [r[0] for r in rows] == ["app"]
    finally:
        other.close()
        await db.dispose_engines()
