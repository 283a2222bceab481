"""The escalation classifier's own arithmetic (bot/intent_model.py) on small real arrays, its
file (bot/tensor_file.py) and what its trainer leaves out (bench/train_intent.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.steadiest import steadiest
from bench.train_intent import (
    held_out_messages,
    same_words,
    steadiest_threshold,
    training_digest,
    training_texts,
)
from handoff_app.bot.intent_model import (
    BLOCK_NAMES,
    CLASSES,
    MODEL_FILE,
    IntentModel,
    fit,
    load_model,
    read_model,
)
from handoff_app.bot.tensor_file import read_tensors, write_tensors


def test_fit_separates_three_clusters_and_probabilities_sum_to_one() -> None:
    rng = np.random.default_rng(1)
    centres = np.eye(len(CLASSES), 8)
    labels = np.repeat(np.arange(len(CLASSES)), [30, 10, 60])  # unbalanced, like the data
    points = centres[labels] + rng.normal(0, 0.2, (len(labels), 8))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    model = IntentModel(fit(points, labels), 0.5)
    probabilities = model.probabilities(points)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == labels).mean() > 0.95
    # the small class is not drowned by the big one (the classes are weighted)
    assert (probabilities[labels == 1].argmax(axis=1) == 1).all()


def test_the_shipped_model_loads_with_its_layer_head_and_threshold() -> None:
    model = load_model()
    assert model is not None and model.weights.shape == (385, len(CLASSES))
    assert model.branch is not None and 0.3 <= model.threshold <= 0.95
    assert model.metadata["shared_layers"] == "5" and model.metadata["branch_layers"] == "1"
    # the branch runs on hidden states (batch, tokens, 384) and keeps their shape
    x = np.random.default_rng(0).normal(size=(2, 5, 384)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=np.float32)
    assert model.branch(x, mask).shape == (2, 5, 384)


def test_the_threshold_is_chosen_on_the_smoothed_curve_not_at_a_lone_peak() -> None:
    grid = [round(0.30 + 0.01 * i, 2) for i in range(66)]
    # a broad plateau around 0.72, and one lone candidate a hair higher at 0.50
    f1 = {t: 0.90 - abs(t - 0.72) * 0.2 for t in grid}
    f1[0.50] = 0.91
    assert steadiest_threshold(f1) == 0.72
    # one message more or less (a small bump anywhere on the plateau) barely moves it
    bumped = f1 | {0.66: f1[0.66] + 0.002}
    assert abs(steadiest_threshold(bumped) - 0.72) <= 0.02
    # a tie goes to the lower threshold; the window never runs off the grid
    assert steadiest_threshold({t: 0.5 for t in grid}) == 0.35


def test_training_never_sees_a_message_the_judge_is_measured_on() -> None:
    held_out = held_out_messages()
    pairs = training_texts()
    assert len(held_out) > 500 and len(pairs) > 2500
    assert not [text for text, _ in pairs if same_words(text) in held_out]
    # the same message, punctuated or cased differently, is still the same message
    assert same_words("Can I talk to a HUMAN, please?!") == same_words(
        "can i talk to a human please"
    )


def test_a_missing_or_damaged_weights_file_means_no_classifier(tmp_path: Path) -> None:
    assert read_model(tmp_path / "missing.safetensors") is None
    (tmp_path / "not-json.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not}")
    (tmp_path / "cut-short.safetensors").write_bytes(MODEL_FILE.read_bytes()[:5000])
    tensors, metadata = read_tensors(MODEL_FILE)
    wrong = {
        # well formed, but for another encoder (its vectors would not fit the head)
        "other-encoder": (tensors | {"head": np.zeros((769, 3), np.float32)}, metadata),
        # or for a branch after another layer, or with other classes
        "other-layer": (tensors, metadata | {"shared_layers": "4"}),
        "other-classes": (tensors, metadata | {"classes": json.dumps(["ordinary"])}),
    }
    for name, (t, m) in wrong.items():
        write_tensors(tmp_path / f"{name}.safetensors", t, m)
    for name in ("not-json", "cut-short", *wrong):  # (read_model caches by path)
        assert read_model(tmp_path / f"{name}.safetensors") is None, name
    # the same tensors and metadata written back load as the shipped file does
    write_tensors(tmp_path / "copy.safetensors", tensors, metadata)
    copy = read_model(tmp_path / "copy.safetensors")
    assert copy is not None and np.array_equal(copy.weights, tensors["head"])


def test_tensor_files_round_trip_and_refuse_what_they_cannot_store(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([1, -2], dtype=np.int64),
        "c": np.ones(3, dtype=np.float16),
    }
    write_tensors(path, tensors, {"note": "kept"})
    back, metadata = read_tensors(path)
    assert metadata == {"note": "kept"} and back.keys() == tensors.keys()
    assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype for k, v in tensors.items())
    assert (int.from_bytes(path.read_bytes()[:8], "little") + 8) % 8 == 0  # data aligned
    with pytest.raises(ValueError, match="dtype"):
        write_tensors(path, {"d": np.zeros(2, dtype=np.complex64)})
    path.write_bytes(b"\x01")
    with pytest.raises(ValueError, match="too short"):
        read_tensors(path)


def test_the_training_digest_changes_with_any_message_or_label() -> None:
    pairs = training_texts()[:50]
    digest = training_digest(pairs)
    assert digest == training_digest(list(pairs))
    assert training_digest(pairs[:-1]) != digest
    relabelled = [*pairs[:-1], (pairs[-1][0], (pairs[-1][1] + 1) % 3)]
    assert training_digest(relabelled) != digest
    assert set(BLOCK_NAMES) == {
        name.split(".")[-1] for name in read_tensors(MODEL_FILE)[0] if name != "head"
    }


def test_a_pair_is_chosen_on_the_smoothed_surface_among_the_allowed_ones() -> None:
    cuts = [round(0.10 + 0.01 * i, 2) for i in range(41)]
    slacks = [round(0.02 * i, 2) for i in range(11)]
    f1 = {(c, s): 0.9 - abs(c - 0.30) - abs(s - 0.10) for c in cuts for s in slacks}
    f1[(0.15, 0.06)] = 1.0  # a lone spike
    assert steadiest(f1, (0.02, 0.04)) == (0.30, 0.10)
    # only allowed pairs compete (e.g. those that let a must-escalate message through)
    allowed = [p for p in f1 if p[0] <= 0.27]
    assert steadiest(f1, (0.02, 0.04), allowed) == (0.27, 0.10)
    assert steadiest(f1, (0.02, 0.04), [(0.10, 0.0)]) is None  # on the edge: not judged
