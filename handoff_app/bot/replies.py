"""One bot turn through litellm: streamed, grounded on the best knowledge articles, with the
model's own escalation judgment, and provider failures turned into clear outcomes.

The escalation judgment is structured, never free text from the visitor:
1. tools: the model calls `escalate_to_human(reason)` (the offline provider emits the same
   call, so callers never branch on the provider);
2. a JSON field, for models litellm says have no tool support;
3. a text marker, only as the last resort and only in the bot's own output.

A provider that fails before its first token (401, 429 after retries, timeout, connection
error) is replaced by the offline model through a `litellm.Router`, and the answer says so; a
stream that stalls or breaks midway keeps its partial text, marked. Every failure is reported
in `BotAnswer.failure` so the caller counts it (and escalates when the provider is down).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import litellm

from handoff_app.bot.citations import cited_articles
from handoff_app.bot.local_provider import DEFAULT_MODEL, PROVIDER, register_local_provider
from handoff_app.bot.prompt import SYSTEM_PROMPT, build_system_prompt
from handoff_app.bot.retrieval import Passage, rank_in_thread
from handoff_app.bot.tools import ESCALATE_TOOL, ESCALATE_TOOL_NAME, read_reason

log = logging.getLogger(__name__)
TOP_ARTICLES = 3
STALL_SECONDS = 10.0  # longest silence tolerated between two chunks of a started stream
RETRIES = 2  # for rate limits and connection errors, with litellm's backoff
HANDOFF_MARKER = "[[HANDOFF]]"
JSON_INSTRUCTIONS = (
    'Reply with JSON only: {"reply": "<your answer>", "escalate": <true|false>, '
    '"reason": "<why a human is needed, or empty>"}.'
)
MARKER_INSTRUCTIONS = (
    f"If a human must take over, end your answer with {HANDOFF_MARKER} on its own line."
)
PROVIDER_ERROR_REPLY = (
    "Sorry, I can't answer right now. Please try again in a moment, or ask for a person."
)
FALLBACK_NOTE = (
    "(Our AI assistant is unavailable right now: this answer comes from our help articles.)"
)
PARTIAL_NOTE = "… (this answer was cut off)"


class Failure(StrEnum):
    AUTH = "auth"  # 401/403: the key is wrong or missing
    RATE_LIMIT = "rate_limit"  # 429, still after retries
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER = "server"  # 5xx
    STALLED = "stalled"  # the stream started, then went silent or broke
    OTHER = "error"


# The provider cannot answer anyone: hand the visitor to a person.
PROVIDER_DOWN = frozenset(
    {Failure.AUTH, Failure.TIMEOUT, Failure.CONNECTION, Failure.SERVER, Failure.STALLED}
)


@dataclass(frozen=True)
class Turn:
    role: str  # user | assistant | system
    content: str


@dataclass(frozen=True)
class ModelSettings:
    """The owner's AI settings for one call (the API key never leaves the server)."""

    model: str = DEFAULT_MODEL
    api_key: str = ""
    api_base: str = ""
    system_prompt: str = ""
    temperature: float = 0.2
    timeout: float = 30.0  # for the first token; silence mid-stream is cut at the lesser of
    # this and STALL_SECONDS

    @property
    def stall_seconds(self) -> float:
        return min(self.timeout, STALL_SECONDS)


@dataclass(frozen=True)
class BotAnswer:
    text: str
    ok: bool  # a usable answer: confident, no provider failure, nothing cut off
    escalate: bool = False  # the model judged that a person must take over
    reason: str = ""
    failure: str = ""  # a Failure value, "" when the provider worked
    partial: bool = False  # the stream broke after some text (kept, marked)
    fallback: bool = False  # the offline model answered for a failed provider
    confident: bool = True
    # the knowledge articles the answer cites (of those in its prompt), in the order cited
    sources: tuple[Passage, ...] = ()

    @property
    def outcome(self) -> str:
        """What the transcript records (failures count toward the consecutive-failure rule)."""
        if self.partial:
            return "partial"
        if self.failure:
            return "provider_error"
        return "answered" if self.confident else "no_answer"

    @property
    def provider_down(self) -> bool:
        return self.failure in PROVIDER_DOWN


def classify(exc: BaseException) -> Failure:
    """The kind of a litellm (OpenAI-style) exception."""
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return Failure.AUTH
    if isinstance(exc, litellm.RateLimitError):
        return Failure.RATE_LIMIT
    if isinstance(exc, (litellm.Timeout, asyncio.TimeoutError)):
        return Failure.TIMEOUT
    if isinstance(exc, litellm.APIConnectionError) or "connection error" in str(exc).lower():
        return Failure.CONNECTION  # litellm reports a refused connection as a 500, too
    if isinstance(exc, (litellm.InternalServerError, litellm.ServiceUnavailableError)):
        return Failure.SERVER
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return Failure.SERVER
    return Failure.OTHER


