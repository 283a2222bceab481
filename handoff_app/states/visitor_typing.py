"""The visitor's "typing…" signal to the staff viewing their conversation.

The page throttles these events (see components/composer.py); the conversation is the one the
tab's own key opens, never an id the client names, and only conversations with a human
(pending or active) announce anything: nobody watches the bot type.
"""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_read_session
from handoff_app.domain.lifecycle import HUMAN_STATUSES, ConversationStatus
from handoff_app.realtime import announce_typing
from handoff_app.services import conversations
from handoff_app.services.errors import ServiceError
from handoff_app.states.background_rounds import tab_only_first
from handoff_app.states.visitor import VisitorState


class VisitorTypingState(rx.State):
    async def _announce(self, typing: bool) -> None:
        async with self:  # only to read the key: no database work under the locks
            key = (await self.get_state(VisitorState)).conversation_key
        if not key:
            return
        async with open_read_session() as session:
            try:
                conversation = await conversations.get_conversation_by_key(session=session, key=key)
            except ServiceError:
                return
        if conversation.id and ConversationStatus(conversation.status) in HUMAN_STATUSES:
            announce_typing(conversation.id, visitor=True, typing=typing)

    @rx.event(background=True)
    @tab_only_first
    async def typing(self) -> None:
        await self._announce(True)

    @rx.event(background=True)
    @tab_only_first
    async def typing_stopped(self) -> None:
        await self._announce(False)
