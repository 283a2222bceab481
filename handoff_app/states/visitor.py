"""The visitor's chat: one conversation, identified by a secret key kept in browser storage."""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_read_session, open_session
from handoff_app.domain.lifecycle import TransitionNotAllowed, TriggerType
from handoff_app.domain.messages import InvalidMessage, clean_message_body
from handoff_app.domain.visitor_context import (
    VisitorContext,
    arrival_from_elapsed,
    clean_arrival,
    clean_context,
)
from handoff_app.models import utcnow
from handoff_app.realtime import join_conversation, pushes_in_this_task
from handoff_app.security import new_token
from handoff_app.services import conversations, handoff, waiting
from handoff_app.services.bot_replies import rate_bot_message, reply_as_bot
from handoff_app.services.errors import NotFound, ServiceError
from handoff_app.services.workspace import get_workspace_settings, talk_button_shown
from handoff_app.states.background_rounds import nothing_to_flush, tab_only_first
from handoff_app.states.history import HistoryMixin
from handoff_app.states.sent_box import clear_sent
from handoff_app.states.tab_order import tab_lock

COMPOSER_ID = "visitor-composer"


class VisitorState(HistoryMixin, rx.State):
    conversation_key: str = rx.LocalStorage("", name="handoff_conversation_key")
    # a random id of this browser, stored hashed on each conversation: agents see the visitor's
    # previous conversations
    visitor_id: str = rx.LocalStorage("", name="handoff_visitor_id")
    # when this browser session arrived on the site (ISO, written by the server at its first
    # page load; in the widget, from the host page's session start that embed.js passes)
    arrived_at: str = rx.SessionStorage("", name="handoff_arrived_at")
    # the browser's IANA time zone (assets/visitor-clock.js), checked against zoneinfo on use
    time_zone: str = rx.SessionStorage("", name="handoff_time_zone")
    error: str = ""
    bot_typing: bool = False

    seen_id: int = 0  # the newest message id this tab has shown (read receipts build on it)

    # from the owner's settings, read at every page load
    talk_button: bool = False
    widget_title: str = "Chat with us"
    accent: str = "#2563eb"
    waiting_message: str = ""
    busy_message: str = ""
    away_message: str = ""
    lead_error: str = ""
    # a handoff keyword under "ask first": the question is shown until Yes or No
    confirming: bool = False
    _confirm_message_id: int = 0
    _declined_message_id: int = 0  # the keyword message the visitor said "No thanks" to

    @rx.event
    def clear_error(self) -> None:
        self.error = ""

    @rx.event
    def note_seen(self, message_id: int) -> None:
        """The page reports the newest message it has shown. State only: no I/O, so its round
        trip is also the framework's floor in the delivery benchmark."""
        if isinstance(message_id, int) and not isinstance(message_id, bool) and message_id >= 0:
            self.seen_id = max(self.seen_id, message_id)

    async def _conversation_id(self, key: str | None = None) -> int | None:
        """The conversation this tab's key opens (None when it has none)."""
        key = self.conversation_key if key is None else key
        if not key:
            return None
        async with open_read_session() as session:
            try:
                conversation = await conversations.get_conversation_by_key(session=session, key=key)
            except ServiceError:
                return None
        return conversation.id

    async def _history_conversation_id(self) -> int | None:
        return await self._conversation_id()

    @rx.event
    async def load(self) -> None:
        """On page load (and after a reconnect): re-join the room and resync from the database.

        It leaves `error` alone: a visitor quicker than the page's load (an empty message sent
        while it hydrates) must still see why their message was refused."""
        self._note_arrival()
        self.confirming = False
        self._reset_history()
        async with open_read_session() as session:
            settings = await get_workspace_settings(session=session)
        self.talk_button = talk_button_shown(settings)
        self.widget_title, self.accent = settings.widget_title, settings.widget_accent
        self.waiting_message = settings.waiting_message
        self.busy_message, self.away_message = settings.busy_message, settings.away_message
        conversation_id = await self._conversation_id()
        if conversation_id is None:
            self.conversation_key = ""  # none yet, or unknown (e.g. database reset): start afresh
            return
        await join_conversation(self, conversation_id, staff=False)

    def _note_arrival(self) -> None:
        """In the widget, embed.js says how long ago the visitor arrived on the host site
        (`?onsite=<ms>`); on our own page it is the first load of this browser session."""
        now = utcnow()
        url = self.router.url
        params = url.query_parameters if url else {}
        arrived = arrival_from_elapsed(params.get("onsite"), now=now)
        if arrived is not None:
            self.arrived_at = arrived.isoformat()
        elif clean_arrival(self.arrived_at, now=now) is None:
            self.arrived_at = now.isoformat()

    def _visitor_context(self) -> VisitorContext:
        """IP, browser and page for the agent's context panel. In the widget, embed.js passes
        the host page's address and referrer as `?page=…&ref=…`."""
        url = self.router.url
        params = url.query_parameters if url else {}
        page = params.get("page") or (f"{url.origin}{url.path}" if url else "")
        return clean_context(
            self.router.session.client_ip,
            self.router.headers.user_agent,
            page,
            params.get("ref", ""),
            time_zone=self.time_zone,
            arrived_at=clean_arrival(self.arrived_at, now=utcnow()),
        )

    async def _ensure_conversation(self) -> int:
        conversation_id = await self._conversation_id()
        if conversation_id is not None:
            return conversation_id
        if not self.visitor_id:
            self.visitor_id = new_token()
        async with open_session() as session:
            started = await conversations.start_conversation(
                session=session, context=self._visitor_context(), visitor_id=self.visitor_id
            )
        self.conversation_key = started.key
        assert started.conversation.id is not None
        await join_conversation(self, started.conversation.id, staff=False)
        return started.conversation.id

    @rx.event(background=True)
    @tab_only_first
    async def send(self, form: dict):  # type: ignore[no-untyped-def]
        """Post the composer's text. Refused input stays in the box with a visible reason.

        A background handler: the database write happens outside the lock of this tab and of
        its conversation room, so the push that follows never waits for this handler.
        """
        body = form.get("body") if isinstance(form, dict) else None
        # Reading this state's own vars needs no lock in a background handler, and each
        # `async with self` costs a round of locks on every room the tab is linked to.
        key, client = self.conversation_key, self.router.session.client_token
        shown = (self.error, self.bot_typing)
        async with tab_lock(client):
            try:
                clean_message_body(body)
                if not key:
                    raise NotFound("No conversation yet.")
                with pushes_in_this_task(client):  # no state lock is held here
                    async with open_session() as session:
                        post = await conversations.post_visitor_message(
                            session=session, key=key, body=body
                        )
            except NotFound:  # none yet, or its key is unknown (e.g. the database was reset):
                # joining a room needs a regular handler: start there, then come back
                return VisitorState.start_and_send(form)  # type: ignore[operator]
            except (ServiceError, InvalidMessage) as exc:
                async with self:
                    self.error = str(exc)
                return None
            if post.confirm_keyword is not None:
                async with self:
                    self.error, self.confirming = "", True
                    self._confirm_message_id = post.message.id or 0
            elif shown != ("", post.bot_should_reply):  # skip a round of locks if unchanged
                async with self:
                    self.error = ""
                    self.bot_typing = post.bot_should_reply
            else:
                nothing_to_flush(self)
        clear = clear_sent(COMPOSER_ID, str(body))
        if not post.bot_should_reply:
            return clear
        return [clear, VisitorState.answer_as_bot]  # type: ignore[list-item]

    @rx.event
    async def start_and_send(self, form: dict):  # type: ignore[no-untyped-def]
        """The first message: open the conversation and join its room, then post."""
        try:
            clean_message_body(form.get("body") if isinstance(form, dict) else None)
        except InvalidMessage as exc:
            self.error = str(exc)
            return None
        await self._ensure_conversation()
        return VisitorState.send(form)  # type: ignore[misc]

    @rx.event(background=True)
    async def answer_as_bot(self) -> None:
        """The model call runs outside the state lock; the reply arrives through the room.

        It takes no argument: the conversation is the one this tab's key opens, never an id a
        client could choose.
        """
        async with self:
            key = self.conversation_key
            declined = self._declined_message_id
        try:
            conversation_id = await self._conversation_id(key)
            if conversation_id is not None:
                # after "No thanks" the visitor chose the bot: it answers, without handing off
                await reply_as_bot(conversation_id=conversation_id, declined_message_id=declined)
        finally:
            async with self:
                self.bot_typing = False

    @rx.event
    async def talk_to_human(self) -> None:
        await self._request_handoff(TriggerType.BUTTON, "The visitor asked to talk to a human.")

    async def _request_handoff(
        self, trigger: TriggerType, reason: str, triggering_message_id: int | None = None
    ) -> None:
        try:
            conversation_id = await self._ensure_conversation()
            async with open_session() as session:
                conversation = await conversations.get_conversation(
                    session=session, conversation_id=conversation_id
                )
                await handoff.request_handoff(
                    session=session,
                    conversation=conversation,
                    trigger=trigger,
                    reason=reason,
                    triggering_message_id=triggering_message_id,
                )
        except ServiceError as exc:
            self.error = str(exc)
        except TransitionNotAllowed:
            self.error = "Our team already has your request."

    @rx.event
    async def confirm_handoff(self) -> None:
        """ "Yes" to "Would you like to speak with a team member?" after a keyword."""
        if not self.confirming:
            return
        self.confirming = False
        await self._request_handoff(
            TriggerType.KEYWORD,
            "The visitor wrote a handoff keyword and confirmed.",
            self._confirm_message_id or None,
        )

    @rx.event
    def decline_handoff(self):  # type: ignore[no-untyped-def]
        """ "No thanks": the bot answers the message that matched the keyword."""
        if not self.confirming:
            return None
        self.confirming = False
        self.bot_typing = True
        self._declined_message_id = self._confirm_message_id
        return VisitorState.answer_as_bot

    @rx.event
    async def rate(self, message_id: int, helpful: bool) -> None:
        """Thumbs up/down on one of the bot's answers in this tab's own conversation."""
        conversation_id = await self._conversation_id()
        if conversation_id is None or not isinstance(helpful, bool):
            return
        try:
            async with open_session() as session:
                await rate_bot_message(
                    session=session,
                    conversation_id=conversation_id,
                    message_id=message_id,
                    helpful=helpful,
                )
        except ServiceError as exc:
            self.error = str(exc)

    @rx.event
    async def leave_contact(self, form: dict) -> None:
        """Busy or away: the visitor leaves a phone or email; agents see it at once."""
        self.lead_error = ""
        conversation_id = await self._conversation_id()
        if conversation_id is None:
            self.lead_error = "Start a conversation first."
            return
        contact = form.get("contact") if isinstance(form, dict) else None
        try:
            async with open_session() as session:
                await waiting.leave_contact(
                    session=session, conversation_id=conversation_id, contact=contact
                )
        except ServiceError as exc:
            self.lead_error = str(exc)

    @rx.event
    async def continue_with_ai(self) -> None:
        """Busy or away: back to the bot instead of waiting (the request leaves the queue)."""
        conversation_id = await self._conversation_id()
        if conversation_id is None:
            return
        try:
            async with open_session() as session:
                await handoff.continue_with_ai(session=session, conversation_id=conversation_id)
        except ServiceError as exc:
            self.error = str(exc)
        except TransitionNotAllowed:
            self.error = "An agent has just joined: you can write to them here."

    @rx.event
    async def new_conversation(self) -> None:
        """After a resolution: a fresh conversation, joined at once."""
        self.conversation_key = ""
        self.error = ""
        self.confirming = False
        self._reset_history()
        await self._ensure_conversation()
