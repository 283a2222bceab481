"""The offline provider `local/kb` end to end through litellm's real acompletion: answers,
streaming, the escalate_to_human tool call, and the confidence the caller can read."""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest

from handoff_app.bot.embeddings import embed_text
from handoff_app.bot.intent import score_message, warm_up
from handoff_app.bot.local_provider import (
    NO_ANSWER,
    decides_without_encoding,
    register_local_provider,
)
from handoff_app.bot.prompt import build_system_prompt
from handoff_app.bot.retrieval import Passage, passage_ready, rank
from handoff_app.bot.tools import ESCALATE_TOOL, ESCALATE_TOOL_NAME
from handoff_app.demo_knowledge import DEMO_ARTICLES

TOPICS = ("legal threat", "account hacked", "billing dispute")
SYSTEM = build_system_prompt(
    [Passage(title, body) for title, body in DEMO_ARTICLES], sensitive_topics=TOPICS
)
CLEAR_CASES = [
    "can I talk to someone real",
    "get me your manager",
    "is there a human I can chat with",
    "this is useless",
    "you're not helping at all",
    "I've asked three times",
    "I'm going to sue you over this",
    "someone hacked my account",
]
KEYWORD_TRAPS = [
    "is the export human-readable?",
    "the agent field is empty",
    "how do I escalate a ticket in your product?",
    "what does a real person plan cost?",
]


@pytest.fixture(autouse=True)
def local_provider() -> None:
    register_local_provider()


async def ask(text: str, *, tools: bool, stream: bool = False, **extra: Any) -> Any:
    return await litellm.acompletion(
        model="local/kb",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
        stream=stream,
        **({"tools": [ESCALATE_TOOL]} if tools else {}),
        **extra,
    )


async def collect(stream: Any) -> tuple[str, list[Any], list[Any], str | None]:
    """(text, tool-call deltas, chunks, finish_reason) of a streamed response."""
    text, calls, chunks, finish = "", [], [], None
    async for chunk in stream:
        chunks.append(chunk)
        delta = chunk.choices[0].delta
        text += delta.content or ""
        calls += delta.tool_calls or []
        finish = chunk.choices[0].finish_reason or finish
    return text, calls, chunks, finish


async def test_answers_from_the_knowledge_base_with_its_confidence() -> None:
    response = await ask("How long does shipping take?", tools=True)
    message = response.choices[0].message
    assert "3 to 5 business days" in message.content
    assert not message.tool_calls
    assert response.choices[0].finish_reason == "stop"
    fields = message.provider_specific_fields
    assert fields["confident"] is True and 0.3 <= fields["confidence"] <= 1.0


async def test_says_it_is_not_sure_without_a_confident_match() -> None:
    response = await ask("Do you sell bicycles?", tools=True)
    message = response.choices[0].message
    assert message.content == NO_ANSWER
    assert message.provider_specific_fields["confident"] is False


async def test_streams_the_answer_in_pieces_with_the_confidence_on_the_first_chunk() -> None:
    text, calls, chunks, finish = await collect(
        await ask("How long does shipping take?", tools=False, stream=True)
    )
    assert "3 to 5 business days" in text and not calls and finish == "stop"
    assert len(chunks) > 3
    fields = chunks[0].choices[0].delta.provider_specific_fields
    assert fields["confident"] is True and fields["confidence"] > 0.3


@pytest.mark.parametrize("text", CLEAR_CASES)
async def test_clear_cases_call_escalate_to_human(text: str) -> None:
    response = await ask(text, tools=True)
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == ESCALATE_TOOL_NAME
    assert json.loads(call.function.arguments)["reason"]
    assert response.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("text", CLEAR_CASES[:3] + CLEAR_CASES[-2:])
async def test_streamed_tool_call_arrives_as_deltas(text: str) -> None:
    content, calls, _, finish = await collect(await ask(text, tools=True, stream=True))
    assert not content and finish == "tool_calls"
    assert calls[0].function.name == ESCALATE_TOOL_NAME and calls[0].id
    arguments = "".join(c.function.arguments or "" for c in calls)
    assert json.loads(arguments)["reason"]


