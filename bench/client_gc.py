"""The measuring client's own garbage collector, paused while it measures."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in THIS process (the measuring client, which decodes every
    delta of hundreds of sockets) while it measures: a full collection here (~200 ms in the
    queue benchmark, once a run) would pause the clock readings, not the app. The app's
    worker collects as usual."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
