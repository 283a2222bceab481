"""Rules for canned responses: a short name staff type after "/" and the text it inserts."""

from __future__ import annotations

import re

from handoff_app.domain.messages import InvalidMessage, clean_message_body

MAX_NAME_LENGTH = 40
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def clean_canned_name(name: object) -> str:
    """The name in lower case without a leading "/", or InvalidMessage saying what is wrong."""
    if not isinstance(name, str):
        raise InvalidMessage("Give the response a name.")
    text = name.strip().lstrip("/").lower()
    if not text:
        raise InvalidMessage("Give the response a name.")
    if len(text) > MAX_NAME_LENGTH or not _NAME.match(text):
        raise InvalidMessage(
            f"Names use letters, digits and dashes (at most {MAX_NAME_LENGTH}), e.g. refund-policy."
        )
    return text


def clean_canned_body(body: object) -> str:
    return clean_message_body(body)


def matching(names: list[str], typed: str) -> list[str]:
    """Names offered for what was typed in the reply bar ("/ref" offers "refund", ...)."""
    if not typed.startswith("/"):
        return []
    prefix = typed[1:].strip().lower()
    return [n for n in names if n.startswith(prefix)]
