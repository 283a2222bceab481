"""Retrieval over knowledge articles: semantic (cosine of sentence embeddings) when the
embedding model is available, else lexical BM25. Both work with no network."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from handoff_app.bot.embeddings import (
    DIMENSIONS,
    Vector,
    embed_text,
    from_bytes,
    get_encoder,
    is_memoised,
)

_WORD = re.compile(r"[a-z0-9]+")
# Words that carry no meaning for matching a question to an article.
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it my of on or our the to "
    "we what when where which who why will with you your me have has was this that there"
)
_STOP = frozenset(_STOP_WORDS.split())


def tokens(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    # crude stemming so "returns" matches "return" and "shipping" matches "ship"
    return [_stem(w) for w in words]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if suffix != "s" and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]  # shipping -> ship
            break
    return word


def coverage(question: str, passage: Passage) -> float:
    """Share of the question's meaningful words that the passage contains (0..1)."""
    query = set(tokens(question))
    if not query:
        return 0.0
    return len(query & set(tokens(f"{passage.title} {passage.body}"))) / len(query)


@dataclass(frozen=True)
class Passage:
    title: str
    body: str
    # the article's stored embedding (float32 bytes, see services/knowledge.py), if any
    embedding: bytes | None = field(default=None, compare=False, repr=False)
    # the knowledge article's id (0: not from the database, e.g. parsed back from a prompt)
    article_id: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        """What is embedded: the title, then the body."""
        return f"{self.title}\n{self.body}"


@dataclass(frozen=True)
class Ranked:
    passage: Passage
    score: float


# Below this cosine an article is unrelated to the question: not worth grounding a reply on.
MIN_SIMILARITY = 0.15


def rank(question: str, passages: Sequence[Passage]) -> list[Ranked]:
    """Passages for `question`, best first: by cosine similarity of sentence embeddings when the
    model is available (scores in [-1, 1]), else by BM25 (scores >= 0)."""
    semantic = rank_semantic(question, passages)
    return semantic if semantic is not None else rank_bm25(question, passages)


async def rank_in_thread(question: str, passages: Sequence[Passage]) -> list[Ranked]:
    """`rank` off the event loop: encoding takes milliseconds (the model's first load ~2 s)."""
    return await asyncio.to_thread(rank, question, passages)


def passage_vector(passage: Passage) -> Vector | None:
    """The stored embedding when it has the right size, else one computed now (memoised)."""
    if passage.embedding is not None and len(passage.embedding) == DIMENSIONS * 4:
        return from_bytes(passage.embedding)
    return embed_text(passage.text)


def passage_ready(passage: Passage) -> bool:
    """Is the passage's vector at hand (stored, or memoised): no encoding needed?"""
    stored = passage.embedding is not None and len(passage.embedding) == DIMENSIONS * 4
    return stored or is_memoised(passage.text)


def rank_semantic(question: str, passages: Sequence[Passage]) -> list[Ranked] | None:
    """Cosine ranking (unrelated passages dropped), or None when the model is unavailable."""
    if get_encoder() is None:
        return None
    if not question.strip() or not passages:
        return []
    query = embed_text(question.strip())
    assert query is not None
    ranked: list[Ranked] = []
    for passage in passages:
        vector = passage_vector(passage)
        if vector is None:
            return None
        score = float(np.dot(query, vector))
        if score >= MIN_SIMILARITY:
            ranked.append(Ranked(passage=passage, score=score))
    ranked.sort(key=lambda r: r.score, reverse=True)
    return ranked


def rank_bm25(
    question: str, passages: Sequence[Passage], *, k1: float = 1.5, b: float = 0.75
) -> list[Ranked]:
    """BM25 scores of every passage for `question`, best first (zero-score passages dropped)."""
    query = set(tokens(question))
    if not query or not passages:
        return []
    docs = [tokens(f"{p.title} {p.title} {p.body}") for p in passages]
    avg_len = sum(len(d) for d in docs) / len(docs) or 1.0
    doc_freq = Counter(term for d in docs for term in set(d))
    n = len(docs)
    ranked: list[Ranked] = []
    for passage, doc in zip(passages, docs, strict=True):
        counts = Counter(doc)
        score = 0.0
        for term in query:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - doc_freq[term] + 0.5) / (doc_freq[term] + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / avg_len))
        if score > 0:
            ranked.append(Ranked(passage=passage, score=score))
    ranked.sort(key=lambda r: r.score, reverse=True)
    return ranked
