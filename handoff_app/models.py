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
    # removed staff keep their row (their messages and claims name them) but cannot sign in
    removed_at: datetime | None = Field(default=None, sa_column=_time_column())


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


class StaffTab(SQLModel, table=True):
    """Which browser tabs (Reflex client tokens) use which staff session: when sessions end
    (removal, password reset) those tabs are signed out live. In the database, not a module
    global, because with Redis each tab's socket may live on another worker."""

    __tablename__ = "staff_tab"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=sa.Column(
            sa.Integer(),
            sa.ForeignKey("staff_session.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    client_token: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    # the open page's heartbeat (every 30 s): "staff online" counts recent ones
    last_seen_at: datetime = Field(
        default_factory=utcnow, sa_column=_time_column(nullable=False, index=True)
    )


class SignInAttempt(SQLModel, table=True):
    """Every sign-in attempt, kept for throttling (failures per email and per IP) and the log."""

    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False, index=True))
    ip: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    succeeded: bool = Field(default=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=_time_column(nullable=False, index=True)
    )


class StaffInvite(SQLModel, table=True):
    """An invitation to join as staff: single use, expires, revocable; the token is hashed."""

    __tablename__ = "staff_invite"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False, index=True))
    display_name: str = Field(default="", max_length=120)
    role: str = Field(default="agent", max_length=16)
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    invited_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    expires_at: datetime = Field(sa_column=_time_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_time_column())
    delivery_error: str = Field(default="", max_length=500)
    accepted_at: datetime | None = Field(default=None, sa_column=_time_column())
    revoked_at: datetime | None = Field(default=None, sa_column=_time_column())


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
    # for the agent's context panel: captured when the conversation starts
    # sha256 of the visitor's browser id (kept across their conversations): "previous conversations"
    visitor_id_hash: str = Field(
        default="",
        sa_column=sa.Column(sa.String(64), nullable=False, server_default="", index=True),
    )
    visitor_ip: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    user_agent: str = Field(default="", max_length=400, sa_column_kwargs={"server_default": ""})
    page_url: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    referrer: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    # the visitor's IANA time zone (from their browser, checked against zoneinfo; "" unknown)
    visitor_timezone: str = Field(
        default="", max_length=64, sa_column_kwargs={"server_default": ""}
    )
    # when the visitor arrived on the site (the host page's session start in the widget)
    arrived_at: datetime | None = Field(default=None, sa_column=_time_column())


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    trigger: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    triggering_message_id: int | None = Field(default=None)
    triggering_text: str = Field(default="", max_length=4000)
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    # when the visitor is told nobody came (the sweeper acts on it; None = no deadline)
    response_deadline: datetime | None = Field(default=None, sa_column=_time_column(index=True))
    # set once by the sweeper when the deadline passed unclaimed: the visitor sees "busy"
    busy_at: datetime | None = Field(default=None, sa_column=_time_column())
    # requested outside working hours or while no agent was available: the visitor sees "away"
    away: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
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
    # bot messages: answered | no_answer | provider_error | partial (failures count toward N)
    bot_outcome: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    # the visitor's verdict on a bot message: "" | up | down (down counts as a failure)
    feedback: str = Field(default="", max_length=8, sa_column_kwargs={"server_default": ""})
    # bot messages: the knowledge articles the answer cites, as they were then (articles are
    # edited and deleted later): [{"id": 3, "title": "Shipping times"}, ...]
    bot_sources: list[dict[str, int | str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )


DEFAULT_AWAY_MESSAGE = (
    "Our team is away right now. Leave your phone or email and we'll get back to you."
)
DEFAULT_BUSY_MESSAGE = (
    "All our agents are busy. Leave your phone or email and we'll contact you, "
    "or keep chatting with our AI assistant."
)


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

    # Added with the settings page. Every column has a server default so existing rows upgrade.
    live_support_enabled: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    trigger_mode: str = Field(
        default="both", max_length=8, sa_column_kwargs={"server_default": "both"}
    )  # button | auto | both
    keyword_behaviour: str = Field(
        default="escalate", max_length=8, sa_column_kwargs={"server_default": "escalate"}
    )  # escalate | ask
    failure_threshold: int | None = Field(default=None)  # consecutive failures; None = off
    sensitive_topics: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    away_message: str = Field(
        default=DEFAULT_AWAY_MESSAGE,
        max_length=1000,
        sa_column_kwargs={"server_default": DEFAULT_AWAY_MESSAGE},
    )
    busy_message: str = Field(
        default=DEFAULT_BUSY_MESSAGE,
        max_length=1000,
        sa_column_kwargs={"server_default": DEFAULT_BUSY_MESSAGE},
    )
    agent_label: str = Field(
        default="", max_length=80, sa_column_kwargs={"server_default": ""}
    )  # what visitors see for an agent; blank = the agent's display name
    working_hours_enforced: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # {"mon": {"open": "09:00", "close": "17:00"}, ...}; a missing day is closed
    working_hours: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    timezone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    agents_available: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    ai_api_key: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": ""}
    )  # write-only: never sent to a browser
    # blank = the provider's default endpoint; set for Azure, Ollama or an OpenAI-compatible server
    ai_api_base: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    ai_system_prompt: str = Field(
        default="", sa_column=sa.Column(sa.Text(), nullable=False, server_default="")
    )
    ai_temperature: float = Field(default=0.2, sa_column_kwargs={"server_default": "0.2"})
    ai_reply_timeout_seconds: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    notify_email_alerts: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    webhook_url: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    widget_title: str = Field(
        default="Chat with us", max_length=80, sa_column_kwargs={"server_default": "Chat with us"}
    )
    widget_accent: str = Field(
        default="#2563eb", max_length=7, sa_column_kwargs={"server_default": "#2563eb"}
    )
    smtp_host: str = Field(default="", max_length=253, sa_column_kwargs={"server_default": ""})
    smtp_port: int = Field(default=587, sa_column_kwargs={"server_default": "587"})
    smtp_user: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    smtp_password: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": ""}
    )  # write-only
    smtp_security: str = Field(
        default="starttls", max_length=8, sa_column_kwargs={"server_default": "starttls"}
    )  # starttls | ssl | none
    smtp_from: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})


