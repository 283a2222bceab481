"""Two app workers sharing PostgreSQL and Redis: pushes cross workers, claims have one winner.

Worker A and worker B are two backend-only app processes (one granian worker each) on their own
ports. Reflex relays deltas between them through Redis. When TEST_DATABASE_URL / TEST_REDIS_URL
are set (CI) and the services do not answer, the tests fail; they are never skipped.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import async_database_url
from handoff_app.db import make_async_engine
from handoff_app.services.staff import create_staff
from tests.conftest import drop_postgres_database, fresh_postgres_database
from tests.support import reflex_socket as rs
from tests.support.server import AppServer, migrate, run_cli, start_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS_DB = 5  # a database of its own, flushed at start
PASSWORD = "correct horse battery"
OWNER_EMAIL = "owner@example.test"


def redis_url() -> str:
    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    head, _, tail = base.rstrip("/").rpartition("/")
    return f"{head}/{REDIS_DB}" if tail.isdigit() else f"{base.rstrip('/')}/{REDIS_DB}"


@dataclass
class Cluster:
    a: AppServer
    b: AppServer
    db_url: str
    agents: dict[str, str]  # display name -> staff token

    @property
    def url_a(self) -> str:
        return f"http://127.0.0.1:{self.a.port}"

    @property
    def url_b(self) -> str:
        return f"http://127.0.0.1:{self.b.port}"


async def create_agents(db_url: str, names: list[str]) -> None:
    engine = make_async_engine(async_database_url(db_url))
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for name in names:
                await create_staff(
                    session=session,
                    email=f"{name.lower()}@example.test",
                    password=PASSWORD,
                    role="agent",
                    display_name=name,
                )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    try:
        url = fresh_postgres_database()
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL of TEST_DATABASE_URL is unreachable: {exc}")
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="module")
def redis_db() -> Iterator[str]:
    url = redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis of TEST_REDIS_URL is unreachable: {exc}")
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def cluster(
    database: str, redis_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("scale-out")
    migrate(database)
    run_cli(database, "create-owner", "--email", OWNER_EMAIL, "--password", PASSWORD)
    asyncio.run(create_agents(database, ["Ada", "Bob", "Cy"]))
    one_worker = {"GRANIAN_WORKERS": "1"}  # two processes on two ports: two distinct workers
    with ThreadPoolExecutor(2) as pool:
        starting = [
            pool.submit(
                start_app,
                db_url=database,
                log_path=logs / f"worker-{name}.log",
                backend_only=True,
                redis_url=redis_db,
                extra_env=one_worker,
            )
            for name in ("a", "b")
        ]
    servers = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()  # re-raise a failed start (the other worker is stopped below)
        base = f"http://127.0.0.1:{servers[1].port}"
        tokens = {
            name: asyncio.run(rs.sign_in(base, f"{name.lower()}@example.test", PASSWORD))
            for name in ("Ada", "Bob", "Cy")
        }
        yield Cluster(a=servers[0], b=servers[1], db_url=database, agents=tokens)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
async def visitor(cluster: Cluster) -> AsyncIterator[tuple[rs.ReflexSocket, int]]:
    """A visitor on worker A with a fresh conversation (still with the bot)."""
    tab, conversation_id = await rs.visitor_with_conversation(
        cluster.url_a, body=f"My order {uuid.uuid4().hex[:6]} is late"
    )
    await tab.wait_for(lambda s: rs.messages_from(s, "bot"))
    yield tab, conversation_id
    await tab.close()


def queue_row(state: rs.State, conversation_id: int) -> dict[str, object] | None:
    rows = rs.LiveList().rows(state) or []
    return next((r for r in rows if r["conversation_id"] == conversation_id), None)


def conversation_status(db_url: str, conversation_id: int) -> tuple[str, int | None]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT status, assigned_staff_id FROM conversation WHERE id = :id"),
                {"id": conversation_id},
            ).one()
            return row[0], row[1]
    finally:
        engine.dispose()


async def test_a_handoff_on_worker_a_appears_live_in_the_queue_on_worker_b(
    cluster: Cluster, visitor: tuple[rs.ReflexSocket, int]
) -> None:
    tab, conversation_id = visitor
    queue = rs.ReflexSocket(cluster.url_b)
    await queue.connect("/agent", storage=rs.staff_storage(cluster.agents["Ada"]))
    try:
        await queue.wait_for(rs.queue_loaded)
        assert queue_row(queue.state, conversation_id) is None  # still with the bot
        await rs.request_human(tab)
        row = await queue.wait_for(lambda s: queue_row(s, conversation_id))
        assert row["status"] == "pending"
        assert row["trigger"] == "button"
        # the queue page's unclaimed count travels in the queue room, with the rows
        await queue.wait_for(lambda s: s.get(rs.STAFF_QUEUE_ROOM, {}).get("unclaimed", 0) >= 1)
    finally:
        await queue.close()


async def test_concurrent_claims_on_two_workers_have_exactly_one_winner(
    cluster: Cluster, visitor: tuple[rs.ReflexSocket, int]
) -> None:
    tab, conversation_id = visitor
    await rs.request_human(tab)
    seats = [("Ada", cluster.url_b), ("Bob", cluster.url_b), ("Cy", cluster.url_a)]
    agents = await asyncio.gather(
        *(
            rs.open_agent_conversation(url, cluster.agents[name], conversation_id)
            for name, url in seats
        )
    )
    try:
        await asyncio.gather(*(agent.send(rs.AGENT_CONVERSATION, "claim") for agent in agents))
        # Every claimant hears back: the winner through the room, the others through `notice`.
        for agent in agents:
            await agent.wait_for(
                lambda s: (
                    s.get(rs.AGENT_CONVERSATION, {}).get("notice") or rs.room(s).get("agent_label")
                )
            )
        await asyncio.sleep(0.3)  # let every last delta land
        notices = {
            name: a.var(rs.AGENT_CONVERSATION, "notice")
            for (name, _), a in zip(seats, agents, strict=True)
        }
        winners = [name for name, notice in notices.items() if not notice]
        assert len(winners) == 1, notices
        winner = winners[0]
        for name, notice in notices.items():
            if name != winner:
                assert notice == f"{winner} has already claimed this conversation.", notices
        for agent in agents:  # every tab, on both workers, shows the same holder
            await agent.wait_for(lambda s: rs.room(s).get("agent_label") == winner)
        await tab.wait_for(
            lambda s: rs.room(s).get("status") == "active" and rs.room(s)["agent_label"] == winner
        )
        status, _assigned = conversation_status(cluster.db_url, conversation_id)
        assert status == "active"
        joined = [m for m in rs.messages_from(tab.state, "system") if winner in m]
        assert len(joined) == 1, rs.messages_from(tab.state, "system")
    finally:
        await asyncio.gather(*(agent.close() for agent in agents))


async def test_messages_cross_workers_live_both_ways(
    cluster: Cluster, visitor: tuple[rs.ReflexSocket, int]
) -> None:
    tab, conversation_id = visitor
    await rs.request_human(tab)
    agent = await rs.open_agent_conversation(cluster.url_b, cluster.agents["Bob"], conversation_id)
    watcher = await rs.open_agent_conversation(cluster.url_a, cluster.agents["Cy"], conversation_id)
    try:
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        await tab.wait_for(lambda s: rs.room(s).get("agent_label") == "Bob")
        await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "Bob here, on B"}})
        await tab.wait_for(lambda s: "Bob here, on B" in rs.messages_from(s, "agent"))
        await tab.send(rs.VISITOR, "send", {"form": {"body": "Thanks Bob, from A"}})
        await agent.wait_for(lambda s: "Thanks Bob, from A" in rs.messages_from(s, "visitor"))
        await watcher.wait_for(lambda s: "Thanks Bob, from A" in rs.messages_from(s, "visitor"))
        assert agent.var(rs.AGENT_CONVERSATION, "notice") == ""
        # The bot stays silent while a human has the conversation.
        await asyncio.sleep(0.5)
        assert rs.messages_from(tab.state, "bot") == rs.messages_from(agent.state, "bot")
        assert len(rs.messages_from(tab.state, "bot")) == 1
    finally:
        await agent.close()
        await watcher.close()


async def test_a_setting_saved_on_worker_a_applies_on_worker_b_at_once(
    cluster: Cluster,
) -> None:
    """The owner adds a keyword through /settings on worker A; a visitor on worker B typing it
    is handed off straight away, with no restart."""
    owner_token = await rs.sign_in(cluster.url_a, OWNER_EMAIL, PASSWORD)
    owner = rs.ReflexSocket(cluster.url_a)
    await owner.connect("/settings", storage=rs.staff_storage(owner_token))
    visitor, _conversation_id = await rs.visitor_with_conversation(
        cluster.url_b, body="Hello there"
    )
    try:
        form = await owner.wait_for(lambda s: s.get(rs.SETTINGS, {}).get("form"))
        keyword = f"mango lassi {uuid.uuid4().hex[:4]}"
        changed = dict(form) | {"handoff_keywords": form["handoff_keywords"] + "\n" + keyword}
        await owner.send(rs.SETTINGS, "save", {"form": changed})
        await owner.wait_for(lambda s: s.get(rs.SETTINGS, {}).get("notice"))
        assert owner.var(rs.SETTINGS, "errors") in ({}, None)
        await visitor.send(rs.VISITOR, "send", {"form": {"body": f"One {keyword.upper()} please"}})
        await visitor.wait_for(lambda s: rs.room(s).get("status") == "pending")
    finally:
        await owner.close()
        await visitor.close()
