"""Why a visitor needs a person (`Intent`), and the lexical judgment used when the embedding
model files are missing: patterns for requests for a person and frustration, word overlap (and a
few synonyms) for the owner's sensitive topics. Less accurate than the semantic judgment of
`bot/intent.py`; see README "Benchmarks"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handoff_app.domain.sensitive_topics import read_topic

HUMAN_REQUEST = "human_request"
FRUSTRATION = "frustration"
SENSITIVE = "sensitive"


@dataclass(frozen=True)
class Intent:
    """Why the visitor needs a person."""

    kind: str  # human_request | frustration | sensitive
    reason: str
    score: float  # the cosine (semantic) or 1.0 (lexical)


_PERSON = (
    r"(human|humans|person|people|someone|somebody|anyone|anybody|agent|representative|rep|"
    r"manager|supervisor|boss|operator|staff|colleague|team|customer service|support team)"
)
_ASK = (
    r"(talk|speak|chat|connect|transfer|put me through|get me|give me|hand me|pass me|"
    r"escalate|want|need|call me|reach|have a word)"
)
_HUMAN_REQUEST = [
    re.compile(rf"\b{_ASK}\b[^.?!]*\b{_PERSON}s?\b(?![-'’]?(readable|made|field|string))"),
    re.compile(r"^\W*(a )?(human|agent|representative|person|operator)s?( please)?\W*$"),
    re.compile(r"\b(not|no more) (a |the )?(bot|robot|machine)\b"),
    re.compile(r"\bare you (a )?(bot|robot|real)\b"),
]
# "in your product", "a ticket", "the priority": escalating something other than this chat
_NOT_A_REQUEST = re.compile(
    r"\b(escalate (a|the) (ticket|priority|issue in)|(plan|price|costume|field|string|role|"
    r"discount|engraving|shopper|sized|made|readable)\b)"
)
_FRUSTRATION = re.compile(
    r"\b(useless|not help(ing|ful)|doesn'?t help|does not help|none of this helps|nothing you|"
    r"waste of (my )?time|wasting my time|frustrat\w*|annoy\w*|ridiculous|terrible|worst|"
    r"hopeless|worthless|fed up|so done|give up|not listening|not reading|pay attention|"
    r"make(s)? no sense|in circles|same (thing|answer)|repeating yourself|"
    r"(asked|told you)\b[^.?!]*\b(times|already)|how many times|driving me crazy|"
    r"don'?t understand me|not what i asked|wrong answer)"
)
_TOPIC_SYNONYMS = {
    "legal": ("sue", "lawyer", "attorney", "solicitor", "court", "legal", "illegal"),
    "hack": ("hacked", "compromised", "got into", "taken over", "stole my login", "wasn't me"),
    "billing": ("charged", "charge", "chargeback", "billed", "overcharged", "dispute"),
}


def _stem_words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.casefold())}


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _plain(text: str) -> str:
    """Lower case, single spaces, straight quotes."""
    return " ".join(text.casefold().translate(_QUOTES).split())


def detect_escalation_lexically(
    message: str, sensitive_topics: Sequence[str] = ()
) -> Intent | None:
    """The fallback judgment: patterns for requests and frustration; a topic by the words of its
    name (and their synonyms) or one of its examples word for word."""
    text = _plain(message)
    words = _stem_words(text)
    for entry in sensitive_topics:
        topic = read_topic(entry)
        if not topic.name:
            continue
        topic_words = _stem_words(topic.name)
        extra = [
            s for key, syn in _TOPIC_SYNONYMS.items() if key in topic.name.casefold() for s in syn
        ]
        # an owner's example counts when the message contains it, word for word (its end
        # punctuation and the kind of apostrophe aside)
        extra += [p for e in topic.examples if (p := _plain(e).strip(" .,;:!?"))]
        if topic_words & words or any(
            re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text) for s in extra
        ):
            return Intent(SENSITIVE, f"The visitor raised a sensitive topic: {topic.name}.", 1.0)
    if not _NOT_A_REQUEST.search(text) and any(p.search(text) for p in _HUMAN_REQUEST):
        return Intent(HUMAN_REQUEST, "The visitor asked for a person.", 1.0)
    if _FRUSTRATION.search(text):
        return Intent(FRUSTRATION, "The visitor is frustrated with the bot's answers.", 1.0)
    return None
