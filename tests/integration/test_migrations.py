"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import handoff_app.models  # noqa: F401 - registers the tables
from handoff_app.db import make_sync_engine
from handoff_app.migrations import upgrade_to_head
from tests.conftest import drop_postgres_database, fresh_postgres_database, require_postgres


def _diff_after_migrating(url: str) -> list[object]:
    upgrade_to_head(url)
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    assert _diff_after_migrating(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql() -> None:
    require_postgres()
    url = fresh_postgres_database()
    try:
        assert _diff_after_migrating(url) == []
    finally:
        drop_postgres_database(url)
