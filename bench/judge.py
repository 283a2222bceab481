"""Escalation judgment on the held-out messages, next to a keyword baseline.

    .venv/bin/python -m bench.judge               # figures on every held-out split
    .venv/bin/python -m bench.judge --calibrate   # sensitive-topic thresholds that fit the
                                                  # training splits (CALIBRATION_SPLITS)

Runs `judge_first_message` (keywords, then `local/kb` through litellm with the
escalate_to_human tool) on every message of each split of SPLITS_REPORTED (the test half and
the fresh sets of escalation.jsonl, the independent half of independent.jsonl) under the
default settings and the evaluation's sensitive topics; prints precision, recall, F1 and the
false-trigger rate on keyword traps, for the semantic judgment, its lexical fallback (no model
files) and a keyword-substring baseline; then the bot's overhead per turn excluding model time
(the local provider's path through litellm, p50). A benchmark: it prints, it does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import numpy as np

from bench.steadiest import steadiest
from handoff_app.bot import intent
from handoff_app.bot.embeddings import get_encoder
from handoff_app.bot.judge import (
    DEMO_PASSAGES,
    EVAL_SENSITIVE_TOPICS,
    Judgment,
    judge_first_message,
)
from handoff_app.domain.keywords import DEFAULT_HANDOFF_KEYWORDS, find_handoff_keyword
from handoff_app.domain.sensitive_topics import read_topic

EVAL_DIR = Path(__file__).resolve().parent.parent / "tests" / "eval"
EVAL_SET = EVAL_DIR / "escalation.jsonl"
# 707 messages written by separate authors who never saw escalation.jsonl (session 6): half
# ("independent-dev") trains the classifier (bench/train_intent.py), half ("independent") is
# held out; only its aggregate figures are ever printed
INDEPENDENT_SET = EVAL_DIR / "independent.jsonl"
# 5,730 more messages by separate authors (2,563 in session 6, 1,321 in session 9, 1,846 in
# session 12), for training only (split "training")
TRAINING_SET = EVAL_DIR / "training.jsonl"
CATEGORIES = ("human_request", "frustration", "sensitive", "ordinary", "keyword_trap")
# "fresh": written in session 4, after an error on the test half had been looked at (it led to
# requiring a request for a person to name one, a rule dropped in session 12): a check that
# the change generalises, never used to choose anything
# "fresh2": written blind at the start of session 5, before any change of that session was
# measured on it; only its aggregate figures are ever printed
# "fresh3": written blind at the start of session 6, the same way (60 messages)
SPLITS_REPORTED = (
    ("test", "the test half"),
    ("fresh", "the fresh set"),
    ("fresh2", "the second fresh set"),
    ("fresh3", "the third fresh set"),
    ("independent", "the independent held-out half"),
)
# what --calibrate fits the sensitive topics' thresholds on (never the reported splits)
CALIBRATION_SPLITS = ("calibration", "independent-dev", "training")
# messages that must reach a person under their topic whatever the fitted thresholds: the
# plainest instances of the evaluation's topics, also required by tests/integration
MUST_ESCALATE = (
    ("I'm going to sue you over this", "legal threat"),
    ("someone hacked my account", "account hacked"),
)
# the evaluation's topics as an owner might teach them: three example messages each, written
# (session 7) before any was measured and without reading the sensitive messages of tests/eval
EVAL_TAUGHT_TOPICS = (
    "legal threat: I'm going to sue you; you will hear from my lawyer; "
    "I'm taking you to court over this",
    "account hacked: someone got into my account; there are orders on my account I never "
    "placed; my password was changed and it wasn't me",
    "billing dispute: I was charged twice for one order; I want to dispute this charge; "
    "you billed me for something I never ordered",
)
BASELINE_WORDS = (*DEFAULT_HANDOFF_KEYWORDS, "human", "agent", "person", "manager", "someone")


@dataclass(frozen=True)
class Example:
    text: str
    escalate: bool
    category: str
    split: str


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    f1: float
    trap_false_triggers: float  # share of keyword traps that escalated

    def line(self, name: str) -> str:
        return (
            f"{name:<34} precision {self.precision:5.3f}  recall {self.recall:5.3f}  "
            f"F1 {self.f1:5.3f}  false triggers on keyword traps {self.trap_false_triggers:6.1%}"
        )


def eval_file(split: str | None) -> Path:
    """escalation.jsonl, independent.jsonl for its two halves, training.jsonl for "training"."""
    if split == "training":
        return TRAINING_SET
    return INDEPENDENT_SET if split and split.startswith("independent") else EVAL_SET


def load_eval_set(split: str | None = None) -> list[Example]:
    """The messages of `split` (None: all of escalation.jsonl)."""
    source = eval_file(split)
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    examples = [Example(**row) for row in rows]
    return [e for e in examples if split is None or e.split == split]


def measure(examples: Sequence[Example], predicted: Sequence[bool]) -> Metrics:
    pairs = list(zip(examples, predicted, strict=True))
    tp = sum(1 for e, p in pairs if p and e.escalate)
    fp = sum(1 for e, p in pairs if p and not e.escalate)
    fn = sum(1 for e, p in pairs if not p and e.escalate)
    traps = [p for e, p in pairs if e.category == "keyword_trap"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(precision, recall, f1, sum(traps) / len(traps) if traps else 0.0)


def baseline(text: str) -> bool:
    """What a plain substring match on handoff words would do."""
    lowered = text.casefold()
    return any(word in lowered for word in BASELINE_WORDS)


async def judge_all(examples: Sequence[Example]) -> list[bool]:
    return [j.escalate for j in await judgments(examples)]


async def judgments(
    examples: Sequence[Example], topics: Sequence[str] = EVAL_SENSITIVE_TOPICS
) -> list[Judgment]:
    results = []
    for example in examples:
        judgment = await judge_first_message(
            example.text,
            keywords=DEFAULT_HANDOFF_KEYWORDS,
            sensitive_topics=topics,
            articles=DEMO_PASSAGES,
        )
        results.append(judgment)
    return results


def lexical_all(examples: Sequence[Example]) -> list[bool]:
    return [
        find_handoff_keyword(e.text, DEFAULT_HANDOFF_KEYWORDS) is not None
        or intent.detect_escalation_lexically(e.text, EVAL_SENSITIVE_TOPICS) is not None
        for e in examples
    ]


def calibrate(examples: Sequence[Example]) -> intent.Thresholds:
    """The sensitive topics' thresholds with the best F1 of the topic match alone: sensitive
    messages against ordinary ones and keyword traps. One pair for topics given by name
    (EVAL_SENSITIVE_TOPICS), one for topics taught with examples (EVAL_TAUGHT_TOPICS).

    Requests for a person and frustration are left out: the trained classifier decides those,
    and on these messages, which it was trained on, its decisions would be in-sample
    (bench/train_intent). F1 is flat near its best, so a pair is judged by the mean F1 of its
    neighbours (`steadiest_pair`), and only pairs that let every MUST_ESCALATE message through
    are candidates."""
    examples = [e for e in examples if e.category in ("sensitive", "ordinary", "keyword_trap")]
    taught = {read_topic(t).name: t for t in EVAL_TAUGHT_TOPICS}
    cut, slack = fit_topic_thresholds(examples, EVAL_SENSITIVE_TOPICS, MUST_ESCALATE, "by name")
    taught_cut, taught_slack = fit_topic_thresholds(
        examples,
        EVAL_TAUGHT_TOPICS,
        [(text, taught[topic]) for text, topic in MUST_ESCALATE],
        "taught by example",
    )
    fitted = intent.Thresholds(cut, slack, taught_cut, taught_slack)
    print(f"fitted: {fitted}")
    return fitted


def fit_topic_thresholds(
    examples: Sequence[Example],
    topics: Sequence[str],
    required: Sequence[tuple[str, str]],
    kind: str,
) -> tuple[float, float]:
    """(cut, slack) for `topics` (all given by name, or all taught) on `examples`."""
    # the knowledge the judge grounds on (see judge_first_message): the demo knowledge base
    from handoff_app.bot.retrieval import rank

    scores = [
        intent.score_message(e.text, topics, [r.passage for r in rank(e.text, DEMO_PASSAGES)[:3]])
        for e in examples
    ]
    musts = [intent.score_message(text, (topic,)) for text, topic in required]
    if any(s is None for s in [*scores, *musts]):
        raise SystemExit("calibration needs the embedding model files")

    def topics_only(cut: float, slack: float) -> intent.Thresholds:
        # a probability never exceeds 1: with escalate above it the classifier never fires
        return intent.Thresholds(cut, slack, cut, slack, escalate=1.01)

    def f1_of(cut: float, slack: float) -> float:
        t = topics_only(cut, slack)
        return measure(examples, [intent.judge_scores(s, t) is not None for s in scores]).f1  # type: ignore[arg-type]

    pairs = [
        (round(float(c), 2), round(float(s), 2))
        for c in np.arange(0.25, 0.80, 0.01)
        for s in np.arange(-0.10, 0.36, 0.02)
    ]
    f1 = {pair: f1_of(*pair) for pair in pairs}
    allowed = {
        pair
        for pair in pairs
        if all(intent.judge_scores(m, topics_only(*pair)) for m in musts)  # type: ignore[arg-type]
    }
    chosen = steadiest_pair(f1, allowed)
    print(
        f"topics {kind}: {sum(e.category == 'sensitive' for e in examples)} sensitive messages "
        f"against {sum(e.category != 'sensitive' for e in examples)} ordinary ones and keyword "
        f"traps: topic-match F1 {f1[chosen]:.3f} at {chosen} (best anywhere {max(f1.values()):.3f})"
    )
    return chosen


def steadiest_pair(
    f1: Mapping[tuple[float, float], float],
    allowed: Collection[tuple[float, float]],
    window: tuple[float, float] = (0.02, 0.04),
) -> tuple[float, float]:
    """The allowed (cut, slack) whose neighbours within `window` have the best mean F1
    (`bench.steadiest`)."""
    chosen = steadiest(f1, window, allowed)
    if chosen is None:
        raise SystemExit("no thresholds let every must-escalate message through")
    cut, slack = chosen
    return cut, slack


async def provider_overhead(samples: int = 200) -> tuple[list[float], list[float]]:
    """Milliseconds of one bot turn through litellm with the local provider (no model time:
    retrieval, judgment and litellm's own work), and of the provider's decision alone."""
    import litellm

    from handoff_app.bot.local_provider import decide, register_local_provider
    from handoff_app.bot.prompt import build_system_prompt
    from handoff_app.bot.retrieval import Passage, rank
    from handoff_app.bot.tools import ESCALATE_TOOL
    from handoff_app.demo_knowledge import DEMO_ARTICLES

    register_local_provider()
    articles = [Passage(t, b) for t, b in DEMO_ARTICLES]
    questions = [e.text for e in load_eval_set("test")]
    timings: list[float] = []
    alone: list[float] = []
    for i in range(samples):  # interleaved, so both see the same machine load
        question = f"{questions[i % len(questions)]} ({i})"  # defeat the embedding memo
        start = time.perf_counter()
        grounding = [r.passage for r in rank(question, articles)[:3]]
        system = build_system_prompt(grounding, sensitive_topics=EVAL_SENSITIVE_TOPICS)
        response = await litellm.acompletion(
            model="local/kb",
            messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
            tools=[ESCALATE_TOOL],
        )
        assert response.choices
        timings.append((time.perf_counter() - start) * 1000)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"{i} " + question},
        ]
        start = time.perf_counter()
        decide(messages, tools=[ESCALATE_TOOL])
        alone.append((time.perf_counter() - start) * 1000)
    return timings, alone


def report(
    name: str, examples: Sequence[Example], run: Callable[[Sequence[Example]], list[bool]]
) -> Metrics:
    metrics = measure(examples, run(examples))
    print(metrics.line(name))
    return metrics


def cause(judgment: Judgment) -> str:
    """What escalated: a default keyword, a sensitive topic or the classifier."""
    if judgment.trigger == "keyword":
        return "keyword"
    return "topic" if (judgment.reason or "").startswith(intent.SENSITIVE_REASON) else "classifier"


def wrong_decisions(examples: Sequence[Example], judged: Sequence[Judgment]) -> str:
    """Counts of the wrong decisions: false escalations by what escalated, misses by the
    message's category (totals only: the messages themselves are not printed)."""
    pairs = list(zip(examples, judged, strict=True))
    false = Counter(cause(j) for e, j in pairs if j.escalate and not e.escalate)
    missed = Counter(e.category for e, j in pairs if e.escalate and not j.escalate)

    def listed(counts: Counter[str]) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"

    return (
        f"wrong: {false.total()} false escalations ({listed(false)}), "
        f"{missed.total()} missed ({listed(missed)})"
    )


def evaluate(examples: Sequence[Example]) -> None:
    judged = asyncio.run(judgments(examples))
    print(measure(examples, [j.escalate for j in judged]).line("judge (keywords + local/kb)"))
    traps = [j for e, j in zip(examples, judged, strict=True) if e.category == "keyword_trap"]
    print(
        f"{'':<34} keyword traps escalated: {sum(j.trigger == 'keyword' for j in traps)} by a "
        f"default keyword, {sum(j.trigger == 'ai' for j in traps)} by the model, of {len(traps)}"
    )
    print(f"{'':<34} {wrong_decisions(examples, judged)}")
    taught = asyncio.run(judgments(examples, EVAL_TAUGHT_TOPICS))
    print(measure(examples, [j.escalate for j in taught]).line("judge, topics taught by example"))
    report("judge, lexical fallback (no model)", examples, lexical_all)
    report("baseline: keyword substrings", examples, lambda ex: [baseline(e.text) for e in ex])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.judge")
    parser.add_argument("--calibrate", action="store_true", help="fit thresholds (calibration)")
    args = parser.parse_args()
    if args.calibrate:
        calibrate([e for split in CALIBRATION_SPLITS for e in load_eval_set(split)])
        return
    print(f"sensitive topics: {', '.join(EVAL_SENSITIVE_TOPICS)}")
    for split, title in SPLITS_REPORTED:
        examples = load_eval_set(split)
        print(
            f"\nescalation judgment on {title} of {eval_file(split).name}: {len(examples)} messages"
        )
        evaluate(examples)
    print()
    intent.warm_up()
    encoder = get_encoder()
    print(f"encoder: {encoder.backend if encoder else 'none (lexical fallback)'}")
    timings, alone = asyncio.run(provider_overhead())
    for name, values in (
        ("bot overhead per turn (retrieval + local/kb through litellm, tools on)", timings),
        ("  of which local/kb's decision (one encoding, judgment, retrieval)", alone),
    ):
        values.sort()
        print(
            f"{name}: p50 {statistics.median(values):.1f} ms, "
            f"p90 {values[int(len(values) * 0.9)]:.1f} ms"
        )
    print("target: p50 <= 20 ms per turn")


if __name__ == "__main__":
    main()
