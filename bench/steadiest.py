"""The point of a grid of fitted settings whose neighbourhood scores best.

Near its best, F1 over a grid of thresholds is flat: the single best point moves with a few
messages, so `bench.train_intent` (the classifier's threshold) and `bench.judge --calibrate`
(the topics' cut and slack) choose on the smoothed surface instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

Point = tuple[float, ...]
EPSILON = 1e-9  # grid points are rounded floats


def steadiest(
    f1: Mapping[Point, float], window: Point, allowed: Collection[Point] | None = None
) -> Point | None:
    """The allowed point whose neighbours within `window` (per axis, either side) have the best
    mean F1, among points whose whole window lies on the grid (an edge point would be judged
    on fewer neighbours); the lowest on a tie. None when no point qualifies."""
    axes = [sorted({p[i] for p in f1}) for i in range(len(window))]

    def inside(point: Point) -> bool:
        return all(
            axis[0] + w - EPSILON <= x <= axis[-1] - w + EPSILON
            for x, axis, w in zip(point, axes, window, strict=True)
        )

    def smoothed(point: Point) -> float:
        near = [
            v
            for p, v in f1.items()
            if all(abs(a - b) <= w + EPSILON for a, b, w in zip(p, point, window, strict=True))
        ]
        return float(np.mean(near))

    candidates = sorted(p for p in (f1 if allowed is None else allowed) if inside(p))
    if not candidates:
        return None
    return max(candidates, key=lambda p: (smoothed(p), *(-x for x in p)))
