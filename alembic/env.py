"""Alembic environment: the database of REFLEX_DB_URL (or a connection handed in by a caller)."""

from __future__ import annotations

from sqlmodel import SQLModel

import handoff_app.models  # noqa: F401 - registers every table on SQLModel.metadata
from alembic import context
from handoff_app.db import make_sync_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_sync_engine(context.config.attributes.get("url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
