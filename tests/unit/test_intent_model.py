"""The escalation classifier's own arithmetic (bot/intent_model.py), on small real arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.steadiest import steadiest
from bench.train_intent import held_out_messages, same_words, steadiest_threshold, training_texts
from handoff_app.bot.intent_model import CLASSES, IntentModel, fit, load_model, read_model


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


def test_the_shipped_model_loads_with_its_threshold() -> None:
    model = load_model()
    assert model is not None and model.weights.shape == (385, len(CLASSES))
    assert 0.3 <= model.threshold <= 0.95


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
    assert read_model(tmp_path / "missing.json") is None
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"classes": ["ordinary"], "threshold": 0.5, "weights": []}')
    assert read_model(damaged) is None
    damaged.write_text("{not json")
    assert read_model(damaged) is None
    # well formed, but for another encoder (its vectors would not fit the weights)
    other = {"classes": list(CLASSES), "threshold": 0.5, "weights": [[0.0] * 3] * 769}
    damaged.write_text(json.dumps(other))
    assert read_model(damaged) is None


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
