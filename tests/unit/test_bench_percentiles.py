"""The benchmarks' percentile and the bootstrap interval of a ratio of two p99s."""

from __future__ import annotations

import math
import random

from bench.percentiles import percentile, rank, ratio_interval


def test_nearest_rank() -> None:
    samples = [i / 1000 for i in range(1, 301)]  # 1 .. 300 ms, shuffled
    random.Random(3).shuffle(samples)
    assert percentile(samples, 50) == 150
    assert percentile(samples, 99) == 297  # the third slowest of 300
    assert percentile(samples, 100) == 300
    assert rank(1, 99) == 0
    assert math.isnan(percentile([], 99))


def test_the_interval_holds_the_ratio_and_narrows_with_more_samples() -> None:
    rng = random.Random(5)
    # a message takes about twice the floor, with the same kind of tail
    floor = [rng.lognormvariate(0, 0.5) / 1000 for _ in range(2000)]
    message = [2 * rng.lognormvariate(0, 0.5) / 1000 for _ in range(2000)]
    low, high = ratio_interval(message, floor)
    assert low < percentile(message, 99) / percentile(floor, 99) < high
    assert 1.4 < low < 2 < high < 2.8
    short_low, short_high = ratio_interval(message, floor, size=300)
    assert short_high - short_low > 1.5 * (high - low)  # fewer samples: a wider interval
    assert ratio_interval(message, floor) == (low, high)  # seeded: the same figures each time


def test_no_samples_no_interval() -> None:
    assert all(math.isnan(x) for x in ratio_interval([], [0.001]))
