"""The offline default model: an in-process litellm provider (`local/kb`).

It needs no key and no network. It answers the visitor's last message from the knowledge
articles in the system prompt (semantic retrieval, BM25 without the model files), says when it
has no confident answer, and, when the caller offers the `escalate_to_human` tool, calls it
instead of answering when the visitor needs a person (see `bot/intent.py`), as an
OpenAI-compatible model would. Streamed (`stream=True`) and non-streamed calls behave the same.

Reading the provider's confidence through litellm 1.106.2 (checked by
tests/integration/test_local_provider.py):

- non-streamed: ``response.choices[0].message.provider_specific_fields`` is
  ``{"confidence": float, "confident": bool}``;
- streamed: the first chunk carries it, as
  ``chunk.choices[0].delta.provider_specific_fields`` (the same dict; litellm also copies the
  keys onto that chunk object: ``chunk.confidence``), later chunks have None there;
- ``litellm.stream_chunk_builder(chunks)`` rebuilds a response whose
  ``choices[0].message.provider_specific_fields`` and ``tool_calls`` are as non-streamed.

When it calls the tool, the fields are ``{"confidence": 0.0, "confident": False}``.

The tool call reads like any model's: non-streamed,
``response.choices[0].message.tool_calls[0].function.name == "escalate_to_human"`` and
``.arguments == '{"reason": "..."}'``, ``finish_reason == "tool_calls"``; streamed, the deltas'
``tool_calls`` (the first has the id and name, the next ones pieces of the arguments).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import litellm
from litellm import CustomLLM, ModelResponse
from litellm.types.utils import (
    ChatCompletionMessageToolCall,
    Function,
    GenericStreamingChunk,
    Message,
)

from handoff_app.bot.embeddings import states_memoised
from handoff_app.bot.intent import clauses, detect_escalation, prototypes_ready
from handoff_app.bot.prompt import parse_knowledge, parse_sensitive_topics
from handoff_app.bot.retrieval import coverage, passage_ready, rank_bm25, rank_semantic
from handoff_app.bot.tools import ESCALATE_TOOL_NAME, escalation_arguments, offers_escalation

PROVIDER = "local"
DEFAULT_MODEL = "local/kb"
MIN_CONFIDENCE = 0.5  # lexical: share of the question's words the best article contains
MIN_SIMILARITY = 0.30  # semantic: cosine of the question and the best article
NO_ANSWER = (
    "I'm not sure about that one. I can connect you with a member of our team: press "
    '"Talk to a human".'
)
STREAM_PIECE = 24  # characters per streamed chunk (whole words)


@dataclass(frozen=True)
class LocalReply:
    """What the provider decided for one call."""

    text: str
    confidence: float  # 0..1: how well the best article matches the question
    confident: bool
    escalation: str | None = None  # the tool call's reason when it hands off

    @property
    def fields(self) -> dict[str, Any]:
        return {"confidence": round(self.confidence, 4), "confident": self.confident}


def _last_user_message(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content") or ""
            if isinstance(content, list):  # OpenAI content parts
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content)
    return ""


def _system_prompt(messages: list[dict[str, Any]]) -> str:
    return str(next((m.get("content") or "" for m in messages if m.get("role") == "system"), ""))


def answer_from_messages(messages: list[dict[str, Any]]) -> tuple[str, float]:
    """(answer, confidence in [0, 1]) for the last user message (no tools considered)."""
    reply = decide(messages, tools=None)
    return reply.text, reply.confidence


def decide(
    messages: list[dict[str, Any]], *, tools: list[Any] | None, tool_choice: Any = None
) -> LocalReply:
    """The provider's whole judgment for one call: escalate (when offered the tool) or answer."""
    system = _system_prompt(messages)
    question = _last_user_message(messages).strip()
    passages = parse_knowledge(system)
    if offers_escalation(tools) and tool_choice != "none":
        found = detect_escalation(question, parse_sensitive_topics(system), knowledge=passages)
        if found is not None:
            return LocalReply("", 0.0, False, escalation=found.reason)
    semantic = rank_semantic(question, passages)
    if semantic is not None:
        if not semantic:
            return LocalReply(NO_ANSWER, 0.0, False)
        best, confidence = semantic[0].passage, max(0.0, semantic[0].score)
        confident = confidence >= MIN_SIMILARITY
    else:
        lexical = rank_bm25(question, passages)
        if not lexical:
            return LocalReply(NO_ANSWER, 0.0, False)
        best = lexical[0].passage
        confidence = coverage(question, best)
        confident = confidence >= MIN_CONFIDENCE
    if not confident:
        return LocalReply(NO_ANSWER, confidence, False)
    return LocalReply(f"{best.body}\n\n(Source: {best.title})", confidence, True)


