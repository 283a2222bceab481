"""Shared fixtures: real databases (a fresh SQLite file per test; PostgreSQL when asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.support import network_guard, postgres

network_guard.install()  # no test may reach the internet

from handoff_app import db, events  # noqa: E402 - after the guard
from handoff_app.config import async_database_url  # noqa: E402 - after the guard
from handoff_app.models import StaffPublic, WorkspaceSettings  # noqa: E402 - after the guard
from handoff_app.services import staff as staff_service  # noqa: E402 - after the guard
from handoff_app.services.workspace import SETTINGS_ID  # noqa: E402 - after the guard


def random_email() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}@example.test"


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    """On CI (.ci/run) an unreachable PostgreSQL or Redis fails the run instead of skipping."""
    return os.environ.get("HANDOFF_REQUIRE_SERVICES") == "1"


def require_postgres() -> None:
    try:
        engine = sa.create_engine(postgres_url())
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        message = f"PostgreSQL at {postgres_url()} is unreachable: {exc}"
        if services_required():
            pytest.fail(message)
        pytest.skip(message)


def fresh_postgres_database() -> str:
    """Create an empty PostgreSQL database for one test; returns its sync URL."""
    return postgres.fresh_database(postgres_url())


def drop_postgres_database(url: str) -> None:
    postgres.drop_database(postgres_url(), url)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A sync URL of an empty database with every table created."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        require_postgres()
        url = fresh_postgres_database()
    engine = db.make_sync_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as setup:  # the baseline workspace of these tests: live support on
        setup.add(WorkspaceSettings(id=SETTINGS_ID, live_support_enabled=True))
        setup.commit()
    engine.dispose()
    yield url
    if request.param == "postgresql":
        drop_postgres_database(url)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    db.configure_database(async_database_url(database_url))
    async with db.open_session() as s:
        yield s
    await db.dispose_engines()


@pytest.fixture
def published() -> Iterator[list[events.ConversationEvent]]:
    """Every event published during the test, in order."""
    seen: list[events.ConversationEvent] = []

    async def record(event: events.ConversationEvent) -> None:
        seen.append(event)

    events.subscribe(record)
    yield seen
    events.unsubscribe(record)


async def make_staff(session: AsyncSession, role: str = "agent", name: str = "") -> StaffPublic:
    return await staff_service.create_staff(
        session=session,
        email=random_email(),
        password="correct horse battery",
        role=role,
        display_name=name,
    )
