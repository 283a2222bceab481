"""The visitor's chat: one conversation, identified by a secret key kept in browser storage."""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed
from handoff_app.domain.messages import InvalidMessage, clean_message_body
from handoff_app.models import MessagePublic
from handoff_app.realtime import ConversationRoom, conversation_room, fill_conversation_room
from handoff_app.services import conversations, handoff
from handoff_app.services.bot_replies import reply_as_bot
from handoff_app.services.errors import ServiceError
from handoff_app.services.transcript import list_messages, to_public

COMPOSER_ID = "visitor-composer"


class VisitorState(rx.State):
    conversation_key: str = rx.LocalStorage("", name="handoff_conversation_key")
    error: str = ""
    bot_typing: bool = False
    earlier: list[MessagePublic] = []

    @rx.event
    def clear_error(self) -> None:
        self.error = ""

    async def _link_room(self, conversation_id: int) -> ConversationRoom:
        room = await self.get_state(ConversationRoom)
        room = await room._link_to(conversation_room(conversation_id))
        # Shared states expire and may be stale: rebuild from the database on every (re)link.
        await fill_conversation_room(room, conversation_id)
        return room

    @rx.event
    async def load(self) -> None:
        """On page load (and after a reconnect): re-link the room and resync from the database."""
        self.error = ""
        self.earlier = []
        if not self.conversation_key:
            return
        async with open_session() as session:
            try:
                conversation = await conversations.get_conversation_by_key(
                    session=session, key=self.conversation_key
                )
            except ServiceError:
                self.conversation_key = ""  # unknown key (e.g. database reset): start afresh
                return
        assert conversation.id is not None
        await self._link_room(conversation.id)

    async def _ensure_conversation(self) -> int:
        if self.conversation_key:
            async with open_session() as session:
                conversation = await conversations.get_conversation_by_key(
                    session=session, key=self.conversation_key
                )
            assert conversation.id is not None
            return conversation.id
        async with open_session() as session:
            started = await conversations.start_conversation(session=session)
        self.conversation_key = started.key
        assert started.conversation.id is not None
        await self._link_room(started.conversation.id)
        return started.conversation.id

    @rx.event
    async def send(self, form: dict):  # type: ignore[no-untyped-def]
        """Post the composer's text. Refused input stays in the box with a visible reason."""
        body = form.get("body") if isinstance(form, dict) else None
        try:
            clean_message_body(body)
        except InvalidMessage as exc:
            self.error = str(exc)
            return None
        try:
            await self._ensure_conversation()
            async with open_session() as session:
                post = await conversations.post_visitor_message(
                    session=session, key=self.conversation_key, body=body
                )
        except (ServiceError, InvalidMessage) as exc:
            self.error = str(exc)
            return None
        self.error = ""
        clear = rx.set_value(COMPOSER_ID, "")
        if not post.bot_should_reply:
            return clear
        self.bot_typing = True
        return [clear, VisitorState.answer_as_bot(post.message.conversation_id)]  # type: ignore[misc]

    @rx.event(background=True)
    async def answer_as_bot(self, conversation_id: int) -> None:
        """The model call runs outside the state lock; the reply arrives through the room."""
        try:
            await reply_as_bot(conversation_id=conversation_id)
        finally:
            async with self:
                self.bot_typing = False

    @rx.event
    async def talk_to_human(self) -> None:
        try:
            conversation_id = await self._ensure_conversation()
            async with open_session() as session:
                conversation = await conversations.get_conversation(
                    session=session, conversation_id=conversation_id
                )
                await handoff.request_handoff(session=session, conversation=conversation)
        except ServiceError as exc:
            self.error = str(exc)
        except TransitionNotAllowed:
            self.error = "Our team already has your request."

    @rx.event
    async def new_conversation(self) -> None:
        """After a resolution: a fresh conversation, linked at once."""
        self.conversation_key = ""
        self.earlier = []
        self.error = ""
        await self._ensure_conversation()

    @rx.event
    async def load_earlier(self) -> None:
        room = await self.get_state(ConversationRoom)
        if not self.conversation_key or not room.conversation_id:
            return
        first = (
            self.earlier[0].id if self.earlier else (room.messages[0].id if room.messages else 0)
        )
        async with open_session() as session:
            conversation = await conversations.get_conversation_by_key(
                session=session, key=self.conversation_key
            )
            older = await list_messages(
                session=session, conversation_id=conversation.id or 0, before_id=first
            )
        self.earlier = [to_public(m) for m in older] + self.earlier
