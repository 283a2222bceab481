"""The offline default model: an in-process litellm provider (`local/kb`).

It needs no key and no network: it answers the visitor's last question from the knowledge
articles in the system prompt, and says when it has no confident answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse
from litellm.types.utils import GenericStreamingChunk

from handoff_app.bot.prompt import parse_knowledge
from handoff_app.bot.retrieval import coverage, rank

PROVIDER = "local"
DEFAULT_MODEL = "local/kb"
MIN_CONFIDENCE = 0.5
NO_ANSWER = (
    "I'm not sure about that one. I can connect you with a member of our team: press "
    '"Talk to a human".'
)


def answer_from_messages(messages: list[dict[str, Any]]) -> tuple[str, float]:
    """(answer, confidence in [0, 1]) for the last user message."""
    system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
    question = next(
        (m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), ""
    )
    ranked = rank(str(question), parse_knowledge(str(system)))
    if not ranked:
        return NO_ANSWER, 0.0
    best = ranked[0]
    confidence = coverage(str(question), best.passage)
    if confidence < MIN_CONFIDENCE:
        return NO_ANSWER, confidence
    return f"{best.passage.body}\n\n(Source: {best.passage.title})", confidence


class LocalKnowledgeLLM(CustomLLM):
    def _respond(
        self, messages: list[dict[str, Any]], model_response: ModelResponse
    ) -> ModelResponse:
        text, confidence = answer_from_messages(messages)
        model_response.choices[0].message.content = text  # type: ignore[union-attr]
        model_response._hidden_params["confidence"] = confidence
        return model_response

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return self._respond(kwargs["messages"], kwargs["model_response"])

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return self._respond(kwargs["messages"], kwargs["model_response"])

    def _chunks(self, messages: list[dict[str, Any]]) -> Iterator[GenericStreamingChunk]:
        text, confidence = answer_from_messages(messages)
        words = text.split(" ")
        for i, word in enumerate(words):
            last = i == len(words) - 1
            yield GenericStreamingChunk(
                text=word if last else word + " ",
                tool_use=None,
                is_finished=last,
                finish_reason="stop" if last else "",
                usage=None,
                index=0,
                provider_specific_fields={"confidence": confidence} if last else None,
            )

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks(kwargs["messages"])

    async def astreaming(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(kwargs["messages"]):
            yield chunk


_handler = LocalKnowledgeLLM()


def register_local_provider() -> None:
    """Make `local/...` model strings resolve to the in-process provider (idempotent)."""
    if any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        return  # called on every reply: cheap when already registered
    litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _handler})
    # litellm reads the map when it initialises custom providers
    litellm.utils.custom_llm_setup()
