"""What message markdown may render: which elements, and which link targets.

Message bodies are markdown written by anyone (visitors included). The browser renders them
with react-markdown WITHOUT raw HTML (HTML in a message is shown as text) and passes every URL
through `SAFE_URL_PATTERN` (the same pattern, compiled here for Python callers and tests): a
link whose target does not match is shown as plain text, so `javascript:`, `data:`,
`vbscript:` and relative links can never run or navigate. Images are not rendered (no tracking
pixels on agents' screens); their alt text is shown instead.
"""

from __future__ import annotations

import re

# Absolute http(s) and mailto links only. Written to mean the same in Python and JavaScript.
SAFE_URL_PATTERN = r"^(?:https?://|mailto:)[^\s]+$"
_SAFE_URL = re.compile(SAFE_URL_PATTERN, re.IGNORECASE)

# Elements react-markdown may produce from a message (GitHub-flavoured markdown, no images).
ALLOWED_ELEMENTS = (
    "p",
    "br",
    "strong",
    "em",
    "del",
    "a",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "input",  # GFM task-list checkboxes (rendered disabled by react-markdown)
    "img",  # shown as "[image: alt]" text: nothing is fetched
)

# rel of every rendered link: no access to this page, no referrer, no search credit.
LINK_REL = "noopener noreferrer nofollow"


def safe_url(url: object) -> str:
    """The URL if a message may link to it, else "" (the link is then shown as text)."""
    if not isinstance(url, str):
        return ""
    return url if _SAFE_URL.match(url) else ""


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|~~|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_LINE_START = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#{1,6}|>)\s+", re.MULTILINE)


def plain_text(body: str) -> str:
    """A one-line, mark-free rendering of a markdown body (for queue previews)."""
    text = _LINK.sub(r"\1", body)
    text = _LINE_START.sub("", text)
    text = _MARKS.sub("", text)
    return " ".join(text.split())
