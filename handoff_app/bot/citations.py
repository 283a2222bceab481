"""Which knowledge articles an answer cites.

Every prompt asks the model to end its answer with "(Source: <title of the article you used>)"
(`prompt.SYSTEM_PROMPT`), and the offline model does exactly that. An answer's sources are the
articles it cites that were in its prompt: a title the model made up, or an article it was given
but did not cite, does not count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handoff_app.bot.retrieval import Passage

_CITATION = re.compile(r"\(\s*sources?\s*:\s*([^()]+?)\s*\)", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def cited_articles(text: str, grounding: Sequence[Passage]) -> list[Passage]:
    """The articles of `grounding` that `text` cites, in the order cited, without repeats.

    A citation may name several titles ("(Sources: A; B)"); titles are found whole, longest
    first, so one title inside another ("Shipping" in "Shipping times") is not counted twice."""
    by_title: dict[str, Passage] = {}
    for passage in grounding:
        if _norm(passage.title):
            by_title.setdefault(_norm(passage.title), passage)  # the best ranked of equal titles
    found: list[tuple[tuple[int, int], Passage]] = []
    for match in _CITATION.finditer(text):
        cited = _norm(match.group(1))
        taken = [False] * len(cited)
        for title in sorted(by_title, key=len, reverse=True):
            for at in (m.start() for m in re.finditer(rf"(?<!\w){re.escape(title)}(?!\w)", cited)):
                if not any(taken[at : at + len(title)]):
                    taken[at : at + len(title)] = [True] * len(title)
                    found.append(((match.start(), at), by_title[title]))
    ordered: list[Passage] = []
    for _, passage in sorted(found, key=lambda item: item[0]):
        if passage not in ordered:
            ordered.append(passage)
    return ordered