class KnowledgeArticle(SQLModel, table=True):
    __tablename__ = "knowledge_article"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))
    # the article's sentence embedding (float32 bytes), computed once per change; None = not yet
    embedding: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary()))
    embedding_model: str = Field(
        default="", max_length=100, sa_column_kwargs={"server_default": ""}
    )


class CannedResponse(SQLModel, table=True):
    """A short named reply staff insert from the reply bar (type "/" and its name)."""

    __tablename__ = "canned_response"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(40), nullable=False, unique=True))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time_column(nullable=False))


class CannedPublic(BaseModel):
    id: int
    name: str
    body: str


class MessagePublic(BaseModel):
    """One bubble as every client sees it."""

    id: int
    sender: str
    author_label: str
    body: str
    created_at: str  # ISO 8601, UTC
    feedback: str = ""  # bot messages: the visitor's "up" / "down"


class ArticleRef(BaseModel):
    """A knowledge article as it was when the bot used it."""

    id: int
    title: str


class BotAttempt(BaseModel):
    """One of the bot's answers, for the agent's "What the bot tried"."""

    message_id: int
    body: str
    outcome: str  # answered | no_answer | provider_error | partial
    feedback: str  # the visitor's "up" / "down", or ""
    created_at: str  # ISO 8601, UTC
    sources: list[ArticleRef] = []


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
    assigned_staff_id: int = 0
    # who returned it to the queue (rejected it) last, while it waits again; 0: nobody
    returned_by_id: int = 0
    returned_by: str = ""
    deadline: str = ""  # the response deadline (ISO), "" when none (away)
    busy: bool = False  # the deadline passed with nobody claiming
    unread: int = 0  # visitor messages since the last agent reply
    sort_key: str = ""  # browsers order rows by this alone (the query's order)


class ConversationRow(BaseModel):
    """One conversation outside the live queue: with the bot now, or closed."""

    conversation_id: int
    status: str
    visitor_label: str
    preview: str
    updated_at: str  # ISO: the last activity
    handled_by: str = ""  # closed: who had it last
    sort_key: str = ""  # live lists: browsers order rows by this alone (the query's order)
