"""Older messages on demand, for a tab whose live room holds only the newest ones.

The room carries the newest LIVE_MESSAGE_WINDOW messages and `before_window_id` (the newest
message older than them). A tab keeps what it loaded in `earlier`. When new messages push the
room's window forward past what the tab loaded, the tab sees a gap (`earlier_last_id <
before_window_id`) and offers to load it, so no message is ever hidden without a way to see it.

Staff tabs also read internal notes (`_history_includes_notes`): the live part of their thread
merges the room's messages with the context room's notes newer than `before_window_id`, so
everything up to and including `before_window_id` belongs to `earlier`.
"""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_read_session
from handoff_app.live_window import newest_id
from handoff_app.models import MessagePublic
from handoff_app.realtime import ConversationRoom
from handoff_app.services.transcript import LIVE_MESSAGE_WINDOW, list_messages, to_public

GAP_LIMIT = 500


class HistoryMixin(rx.State, mixin=True):
    earlier: list[MessagePublic] = []
    earlier_more: bool = False  # messages exist before earlier[0]
    earlier_last_id: int = 0

    async def _history_conversation_id(self) -> int | None:
        """The conversation this tab may read (after the subclass's identity check)."""
        raise NotImplementedError

    def _history_includes_notes(self) -> bool:
        """Staff tabs see internal notes in what they load; visitor tabs never do."""
        return False

    def _reset_history(self) -> None:
        self.earlier = []
        self.earlier_more = False
        self.earlier_last_id = 0

    @rx.event
    async def load_earlier(self) -> None:
        conversation_id = await self._history_conversation_id()
        if conversation_id is None:
            return
        room = await self.get_state(ConversationRoom)
        if self.earlier:
            before = self.earlier[0].id
        elif room.before_window_id:
            before = room.before_window_id + 1
        else:
            return
        async with open_read_session() as session:
            older = await list_messages(
                session=session,
                conversation_id=conversation_id,
                before_id=before,
                limit=LIVE_MESSAGE_WINDOW + 1,
                include_notes=self._history_includes_notes(),
            )
        self.earlier_more = len(older) > LIVE_MESSAGE_WINDOW
        page = [to_public(m) for m in older[-LIVE_MESSAGE_WINDOW:]]
        if not self.earlier:
            self.earlier_last_id = page[-1].id if page else 0
        self.earlier = page + self.earlier

    @rx.event
    async def load_gap(self) -> None:
        """Load what slid out of the live window after this tab loaded earlier messages."""
        conversation_id = await self._history_conversation_id()
        room = await self.get_state(ConversationRoom)
        if conversation_id is None or not self.earlier or not newest_id(room):
            return
        async with open_read_session() as session:
            gap = await list_messages(
                session=session,
                conversation_id=conversation_id,
                after_id=self.earlier_last_id,
                before_id=room.before_window_id + 1,
                limit=GAP_LIMIT,
                include_notes=self._history_includes_notes(),
            )
        if gap:
            self.earlier = self.earlier + [to_public(m) for m in gap]
            self.earlier_last_id = gap[-1].id or self.earlier_last_id
