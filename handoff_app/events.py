"""Past-tense domain events and the small bus that delivers them after commit.

Services call `publish` only once their transaction has committed, so a rolled-back write never
reaches a browser or a webhook. A subscriber's failure is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handoff_app.models import MessagePublic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationEvent:
    conversation_id: int


@dataclass(frozen=True)
class ConversationStarted(ConversationEvent):
    pass


@dataclass(frozen=True)
class MessagePosted(ConversationEvent):
    message_id: int
    sender: str
    # the conversation's message before this one (0: none), and this message as every client
    # shows it: a room whose newest message is `previous_id` appends `message` without reading
    # the database; any other room (it missed one, or is new) reads what it lacks
    previous_id: int = 0
    message: MessagePublic | None = None


@dataclass(frozen=True)
class NotePosted(ConversationEvent):
    """A staff-only note: pushed to staff tabs only (never a MessagePosted)."""

    message_id: int


@dataclass(frozen=True)
class HandoffRequested(ConversationEvent):
    escalation_id: int
    trigger: str


@dataclass(frozen=True)
class ConversationClaimed(ConversationEvent):
    staff_id: int


@dataclass(frozen=True)
class ConversationResolved(ConversationEvent):
    staff_id: int | None


@dataclass(frozen=True)
class ConversationDismissed(ConversationEvent):
    staff_id: int | None


@dataclass(frozen=True)
class ConversationHandedBack(ConversationEvent):
    staff_id: int | None


@dataclass(frozen=True)
class EscalationBusy(ConversationEvent):
    """The response deadline passed with nobody claiming (the sweeper, exactly once)."""

    escalation_id: int


@dataclass(frozen=True)
class LeadCaptured(ConversationEvent):
    escalation_id: int


@dataclass(frozen=True)
class BotDraft(ConversationEvent):
    """The bot's answer so far, while it streams (not stored: the final message is). Shown
    only while the room's newest message is still `after_id`, the one being answered; an empty
    text withdraws the draft."""

    after_id: int
    text: str


@dataclass(frozen=True)
class MessageRated(ConversationEvent):
    message_id: int


@dataclass(frozen=True)
class ConversationRejected(ConversationEvent):
    """The holder returned the conversation to the pending queue."""

    staff_id: int


@dataclass(frozen=True)
class ConversationTransferred(ConversationEvent):
    staff_id: int  # who handed it over
    to_staff_id: int


Subscriber = Callable[[ConversationEvent], Awaitable[None]]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)


# the events of the `publish` call being delivered (one commit's events), for subscribers
_batch: ContextVar[tuple[ConversationEvent, ...]] = ContextVar("handoff_event_batch", default=())


def published_together() -> tuple[ConversationEvent, ...]:
    """Inside a subscriber: every event of the `publish` call it is handling, in order."""
    return _batch.get()


async def publish(*events: ConversationEvent) -> None:
    """Deliver committed events to every subscriber, in order."""
    batch = _batch.set(events)
    try:
        for event in events:
            for subscriber in list(_subscribers):
                try:
                    await subscriber(event)
                except Exception:
                    log.exception("event subscriber %r failed on %r", subscriber, event)
    finally:
        _batch.reset(batch)
