"""Database tables (SQLModel) and the public shapes a client may see.

Table classes hold secrets (password hashes, token hashes); the `*Public` classes are what
states and pages carry. Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import JSON, Column, Field, SQLModel

from handoff_app.domain.keywords import DEFAULT_HANDOFF_KEYWORDS
from handoff_app.domain.lifecycle import ConversationStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite hands them back naive, so re-attach UTC on load."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time_column(*, nullable: bool = True, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False, unique=True))
    display_name: str = Field(default="", max_length=120)
    role: str = Field(default="agent", max_length=16)  # owner | agent
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))


class StaffPublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str

    @property
    def label(self) -> str:
        return self.display_name or self.email.split("@")[0]


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    expires_at: datetime = Field(sa_column=_time_column(nullable=False))


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"

    id: int | None = Field(default=None, primary_key=True)
    # sha256 of the visitor's secret conversation key (the key itself lives only in their browser)
    visitor_key_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    visitor_label: str = Field(default="Visitor", max_length=80)
    status: str = Field(
        default=ConversationStatus.BOT.value,
        sa_column=sa.Column(sa.String(16), nullable=False, index=True),
    )
    assigned_staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_time_column())


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    trigger: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    triggering_message_id: int | None = Field(default=None)
    triggering_text: str = Field(default="", max_length=4000)
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    response_deadline: datetime | None = Field(default=None, sa_column=_time_column())
    claimed_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    claimed_at: datetime | None = Field(default=None, sa_column=_time_column())
    first_agent_reply_at: datetime | None = Field(default=None, sa_column=_time_column())
    closed_at: datetime | None = Field(default=None, sa_column=_time_column())
    outcome: str | None = Field(default=None, max_length=16)
    lead_contact: str | None = Field(default=None, max_length=254)


class Message(SQLModel, table=True):
    """Append-only. Ids only grow, so "everything after id N" is a complete resync."""

    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_conversation_id_id", "conversation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    sender: str = Field(max_length=16)
    author_staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    author_label: str = Field(default="", max_length=120)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))


class WorkspaceSettings(SQLModel, table=True):
    """The owner-editable configuration: exactly one row, id 1."""

    __tablename__ = "workspace_settings"

    id: int | None = Field(default=None, primary_key=True)
    handoff_keywords: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HANDOFF_KEYWORDS),
        sa_column=Column(JSON, nullable=False),
    )
    handoff_message: str = Field(
        default="I'm connecting you with a member of our team. Someone will be with you shortly.",
        max_length=1000,
    )
    waiting_message: str = Field(default="Waiting for an agent to join…", max_length=1000)
    agent_joined_message: str = Field(default="{agent} joined the conversation.", max_length=1000)
    resolution_message: str = Field(
        default="This conversation has been resolved. Thanks for reaching out!", max_length=1000
    )
    handback_message: str = Field(
        default="You're chatting with our AI assistant again.", max_length=1000
    )
    ai_model: str = Field(default="local/kb", max_length=200)
    response_timeout_seconds: int = Field(default=180)


class KnowledgeArticle(SQLModel, table=True):
    __tablename__ = "knowledge_article"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))


class MessagePublic(BaseModel):
    """One bubble as every client sees it."""

    id: int
    sender: str
    author_label: str
    body: str
    created_at: str  # ISO 8601, UTC


class QueueRow(BaseModel):
    """One conversation in the staff queue."""

    conversation_id: int
    status: str
    visitor_label: str
    trigger: str
    reason: str
    requested_at: str
    claimed_by: str
    preview: str
