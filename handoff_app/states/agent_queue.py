"""The staff queue page: tabs over the live queue, the bot's conversations and closed ones.

Every handler re-checks the caller; the closed list is filtered by role in the service.
"""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.db import open_read_session, open_scan_session, open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.models import ConversationRow
from handoff_app.realtime import (
    ConversationContextRoom,
    ConversationRoom,
    StaffBotRoom,
    join_staff_bot,
    join_staff_queue,
    leave_rooms,
    show_staff_badge,
)
from handoff_app.services import handoff
from handoff_app.services.errors import ServiceError
from handoff_app.services.queue import list_closed
from handoff_app.services.staff_tabs import count_staff_online
from handoff_app.services.workspace import get_workspace_settings, update_settings
from handoff_app.states.canned import CannedState
from handoff_app.states.staff_auth import StaffAuthState, refuse_page, require_owner, require_staff

TABS = ("pending", "active", "mine", "closed", "all")


class AgentQueueState(rx.State):
    tab: str = "pending"
    agents_available: bool = True
    notice: str = ""
    closed_rows: list[ConversationRow] = []
    closed_search: str = ""

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return await refuse_page(self)
        await join_staff_queue(self)
        await show_staff_badge(self)
        # a tab that came from a conversation page stops receiving that conversation
        await leave_rooms(self, ConversationRoom, ConversationContextRoom)
        if self.tab == "all":
            await join_staff_bot(self)
        else:
            await leave_rooms(self, StaffBotRoom)
        async with open_read_session() as session:
            self.agents_available = (await get_workspace_settings(session=session)).agents_available
            online = await count_staff_online(session=session)
        auth = await self.get_state(StaffAuthState)
        auth.staff_online = max(online, 1)  # this tab's own person is online
        if self.tab == "closed":
            await self._load_closed()
        return CannedState.load  # the canned responses section of this page

    @rx.event
    async def show_tab(self, tab: str):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return await refuse_page(self)
        if tab not in TABS:
            return None
        self.tab, self.notice = tab, ""
        # the bot's conversations are a room of their own, linked only while shown
        if tab == "all":
            await join_staff_bot(self)
        else:
            await leave_rooms(self, StaffBotRoom)
        if tab == "closed":
            await self._load_closed()
        return None

    @rx.event
    async def resync_queue(self):  # type: ignore[no-untyped-def]
        """The browser saw a gap in the queue's changes: load the rows again."""
        if await require_staff(self) is None:
            return await refuse_page(self)
        await join_staff_queue(self)
        return None

    @rx.event
    async def resync_bot(self):  # type: ignore[no-untyped-def]
        """The same for the bot's conversations (only while the "All" tab shows them)."""
        if await require_staff(self) is None:
            return await refuse_page(self)
        if self.tab == "all":
            await join_staff_bot(self)
        return None

    async def _load_closed(self) -> None:
        staff = await require_staff(self)
        if staff is None:
            self.closed_rows = []
            return
        async with open_scan_session() as session:  # a text search: off the event loop
            self.closed_rows = await list_closed(
                session=session, staff=staff, search=self.closed_search
            )

    @rx.event
    async def search_closed(self, form: dict) -> None:
        text = form.get("search") if isinstance(form, dict) else ""
        self.closed_search = text.strip()[:100] if isinstance(text, str) else ""
        await self._load_closed()

    @rx.event
    async def take_over(self, conversation_id: int):  # type: ignore[no-untyped-def]
        """Take a conversation from the bot (recorded as an escalation, trigger `takeover`)."""
        staff = await require_staff(self)
        if staff is None:
            return await refuse_page(self)
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            return None
        try:
            async with open_session() as session:
                await handoff.take_over(
                    session=session, conversation_id=conversation_id, staff=staff
                )
        except ServiceError as exc:
            self.notice = str(exc)
            return None
        except TransitionNotAllowed:
            self.notice = "This conversation is no longer with the bot."
            return None
        return rx.redirect(routes.agent_conversation(conversation_id))

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
