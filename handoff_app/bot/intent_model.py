"""The trained part of the escalation judgment: is a message a request for a person, clear
frustration, or an ordinary message?

A fine-tuned copy of all-MiniLM-L6-v2's last layer reads the hidden states of the encoder's
first five layers (shared with the sentence vector: `embeddings.SHARED_LAYERS`, so a turn
encodes once and runs one layer more); its output, mean-pooled and normalised like a sentence
vector, goes through a linear softmax head. Fine-tuning the layer rather than only the head
raised cross-validated F1 on the training messages from 0.899 to 0.925 (README, "Escalation
judgment").

The layer, the head and the probability a message needs to escalate (chosen by
cross-validation) are in `intent_model.safetensors`, written by `python -m bench.train_intent`
from labelled messages (tests/eval: the calibration half of escalation.jsonl, the
independent-dev half of independent.jsonl, training.jsonl, and the prototype phrases of
`bot/intent.py`). Its metadata records what it was trained from (`training_digest`), which
`bench.train_intent --check` compares with today's data.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handoff_app.bot.embeddings import (
    DIMENSIONS,
    SHARED_LAYERS,
    Stack,
    Vector,
    default_backend,
    layer_stack,
)
from handoff_app.bot.tensor_file import read_tensors

MODEL_FILE = Path(__file__).with_name("intent_model.safetensors")
MODEL_FILE_ENV = "HANDOFF_INTENT_MODEL_FILE"  # another weights file (tests: a missing one)

log = logging.getLogger(__name__)
CLASSES = ("human_request", "frustration", "ordinary")
# the tensors of one fine-tuned layer, in `onnx_layers.Block` order
BLOCK_NAMES = (
    "qkv_w",
    "qkv_b",
    "o_w",
    "o_b",
    "ln1_w",
    "ln1_b",
    "i_w",
    "i_b",
    "f_w",
    "f_b",
    "ln2_w",
    "ln2_b",
)


@dataclass(frozen=True)
class IntentModel:
    weights: np.ndarray  # the head, (dimensions + 1, classes): the last row is the bias
    threshold: float  # the probability of a class that escalates
    branch: Stack | None = field(default=None, compare=False)  # the fine-tuned layer
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    def probabilities(self, vectors: Vector) -> np.ndarray:
        """(rows, classes) probabilities for unit rows: the branch's pooled output (or, for a
        head without a branch, sentence vectors)."""
        logits = vectors @ self.weights[:-1] + self.weights[-1]
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def fit(
    vectors: np.ndarray, labels: np.ndarray, *, l2: float = 1e-4, steps: int = 1000
) -> np.ndarray:
    """Softmax regression by full-batch gradient descent, each class weighted by the inverse of
    its share (the classes are unbalanced), L2 on the weights but not the bias. Deterministic.
    `bench.train_intent` starts the fine-tuning from this head on the unchanged layer."""
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
    """The classifier of `HANDOFF_INTENT_MODEL_FILE`, else the shipped `intent_model.safetensors`;
    None when the file is missing or unreadable: the judgment then uses its lexical rules, as it
    does without the embedding model (a warning says why, once)."""
    return read_model(Path(os.environ.get(MODEL_FILE_ENV) or MODEL_FILE))


@functools.cache
def read_model(path: Path) -> IntentModel | None:
    try:
        tensors, metadata = read_tensors(path)
        if tuple(json.loads(metadata.get("classes", "[]"))) != CLASSES:
            raise ValueError(f"classes {metadata.get('classes')}, expected {list(CLASSES)}")
        if int(metadata.get("shared_layers", -1)) != SHARED_LAYERS:
            raise ValueError(f"a branch after layer {metadata.get('shared_layers')}")
        threshold = float(metadata["threshold"])
        weights = tensors["head"].astype(np.float32)
        if weights.shape != (DIMENSIONS + 1, len(CLASSES)):  # e.g. trained for another encoder
            expected = (DIMENSIONS + 1, len(CLASSES))
            raise ValueError(f"a head of shape {weights.shape}, expected {expected}")
        blocks = [
            tuple(tensors[f"layer.{n}.{name}"].astype(np.float32) for name in BLOCK_NAMES)
            for n in range(int(metadata["branch_layers"]))
        ]
        if not blocks or blocks[0][2].shape != (DIMENSIONS, DIMENSIONS):
            raise ValueError("no fine-tuned layer for this encoder")
        heads, eps = int(metadata["heads"]), float(metadata["layer_norm_eps"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        log.warning("no escalation classifier (%s: %s): lexical judgment", path, error)
        return None
    branch, _ = layer_stack(blocks, heads, eps, default_backend())
    weights.setflags(write=False)  # one array for every caller, on any thread
    return IntentModel(weights, threshold, branch, metadata)
