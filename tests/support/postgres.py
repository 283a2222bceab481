"""Throw-away PostgreSQL databases on a server (tests and benchmarks)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server of `server_url`; returns its sync URL."""
    name = f"handoff_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, url: str) -> None:
    """Drop the database of `url` (made by `fresh_database`), connections and all."""
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
