"""Deterministic handoff keywords: case-insensitive, anywhere in the message."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_HANDOFF_KEYWORDS = ("speak to a human", "real person", "talk to an agent")


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def find_handoff_keyword(body: str, keywords: Iterable[str]) -> str | None:
    """Return the first configured keyword found in `body` (ignoring case and spacing), if any."""
    haystack = _normalise(body)
    for keyword in keywords:
        needle = _normalise(keyword)
        if needle and needle in haystack:
            return keyword
    return None
