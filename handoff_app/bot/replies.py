"""One bot reply through litellm, grounded on the best knowledge articles."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import litellm

from handoff_app.bot.local_provider import register_local_provider
from handoff_app.bot.prompt import SYSTEM_PROMPT, build_system_prompt
from handoff_app.bot.retrieval import Passage, rank

log = logging.getLogger(__name__)
TOP_ARTICLES = 3
PROVIDER_ERROR_REPLY = (
    'Sorry, I can\'t answer right now. Please try again in a moment, or press "Talk to a human".'
)


@dataclass(frozen=True)
class Turn:
    role: str  # user | assistant | system
    content: str


@dataclass(frozen=True)
class BotAnswer:
    text: str
    ok: bool


@dataclass(frozen=True)
class ModelSettings:
    """The owner's AI settings for one call (the API key never leaves the server)."""

    model: str = "local/kb"
    api_key: str = ""
    api_base: str = ""
    system_prompt: str = ""
    temperature: float = 0.2
    timeout: float = 30.0


async def generate_reply(
    *, settings: ModelSettings, history: Sequence[Turn], articles: Sequence[Passage]
) -> BotAnswer:
    """Ask the configured model for the next reply; provider errors never raise."""
    register_local_provider()
    question = next((t.content for t in reversed(history) if t.role == "user"), "")
    grounding = [r.passage for r in rank(question, articles)[:TOP_ARTICLES]]
    system = build_system_prompt(grounding, base=settings.system_prompt or SYSTEM_PROMPT)
    messages = [{"role": "system", "content": system}]
    messages += [{"role": t.role, "content": t.content} for t in history]
    model = settings.model
    try:
        response = await litellm.acompletion(
            model=model,
            messages=messages,
            timeout=settings.timeout,
            temperature=settings.temperature,
            api_key=settings.api_key or None,
            api_base=settings.api_base or None,
        )
    except Exception as exc:
        log.warning("bot provider %s failed: %s", model, exc)
        return BotAnswer(text=PROVIDER_ERROR_REPLY, ok=False)
    text = (response.choices[0].message.content or "").strip()  # type: ignore[union-attr]
    return BotAnswer(text=text or PROVIDER_ERROR_REPLY, ok=bool(text))
