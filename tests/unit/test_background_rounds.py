"""The rounds of locks Reflex 0.10.1 (pinned) takes around a background handler, trimmed on
the hot paths (handoff_app/states/background_rounds.py). What Reflex does is checked on its
own code, so an upgrade that changes it fails here."""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from typing import Any

import pytest
import wrapt
from reflex.istate import manager as state_managers
from reflex.istate.proxy import StateProxy
from reflex_base.event.processor import base_state_processor

from handoff_app.states import background_rounds
from handoff_app.states.agent_conversation import AgentConversationState
from handoff_app.states.background_rounds import nothing_to_flush, tab_only_first
from handoff_app.states.visitor import VisitorState


class _Tab:
    """Stands in for a tab's state (no app, no event context needed)."""


class _Rooms:
    """What the rooms' round would be: recorded when taken."""

    def __init__(self, taken: list[str]) -> None:
        self.taken = taken

    def _modify_linked_states(self, previous_dirty_vars: Any = None) -> Any:
        taken = self.taken

        @asynccontextmanager
        async def round_of_rooms() -> Any:
            taken.append("rooms")
            yield

        return round_of_rooms()


class _Root:
    """A tab's root state with linked rooms."""

    _reflex_internal_links = {"conv-1": "conv-1"}

    def __init__(self, taken: list[str]) -> None:
        self.taken = taken

    async def get_state(self, _cls: Any) -> _Rooms:
        return _Rooms(self.taken)


class _Manager:
    def __init__(self) -> None:
        self.taken: list[str] = []

    def _coerce_token(self, token: Any) -> Any:
        return token

    def modify_state(self, token: Any, **_context: Any) -> Any:
        taken = self.taken

        @asynccontextmanager
        async def round_of_the_tab() -> Any:
            taken.append("tab")
            yield _Root(taken)
            taken.append("tab released")

        return round_of_the_tab()


def _proxy() -> StateProxy:
    proxy = StateProxy.__new__(StateProxy)
    wrapt.ObjectProxy.__init__(proxy, _Tab())
    proxy._self_entered_context = False  # as StateProxy.__init__ starts it
    return proxy


async def _round(manager: _Manager) -> list[str]:
    background_rounds.install()
    async with state_managers._ModifyStateWithLinks(manager, "tab-token", None, {}):
        pass
    taken, manager.taken = manager.taken, []
    return taken


async def test_the_marked_handlers_first_round_takes_the_tab_alone_then_rooms_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("reflex.state.BaseState", _Root)  # Reflex links a BaseState's rooms
    manager = _Manager()
    assert await _round(manager) == ["tab", "rooms", "tab released"]  # as Reflex does
    background_rounds._tab_only.set(True)  # what the marked handler's event sets
    assert await _round(manager) == ["tab", "tab released"]  # that round: no rooms
    # its own `async with self` (and every later round of the task) takes them as usual
    assert await _round(manager) == ["tab", "rooms", "tab released"]


def test_only_marked_background_handlers_are_trimmed() -> None:
    handlers = {**VisitorState.event_handlers, **AgentConversationState.event_handlers}
    trimmed = {name for name, h in handlers.items() if background_rounds._marked(h)}
    assert {"send", "send_reply", "typing", "typing_stopped"} <= trimmed
    assert "claim" not in trimmed and "load" not in trimmed

    async def foreground(self: Any) -> None:
        return None

    marked = tab_only_first(foreground)
    assert marked is foreground  # the decorator only marks

    class _Handler:
        fn = marked
        is_background = False

    assert not background_rounds._marked(_Handler())  # a foreground handler keeps its locks


def test_reflex_runs_a_background_handler_between_the_rounds_we_trim() -> None:
    source = inspect.getsource(base_state_processor)  # Reflex's own text, patched or not
    execute = source[source.index("    async def _execute_event(") :]
    before, _, after = execute.partition("proxy = StateProxy(substate)")
    assert "modify_state_with_links" in before  # the first round, the tab and its rooms
    assert "if not proxy._self_entered_context:" in after  # the second, skipped when set
    assert "modify_state_with_links" in after.split("if not proxy._self_entered_context:")[1]
    assert "self._self_entered_context = True" in inspect.getsource(StateProxy.__aenter__)
    manager_source = inspect.getsource(state_managers)
    exit_ = manager_source[manager_source.index("    async def __aexit__(") :]
    assert "if (links := self._links) is not None:" in exit_  # no links: the tab's lock only


def test_a_handler_that_changed_nothing_skips_the_second_round() -> None:
    proxy = _proxy()
    nothing_to_flush(proxy)
    assert proxy._self_entered_context is True
    tab = _Tab()
    nothing_to_flush(tab)  # a foreground handler's `self` is the state itself: left alone
    assert vars(tab) == {}