def _judgment_mode(model: str) -> str:
    """tools | json, for this model string."""
    if model.startswith(f"{PROVIDER}/"):
        return "tools"
    try:
        return "tools" if litellm.supports_function_calling(model=model) else "json"
    except Exception:  # a model litellm does not know: most current models take tools
        return "tools"


_routers: dict[tuple[str, str, str], litellm.Router] = {}


def _router(settings: ModelSettings) -> litellm.Router:
    """The configured model, retried with backoff on rate limits and connection errors, plus
    the offline model as its fallback deployment (one Router per model/key/base)."""
    key = (settings.model, settings.api_key, settings.api_base)
    if key not in _routers:
        primary: dict[str, Any] = {"model": settings.model}
        if settings.api_key:
            primary["api_key"] = settings.api_key
        if settings.api_base:
            primary["api_base"] = settings.api_base
        _routers[key] = litellm.Router(
            model_list=[
                {"model_name": "primary", "litellm_params": primary},
                {"model_name": "offline", "litellm_params": {"model": DEFAULT_MODEL}},
            ],
            num_retries=RETRIES,
            retry_after=0,
        )
    return _routers[key]


async def select_grounding(history: Sequence[Turn], articles: Sequence[Passage]) -> list[Passage]:
    """The best TOP_ARTICLES articles for the visitor's latest message (retrieval encodes the
    question off the event loop)."""
    question = next((t.content for t in reversed(history) if t.role == "user"), "")
    return [r.passage for r in (await rank_in_thread(question, articles))[:TOP_ARTICLES]]


async def build_messages(
    settings: ModelSettings,
    history: Sequence[Turn],
    articles: Sequence[Passage],
    *,
    sensitive_topics: Sequence[str] = (),
    mode: str = "tools",
    grounding: Sequence[Passage] | None = None,
) -> list[dict[str, Any]]:
    """System prompt (the owner's, the sensitive topics, the best articles) and the thread.
    `grounding`: the articles already selected for this turn (else selected here)."""
    if grounding is None:
        grounding = await select_grounding(history, articles)
    base = settings.system_prompt or SYSTEM_PROMPT
    if mode == "json":
        base = f"{base}\n\n{JSON_INSTRUCTIONS}"
    elif mode == "marker":
        base = f"{base}\n\n{MARKER_INSTRUCTIONS}"
    system = build_system_prompt(grounding, base=base, sensitive_topics=sensitive_topics)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    messages += [{"role": t.role, "content": t.content} for t in history]
    return messages


@dataclass
class _Stream:
    text: str = ""
    tool_name: str = ""
    tool_arguments: str = ""
    confident: bool | None = None  # None: the provider does not say (real models)


async def _consume(
    response: Any,
    got: _Stream,
    *,
    on_text: Callable[[str], Awaitable[None]] | None,
    stall_seconds: float,
    shown: Callable[[str], str],
    confidence_floor: float = 0.5,
) -> _Stream:
    """Read a litellm stream into `got`: text deltas (pushed through `on_text`), tool-call
    deltas and the offline model's confidence. Raises asyncio.TimeoutError on a stall (what
    came before stays in `got`)."""
    chunks = response.__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), timeout=stall_seconds)
        except StopAsyncIteration:
            return got
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        for call in getattr(delta, "tool_calls", None) or []:
            function = call.function if hasattr(call, "function") else call.get("function")
            name = getattr(function, "name", None) if function is not None else None
            arguments = getattr(function, "arguments", None) if function is not None else None
            got.tool_name = name or got.tool_name
            got.tool_arguments += arguments or ""
        extra = getattr(delta, "provider_specific_fields", None) or {}
        if isinstance(extra, dict) and isinstance(extra.get("confident"), bool):
            got.confident = extra["confident"]  # the offline model's own verdict
        elif isinstance(extra, dict) and isinstance(extra.get("confidence"), (int, float)):
            got.confident = float(extra["confidence"]) >= confidence_floor
        if delta.content:
            got.text += delta.content
            if on_text is not None:
                await on_text(shown(got.text))


def _reason_from(arguments: str) -> str:
    return read_reason(arguments)[:300] or "The assistant asked for a person."


