"""A background handler that changed none of its tab's vars skips Reflex's closing lock round.

Reflex 0.10.1 ends every background handler that never entered `async with self` with one
more round of the tab's locks (the tab and every room linked to it) to flush a delta
(`BaseStateEventProcessor._execute_event` in reflex_base): uncached computed vars, which
these states do not have, and vars the event's preamble dirtied (the router data, when the
page's route changed), which stay dirty and go out with the tab's next delta anyway. On the
message path that round ran right after the message's push, on the one event loop, and
held the conversation room's lock that the next push needs.

`nothing_to_flush(self)`, on a background handler's path that changed no var, tells Reflex
what `async with self` would have: this handler has sent what it changed. Reflex is pinned in
requirements.txt; tests/unit/test_background_flush.py checks the flag against Reflex's own
processor.
"""

from __future__ import annotations

from reflex.istate.proxy import StateProxy


def nothing_to_flush(state: object) -> None:
    """Call from a background handler (`state` is its `self`) that changed none of its vars."""
    if isinstance(state, StateProxy):
        state._self_entered_context = True
