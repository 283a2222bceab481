"""The staff queue page: joins the live queue rooms after checking identity."""

from __future__ import annotations

import reflex as rx

from handoff_app.realtime import (
    ConversationContextRoom,
    ConversationRoom,
    join_staff_queue,
    leave_rooms,
)
from handoff_app.states.canned import CannedState
from handoff_app.states.staff_auth import refuse_page, require_staff


class AgentQueueState(rx.State):
    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return await refuse_page(self)
        await join_staff_queue(self)
        # a tab that came from a conversation page stops receiving that conversation
        await leave_rooms(self, ConversationRoom, ConversationContextRoom)
        return CannedState.load
