"""Who must see what, pushed live through Reflex shared-state rooms.

The database is the source of truth: each push reads it (a conversation room fetches the
messages after the last id it shows; other rooms are re-read whole), so events that arrive
out of order never leave a stale screen, and a room that expired is rebuilt on the next join.
Pushes run in their own asyncio task, never inside the lock of the handler whose service call
published the event, and bursts are coalesced: per room and worker, at most one push runs and
one more is queued.

Rooms (shared tokens may not contain "_"):
- `conv-<id>`: the visitor's tab and every staff tab viewing that conversation;
- `ctx-<id>`: staff tabs viewing that conversation (the context panel, internal notes, the
  visitor's typing; never the visitor's tab: anything staff-only travels here);
- `staff-queue` and `staff-badge`: staff tabs on the queue page (the rows, the unclaimed count).

Every event on a tab takes the locks of all the rooms that tab is linked to, and fans out to
their other tabs, so a tab links only what its page shows: conversation pages link neither
staff room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx
from reflex.utils.prerequisites import get_app

from handoff_app import events
from handoff_app.coalescing import Coalescer
from handoff_app.db import open_read_session
from handoff_app.domain.lifecycle import HUMAN_STATUSES
from handoff_app.models import Conversation, MessagePublic, QueueRow
from handoff_app.services.handoff import get_latest_escalation
from handoff_app.services.queue import count_unclaimed, list_queue
from handoff_app.services.transcript import (
    LIVE_MESSAGE_WINDOW,
    list_messages,
    list_notes,
    to_public,
)
from handoff_app.services.transitions import staff_label
from handoff_app.services.workspace import get_workspace_settings

STAFF_QUEUE_ROOM = "staff-queue"
STAFF_BADGE_ROOM = "staff-badge"
PREVIEW_INTERVAL = 1.0  # seconds between queue pushes made only to refresh previews
# A typing indicator clears itself this long after the last "typing" (a closed tab never
# sends its "stopped"); clients repeat "typing" every few seconds while typing goes on.
TYPING_TIMEOUT = 6.0


def conversation_room(conversation_id: int) -> str:
    return f"conv-{conversation_id}"


def context_room(conversation_id: int) -> str:
    return f"ctx-{conversation_id}"


class ConversationRoom(rx.SharedState):
    """What everyone in one conversation sees: its status and its newest messages."""

    conversation_id: int = 0
    status: str = ""
    agent_label: str = ""
    public_agent_label: str = ""  # what the visitor sees: the owner's agent label, or the name
    assigned_staff_id: int = 0
    messages: list[MessagePublic] = []  # never internal notes: the visitor's tab reads this
    # id of the newest message older than `messages` (0: the window starts at the beginning)
    before_window_id: int = 0
    agent_typing: bool = False  # the assignee is typing a reply


class ConversationContextRoom(rx.SharedState):
    """Staff-only facts about a conversation: why it was handed off, the internal notes,
    whether the visitor is typing. No visitor tab ever links this room."""

    trigger: str = ""
    reason: str = ""
    triggering_text: str = ""
    notes: list[MessagePublic] = []  # the newest LIVE_MESSAGE_WINDOW notes
    visitor_typing: bool = False


class StaffQueueRoom(rx.SharedState):
    """The live queue rows, shared by staff tabs on the queue page."""

    rows: list[QueueRow] = []


class StaffBadgeRoom(rx.SharedState):
    """The unclaimed count every staff page shows in its navigation."""

    unclaimed: int = 0


# ---- filling rooms from the database -------------------------------------------------------


async def fill_conversation_room(
    room: ConversationRoom, conversation_id: int, *, resync: bool = False
) -> None:
    """Bring the room up to date from the database.

    A room that already shows this conversation fetches only the messages after the last id
    it has (usually one row); a new or expired room, or `resync`, reloads the whole window.
    Either way the result is what the database holds, in id order, without duplicates.
    """
    incremental = not resync and room.conversation_id == conversation_id and room.messages
    after_id = room.messages[-1].id if incremental else 0
    async with open_read_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return
        rows = await list_messages(
            session=session,
            conversation_id=conversation_id,
            after_id=after_id,
            limit=LIVE_MESSAGE_WINDOW + 1,
        )
        label = (
            await staff_label(session=session, staff_id=conversation.assigned_staff_id)
            if conversation.assigned_staff_id
            else ""
        )
        public_label = (await get_workspace_settings(session=session)).agent_label or label
    room.conversation_id = conversation_id
    room.status = conversation.status
    room.agent_label = label
    room.public_agent_label = public_label
    room.assigned_staff_id = conversation.assigned_staff_id or 0
    if conversation.status != "active" and room.agent_typing:
        room.agent_typing = False
    if incremental and len(rows) <= LIVE_MESSAGE_WINDOW:
        if not rows:
            return
        combined = [*room.messages, *(to_public(m) for m in rows)]
        dropped = combined[:-LIVE_MESSAGE_WINDOW]
        if dropped:
            room.before_window_id = dropped[-1].id
        room.messages = combined[-LIVE_MESSAGE_WINDOW:]
        return
    if incremental:  # a burst longer than the window: reload it whole
        await fill_conversation_room(room, conversation_id, resync=True)
        return
    older, window = rows[:-LIVE_MESSAGE_WINDOW], rows[-LIVE_MESSAGE_WINDOW:]
    room.before_window_id = (older[-1].id or 0) if older else 0
    room.messages = [to_public(m) for m in window]


async def fill_context_room(room: ConversationContextRoom, conversation_id: int) -> None:
    async with open_read_session() as session:
        latest = await get_latest_escalation(session=session, conversation_id=conversation_id)
        notes = await list_notes(session=session, conversation_id=conversation_id)
    room.notes = [to_public(n) for n in notes]
    room.trigger = latest.trigger if latest else ""
    room.reason = latest.reason if latest else ""
    room.triggering_text = latest.triggering_text if latest else ""


async def fill_staff_queue(room: StaffQueueRoom) -> None:
    async with open_read_session() as session:
        room.rows = await list_queue(session=session)


async def fill_staff_badge(room: StaffBadgeRoom) -> None:
    async with open_read_session() as session:
        room.unclaimed = await count_unclaimed(session=session)


# ---- joining and leaving (called by states, after their identity checks) -------------------


async def _join(state: rx.State, cls: type[Any], token: str) -> Any:
    room = await state.get_state(cls)
    return await room._link_to(token)


async def join_conversation(state: rx.State, conversation_id: int, *, staff: bool) -> None:
    """Link the tab to the conversation's room (and, for staff, its context room)."""
    room = await _join(state, ConversationRoom, conversation_room(conversation_id))
    # rooms expire and pushes can fail: every (re)join rebuilds the whole window
    await fill_conversation_room(room, conversation_id, resync=True)
    if staff:
        context = await _join(state, ConversationContextRoom, context_room(conversation_id))
        await fill_context_room(context, conversation_id)


