"""Process configuration from the environment (the owner's settings live in the database)."""

from __future__ import annotations

import os

DEFAULT_DB_URL = "sqlite:///handoff.db"


def database_url() -> str:
    """The synchronous SQLAlchemy URL, the same one Reflex reads (`REFLEX_DB_URL`)."""
    return os.environ.get("REFLEX_DB_URL") or DEFAULT_DB_URL


def async_database_url(sync_url: str | None = None) -> str:
    """The async driver URL for `sync_url`: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    explicit = os.environ.get("REFLEX_ASYNC_DB_URL")
    if explicit and sync_url is None:
        return explicit
    url = sync_url or database_url()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {base!r}: use SQLite or PostgreSQL")


def staff_session_days() -> int:
    return int(os.environ.get("HANDOFF_STAFF_SESSION_DAYS", "14"))


def public_url(fallback_origin: str = "") -> str:
    """The app's address as people outside reach it (links in emails, the embed snippet):
    `HANDOFF_PUBLIC_URL`, else the origin the owner's browser is on."""
    return (os.environ.get("HANDOFF_PUBLIC_URL", "").strip() or fallback_origin).rstrip("/")
