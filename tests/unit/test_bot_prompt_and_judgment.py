"""The prompt layout the offline provider reads back, the tool helpers, the lexical judgment."""

from __future__ import annotations

import dataclasses

import pytest

from handoff_app.bot.intent import (
    FRUSTRATION,
    HUMAN_REQUEST,
    Scores,
    Thresholds,
    TopicScore,
    detect_escalation_lexically,
    judge_scores,
)
from handoff_app.bot.prompt import build_system_prompt, parse_knowledge, parse_sensitive_topics
from handoff_app.bot.retrieval import Passage
from handoff_app.bot.tools import ESCALATE_TOOL, find_escalation, offers_escalation, read_reason

TOPICS = ("legal threat", "account hacked", "billing dispute")


def test_sensitive_topics_round_trip_through_the_system_prompt() -> None:
    passages = [Passage("Shipping", "3 to 5 days."), Passage("Returns", "Within 30 days.")]
    prompt = build_system_prompt(passages, base="Be kind.", sensitive_topics=[*TOPICS, "  "])
    assert prompt.startswith("Be kind.")
    assert "### Sensitive topics" in prompt and "escalate_to_human" in prompt
    assert parse_sensitive_topics(prompt) == list(TOPICS)
    assert parse_knowledge(prompt) == passages
    # a topic's example messages travel with it, for the offline provider and real models
    taught = "safety hazard: the plug started smoking; my kettle caught fire, twice"
    prompt = build_system_prompt(passages, sensitive_topics=[taught])
    assert parse_sensitive_topics(prompt) == [taught]


def test_a_prompt_without_topics_has_no_topic_section() -> None:
    prompt = build_system_prompt([Passage("Shipping", "3 to 5 days.")])
    assert "Sensitive topics" not in prompt
    assert parse_sensitive_topics(prompt) == []
    assert parse_knowledge(prompt) == [Passage("Shipping", "3 to 5 days.")]


def test_tool_helpers_read_the_escalation_call() -> None:
    assert offers_escalation([ESCALATE_TOOL])
    assert not offers_escalation([{"type": "function", "function": {"name": "other"}}])
    assert not offers_escalation(None)
    call = {"function": {"name": "escalate_to_human", "arguments": '{"reason": "wants a person"}'}}
    assert find_escalation([call]) == "wants a person"
    assert find_escalation([{"function": {"name": "other", "arguments": "{}"}}]) is None
    assert read_reason("not json") == ""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("can I talk to someone real", HUMAN_REQUEST),
        ("get me your manager", HUMAN_REQUEST),
        ("this is useless", FRUSTRATION),
        ("you're not helping at all", FRUSTRATION),
        ("I've asked three times", FRUSTRATION),
    ],
)
def test_lexical_fallback_catches_clear_cases(text: str, kind: str) -> None:
    found = detect_escalation_lexically(text, TOPICS)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "is the export human-readable?",
        "the agent field is empty",
        "how do I escalate a ticket in your product?",
        "How long does shipping take?",
    ],
)
def test_lexical_fallback_leaves_ordinary_questions_alone(text: str) -> None:
    assert detect_escalation_lexically(text, TOPICS) is None


def test_lexical_fallback_matches_topics_by_their_words() -> None:
    found = detect_escalation_lexically("My lawyer will call you", TOPICS)
    assert found is not None and "legal threat" in found.reason


def test_lexical_fallback_matches_an_owners_example_word_for_word() -> None:
    taught = ("safety hazard: the plug is smoking; did it catch fire?",)
    found = detect_escalation_lexically("Help, THE PLUG   is smoking!", taught)
    assert (
        found is not None and found.reason == "The visitor raised a sensitive topic: safety hazard."
    )
    assert detect_escalation_lexically("did it catch fire?", taught) is not None
    assert detect_escalation_lexically("the plug is smokingly cheap", taught) is None
    # its end punctuation and the kind of apostrophe aside
    assert detect_escalation_lexically("Did it catch fire", taught) is not None
    curly = ("legal threat: I'm going to sue you.",)
    assert detect_escalation_lexically("I\u2019m going to sue you!", curly) is not None
    assert detect_escalation_lexically("anything at all", ("odd: ...",)) is None
    assert detect_escalation_lexically("Is the plug included?", taught) is None


def test_the_classifiers_probability_alone_decides_a_request_for_a_person() -> None:
    # no word list gates it (until session 12 a request had to name a person; it missed
    # "connect me with a specialist" and "callback please")
    confident = Scores(human_request=0.95, frustration=0.0, ordinary=0.0, topics=())
    verdict = judge_scores(confident)
    assert verdict is not None and verdict.kind == HUMAN_REQUEST
    assert judge_scores(dataclasses.replace(confident, human_request=0.5)) is None
    frustrated = dataclasses.replace(confident, human_request=0.9, frustration=0.96)
    verdict = judge_scores(frustrated)
    assert verdict is not None and verdict.kind == FRUSTRATION  # the likelier of the two


def test_a_taught_topic_is_judged_by_its_own_thresholds() -> None:
    cut = Thresholds(sensitive=0.30, sensitive_slack=0.0, taught=0.40, taught_slack=0.0)
    assert cut.topic_fires(TopicScore("safety hazard", 0.35), ordinary=0.2)  # by name
    assert not cut.topic_fires(TopicScore("safety hazard", 0.25), ordinary=0.2)
    # a taught topic clears a higher bar (examples read like messages: every message is nearer)
    assert not cut.topic_fires(TopicScore("safety hazard", 0.35, taught=True), ordinary=0.2)
    assert cut.topic_fires(TopicScore("safety hazard", 0.45, taught=True), ordinary=0.2)
    # nearer an ordinary question than the slack allows: the bot answers
    assert not cut.topic_fires(TopicScore("safety hazard", 0.45, taught=True), ordinary=0.5)
    taught = TopicScore("safety hazard", 0.45, taught=True)
    verdict = judge_scores(
        Scores(human_request=0.0, frustration=0.0, ordinary=0.2, topics=(taught,)), cut
    )
    assert verdict is not None and verdict.reason.endswith("sensitive topic: safety hazard.")
    assert verdict.score == 0.45
