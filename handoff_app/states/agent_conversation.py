"""One conversation as an agent sees it: history, context, and the handoff actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import reflex as rx
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import routes
from handoff_app.db import open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.domain.messages import InvalidMessage, clean_message_body
from handoff_app.models import Escalation, MessagePublic, StaffPublic
from handoff_app.realtime import ConversationRoom, conversation_room, fill_conversation_room
from handoff_app.services import conversations, handoff
from handoff_app.services.errors import ServiceError
from handoff_app.services.transcript import list_messages, to_public
from handoff_app.states.agent_queue import link_staff_queue
from handoff_app.states.staff_auth import require_staff

REPLY_BOX_ID = "conversation-reply-box"
Action = Callable[..., Awaitable[object]]


class AgentConversationState(rx.State):
    conversation_id: int = 0
    not_found: bool = False
    trigger: str = ""
    reason: str = ""
    triggering_text: str = ""
    notice: str = ""
    earlier: list[MessagePublic] = []

    def _route_conversation_id(self) -> int | None:
        raw = str(getattr(self, "conv_id", "") or "")
        return int(raw) if raw.isdigit() and len(raw) < 12 else None

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return rx.redirect(routes.LOGIN, replace=True)
        self.notice = ""
        self.earlier = []
        await link_staff_queue(self)
        conversation_id = self._route_conversation_id()
        if conversation_id is None:
            self.not_found = True
            return
        async with open_session() as session:
            try:
                await conversations.get_conversation(
                    session=session, conversation_id=conversation_id
                )
            except ServiceError:
                self.not_found = True
                return
            await self._load_context(session, conversation_id)
        self.not_found = False
        self.conversation_id = conversation_id
        room = await self.get_state(ConversationRoom)
        room = await room._link_to(conversation_room(conversation_id))
        await fill_conversation_room(room, conversation_id)

    async def _load_context(self, session: AsyncSession, conversation_id: int) -> None:
        latest = (
            await session.exec(
                select(Escalation)
                .where(Escalation.conversation_id == conversation_id)
                .order_by(col(Escalation.id).desc())
            )
        ).first()
        self.trigger = latest.trigger if latest else ""
        self.reason = latest.reason if latest else ""
        self.triggering_text = latest.triggering_text if latest else ""

    async def _act(self, action: Action, **kwargs: object) -> StaffPublic | None:
        """Check identity on the server, run one use case, report refusals in `notice`."""
        staff = await require_staff(self)
        if staff is None:
            self.notice = "Your session has ended. Sign in again."
            return None
        if not self.conversation_id:
            self.notice = "Open a conversation first."
            return None
        try:
            async with open_session() as session:
                await action(
                    session=session, conversation_id=self.conversation_id, staff=staff, **kwargs
                )
                await self._load_context(session, self.conversation_id)
        except (ServiceError, TransitionNotAllowed, InvalidMessage) as exc:
            self.notice = str(exc)
            return None
        self.notice = ""
        return staff

    @rx.event
    async def claim(self) -> None:
        await self._act(handoff.claim_conversation)

    @rx.event
    async def resolve(self) -> None:
        await self._act(handoff.resolve_conversation)

    @rx.event
    async def hand_back(self) -> None:
        await self._act(handoff.hand_back_to_bot)

    @rx.event
    async def dismiss(self) -> None:
        await self._act(handoff.dismiss_conversation)

    @rx.event
    async def send_reply(self, form: dict):  # type: ignore[no-untyped-def]
        body = form.get("body") if isinstance(form, dict) else None
        try:
            clean_message_body(body)
        except InvalidMessage as exc:
            self.notice = str(exc)  # the text stays in the box
            return
        if await self._act(handoff.post_agent_reply, body=body) is not None:
            return rx.set_value(REPLY_BOX_ID, "")

    @rx.event
    async def load_earlier(self) -> None:
        if await require_staff(self) is None or not self.conversation_id:
            return
        room = await self.get_state(ConversationRoom)
        first = (
            self.earlier[0].id if self.earlier else (room.messages[0].id if room.messages else 0)
        )
        async with open_session() as session:
            older = await list_messages(
                session=session, conversation_id=self.conversation_id, before_id=first
            )
        self.earlier = [to_public(m) for m in older] + self.earlier