async def test_stream_chunk_builder_rebuilds_the_tool_call_and_the_confidence() -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "get me your manager"},
    ]
    response = await litellm.acompletion(
        model="local/kb", messages=messages, stream=True, tools=[ESCALATE_TOOL]
    )
    chunks = [chunk async for chunk in response]
    built = litellm.stream_chunk_builder(chunks, messages=messages)
    assert built is not None
    message = built.choices[0].message  # type: ignore[union-attr]
    assert message.tool_calls[0].function.name == ESCALATE_TOOL_NAME
    assert message.provider_specific_fields == {"confidence": 0.0, "confident": False}


@pytest.mark.parametrize("text", KEYWORD_TRAPS)
@pytest.mark.parametrize("stream", [False, True])
async def test_keyword_traps_never_call_the_tool(text: str, stream: bool) -> None:
    response = await ask(text, tools=True, stream=stream)
    if stream:
        _, calls, _, finish = await collect(response)
        assert not calls and finish == "stop"
    else:
        assert not response.choices[0].message.tool_calls
        assert response.choices[0].message.content


async def test_without_the_tool_it_answers_instead_of_escalating() -> None:
    response = await ask("can I talk to someone real", tools=False)
    assert not response.choices[0].message.tool_calls
    assert response.choices[0].message.content


async def test_tool_choice_none_is_respected() -> None:
    response = await ask("can I talk to someone real", tools=True, tool_choice="none")
    assert not response.choices[0].message.tool_calls


async def test_sensitive_topics_come_from_the_system_prompt() -> None:
    articles = [Passage(t, b) for t, b in DEMO_ARTICLES]
    text = "someone hacked my account"
    for topics, escalates in (((), False), (("account hacked",), True)):
        system = build_system_prompt(articles, sensitive_topics=topics)
        response = await litellm.acompletion(
            model="local/kb",
            messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
            tools=[ESCALATE_TOOL],
        )
        assert bool(response.choices[0].message.tool_calls) is escalates


def test_sync_completion_and_streaming_work_too() -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "get me your manager"},
    ]
    response = litellm.completion(model="local/kb", messages=messages, tools=[ESCALATE_TOOL])
    assert response.choices[0].message.tool_calls[0].function.name == ESCALATE_TOOL_NAME
    chunks = list(
        litellm.completion(
            model="local/kb",
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "What are your opening hours?"},
            ],
            stream=True,
        )
    )
    assert "Monday to Friday" in "".join(c.choices[0].delta.content or "" for c in chunks)


async def test_a_turn_whose_texts_are_embedded_is_decided_on_the_loop() -> None:
    """A bot turn embeds the visitor's message for retrieval first; the provider then needs no
    encoding and decides on the event loop (a thread hand-off would cost more). Anything new
    to encode (a first question, a message of several clauses) still goes to a thread."""
    assert warm_up()
    articles = [Passage(t, b) for t, b in DEMO_ARTICLES[:3]]
    question = "how long does delivery take to reach me in the countryside"
    messages = [
        {"role": "system", "content": build_system_prompt(articles, sensitive_topics=["fraud"])},
        {"role": "user", "content": f"  {question}  "},
    ]
    assert not decides_without_encoding(messages)  # nothing embedded yet

    rank(question, articles)  # what the bot's retrieval does before calling the model
    score_message(question, ["fraud"], articles)  # a topic is embedded on its first use
    assert all(passage_ready(p) for p in articles)
    assert decides_without_encoding(messages)

    two_clauses = "my parcel is late, and I want a refund now"
    embed_text(two_clauses)
    several = [messages[0], {"role": "user", "content": two_clauses}]
    assert not decides_without_encoding(several)  # its clauses are encoded in one batch

    register_local_provider()
    response = await litellm.acompletion(model="local/kb", messages=messages)
    assert response.choices[0].message.content  # the answer itself is unchanged
