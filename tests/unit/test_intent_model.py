"""The escalation classifier's own arithmetic (bot/intent_model.py), on small real arrays."""

from __future__ import annotations

import numpy as np

from handoff_app.bot.intent_model import CLASSES, IntentModel, fit, load_model


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
    assert model.weights.shape == (385, len(CLASSES))
    assert 0.3 <= model.threshold <= 0.95
