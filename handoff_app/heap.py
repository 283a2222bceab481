"""Keep the worker's garbage-collection pauses short.

A worker holds a large heap of long-lived objects from start-up: Reflex and its compiled app,
litellm's model tables, SQLAlchemy, the embedding model. CPython's full (generation 2)
collections walk every tracked object, so each one paused the event loop, and every live
conversation with it: in the delivery benchmark (260 open tabs) full collections took up to
570 ms. Once start-up is over, `freeze_startup_heap` moves what exists into the permanent
generation, which collections never scan again; later collections only walk what the worker
allocated since (tabs' states, messages), a fraction of the heap.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then freeze the rest; returns the frozen count."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("froze %d start-up objects out of garbage collection", frozen)
    return frozen
