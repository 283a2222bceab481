"""Prebuilt statements (handoff_app/prebuilt_sql.py): run straight on the on-loop SQLite
connection, they write and read exactly what SQLAlchemy would; on PostgreSQL they are
SQLAlchemy's. Real SQLite files and the CI machine's PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import db
from handoff_app.config import async_database_url
from handoff_app.domain.messages import Sender
from handoff_app.domain.visitor_context import clean_context
from handoff_app.models import Message, utcnow
from handoff_app.prebuilt_sql import Prebuilt
from handoff_app.services import conversations
from handoff_app.services.handoff import _RECORD_FIRST_REPLY
from handoff_app.services.staff import _LIVE_SESSION, get_live_session, sign_in
from handoff_app.services.transcript import (
    _INSERT_MESSAGE,
    _LAST_PUBLIC_MESSAGE,
    _TOUCH_CONVERSATION,
    message_row,
)
from handoff_app.services.transitions import _LOCK_ROW, _LOCK_ROW_BY_KEY
from handoff_app.services.workspace import _AGENT_LABEL
from handoff_app.sqlite_on_loop import LoopConnection
from tests.conftest import make_staff
from tests.support.loop_watch import assert_waits_while_loop_runs

BOTH = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


async def _conversation(session: AsyncSession) -> int:
    started = await conversations.start_conversation(
        session=session, context=clean_context("127.0.0.1", "pytest", "", ""), visitor_id="v"
    )
    assert started.conversation.id is not None
    return started.conversation.id


def _message_values(conversation_id: int, body: str) -> dict[str, object]:
    return message_row(
        conversation_id=conversation_id,
        sender=Sender.BOT,
        body=body,
        author_staff_id=None,
        author_label="Bot",
        bot_outcome="answered",
        bot_sources=[{"id": 3, "title": "Refunds ✓"}],
    )


def test_a_new_message_row_has_every_column_but_its_id() -> None:
    """add_message inserts `message_row` as it is: a column added to Message must be in it
    (else the INSERT would leave it to the database's default, or fail on NOT NULL)."""
    row = _message_values(1, "hi")
    columns = {c.name for c in Message.__table__.columns}  # type: ignore[attr-defined]
    assert set(row) == columns - {"id"}
    model = Message(**row)  # what the model would have made of the same values
    assert {k: getattr(model, k) for k in row if k != "created_at"} == {
        k: v for k, v in row.items() if k != "created_at"
    }


async def _is_on_loop(session: AsyncSession) -> bool:
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    return isinstance(driver, LoopConnection)


async def test_the_hot_statements_take_the_direct_path_on_sqlite(session: AsyncSession) -> None:
    """Else the tests below would only test SQLAlchemy: each statement of a message's write
    compiles for the direct path with the parameters its caller passes."""
    assert await _is_on_loop(session)
    dialect = (await session.connection()).dialect
    calls: list[tuple[Prebuilt, list[str]]] = [
        (_INSERT_MESSAGE, list(_message_values(1, "x"))),
        (_LOCK_ROW, ["conversation"]),
        (_LOCK_ROW_BY_KEY, ["key_hash"]),
        (_TOUCH_CONVERSATION, ["conversation", "at"]),
        (_LAST_PUBLIC_MESSAGE, ["conversation"]),
        (_RECORD_FIRST_REPLY, ["conversation", "at"]),
        (_LIVE_SESSION, ["token_hash", "now"]),
        (_AGENT_LABEL, []),
    ]
    for statement, keys in calls:
        assert statement._for(dialect, tuple(sorted(keys))) is not None, statement.statement


@BOTH
async def test_rows_are_the_same_whichever_way_they_were_written(session: AsyncSession) -> None:
    cid = await _conversation(session)
    direct_id = await _INSERT_MESSAGE.scalar(session, _message_values(cid, "direct"))
    plain = await session.execute(_INSERT_MESSAGE.statement, _message_values(cid, "plain"))
    plain_id = plain.scalar_one()
    await session.commit()
    assert plain_id == direct_id + 1
    rows = (await session.exec(select(Message).where(Message.conversation_id == cid))).all()
    by_body = {m.body: m for m in rows}
    direct, plain_row = by_body["direct"], by_body["plain"]
    for column in ("sender", "author_label", "bot_outcome", "bot_sources", "feedback"):
        assert getattr(direct, column) == getattr(plain_row, column), column
    assert direct.bot_sources == [{"id": 3, "title": "Refunds ✓"}]
    assert abs(direct.created_at - plain_row.created_at) < timedelta(seconds=5)
    stored = await session.execute(
        sa.text("SELECT created_at, bot_sources FROM message WHERE id IN (:a, :b) ORDER BY id"),
        {"a": direct_id, "b": plain_id},
    )
    (direct_at, direct_json), (plain_at, plain_json) = stored.all()
    assert type(direct_at) is type(plain_at) and len(str(direct_at)) == len(str(plain_at))
    assert direct_json == plain_json  # the same JSON text
    # reads: the newest public message, through the direct path
    assert await _LAST_PUBLIC_MESSAGE.scalar(session, {"conversation": cid}) == plain_id
    assert await _LAST_PUBLIC_MESSAGE.scalar(session, {"conversation": cid + 100}) is None


@BOTH
async def test_counts_and_typed_results(session: AsyncSession) -> None:
    cid = await _conversation(session)
    at = utcnow()
    assert await _TOUCH_CONVERSATION.count(session, {"conversation": cid, "at": at}) == 1
    assert await _TOUCH_CONVERSATION.count(session, {"conversation": cid + 100, "at": at}) == 0
    await session.commit()
    read_back = sa.text("SELECT updated_at FROM conversation WHERE id = :i")
    (updated_at,) = (await session.execute(read_back, {"i": cid})).one()
    # a datetime written directly reads back through SQLAlchemy's own processor
    staff = await make_staff(session)
    token = (
        await sign_in(session=session, email=staff.email, password="correct horse battery")
    ).token
    live = await get_live_session(session=session, token=token)
    assert live is not None and live.staff.id == staff.id
    assert live.expires_at > utcnow() + timedelta(days=1)
    assert await get_live_session(session=session, token=token + "x") is None
    assert updated_at is not None


@BOTH
async def test_direct_statements_belong_to_the_session_transaction(session: AsyncSession) -> None:
    cid = await _conversation(session)
    await session.commit()
    first = await _INSERT_MESSAGE.scalar(session, _message_values(cid, "rolled back"))
    # the ORM, in the same transaction, sees the row written directly
    assert (await session.get(Message, first)) is not None
    await session.rollback()
    assert await _LAST_PUBLIC_MESSAGE.scalar(session, {"conversation": cid}) is None
    kept = await _INSERT_MESSAGE.scalar(session, _message_values(cid, "kept"))
    await session.commit()
    assert await _LAST_PUBLIC_MESSAGE.scalar(session, {"conversation": cid}) == kept


async def test_python_side_defaults_go_through_sqlalchemy(session: AsyncSession) -> None:
    """A statement whose values SQLAlchemy computes at execution (a column default in
    Python) is not run directly: the default is applied."""
    probe = sa.Table(
        "prebuilt_probe",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String, default="from the default"),
    )
    await session.run_sync(lambda s: probe.create(s.connection()))
    insert = Prebuilt(sa.insert(probe).returning(probe.c.id, probe.c.label))
    dialect = (await session.connection()).dialect
    assert insert._for(dialect, ("id",)) is None
    assert await insert.first(session, {"id": 7}) == (7, "from the default")
    assert await insert.first(session, {"id": 8, "label": "given"}) == (8, "given")