def decides_without_encoding(messages: list[dict[str, Any]]) -> bool:
    """Is every text `decide` needs embedded already? Then it takes a millisecond or two and
    runs on the event loop; otherwise it encodes (~10-20 ms) and runs on a thread. A bot turn
    embeds the visitor's message for retrieval before calling the model, so usually it is."""
    system = _system_prompt(messages)
    question = _last_user_message(messages).strip()
    return (
        states_memoised(question)  # the intent branch then runs one layer, ~1 ms
        and len(clauses(question)) <= 1
        and all(passage_ready(p) for p in parse_knowledge(system))
        and prototypes_ready(parse_sensitive_topics(system))
    )


def _pieces(text: str, size: int = STREAM_PIECE) -> Iterator[str]:
    """`text` in chunks of about `size` characters, cut after a space."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space + 1 if space > start else end
        yield text[start:end]
        start = end


def _chunk(
    text: str = "",
    *,
    finish: str = "",
    tool_use: Any = None,
    fields: dict[str, Any] | None = None,
) -> GenericStreamingChunk:
    chunk: GenericStreamingChunk = {
        "text": text,
        "tool_use": tool_use,
        "is_finished": bool(finish),
        "finish_reason": finish,
        "usage": None,
        "index": 0,
    }
    if fields is not None:
        chunk["provider_specific_fields"] = fields
    return chunk


def stream_reply(reply: LocalReply) -> Iterator[GenericStreamingChunk]:
    """The chunks of `reply`: text a few words at a time, or a tool call in OpenAI's shape
    (id and name first, then the arguments in pieces). The first chunk carries the confidence."""
    if reply.escalation is not None:
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        yield _chunk(
            tool_use={
                "id": call_id,
                "type": "function",
                "function": {"name": ESCALATE_TOOL_NAME, "arguments": ""},
                "index": 0,
            },
            fields=reply.fields,
        )
        for piece in _pieces(escalation_arguments(reply.escalation)):
            yield _chunk(
                tool_use={
                    "id": None,
                    "type": "function",
                    "function": {"name": None, "arguments": piece},
                    "index": 0,
                }
            )
        yield _chunk(finish="tool_calls")
        return
    for number, piece in enumerate(_pieces(reply.text)):
        yield _chunk(piece, fields=reply.fields if number == 0 else None)
    yield _chunk(finish="stop")


class LocalKnowledgeLLM(CustomLLM):
    """litellm's handler for `local/...` models."""

    def _decide(self, kwargs: dict[str, Any]) -> LocalReply:
        params = kwargs.get("optional_params") or {}
        return decide(
            kwargs["messages"], tools=params.get("tools"), tool_choice=params.get("tool_choice")
        )

    def _respond(self, reply: LocalReply, model_response: ModelResponse) -> ModelResponse:
        choice = model_response.choices[0]
        if reply.escalation is not None:
            call = ChatCompletionMessageToolCall(
                id=f"call_{uuid.uuid4().hex[:24]}",
                type="function",
                function=Function(
                    name=ESCALATE_TOOL_NAME, arguments=escalation_arguments(reply.escalation)
                ),
            )
            choice.message = Message(  # type: ignore[union-attr]
                content=None, tool_calls=[call], provider_specific_fields=reply.fields
            )
            choice.finish_reason = "tool_calls"
        else:
            choice.message = Message(  # type: ignore[union-attr]
                content=reply.text, provider_specific_fields=reply.fields
            )
            choice.finish_reason = "stop"
        model_response._hidden_params["confidence"] = reply.confidence
        return model_response

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return self._respond(self._decide(kwargs), kwargs["model_response"])

    async def _decide_async(self, kwargs: dict[str, Any]) -> LocalReply:
        """On the event loop when nothing needs encoding (a thread hand-off would cost more,
        ~2 ms here); else on a thread: encoding takes milliseconds, the first load a second."""
        messages = kwargs.get("messages")
        if isinstance(messages, list) and decides_without_encoding(messages):
            return self._decide(kwargs)
        return await asyncio.to_thread(self._decide, kwargs)

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return self._respond(await self._decide_async(kwargs), kwargs["model_response"])

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        yield from stream_reply(self._decide(kwargs))

    async def astreaming(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in stream_reply(await self._decide_async(kwargs)):
            yield chunk


_handler = LocalKnowledgeLLM()


def register_local_provider() -> None:
    """Make `local/...` model strings resolve to the in-process provider (idempotent)."""
    if any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        return  # called on every reply: cheap when already registered
    litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _handler})
    # a known, free model: litellm's cost tracking stops printing "Provider List" errors for it
    litellm.register_model(
        {
            DEFAULT_MODEL: {
                "litellm_provider": PROVIDER,
                "mode": "chat",
                "input_cost_per_token": 0.0,
                "output_cost_per_token": 0.0,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "max_tokens": 4096,
                "max_input_tokens": 100_000,
                "max_output_tokens": 4096,
                "supports_function_calling": True,
            }
        }
    )
    # litellm reads the map when it initialises custom providers
    litellm.utils.custom_llm_setup()
