"""Rules for message bodies and senders."""

from __future__ import annotations

from enum import StrEnum

MAX_MESSAGE_LENGTH = 4000


class Sender(StrEnum):
    VISITOR = "visitor"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"
    # staff-only: never in the visitor's room, pages or pushes, never in the bot's prompt
    NOTE = "note"


# What the visitor's browser and the bot may ever read.
VISITOR_VISIBLE_SENDERS = frozenset({Sender.VISITOR, Sender.BOT, Sender.AGENT, Sender.SYSTEM})


class InvalidMessage(ValueError):
    """A message body that cannot be accepted; the text says why, for the person who typed it."""


def clean_message_body(body: object) -> str:
    """The body without surrounding blanks, or InvalidMessage saying clearly what is wrong."""
    if not isinstance(body, str):
        raise InvalidMessage("A message must be text.")
    text = body.strip()
    if not text:
        raise InvalidMessage("Type a message before sending.")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise InvalidMessage(
            f"Messages can be at most {MAX_MESSAGE_LENGTH:,} characters "
            f"(this one has {len(text):,})."
        )
    return text
