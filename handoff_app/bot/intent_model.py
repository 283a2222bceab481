"""The trained part of the escalation judgment: is a message a request for a person, clear
frustration, or an ordinary message? A linear (softmax) classifier over the sentence embedding.

The weights are in `intent_model.json`, written by `python -m bench.train_intent` from labelled
messages (tests/eval: the calibration half of escalation.jsonl, the independent-dev half of
independent.jsonl, training.jsonl, and the prototype phrases of `bot/intent.py`). The file
also holds the probability a message needs to escalate, chosen by cross-validation on those
same messages.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handoff_app.bot.embeddings import DIMENSIONS, Vector

MODEL_FILE = Path(__file__).with_name("intent_model.json")
MODEL_FILE_ENV = "HANDOFF_INTENT_MODEL_FILE"  # another weights file (tests: a missing one)

log = logging.getLogger(__name__)
CLASSES = ("human_request", "frustration", "ordinary")


@dataclass(frozen=True)
class IntentModel:
    weights: np.ndarray  # (dimensions + 1, classes): the last row is the bias
    threshold: float  # the probability of a class that escalates

    def probabilities(self, vectors: Vector) -> np.ndarray:
        """(rows, classes) probabilities for unit embedding rows."""
        logits = vectors @ self.weights[:-1] + self.weights[-1]
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def to_json(self) -> dict[str, object]:
        return {
            "classes": list(CLASSES),
            "threshold": self.threshold,
            "weights": [[round(float(w), 6) for w in row] for row in self.weights],
        }


def fit(
    vectors: np.ndarray, labels: np.ndarray, *, l2: float = 1e-4, steps: int = 1000
) -> np.ndarray:
    """Softmax regression by full-batch gradient descent, each class weighted by the inverse of
    its share (the classes are unbalanced), L2 on the weights but not the bias. Deterministic."""
    rows, dims = vectors.shape
    k = len(CLASSES)
    design = np.hstack([vectors, np.ones((rows, 1))])
    target = np.eye(k)[labels]
    balance = (rows / (k * np.bincount(labels, minlength=k)))[labels][:, None]
    weights = np.zeros((dims + 1, k))
    for _ in range(steps):
        logits = design @ weights
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gradient = design.T @ ((p - target) * balance) / rows
        gradient[:-1] += l2 * weights[:-1]
        weights -= 2.0 * gradient
    return weights


def load_model() -> IntentModel | None:
    """The classifier of `HANDOFF_INTENT_MODEL_FILE`, else the shipped `intent_model.json`;
    None when the file is missing or unreadable: the judgment then uses its lexical rules, as it
    does without the embedding model (a warning says why, once)."""
    return read_model(Path(os.environ.get(MODEL_FILE_ENV) or MODEL_FILE))


@functools.cache
def read_model(path: Path) -> IntentModel | None:
    try:
        data = json.loads(path.read_text())
        if tuple(data["classes"]) != CLASSES:
            raise ValueError(f"classes {data['classes']}, expected {list(CLASSES)}")
        weights = np.array(data["weights"], dtype=np.float32)
        threshold = float(data["threshold"])
        if weights.shape != (DIMENSIONS + 1, len(CLASSES)):  # e.g. trained for another encoder
            expected = (DIMENSIONS + 1, len(CLASSES))
            raise ValueError(f"weights of shape {weights.shape}, expected {expected}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("no escalation classifier (%s: %s): lexical judgment", path, error)
        return None
    weights.setflags(write=False)  # one array for every caller, on any thread
    return IntentModel(weights, threshold)
