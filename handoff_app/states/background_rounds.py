"""The two rounds of locks Reflex takes around a background handler, trimmed on the hot paths.

Reflex 0.10.1 (`BaseStateEventProcessor._execute_event` in reflex_base; pinned in
requirements.txt) runs a background handler (`rx.event(background=True)`) between two rounds
of the tab's locks, each taking the tab and every room linked to it, and patching the rooms
into the tab's state tree:

1. before the handler: the round updates the tab's router data and hands the handler a proxy
   of its state, then releases the locks;
2. after it, when the handler never entered `async with self`: the round flushes a delta
   (uncached computed vars, which these states do not have, and vars the first round dirtied,
   which stay dirty and go out with the tab's next delta anyway).

On a message both ran on the one event loop: the first in front of its write (a third of a
millisecond under the delivery benchmark's load, most of it the rooms), the second right after
its push, holding the conversation room's lock that the next push needs. So:

- `@tab_only_first` (under `@rx.event(background=True)`): the first round locks the tab alone.
  For handlers that read only their own state's vars before any `async with self` (which takes
  the rooms as usual): the room vars are not read, and nothing is written in that round.
- `nothing_to_flush(self)`, on a background handler's path that changed no var: Reflex skips
  the second round, as it does after `async with self`.

`install()` (once per worker, `handoff_app.py`) patches the first; tests/unit/
test_background_rounds.py checks both against Reflex's own code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from reflex.istate import manager as state_managers
from reflex.istate.proxy import StateProxy
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "_handoff_tab_only_first"
# set in the event's task just before Reflex's first round; the round clears it, so the
# handler's own `async with self` (and anything after) takes the rooms as usual
_tab_only: ContextVar[bool] = ContextVar("handoff_tab_only_round", default=False)
_installed = False


def tab_only_first(handler: F) -> F:
    """Mark a background handler whose first round need not take its tab's rooms."""
    setattr(handler, _MARK, True)
    return handler


def nothing_to_flush(state: object) -> None:
    """Call from a background handler (`state` is its `self`) that changed none of its vars."""
    if isinstance(state, StateProxy):
        state._self_entered_context = True


def _marked(handler: Any) -> bool:
    """A background handler marked `tab_only_first` (Reflex's EventHandler)."""
    return bool(handler.is_background and getattr(handler.fn, _MARK, False))


def _tab_only_now() -> bool:
    """Is this the marked handler's first round (and from now on, not)?"""
    if not _tab_only.get():
        return False
    _tab_only.set(False)
    return True


def install() -> None:
    """Patch Reflex's first round for marked handlers (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    execute = BaseStateEventProcessor._execute_event
    enter = state_managers._ModifyStateWithLinks.__aenter__

    async def _execute_event(self: Any, *, entry: Any, registered_handler: Any) -> None:
        if _marked(registered_handler.handler):
            _tab_only.set(True)  # this task's context: the event's own
        await execute(self, entry=entry, registered_handler=registered_handler)

    async def __aenter__(self: Any) -> Any:
        if not _tab_only_now():
            return await enter(self)
        manager = self._manager
        self._state_context = manager.modify_state(
            manager._coerce_token(self._token), **self._context
        )
        self._links = None  # so its exit releases the tab's lock alone
        return await self._state_context.__aenter__()

    BaseStateEventProcessor._execute_event = _execute_event  # type: ignore[method-assign]
    state_managers._ModifyStateWithLinks.__aenter__ = __aenter__  # type: ignore[method-assign]
