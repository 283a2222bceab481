"""One conversation as an agent sees it: history, context, notes, and the handoff actions.

Every handler re-checks on the server who is calling (the staff session) and that they may
open this conversation (services.access): the UI hides what they may not do, the server refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import reflex as rx
from pydantic import BaseModel
from reflex.experimental.client_state import ClientStateVar

from handoff_app.db import open_read_session, open_session
from handoff_app.domain.canned import matching
from handoff_app.domain.lifecycle import ConversationStatus, TransitionNotAllowed
from handoff_app.domain.messages import InvalidMessage, clean_message_body
from handoff_app.models import CannedPublic, Conversation, StaffPublic
from handoff_app.realtime import (
    ConversationContextRoom,
    ConversationRoom,
    StaffQueueRoom,
    announce_typing,
    join_conversation,
    leave_rooms,
    pushes_in_this_task,
    show_staff_badge,
)
from handoff_app.services import assignment, canned, handoff, notes
from handoff_app.services.access import get_conversation_for_staff, lock_for_staff
from handoff_app.services.errors import NotFound, PermissionDenied, ServiceError
from handoff_app.services.staff import staff_in_transaction
from handoff_app.states.background_rounds import nothing_to_flush, tab_only_first
from handoff_app.states.history import HistoryMixin
from handoff_app.states.sent_box import box_value, clear_sent
from handoff_app.states.staff_auth import (
    StaffAuthState,
    refuse_page,
    require_staff,
    staff_for_token,
)
from handoff_app.states.tab_order import tab_lock

REPLY_BOX_ID = "conversation-reply-box"
REPLY, NOTE = "reply", "note"
# what the agent is typing, kept in the browser only: it drives the "/" menu of canned responses
REPLY_DRAFT = ClientStateVar.create("reply_draft", "")
Action = Callable[..., Awaitable[object]]
T = TypeVar("T")


class StaffOption(BaseModel):
    id: int
    label: str


async def _act_as(
    token: str, action: Action, conversation_id: int, kwargs: dict[str, object]
) -> StaffPublic | None:
    """One write transaction: is `token` a live staff session, may that staff member act on
    the conversation (its row locked), then the use case. None: the token is not live."""
    async with open_session() as session:
        staff = await staff_in_transaction(session=session, token=token)
        if staff is None:
            return None
        await lock_for_staff(session=session, conversation_id=conversation_id, staff=staff)
        await action(session=session, conversation_id=conversation_id, staff=staff, **kwargs)
    return staff


class AgentConversationState(HistoryMixin, rx.State):
    conversation_id: int = 0
    not_found: bool = False
    refused: str = ""  # why this staff member may not open the conversation
    notice: str = ""
    compose_mode: str = REPLY  # reply (to the visitor) | note (internal, staff only)
    reject_open: bool = False
    transfer_open: bool = False
    transfer_targets: list[StaffOption] = []
    canned: list[CannedPublic] = []  # offered in the reply bar after "/"
    # the staff token this page was loaded with (backend only): actions check it without a
    # round of locks on the tab and its rooms; a token that changed since is read again
    _staff_token: str = ""

    def _route_conversation_id(self) -> int | None:
        raw = str(getattr(self, "conv_id", "") or "")
        return int(raw) if raw.isdigit() and len(raw) < 12 else None

    async def _history_conversation_id(self) -> int | None:
        staff = await require_staff(self)
        if staff is None or not self.conversation_id:
            return None
        async with open_read_session() as session:
            try:
                await get_conversation_for_staff(
                    session=session, conversation_id=self.conversation_id, staff=staff
                )
            except ServiceError:
                return None
        return self.conversation_id

    def _history_includes_notes(self) -> bool:
        return True

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        staff = await require_staff(self)
        if staff is None:
            self.conversation_id = 0
            self._staff_token = ""
            return await refuse_page(self)
        self._staff_token = (await self.get_state(StaffAuthState)).token
        self.notice = ""
        self.refused = ""
        self.compose_mode = REPLY
        self.reject_open = self.transfer_open = False
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
                    await get_conversation_for_staff(
                        session=session, conversation_id=conversation_id, staff=staff
                    )
                except NotFound:
                    found = False
                except PermissionDenied as exc:
                    self.refused = str(exc)
        self.not_found = not found
        self.conversation_id = conversation_id if found and conversation_id else 0
        if self.refused:
            self.conversation_id = 0
        if self.conversation_id:
            async with open_read_session() as session:
                self.canned = await canned.list_canned(session=session)
            await join_conversation(self, self.conversation_id, staff=True)
        else:  # nothing of another conversation stays on screen or arrives later
            await leave_rooms(self, ConversationRoom, ConversationContextRoom)
        return REPLY_DRAFT.push("")  # the box starts empty: so does the "/" menu

    async def _as_staff(self, check: Callable[[str], Awaitable[T | None]]) -> T | None:
        """`check` run with the token the page loaded with, read without a round of locks on
        the tab and its rooms; only when it no longer works is the tab's current token read
        (signed in again since?) and, if it changed, checked instead. None: nobody signed in."""
        token = self._staff_token
        result = await check(token) if token else None
        if result is None:
            async with self:
                current = (await self.get_state(StaffAuthState)).token
                self._staff_token = current
            if current != token:
                result = await check(current)
        return result

    async def _staff(self) -> StaffPublic | None:
        """Who is calling (None: nobody signed in), for background handlers."""
        return await self._as_staff(staff_for_token)

    async def _act(self, action: Action, **kwargs: object) -> StaffPublic | None:
        """Check identity and access on the server, run one use case, report refusals in
        `notice`; returns the staff member on success.

        Called from background handlers: the tab's lock (and the locks of every room it is
        linked to) is taken only to write vars (or to read a token that changed), never during
        database work, so staff tabs sharing a room never queue behind each other's writes.
        The staff check, the access check and the use case are one write transaction.
        """
        # Read without a lock (this tab's own vars): each `async with self` is a round of
        # locks on the tab and every room it is in.
        conversation_id, shown = self.conversation_id, self.notice
        client = self.router.session.client_token

        async def act_as(token: str) -> StaffPublic | None:
            return await _act_as(token, action, conversation_id, kwargs)

        async with tab_lock(client):
            staff: StaffPublic | None = None
            notice = ""
            try:
                with pushes_in_this_task(client):  # no state lock is held here
                    staff = await self._as_staff(act_as if conversation_id else staff_for_token)
                if staff is None:
                    notice = "Your session has ended. Sign in again."
                elif not conversation_id:
                    notice = "Open a conversation first."
            except (ServiceError, TransitionNotAllowed, InvalidMessage) as exc:
                notice = str(exc)
            # Each `async with self` costs a round of locks on every room the tab is linked
            # to: skip it on the common path (success, nothing to clear). A refusal is always
            # (re)sent, so a repeated refusal is announced again.
            if notice or shown:
                async with self:
                    self.notice = notice
            else:
                nothing_to_flush(self)
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

    @rx.event
    def set_compose_mode(self, mode: str | list[str]) -> None:
        if isinstance(mode, str) and mode in (REPLY, NOTE):
            self.compose_mode = mode

    @rx.event(background=True)
    @tab_only_first
    async def send_reply(self, form: dict):  # type: ignore[no-untyped-def]
        """The reply bar: a reply to the visitor, or an internal note (the tab's mode, kept
        on the server; a client cannot turn a note into a reply or back by the form)."""
        body = form.get("body") if isinstance(form, dict) else None
        try:
            clean_message_body(body)
        except InvalidMessage as exc:
            async with self:
                self.notice = str(exc)  # the text stays in the box
            return None
        expanded = self._expand_canned(str(body))
        if expanded is not None:  # "/refund" + Enter: the box gets the text, nothing is sent
            return [rx.set_value(REPLY_BOX_ID, expanded), REPLY_DRAFT.push("")]
        note = self.compose_mode == NOTE
        staff = await self._act(notes.post_note if note else handoff.post_agent_reply, body=body)
        if staff is None:
            return None  # (a sent reply ends the typing indicator: see realtime.py)
        # after the clear, the "/" menu follows what the box holds: text typed meanwhile stays
        return [clear_sent(REPLY_BOX_ID, str(body)), REPLY_DRAFT.push(box_value(REPLY_BOX_ID))]

    def _expand_canned(self, body: str) -> str | None:
        """The canned response a lone "/name" (or the one name it starts) stands for."""
        text = body.strip()
        if not text.startswith("/") or " " in text or "\n" in text:
            return None
        by_name = {c.name: c.body for c in self.canned}
        if text[1:].lower() in by_name:
            return by_name[text[1:].lower()]
        offered = matching(list(by_name), text)
        return by_name[offered[0]] if len(offered) == 1 else None

    # ---- reject and transfer ----------------------------------------------------------------

    @rx.event
    def set_reject_open(self, value: bool) -> None:
        self.reject_open = bool(value)
        if self.reject_open:
            self.notice = ""  # the dialog shows refusals of its own submission only

    @rx.event
    def set_transfer_open(self, value: bool) -> None:
        self.transfer_open = bool(value)

    @rx.event(background=True)
    async def reject(self, form: dict) -> None:
        reason = form.get("reason") if isinstance(form, dict) else None
        if await self._act(assignment.reject_conversation, reason=reason) is not None:
            async with self:
                self.reject_open = False

    @rx.event
    async def open_transfer(self) -> None:
        """Fill the list of people to hand over to (everyone current but the caller)."""
        staff = await require_staff(self)
        if staff is None or not self.conversation_id:
            return
        async with open_read_session() as session:
            targets = await assignment.list_transfer_targets(session=session, staff_id=staff.id)
        self.transfer_targets = [StaffOption(id=t.id, label=t.label) for t in targets]
        self.transfer_open = True
        self.notice = ""

    @rx.event(background=True)
    async def transfer(self, form: dict) -> None:
        fields = form if isinstance(form, dict) else {}
        done = await self._act(
            assignment.transfer_conversation,
            to_staff_id=fields.get("to_staff_id"),
            note=fields.get("note"),
        )
        if done is not None:
            async with self:
                self.transfer_open = False

    # ---- typing ------------------------------------------------------------------------------

    async def _typing(self, typing: bool) -> None:
        """Tell the conversation the assignee is (no longer) typing a reply. The page throttles
        these; the server checks who is calling and that they hold the conversation."""
        conversation_id = self.conversation_id
        if not conversation_id or (typing and self.compose_mode != REPLY):
            return  # notes announce nothing; a "stopped" always goes through
        staff = await self._staff()
        if staff is None:
            return
        async with open_read_session() as session:
            conversation = await session.get(Conversation, conversation_id)
        if (
            conversation is None
            or conversation.status != ConversationStatus.ACTIVE
            or conversation.assigned_staff_id != staff.id
        ):
            return
        announce_typing(conversation_id, visitor=False, typing=typing)

    @rx.event(background=True)
    @tab_only_first
    async def typing(self) -> None:
        await self._typing(True)

    @rx.event(background=True)
    @tab_only_first
    async def typing_stopped(self) -> None:
        await self._typing(False)
