"""`nothing_to_flush`: a background handler that changed no var tells Reflex so, and Reflex
0.10.1 (pinned) then skips its closing round of the tab's locks. The flag is Reflex's own:
these tests fail when an upgrade renames it or stops reading it."""

from __future__ import annotations

import inspect

import wrapt
from reflex.istate.proxy import StateProxy
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

from handoff_app.states.background_flush import nothing_to_flush


class _Tab:
    """Stands in for a tab's state behind the proxy (no app, no event context needed)."""


def _proxy() -> StateProxy:
    proxy = StateProxy.__new__(StateProxy)
    wrapt.ObjectProxy.__init__(proxy, _Tab())
    proxy._self_entered_context = False  # as StateProxy.__init__ starts it
    return proxy


def test_a_background_handlers_proxy_is_marked_as_having_sent_its_changes() -> None:
    proxy = _proxy()
    nothing_to_flush(proxy)
    assert proxy._self_entered_context is True


def test_anything_else_is_left_alone() -> None:
    tab = _Tab()
    nothing_to_flush(tab)  # a foreground handler's `self` is the state itself
    assert vars(tab) == {}


def test_reflex_reads_that_flag_to_decide_its_closing_flush() -> None:
    execute = inspect.getsource(BaseStateEventProcessor._execute_event)
    assert "if not proxy._self_entered_context:" in execute
    assert "modify_state_with_links" in execute.split("if not proxy._self_entered_context:")[1]
    # and it means what `async with self` means: the proxy sets it on entering
    assert "self._self_entered_context = True" in inspect.getsource(StateProxy.__aenter__)
