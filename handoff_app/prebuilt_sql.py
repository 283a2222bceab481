"""Hot statements compiled once and run straight on the session's on-loop SQLite connection.

Every statement SQLAlchemy runs for us costs about 40 µs of its own Python on the CI machine
(the async session's greenlet hop, the execution context, the result wrapping; measured alone,
twice that under the delivery benchmark's load) around 2-4 µs in SQLite itself. A message's
write runs half a dozen statements, on the one event loop that also delivers every message.

`Prebuilt` keeps the SQLAlchemy statement as the one definition of the SQL. On an on-loop
SQLite connection (`sqlite_on_loop`) it compiles it once per set of parameter names, as
SQLAlchemy would, binds the values through SQLAlchemy's own type processors (datetimes in
SQLite's text format, JSON) and reads results through its result processors, so a row is the
same whichever way it was written or read. It runs in the session's own transaction (the
first use begins it as any statement would: BEGIN IMMEDIATE on the writer). On any other
connection (PostgreSQL, aiosqlite's thread), and for a statement that needs what only
SQLAlchemy's execution does (Python-side column defaults, expanding IN lists), it is plain
`session.execute`. A call that finds the database busy runs again through `session.execute`,
whose connection waits for the lock on its thread (`sqlite_on_loop`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import transaction_cache
from handoff_app.sqlite_on_loop import LoopConnection, is_busy

Row = tuple[Any, ...]
# per transaction (transaction_cache): the sqlite3 connection or None, and the dialect
_CONNECTION = "handoff_prebuilt_sqlite"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: Sequence[str]  # bind names, in the order of the statement's "?"
    binds: Mapping[str, Callable[[Any], Any]]
    construct: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    results: Sequence[Callable[[Any], Any] | None] | None  # None: returns no rows

    def parameters(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.construct(params)
        binds = self.binds
        return [binds[name](values[name]) if name in binds else values[name] for name in self.names]

    def rows(self, raw: list[Row]) -> list[Row]:
        processors = self.results or ()
        if not any(processors):
            return raw
        return [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
            for row in raw
        ]


def _compile(statement: Any, dialect: Dialect, keys: list[str]) -> _Compiled | None:
    """The statement as SQLAlchemy would compile it for these parameter names; None when
    running it needs SQLAlchemy's execution (defaults computed in Python, expanding or
    literal-rendered parameters, escaped bind names)."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=keys)
    if (
        not compiled.positional
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
    ):
        return None
    results = None
    if compiled.returning or isinstance(statement, sa.Select):
        results = [
            entry[3]._cached_result_processor(dialect, None) for entry in compiled._result_columns
        ]
    return _Compiled(
        sql=compiled.string,
        names=list(compiled.positiontup or ()),
        binds=dict(compiled._bind_processors),
        construct=compiled.construct_params,
        results=results,
    )


async def _sqlite_connection(session: AsyncSession) -> tuple[sqlite3.Connection | None, Dialect]:
    """The sqlite3 connection under the session's transaction (begun if need be) when it is
    an on-loop connection, and the dialect; looked up once per transaction."""
    held = transaction_cache.current(session, _CONNECTION)
    if held is not None:
        return held  # type: ignore[no-any-return]
    connection = await session.connection()  # begins the transaction when none is open
    driver = (await connection.get_raw_connection()).driver_connection
    sqlite = driver.sqlite_connection() if isinstance(driver, LoopConnection) else None
    transaction_cache.keep(session, _CONNECTION, (sqlite, connection.dialect))
    return sqlite, connection.dialect


class Prebuilt:
    """One statement, run on the on-loop SQLite connection when it can be (see the module).

    `rows`, `first` and `scalar` read what a SELECT or a RETURNING clause gives; `count` is the
    number of rows an INSERT, UPDATE or DELETE changed."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled | None] = {}

    def _for(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled | None:
        key = (dialect.name, keys)
        if key not in self._compiled:
            self._compiled[key] = _compile(self.statement, dialect, list(keys))
        return self._compiled[key]

    async def _run(
        self, session: AsyncSession, params: Mapping[str, Any] | None
    ) -> tuple[list[Row], int]:
        params = dict(params or {})
        connection, dialect = await _sqlite_connection(session)
        if connection is not None:
            compiled = self._for(dialect, tuple(sorted(params)))
            if compiled is not None:
                try:
                    cursor = connection.execute(compiled.sql, compiled.parameters(params))
                    raw = cursor.fetchall() if compiled.results is not None else []
                    return compiled.rows(raw), cursor.rowcount
                except sqlite3.OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    # locked by another process: SQLAlchemy's connection waits on its thread
        result: Any = await session.execute(self.statement, params)
        rows = [tuple(row) for row in result.all()] if result.returns_rows else []
        return rows, result.rowcount

    async def rows(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[Row]:
        return (await self._run(session, params))[0]

    async def first(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> Row | None:
        rows = await self.rows(session, params)
        return rows[0] if rows else None

    async def scalar(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        row = await self.first(session, params)
        return row[0] if row is not None else None

    async def count(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> int:
        return (await self._run(session, params))[1]
