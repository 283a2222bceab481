"""How the bot's prompt is laid out; the offline provider reads the same layout back."""

from __future__ import annotations

from collections.abc import Sequence

from handoff_app.bot.retrieval import Passage

SYSTEM_PROMPT = (
    "You are the support assistant of this website. Answer briefly and only from the knowledge "
    "base below. If it does not answer the question, say so and offer to connect a human."
)
KB_HEADER = "### Knowledge base"
TOPICS_HEADER = "### Sensitive topics"
TOPICS_INSTRUCTION = (
    "If the visitor raises one of these topics, call escalate_to_human instead of answering."
)
ARTICLE_MARK = "#### "


def build_system_prompt(
    passages: Sequence[Passage],
    base: str = SYSTEM_PROMPT,
    *,
    sensitive_topics: Sequence[str] = (),
) -> str:
    lines = [base, ""]
    if sensitive_topics:
        lines += [TOPICS_HEADER, TOPICS_INSTRUCTION, *(f"- {t}" for t in sensitive_topics), ""]
    lines += [KB_HEADER]
    for passage in passages:
        lines += [f"{ARTICLE_MARK}{passage.title}", passage.body, ""]
    return "\n".join(lines).rstrip()


def parse_knowledge(system_prompt: str) -> list[Passage]:
    """The articles a system prompt built by `build_system_prompt` carries."""
    _, _, kb = system_prompt.partition(KB_HEADER)
    passages: list[Passage] = []
    for chunk in kb.split(ARTICLE_MARK)[1:]:
        title, _, body = chunk.partition("\n")
        passages.append(Passage(title=title.strip(), body=body.strip()))
    return passages
