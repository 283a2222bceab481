"""Train the escalation classifier of `handoff_app/bot/intent_model.py` and write its weights.

    .venv/bin/python -m bench.train_intent           # writes handoff_app/bot/intent_model.json
    .venv/bin/python -m bench.train_intent --check   # fails if the shipped file is not what
                                                     # this data trains (the tests run it)

Trains on the calibration half of tests/eval/escalation.jsonl, the independent-dev half of
tests/eval/independent.jsonl, tests/eval/training.jsonl and the prototype phrases of
`bot/intent.py`; never on the test half, the fresh sets or the independent half, which
`bench.judge` reports. Sensitive-topic
messages are left out: the owner's topics are matched by similarity (`bot/intent.py`).
The probability that escalates is the one with the best F1 under 5-fold cross-validation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import numpy as np

from bench.judge import Example, load_eval_set
from handoff_app.bot import intent
from handoff_app.bot.embeddings import embed_texts
from handoff_app.bot.intent_model import CLASSES, MODEL_FILE, IntentModel, fit

TRAINING_SPLITS = ("calibration", "independent-dev", "training")
LABELS = {"human_request": 0, "frustration": 1, "ordinary": 2, "keyword_trap": 2}
FOLDS = 5
CANDIDATE_THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.30, 0.96, 0.05))
PLATEAU = 0.005


@dataclass(frozen=True)
class Row:
    vectors: np.ndarray  # the message, then its clauses when it has several
    label: int
    names_a_person: bool


def _encode(texts: Sequence[str]) -> np.ndarray:
    """Rows for `texts`, encoded in batches of similar length (a batch pads to its longest)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [embed_texts([texts[i] for i in order[j : j + 32]]) for j in range(0, len(order), 32)]
    if any(b is None for b in batches):
        raise SystemExit("training needs the embedding model files")
    rows = np.empty((len(texts), batches[0].shape[1]), dtype=np.float32)  # type: ignore[union-attr]
    rows[order] = np.vstack(batches)  # type: ignore[arg-type]
    return rows


def training_rows() -> list[Row]:
    examples: list[Example] = [
        e for split in TRAINING_SPLITS for e in load_eval_set(split) if e.category in LABELS
    ]
    seeds = [
        (text, LABELS[kind])
        for kind, phrases in (
            ("human_request", intent.HUMAN_REQUEST_PROTOTYPES),
            ("frustration", intent.FRUSTRATION_PROTOTYPES),
            ("ordinary", intent.ORDINARY_PROTOTYPES),
        )
        for text in phrases
    ]
    texts = [e.text for e in examples] + [t for t, _ in seeds]
    labels = [LABELS[e.category] for e in examples] + [label for _, label in seeds]
    parts = [[t.strip(), *(c if len(c := intent.clauses(t)) > 1 else [])] for t in texts]
    flat = _encode([p for group in parts for p in group])
    rows, start = [], 0
    for text, group, label in zip(texts, parts, labels, strict=True):
        rows.append(Row(flat[start : start + len(group)], label, intent.mentions_a_person(text)))
        start += len(group)
    return rows


def escalates(probabilities: np.ndarray, names_a_person: bool, threshold: float) -> bool:
    """Would `intent.judge_scores` escalate a message with these probabilities (no topics)?"""
    scores = intent.Scores(
        human_request=float(probabilities[:, 0].max()),
        frustration=float(probabilities[:, 1].max()),
        ordinary=0.0,
        topics=(),
        names_a_person=names_a_person,
    )
    cut = dataclasses.replace(intent.DEFAULT_THRESHOLDS, escalate=threshold)
    return intent.judge_scores(scores, cut) is not None


def cross_validated_threshold(rows: Sequence[Row]) -> tuple[float, float]:
    """The threshold with the best F1 over FOLDS held-out folds, and that F1."""
    order = np.random.default_rng(0).permutation(len(rows))
    held: list[tuple[np.ndarray, Row]] = []
    for fold in range(FOLDS):
        test = set(order[fold::FOLDS].tolist())
        train = [r for i, r in enumerate(rows) if i not in test]
        weights = fit(np.vstack([r.vectors[0] for r in train]), np.array([r.label for r in train]))
        model = IntentModel(weights, 0.5)
        held += [(model.probabilities(rows[i].vectors), rows[i]) for i in sorted(test)]
    scores = {}
    for threshold in CANDIDATE_THRESHOLDS:
        tp = fp = fn = 0
        for probabilities, row in held:
            predicted = escalates(probabilities, row.names_a_person, threshold)
            actual = row.label != LABELS["ordinary"]
            tp += predicted and actual
            fp += predicted and not actual
            fn += actual and not predicted
        scores[threshold] = 2 * tp / (2 * tp + fp + fn)
    # the middle of the plateau within PLATEAU of the best F1 (a few messages either way), not
    # its edge, so a small shift between these messages and new ones does not flip decisions
    best = max(scores.values())
    near = [t for t in CANDIDATE_THRESHOLDS if scores[t] >= best - PLATEAU]
    chosen = near[len(near) // 2]
    return chosen, scores[chosen]


def train() -> IntentModel:
    rows = training_rows()
    threshold, f1 = cross_validated_threshold(rows)
    weights = fit(np.vstack([r.vectors[0] for r in rows]), np.array([r.label for r in rows]))
    counts = np.bincount([r.label for r in rows], minlength=len(CLASSES))
    per_class = ", ".join(f"{c} {n}" for c, n in zip(CLASSES, counts, strict=True))
    print(
        f"trained on {len(rows)} messages ({per_class}); "
        f"threshold {threshold} (cross-validated F1 {f1:.3f})"
    )
    return IntentModel(weights.astype(np.float32), threshold)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.train_intent")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args()
    model = train()
    if args.check:
        shipped = json.loads(MODEL_FILE.read_text())
        fresh = model.to_json()
        drift = np.abs(np.array(shipped["weights"]) - np.array(fresh["weights"])).max()
        if shipped["threshold"] != fresh["threshold"] or drift > 1e-3:
            raise SystemExit(
                f"{MODEL_FILE.name} is stale (threshold {shipped['threshold']} vs "
                f"{fresh['threshold']}, weights differ by {drift:.2g}): "
                "run python -m bench.train_intent"
            )
        print(f"{MODEL_FILE.name} matches the training data (weights within {drift:.1g})")
        return
    MODEL_FILE.write_text(json.dumps(model.to_json()) + "\n")
    print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
