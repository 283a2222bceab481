"""Percentiles of latency samples, and how far the ratio of two p99s can be trusted.

A p99 of 300 samples is the third slowest of them: which three messages happened to be slowest
moves it a lot from run to run, and a ratio of two such figures (a message's p99 over the
floor's) moves twice as much. `ratio_interval` resamples the run's own samples (the bootstrap)
to say how much.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def rank(n: int, q: float) -> int:
    """The 0-based index of the nearest-rank q-th percentile among n sorted samples."""
    return max(0, math.ceil(q / 100 * n) - 1)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of samples in seconds, in milliseconds (nan when empty)."""
    ranked = sorted(values)
    return ranked[rank(len(ranked), q)] * 1000 if ranked else math.nan


def ratio_interval(
    values: Sequence[float],
    floor: Sequence[float],
    *,
    q: float = 99,
    size: int | None = None,
    level: float = 0.95,
    draws: int = 4000,
    seed: int = 7,
) -> tuple[float, float]:
    """The central `level` of percentile(values, q) / percentile(floor, q) over `draws`
    bootstrap resamples: each draw takes `size` samples (default: as many as there are) from
    each list, with replacement. With `size` smaller than the run, it says what a shorter run
    of the same machine and code would have shown."""
    if not values or not floor:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)

    def resampled(samples: Sequence[float]) -> np.ndarray:
        n = size or len(samples)
        drawn = np.sort(rng.choice(np.asarray(samples), size=(draws, n)), axis=1)
        return drawn[:, rank(n, q)]

    ratios = np.sort(resampled(values) / resampled(floor))
    tail = (1 - level) / 2
    return float(ratios[int(tail * draws)]), float(ratios[math.ceil((1 - tail) * draws) - 1])
