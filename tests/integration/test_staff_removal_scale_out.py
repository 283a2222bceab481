"""Two workers sharing PostgreSQL and Redis: the owner on worker A removes an agent whose
dashboard is open on worker B; that tab is signed out and leaves every room at once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import drop_postgres_database, fresh_postgres_database
from tests.support import reflex_socket as rs
from tests.support.server import AppServer, migrate, run_cli, start_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS_DB = 6  # its own database (test_scale_out uses 5), flushed at start
OWNER = ("owner@example.test", "correct horse battery")
AGENT = ("agent@example.test", "agent password 1")


def redis_url() -> str:
    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    head, _, tail = base.rstrip("/").rpartition("/")
    return f"{head}/{REDIS_DB}" if tail.isdigit() else f"{base.rstrip('/')}/{REDIS_DB}"


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, AppServer, AppServer]]:
    try:
        database = fresh_postgres_database()
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL of TEST_DATABASE_URL is unreachable: {exc}")
    client = redis.Redis.from_url(redis_url(), socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis of TEST_REDIS_URL is unreachable: {exc}")
    logs: Path = tmp_path_factory.mktemp("removal-scale-out")
    migrate(database)
    run_cli(database, "create-owner", "--email", OWNER[0], "--password", OWNER[1])
    run_cli(database, "create-agent", "--email", AGENT[0], "--password", AGENT[1])
    with ThreadPoolExecutor(2) as pool:
        starting = [
            pool.submit(
                start_app,
                db_url=database,
                log_path=logs / f"worker-{name}.log",
                backend_only=True,
                redis_url=redis_url(),
                extra_env={"GRANIAN_WORKERS": "1"},
            )
            for name in ("a", "b")
        ]
    servers = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()
        yield database, servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()
        client.flushdb()
        client.close()
        drop_postgres_database(database)


def url(server: AppServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def test_removal_on_one_worker_signs_out_the_tab_on_the_other(
    workers: tuple[str, AppServer, AppServer],
) -> None:
    database, a, b = workers
    agent_token = await rs.sign_in(url(b), *AGENT)
    agent = rs.ReflexSocket(url(b), record=True)
    await agent.connect("/agent", storage=rs.staff_storage(agent_token))
    await agent.wait_for(lambda s: s.get(rs.STAFF_AUTH, {}).get("staff_label"))
    owner = rs.ReflexSocket(url(a))
    await owner.connect("/staff", storage=rs.staff_storage(await rs.sign_in(url(a), *OWNER)))
    try:
        rows = await owner.wait_for(
            lambda s: len(staff := s.get(rs.STAFF_PAGE, {}).get("staff", [])) == 2 and staff
        )
        agent_id = next(r["id"] for r in rows if r["email"] == AGENT[0])
        await owner.send(rs.STAFF_PAGE, "remove_staff", {"staff_id": agent_id})
        await agent.wait_for(lambda s: s.get(rs.STAFF_AUTH, {}).get("session_ended") is True)
        assert agent.var(rs.STAFF_AUTH, "token") == ""
        seen = len(agent.arrivals)
        # a new handoff on worker A reaches the owner's queue, never the removed agent's tab
        visitor, _ = await rs.visitor_with_conversation(url(a))
        await rs.request_human(visitor)
        watcher = rs.ReflexSocket(url(a))
        await watcher.connect("/agent", storage=rs.staff_storage(await rs.sign_in(url(a), *OWNER)))
        await watcher.wait_for(lambda s: s.get(rs.STAFF_BADGE, {}).get("unclaimed", 0) >= 1)
        await asyncio.sleep(0.5)
        assert not any(
            rs.STAFF_QUEUE_ROOM in x.delta or rs.STAFF_BADGE in x.delta
            for x in agent.arrivals[seen:]
        )
        await watcher.close()
        await visitor.close()
    finally:
        await agent.close()
        await owner.close()
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        left = conn.execute(
            sa.text(
                "SELECT count(*) FROM staff_tab t JOIN staff_session s ON s.id = t.session_id "
                "JOIN staff_user u ON u.id = s.staff_id WHERE u.email = :email"
            ),
            {"email": AGENT[0]},
        )
        assert left.scalar() == 0
    engine.dispose()