async def test_a_locked_database_falls_back_and_waits_off_the_loop(tmp_path: Path) -> None:
    """Another process holds the write lock: the direct call is refused at once (busy
    timeout zero) and the statement runs through SQLAlchemy, whose connection waits for the
    lock on its thread while the loop goes on. (The writer's own sessions take the lock at
    BEGIN: test_sqlite_on_loop.py; a deferred transaction that writes meets it here.)"""
    path = tmp_path / "locked.db"
    engine = db.make_sync_engine(f"sqlite:///{path}")
    Message.metadata.create_all(engine)
    engine.dispose()
    db.configure_database(async_database_url(f"sqlite:///{path}"))
    async with db.open_session() as session:
        cid = await _conversation(session)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with db.open_read_session() as session:  # deferred: no lock until it writes
            assert await _is_on_loop(session)
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE conversation SET visitor_ip = 'other' WHERE id = ?", (cid,))
            params = {"conversation": cid, "at": utcnow()}
            touching = asyncio.create_task(_TOUCH_CONVERSATION.count(session, params))
            await assert_waits_while_loop_runs(touching)
            other.execute("COMMIT")
            assert await asyncio.wait_for(touching, 10) == 1
            await session.commit()
        with sqlite3.connect(path) as check:
            row = check.execute("SELECT visitor_ip FROM conversation WHERE id = ?", (cid,))
            assert row.fetchone() == ("other",)  # both writes kept, one after the other
    finally:
        other.close()
        await db.dispose_engines()
