"""The worker's garbage collector, set for a long-lived server with a large heap.

With CPython's default thresholds (700, 10, 10), a worker holding a few hundred tabs' states
ran a full collection every few seconds, each pausing the event loop 50-110 ms on the CI
machine kind. Server timestamps showed one such pause in the slowest escalation of a queue
benchmark run (211 ms against a typical 60-90 ms). Two changes, once the worker is warm:

- `gc.freeze()`: what exists after start-up (the app, litellm's modules, the embedding model)
  lives as long as the process; full collections stop scanning it. Reflex freezes the
  supervisor's heap before forking; this freezes what each worker loaded since.
- thresholds (20 000, 20, 20): the young generation is collected every 20 000 net
  allocations instead of 700, and a full collection is considered after 20 middle-generation
  collections instead of 10, so full pauses come far less often. Cyclic garbage waits longer
  to be freed; reference counting still frees everything else at once.

Measured (bench.queue, 20 tabs): no collection over 3 ms during the measurement, and fan-out
p99 118-130 ms in two runs, against 142-207 ms with the defaults.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)


def settle_heap() -> None:
    """Call once the worker is warm (see the module)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
