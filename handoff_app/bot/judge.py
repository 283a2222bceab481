"""Would this message hand the conversation to a person? Keywords first, then the model.

Used by `python -m handoff_app judge` (owners testing their triggers on a batch of messages)
and by `bench/judge.py`. The prompt is the one every bot turn gets (`replies.build_messages`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import litellm

from handoff_app.bot.local_provider import DEFAULT_MODEL, register_local_provider
from handoff_app.bot.replies import ModelSettings, Turn, build_messages
from handoff_app.bot.retrieval import Passage
from handoff_app.bot.tools import ESCALATE_TOOL, find_escalation
from handoff_app.demo_knowledge import DEMO_ARTICLES
from handoff_app.domain.keywords import find_handoff_keyword

log = logging.getLogger(__name__)

# The sensitive topics of the evaluation set (tests/eval): a workspace has none by default.
EVAL_SENSITIVE_TOPICS = ("legal threat", "account hacked", "billing dispute")
DEMO_PASSAGES = tuple(Passage(title, body) for title, body in DEMO_ARTICLES)


@dataclass(frozen=True)
class Judgment:
    """The verdict on one message: `trigger` is "keyword", "ai" or None (no escalation)."""

    escalate: bool
    trigger: str | None
    reason: str | None
    answer: str = ""  # the model's text answer when it did not escalate
    confidence: float | None = None  # the local provider's, when it reports one
    error: str = ""  # the model call failed: judged on keywords only

    def as_json(self) -> dict[str, Any]:
        """The CLI's line: escalate, trigger, reason."""
        data = asdict(self)
        return {key: data[key] for key in ("escalate", "trigger", "reason")}


async def judge_first_message(
    text: str,
    *,
    keywords: Sequence[str],
    sensitive_topics: Sequence[str],
    model: str = DEFAULT_MODEL,
    articles: Sequence[Passage] = (),
    system_prompt: str = "",
    api_key: str = "",
    api_base: str = "",
    timeout: float = 30.0,
) -> Judgment:
    """Judge `text` as the first message of a fresh conversation.

    The owner's keywords decide first (deterministic: case-insensitive substring). Otherwise
    the model is asked through `litellm.acompletion` with the `escalate_to_human` tool, the
    sensitive topics in the system prompt and the best `articles` as grounding; a tool call
    means escalate (trigger "ai"). A failing provider never raises: the judgment says so in
    `error` and does not escalate.
    """
    keyword = find_handoff_keyword(text, keywords)
    if keyword is not None:
        return Judgment(True, "keyword", f'The message contains the keyword "{keyword}".')
    register_local_provider()
    messages = await build_messages(
        ModelSettings(model=model, system_prompt=system_prompt),
        [Turn("user", text)],
        articles,
        sensitive_topics=sensitive_topics,
    )
    try:
        response = await litellm.acompletion(
            model=model,
            messages=messages,
            tools=[ESCALATE_TOOL],
            timeout=timeout,
            api_key=api_key or None,
            api_base=api_base or None,
        )
    except Exception as exc:
        log.warning("judge: provider %s failed: %s", model, exc)
        return Judgment(False, None, None, error=f"The model call failed: {exc}")
    message = response.choices[0].message  # type: ignore[union-attr]
    fields = getattr(message, "provider_specific_fields", None) or {}
    confidence = fields.get("confidence") if isinstance(fields, dict) else None
    reason = find_escalation(getattr(message, "tool_calls", None))
    if reason is not None:
        return Judgment(
            True, "ai", reason or "The model asked for a person.", confidence=confidence
        )
    return Judgment(False, None, None, answer=message.content or "", confidence=confidence)