def _parse_json_reply(text: str) -> tuple[str, bool, str] | None:
    """(reply, escalate, reason) from a JSON-mode answer, or None if it is not that JSON."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or "reply" not in data:
        return None
    return str(data.get("reply") or ""), bool(data.get("escalate")), str(data.get("reason") or "")


def _visible(mode: str) -> Callable[[str], str]:
    """What the visitor sees of a growing answer: never the JSON wrapper or the marker."""
    if mode == "json":

        def json_text(text: str) -> str:
            marker = '"reply"'
            at = text.find(marker)
            if at < 0:
                return ""
            rest = text[at + len(marker) :].lstrip(" :")
            rest = rest[1:] if rest.startswith('"') else rest
            return rest.split('",', 1)[0].split('"}', 1)[0].replace("\\n", "\n")

        return json_text
    return lambda text: text.replace(HANDOFF_MARKER, "").rstrip()


async def generate_reply(
    *,
    settings: ModelSettings,
    history: Sequence[Turn],
    articles: Sequence[Passage],
    sensitive_topics: Sequence[str] = (),
    on_text: Callable[[str], Awaitable[None]] | None = None,
    confidence_floor: float = 0.5,
    may_escalate: bool = True,
) -> BotAnswer:
    """Stream the configured model's next reply; never raises for provider trouble.

    `may_escalate` False (the visitor just declined a handoff): the model is offered no
    escalation tool and any judgment it writes is ignored."""
    register_local_provider()
    mode = _judgment_mode(settings.model)
    shown = _visible(mode)
    grounding = await select_grounding(history, articles)
    messages = await build_messages(
        settings,
        history,
        articles,
        sensitive_topics=sensitive_topics,
        mode=mode,
        grounding=grounding,
    )
    call: dict[str, Any] = {
        "messages": messages,
        "stream": True,
        "temperature": settings.temperature,
        "timeout": settings.timeout,
    }
    if mode == "tools" and may_escalate:
        call["tools"] = [ESCALATE_TOOL]
    failure: Failure | None = None
    fallback = False
    try:
        if settings.model == DEFAULT_MODEL:
            response = await litellm.acompletion(model=DEFAULT_MODEL, **call)
        else:
            response = await _router(settings).acompletion(model="primary", **call)
    except Exception as exc:  # failed before the first token: the offline model answers
        failure = classify(exc)
        log.warning("bot provider %s failed (%s): %s", settings.model, failure, exc)
        if settings.model == DEFAULT_MODEL:
            return BotAnswer(text=PROVIDER_ERROR_REPLY, ok=False, failure=failure.value)
        fallback, mode, shown = True, "tools", _visible("tools")
        call.pop("tools", None)
        if may_escalate:
            call["tools"] = [ESCALATE_TOOL]
        call["messages"] = await build_messages(
            settings, history, articles, sensitive_topics=sensitive_topics, grounding=grounding
        )
        try:
            response = await _router(settings).acompletion(model="offline", **call)
        except Exception as offline_exc:
            log.error("offline model failed too: %s", offline_exc)
            return BotAnswer(text=PROVIDER_ERROR_REPLY, ok=False, failure=failure.value)

    got = _Stream()
    try:
        await _consume(
            response,
            got,
            on_text=on_text,
            stall_seconds=settings.stall_seconds,
            shown=shown,
            confidence_floor=confidence_floor,
        )
    except Exception as exc:  # the stream stalled or broke midway: keep what came, marked
        kind = Failure.STALLED  # started, then went silent or broke: the same for the visitor
        log.warning("bot stream from %s broke (%s): %s", settings.model, kind, exc)
        partial = shown(got.text).strip()
        if not partial:
            return BotAnswer(text=PROVIDER_ERROR_REPLY, ok=False, failure=kind.value)
        return BotAnswer(
            text=partial + PARTIAL_NOTE,
            ok=False,
            failure=kind.value,
            partial=True,
            sources=tuple(cited_articles(partial, grounding)),
        )
    answer = _finish(
        got,
        mode=mode,
        shown=shown,
        failure=failure,
        fallback=fallback,
        confidence_floor=confidence_floor,
    )
    if not may_escalate and answer.escalate:
        answer = replace(answer, escalate=False, reason="")
    return replace(answer, sources=tuple(cited_articles(answer.text, grounding)))


def _finish(
    got: _Stream,
    *,
    mode: str,
    shown: Callable[[str], str],
    failure: Failure | None,
    fallback: bool,
    confidence_floor: float,
) -> BotAnswer:
    escalate, reason, text = False, "", got.text
    if got.tool_name == ESCALATE_TOOL_NAME:
        escalate, reason = True, _reason_from(got.tool_arguments)
    elif mode == "json":
        parsed = _parse_json_reply(text)
        if parsed is not None:
            text, escalate, reason = parsed
    if not escalate and HANDOFF_MARKER in text:  # the last resort, in the bot's own output
        escalate, reason = True, "The assistant asked for a person."
    text = shown(text).strip() if mode != "json" else text.replace(HANDOFF_MARKER, "").strip()
    confident = got.confident is not False
    if fallback and text:
        text = f"{text}\n\n{FALLBACK_NOTE}"
    if not text and not escalate:
        return BotAnswer(
            text=PROVIDER_ERROR_REPLY, ok=False, failure=(failure or Failure.OTHER).value
        )
    return BotAnswer(
        text=text,
        ok=failure is None and confident,
        escalate=escalate,
        reason=reason,
        failure=failure.value if failure else "",
        fallback=fallback,
        confident=confident,
    )