async def join_staff_badge(state: rx.State) -> None:
    await fill_staff_badge(await _join(state, StaffBadgeRoom, STAFF_BADGE_ROOM))


async def join_staff_queue(state: rx.State) -> None:
    await join_staff_badge(state)
    await fill_staff_queue(await _join(state, StaffQueueRoom, STAFF_QUEUE_ROOM))


async def leave_rooms(state: rx.State, *classes: type[Any]) -> None:
    """Move the tab out of the given rooms (all of them by default): a signed-out tab, or one
    that left the page, stops receiving anything.

    Reflex's `_unlink` answers with a full re-hydration of the tab (which resets its state,
    sign-in included), so instead the tab is re-linked to an empty room of its own, which
    nothing ever pushes to and no other tab shares (no lock contention).
    """
    idle = f"idle-{state.router.session.client_token}"
    for cls in classes or _ALL_ROOMS:
        room = await state.get_state(cls)
        linked = (room._reflex_internal_links or {}).get(cls.get_full_name())
        if linked and linked != idle:
            await room._link_to(idle)


_ALL_ROOMS: tuple[type[Any], ...] = (
    ConversationRoom,
    ConversationContextRoom,
    StaffQueueRoom,
    StaffBadgeRoom,
)


# ---- pushing after events ------------------------------------------------------------------


async def _push(cls: type[Any], token: str, fill: Callable[[Any], Awaitable[None]]) -> None:
    app = get_app().app
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
        await fill(await root.get_state(cls))


