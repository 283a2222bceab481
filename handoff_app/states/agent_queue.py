"""The staff queue page: joins the live queue rooms after checking identity."""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_read_session, open_session
from handoff_app.realtime import (
    ConversationContextRoom,
    ConversationRoom,
    join_staff_queue,
    leave_rooms,
    show_staff_badge,
)
from handoff_app.services.staff_tabs import count_staff_online
from handoff_app.services.workspace import get_workspace_settings, update_settings
from handoff_app.states.staff_auth import StaffAuthState, refuse_page, require_owner, require_staff


class AgentQueueState(rx.State):
    agents_available: bool = True
    notice: str = ""

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return await refuse_page(self)
        await join_staff_queue(self)
        await show_staff_badge(self)
        # a tab that came from a conversation page stops receiving that conversation
        await leave_rooms(self, ConversationRoom, ConversationContextRoom)
        async with open_read_session() as session:
            self.agents_available = (await get_workspace_settings(session=session)).agents_available
            online = await count_staff_online(session=session)
        auth = await self.get_state(StaffAuthState)
        auth.staff_online = max(online, 1)  # this tab's own person is online
        return None

    @rx.event
    async def set_agents_available(self, available: bool) -> None:
        """The owner's switch: off, visitors who ask for a person get the away message."""
        self.notice = ""
        if await require_owner(self) is None or not isinstance(available, bool):
            self.notice = "Only the owner can change this."
            return
        async with open_session() as session:
            await update_settings(session=session, agents_available=available)
        self.agents_available = available
