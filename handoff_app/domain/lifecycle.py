"""The conversation lifecycle: the one table of allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class ConversationStatus(StrEnum):
    BOT = "bot"
    PENDING = "pending"
    ACTIVE = "active"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class LifecycleAction(StrEnum):
    REQUEST_HANDOFF = "request_handoff"
    CLAIM = "claim"
    REJECT = "reject"
    RESOLVE = "resolve"
    HAND_BACK = "hand_back"
    DISMISS = "dismiss"
    TAKEOVER = "takeover"
    CONTINUE_WITH_AI = "continue_with_ai"  # the waiting visitor goes back to the bot
    TRANSFER = "transfer"


class TriggerType(StrEnum):
    BUTTON = "button"
    KEYWORD = "keyword"
    AI = "ai"
    FAILURES = "failures"
    FRUSTRATION = "frustration"
    TAKEOVER = "takeover"


S = ConversationStatus
A = LifecycleAction

# Every allowed (status, action) pair and where it leads. Anything absent is refused.
TRANSITIONS: dict[tuple[ConversationStatus, LifecycleAction], ConversationStatus] = {
    (S.BOT, A.REQUEST_HANDOFF): S.PENDING,
    (S.BOT, A.TAKEOVER): S.ACTIVE,
    (S.PENDING, A.CLAIM): S.ACTIVE,
    (S.PENDING, A.HAND_BACK): S.BOT,
    (S.PENDING, A.DISMISS): S.DISMISSED,
    (S.PENDING, A.RESOLVE): S.RESOLVED,
    (S.PENDING, A.CONTINUE_WITH_AI): S.BOT,
    (S.ACTIVE, A.REJECT): S.PENDING,  # the holder returns it to the queue
    (S.ACTIVE, A.TRANSFER): S.ACTIVE,  # the holder hands it to another agent directly
    (S.ACTIVE, A.RESOLVE): S.RESOLVED,
    (S.ACTIVE, A.HAND_BACK): S.BOT,
    (S.ACTIVE, A.DISMISS): S.DISMISSED,
}

CLOSED_STATUSES = frozenset({S.RESOLVED, S.DISMISSED})
# A human owns (or is about to own) the thread: it is in the staff queue, and the bot makes
# no model call at all.
HUMAN_STATUSES = frozenset({S.PENDING, S.ACTIVE})


class TransitionNotAllowed(Exception):
    """Raised when an action does not apply to a conversation in its current status."""

    def __init__(self, status: ConversationStatus, action: LifecycleAction) -> None:
        super().__init__(f"cannot {action.value} a conversation that is {status.value}")
        self.status = status
        self.action = action


def next_status(status: ConversationStatus | str, action: LifecycleAction) -> ConversationStatus:
    """Return the status that `action` leads to from `status`, or raise TransitionNotAllowed."""
    current = ConversationStatus(status)
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise TransitionNotAllowed(current, action) from None
