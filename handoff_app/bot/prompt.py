"""How the bot's prompt is laid out; the offline provider reads the same layout back."""

from __future__ import annotations

from collections.abc import Sequence

from handoff_app.bot.retrieval import Passage

SYSTEM_PROMPT = (
    "You are the support assistant of this website. Answer briefly and only from the knowledge "
    "base below, and end with (Source: <title of the article you used>). If it does not answer "
    "the question, say so and offer to connect a human."
)
KB_HEADER = "### Knowledge base"
ARTICLE_MARK = "#### "
SENSITIVE_HEADER = "### Sensitive topics"
SENSITIVE_INSTRUCTION = (
    "When the visitor raises one of these topics, do not answer it yourself: call the "
    "escalate_to_human tool with a short reason. After a colon, a topic lists example "
    "messages, separated by semicolons."
)
TOPIC_MARK = "- "


def build_system_prompt(
    passages: Sequence[Passage],
    base: str = SYSTEM_PROMPT,
    *,
    sensitive_topics: Sequence[str] = (),
) -> str:
    """The system prompt: the owner's instructions, the sensitive topics (one per line, with
    the instruction to escalate them), then the knowledge articles."""
    lines = [base, ""]
    topics = [" ".join(t.split()) for t in sensitive_topics if t.strip()]
    if topics:
        lines += [SENSITIVE_HEADER, SENSITIVE_INSTRUCTION]
        lines += [f"{TOPIC_MARK}{t}" for t in topics]
        lines.append("")
    lines.append(KB_HEADER)
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


def parse_sensitive_topics(system_prompt: str) -> list[str]:
    """The sensitive topics a system prompt built by `build_system_prompt` carries."""
    _, found, rest = system_prompt.partition(SENSITIVE_HEADER)
    if not found:
        return []
    section = rest.partition(KB_HEADER)[0]
    return [
        line.removeprefix(TOPIC_MARK).strip()
        for line in section.splitlines()
        if line.startswith(TOPIC_MARK) and line.removeprefix(TOPIC_MARK).strip()
    ]
