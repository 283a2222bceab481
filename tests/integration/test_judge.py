"""`judge_first_message`, the `judge` command, and the labelled eval set it is measured on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.judge import CATEGORIES, judgments, load_eval_set, measure
from handoff_app.bot.judge import DEMO_PASSAGES, EVAL_SENSITIVE_TOPICS, judge_first_message
from handoff_app.domain.keywords import DEFAULT_HANDOFF_KEYWORDS

ROOT = Path(__file__).resolve().parents[2]


def run_module(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m <args>` in the repository, as a user would run it (never the internet)."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", **(env or os.environ)},
        timeout=timeout,
        check=False,
    )


async def judge(text: str, **extra: object) -> object:
    return await judge_first_message(
        text,
        **{  # type: ignore[arg-type]
            "keywords": DEFAULT_HANDOFF_KEYWORDS,
            "sensitive_topics": EVAL_SENSITIVE_TOPICS,
            "articles": DEMO_PASSAGES,
            **extra,
        },
    )


async def test_a_keyword_decides_before_the_model() -> None:
    judgment = await judge("Please let me SPEAK TO A HUMAN")
    assert (judgment.escalate, judgment.trigger) == (True, "keyword")  # type: ignore[attr-defined]
    assert "speak to a human" in judgment.reason  # type: ignore[attr-defined]


async def test_the_model_judges_what_no_keyword_catches() -> None:
    asked = await judge("is there a human I can chat with?")
    assert (asked.escalate, asked.trigger) == (True, "ai")  # type: ignore[attr-defined]
    ordinary = await judge("How long does shipping take?")
    assert (ordinary.escalate, ordinary.trigger, ordinary.reason) == (False, None, None)  # type: ignore[attr-defined]
    assert "business days" in ordinary.answer  # type: ignore[attr-defined]
    assert ordinary.confidence > 0.3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "escalate"),
    [
        # shaped like "can someone call me back", asking for nothing of the kind: until session
        # 12 a word list ("must name a person") kept these apart; the classifier does it now
        ("The humanities book I ordered is missing a page, can I return it?", False),
        ("can I return it?", False),
        ("Could you tell me when my refund arrives?", False),
        # requests that name none of those words, which the word list used to stop
        ("Could you connect me with a specialist?", True),
        ("callback please", True),
        ("Please forward me to whoever handles complaints", True),
    ],
)
async def test_the_classifier_tells_a_request_for_a_person_from_its_shape(
    text: str, escalate: bool
) -> None:
    judgment = await judge(text)
    assert judgment.escalate is escalate, judgment  # type: ignore[attr-defined]
    if escalate:
        assert judgment.trigger == "ai"  # type: ignore[attr-defined]


async def test_an_owners_example_messages_teach_a_topic_its_name_alone_misses() -> None:
    plain = "safety hazard"
    taught = "safety hazard: the charger got hot and started smoking; my kettle caught fire"
    message = "the plug started smoking when I used it"
    missed = await judge(message, sensitive_topics=(plain,))
    assert missed.escalate is False  # type: ignore[attr-defined]
    caught = await judge(message, sensitive_topics=(taught,))
    assert (caught.escalate, caught.trigger) == (True, "ai")  # type: ignore[attr-defined]
    assert caught.reason == "The visitor raised a sensitive topic: safety hazard."  # type: ignore[attr-defined]
    # ordinary questions, even about the same things, stay with the bot
    for question in ("is the charger included?", "How long does shipping take?"):
        assert (await judge(question, sensitive_topics=(taught,))).escalate is False  # type: ignore[attr-defined]


async def test_a_failing_provider_does_not_escalate_and_says_why() -> None:
    # a real provider call to a closed local port (never the internet): connection refused
    judgment = await judge_first_message(
        "is there a human I can chat with?",
        keywords=DEFAULT_HANDOFF_KEYWORDS,
        sensitive_topics=(),
        model="openai/gpt-4o-mini",
        api_key="sk-test",
        api_base="http://127.0.0.1:9/v1",
        timeout=5,
    )
    assert judgment.escalate is False and "failed" in judgment.error


def test_eval_set_is_large_split_and_covers_every_category() -> None:
    everything = load_eval_set()
    assert len({r.text for r in everything}) == len(everything)
    # the "fresh" sets are later checks on new phrasings, reported apart (bench/judge.py)
    assert {r.split for r in everything} == {"calibration", "test", "fresh", "fresh2", "fresh3"}
    rows = [r for r in everything if not r.split.startswith("fresh")]
    assert len(rows) >= 150
    by_split = Counter(r.split for r in rows)
    assert 0.4 <= by_split["calibration"] / len(rows) <= 0.6
    for category in CATEGORIES:
        in_category = [r for r in rows if r.category == category]
        assert {r.split for r in in_category} == {"calibration", "test"}, category
        assert {r.escalate for r in in_category} == {category not in ("ordinary", "keyword_trap")}


async def test_judge_quality_on_held_out_messages_meets_the_targets() -> None:
    # The independent half (354 messages nobody has read) meets the targets: F1 >= 0.95 and at
    # most 5% of keyword traps escalated (0.955 and 2.4% in session 12; bench/judge.py prints
    # them, README "Benchmarks"); the test half keeps a floor just under its figure.
    test = load_eval_set("test")
    on_test = measure(test, [j.escalate for j in await judgments(test)])
    assert on_test.f1 >= 0.96 and on_test.trap_false_triggers <= 0.10, on_test
    independent = load_eval_set("independent")
    on_independent = measure(independent, [j.escalate for j in await judgments(independent)])
    assert on_independent.f1 >= 0.95 and on_independent.trap_false_triggers <= 0.05, on_independent


def test_other_authors_messages_are_apart_and_never_repeat_the_eval_set() -> None:
    independent = load_eval_set("independent") + load_eval_set("independent-dev")
    training = load_eval_set("training")
    assert len(independent) >= 700 and len(training) >= 1000
    for rows in (independent, training):
        assert {r.category for r in rows} == set(CATEGORIES)
        assert all(r.escalate == (r.category not in ("ordinary", "keyword_trap")) for r in rows)
    ours = {r.text.casefold().strip() for r in load_eval_set()}
    theirs = [r.text.casefold().strip() for r in independent + training]
    assert len(theirs) == len(set(theirs)) and not ours & set(theirs)


def test_the_shipped_classifier_is_what_the_training_data_gives() -> None:
    done = run_module("bench.train_intent", "--check", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches the training data" in done.stdout


def test_judge_command_reads_json_lines_and_writes_one_verdict_each() -> None:
    messages = [
        "can I talk to someone real",
        "How long does shipping take?",
        "I'd like to speak to a human",
        "is the export human-readable?",
        "I'm going to sue you, my lawyer is calling tomorrow",
    ]
    stdin = "".join(json.dumps({"text": m}) + "\n" for m in messages)
    done = run_module("handoff_app", "judge", "--topic", "legal threat", stdin=stdin)
    assert done.returncode == 0, done.stderr
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(v["escalate"], v["trigger"]) for v in verdicts] == [
        (True, "ai"),
        (False, None),
        (True, "keyword"),
        (False, None),
        (True, "ai"),
    ]
    assert all(set(v) == {"escalate", "trigger", "reason"} for v in verdicts)
    assert "legal threat" in verdicts[4]["reason"]


def test_judge_command_reports_bad_lines_and_fails() -> None:
    done = run_module("handoff_app", "judge", stdin='not json\n{"text": "hello"}\n')
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1
    assert "error" in lines[0] and lines[1]["escalate"] is False


@pytest.mark.parametrize(
    "missing",
    ["HANDOFF_EMBEDDING_MODEL_DIR", "HANDOFF_INTENT_MODEL_FILE"],
    ids=["no embedding model", "no classifier weights"],
)
def test_judge_command_works_without_model_files(tmp_path: Path, missing: str) -> None:
    env = {**os.environ, missing: str(tmp_path / "missing")}
    stdin = '{"text": "get me your manager"}\n{"text": "the agent field is empty"}\n'
    done = run_module("handoff_app", "judge", stdin=stdin, env=env)
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [v["escalate"] for v in verdicts] == [True, False], done.stderr
    if missing == "HANDOFF_INTENT_MODEL_FILE":  # it says why it judges by rules
        assert "no escalation classifier" in done.stderr
