"""One conversation as an agent sees it: history, context, and the handoff actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import reflex as rx

from handoff_app.db import open_read_session, open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.domain.messages import InvalidMessage, clean_message_body
from handoff_app.models import StaffPublic
from handoff_app.realtime import (
    StaffQueueRoom,
    join_conversation,
    leave_rooms,
    show_staff_badge,
)
from handoff_app.services import conversations, handoff
from handoff_app.services.errors import ServiceError
from handoff_app.states.history import HistoryMixin
from handoff_app.states.staff_auth import (
    StaffAuthState,
    refuse_page,
    require_staff,
    staff_for_token,
)
from handoff_app.states.tab_order import tab_lock

REPLY_BOX_ID = "conversation-reply-box"
Action = Callable[..., Awaitable[object]]


class AgentConversationState(HistoryMixin, rx.State):
    conversation_id: int = 0
    not_found: bool = False
    notice: str = ""

    def _route_conversation_id(self) -> int | None:
        raw = str(getattr(self, "conv_id", "") or "")
        return int(raw) if raw.isdigit() and len(raw) < 12 else None

    async def _history_conversation_id(self) -> int | None:
        if await require_staff(self) is None or not self.conversation_id:
            return None
        return self.conversation_id

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            self.conversation_id = 0
            return await refuse_page(self)
        self.notice = ""
        self._reset_history()
        # This page does not show the queue rows: staff tabs busy in conversations stay out of
        # the room the queue pages share (see realtime.py). The badge is per tab.
        await leave_rooms(self, StaffQueueRoom)
        await show_staff_badge(self)
        conversation_id = self._route_conversation_id()
        found = conversation_id is not None
        if conversation_id is not None:
            async with open_read_session() as session:
                try:
                    await conversations.get_conversation(
                        session=session, conversation_id=conversation_id
                    )
                except ServiceError:
                    found = False
        self.not_found = not found
        self.conversation_id = conversation_id if found and conversation_id else 0
        if self.conversation_id:
            await join_conversation(self, self.conversation_id, staff=True)
        return None

    async def _act(self, action: Action, **kwargs: object) -> StaffPublic | None:
        """Check identity on the server, run one use case, report refusals in `notice`.

        Called from background handlers: the tab's lock (and the locks of every room it is
        linked to) is held only to read and write vars, never during database work, so staff
        tabs sharing a room never queue behind each other's writes.
        """
        async with self:
            token = (await self.get_state(StaffAuthState)).token
            conversation_id = self.conversation_id
            client = self.router.session.client_token
            shown = self.notice
        async with tab_lock(client):
            staff = await staff_for_token(token)
            notice = ""
            if staff is None:
                notice = "Your session has ended. Sign in again."
            elif not conversation_id:
                notice = "Open a conversation first."
            else:
                try:
                    async with open_session() as session:
                        await action(
                            session=session,
                            conversation_id=conversation_id,
                            staff=staff,
                            **kwargs,
                        )
                except (ServiceError, TransitionNotAllowed, InvalidMessage) as exc:
                    notice = str(exc)
            # Each `async with self` costs a round of locks on every room the tab is linked
            # to: skip it on the common path (success, nothing to clear). A refusal is always
            # (re)sent, so a repeated refusal is announced again.
            if notice or shown:
                async with self:
                    self.notice = notice
        return staff if not notice else None

    @rx.event(background=True)
    async def claim(self) -> None:
        await self._act(handoff.claim_conversation)

    @rx.event(background=True)
    async def resolve(self) -> None:
        await self._act(handoff.resolve_conversation)

    @rx.event(background=True)
    async def hand_back(self) -> None:
        await self._act(handoff.hand_back_to_bot)

    @rx.event(background=True)
    async def dismiss(self) -> None:
        await self._act(handoff.dismiss_conversation)

    @rx.event(background=True)
    async def send_reply(self, form: dict):  # type: ignore[no-untyped-def]
        body = form.get("body") if isinstance(form, dict) else None
        try:
            clean_message_body(body)
        except InvalidMessage as exc:
            async with self:
                self.notice = str(exc)  # the text stays in the box
            return None
        if await self._act(handoff.post_agent_reply, body=body) is not None:
            return rx.set_value(REPLY_BOX_ID, "")
        return None