async def push_conversation(conversation_id: int, *, preview: bool = False) -> None:
    """Update the conversation's room; with `preview` (a new message), also refresh the queue
    rows if the conversation is in the queue (the room's fresh status says so)."""
    status = ""

    async def fill(room: ConversationRoom) -> None:
        nonlocal status
        await fill_conversation_room(room, conversation_id)
        status = room.status

    await _push(ConversationRoom, conversation_room(conversation_id), fill)
    if preview and status in HUMAN_STATUSES:
        # previews are not urgent: at most one queue push a second for them
        _pushes.schedule("queue-previews", push_queue_rows, min_interval=PREVIEW_INTERVAL)


async def push_context(conversation_id: int) -> None:
    await _push(
        ConversationContextRoom,
        context_room(conversation_id),
        lambda room: fill_context_room(room, conversation_id),
    )


async def push_queue_rows() -> None:
    await _push(StaffQueueRoom, STAFF_QUEUE_ROOM, fill_staff_queue)


async def push_badge() -> None:
    await _push(StaffBadgeRoom, STAFF_BADGE_ROOM, fill_staff_badge)


async def _push_typing(conversation_id: int, *, visitor: bool, typing: bool) -> None:
    if visitor:  # to staff only

        async def fill_ctx(room: ConversationContextRoom) -> None:
            if room.visitor_typing != typing:
                room.visitor_typing = typing

        await _push(ConversationContextRoom, context_room(conversation_id), fill_ctx)
        return

    async def fill_conv(room: ConversationRoom) -> None:
        if room.agent_typing != typing:
            room.agent_typing = typing

    await _push(ConversationRoom, conversation_room(conversation_id), fill_conv)


def announce_typing(conversation_id: int, *, visitor: bool, typing: bool) -> None:
    """Show or clear "… is typing" (the visitor's to staff; the assignee's to everyone in the
    conversation). Callers throttle; this clears itself TYPING_TIMEOUT after the last call."""
    key = _typing_key(conversation_id, visitor=visitor)
    timer = _typing_timers.pop(key, None)
    if timer is not None:
        timer.cancel()
    if typing:
        _typing_timers[key] = asyncio.get_running_loop().call_later(
            TYPING_TIMEOUT,
            lambda: announce_typing(conversation_id, visitor=visitor, typing=False),
        )
    _pushes.schedule(key, lambda: _push_typing(conversation_id, visitor=visitor, typing=typing))


def _clear_typing_after(event: events.MessagePosted) -> None:
    """A sent message ends its author's typing indicator (if this worker announced one: the
    author's typing events and message come from the same tab, so the same worker)."""
    visitor = event.sender == "visitor"
    if (
        event.sender in ("visitor", "agent")
        and _typing_key(event.conversation_id, visitor=visitor) in _typing_timers
    ):
        announce_typing(event.conversation_id, visitor=visitor, typing=False)


def _typing_key(conversation_id: int, *, visitor: bool) -> str:
    return f"typing-{'visitor' if visitor else 'agent'}-{conversation_id}"


_pushes = Coalescer()
# per worker: a tab's socket (and so its typing events) stays on one worker
_typing_timers: dict[str, asyncio.TimerHandle] = {}


async def on_event(event: events.ConversationEvent) -> None:
    """Decide who must see `event` and push to them (in tasks of their own)."""
    if isinstance(event, events.ConversationStarted):
        return
    cid = event.conversation_id
    if isinstance(event, events.NotePosted):  # staff only: the context room, never conv-<id>
        _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))
        return
    if isinstance(event, events.MessagePosted):
        _clear_typing_after(event)
        _pushes.schedule(f"conv-{cid}", lambda: push_conversation(cid, preview=True))
        return
    # A status change: the room, the context panel, the queue rows and the unclaimed count.
    # (If this push replaces a queued message push, the queue push below covers its preview.)
    _pushes.schedule(f"conv-{cid}", lambda: push_conversation(cid))
    _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))
    _pushes.schedule("queue-rows", push_queue_rows)
    _pushes.schedule("badge", push_badge)


def install() -> None:
    events.subscribe(on_event)
