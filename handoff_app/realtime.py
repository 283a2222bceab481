"""Who must see what, pushed live through Reflex shared-state rooms.

The database is the source of truth: each push re-reads fresh rows and replaces the room's
vars, so events that arrive out of order never leave a stale screen, and a room that expired
is rebuilt the same way. Pushes run in their own asyncio task, never inside the lock of the
handler whose service call published the event.

Rooms (shared tokens may not contain "_"):
- `conv-<id>`: the visitor's tab and every staff tab viewing that conversation;
- `staff-queue`: every signed-in staff tab.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex.utils.prerequisites import get_app

from handoff_app import events
from handoff_app.db import open_session
from handoff_app.models import Conversation, MessagePublic
from handoff_app.services.handoff import staff_label
from handoff_app.services.queue import QueueRow, count_unclaimed, list_queue
from handoff_app.services.transcript import LIVE_MESSAGE_WINDOW, list_messages, to_public

log = logging.getLogger(__name__)
STAFF_QUEUE_ROOM = "staff-queue"
QUEUED_STATUSES = frozenset({"pending", "active"})


def conversation_room(conversation_id: int) -> str:
    return f"conv-{conversation_id}"


class ConversationRoom(rx.SharedState):
    """What everyone in one conversation sees: its status and its newest messages."""

    conversation_id: int = 0
    status: str = ""
    agent_label: str = ""
    messages: list[MessagePublic] = []
    has_older: bool = False

    @rx.var
    def last_message_id(self) -> int:
        return self.messages[-1].id if self.messages else 0


class StaffQueueRoom(rx.SharedState):
    """The live queue every signed-in staff tab shares."""

    rows: list[QueueRow] = []
    unclaimed: int = 0


async def fill_conversation_room(room: ConversationRoom, conversation_id: int) -> None:
    """Replace the room's vars with fresh rows from the database."""
    async with open_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return
        rows = await list_messages(
            session=session, conversation_id=conversation_id, limit=LIVE_MESSAGE_WINDOW + 1
        )
        label = (
            await staff_label(session=session, staff_id=conversation.assigned_staff_id)
            if conversation.assigned_staff_id
            else ""
        )
    room.conversation_id = conversation_id
    room.status = conversation.status
    room.agent_label = label
    room.has_older = len(rows) > LIVE_MESSAGE_WINDOW
    room.messages = [to_public(m) for m in rows[-LIVE_MESSAGE_WINDOW:]]


async def fill_staff_queue(room: StaffQueueRoom) -> None:
    async with open_session() as session:
        rows = await list_queue(session=session)
        unclaimed = await count_unclaimed(session=session)
    room.rows = rows
    room.unclaimed = unclaimed


async def push_conversation(conversation_id: int) -> None:
    app = get_app().app
    token = rx.BaseStateToken(ident=conversation_room(conversation_id), cls=ConversationRoom)
    async with app.modify_state(token) as root:
        room = await root.get_state(ConversationRoom)
        await fill_conversation_room(room, conversation_id)


async def push_staff_queue() -> None:
    app = get_app().app
    token = rx.BaseStateToken(ident=STAFF_QUEUE_ROOM, cls=StaffQueueRoom)
    async with app.modify_state(token) as root:
        await fill_staff_queue(await root.get_state(StaffQueueRoom))


_tasks: set[asyncio.Task[None]] = set()


def _spawn(coro: object, what: str) -> None:
    async def run() -> None:
        try:
            await coro  # type: ignore[misc]
        except Exception:
            log.exception("realtime push failed: %s", what)

    task = asyncio.get_running_loop().create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def push_staff_queue_if_queued(conversation_id: int) -> None:
    """A message changes a queue row's preview only when the conversation is in the queue."""
    async with open_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        queued = conversation is not None and conversation.status in QUEUED_STATUSES
    if queued:
        await push_staff_queue()


async def on_event(event: events.ConversationEvent) -> None:
    """Decide who must see `event` and push to them (in tasks of their own)."""
    if isinstance(event, events.ConversationStarted):
        return
    _spawn(push_conversation(event.conversation_id), f"conversation {event.conversation_id}")
    if isinstance(event, events.MessagePosted):
        _spawn(push_staff_queue_if_queued(event.conversation_id), "staff queue")
    else:
        _spawn(push_staff_queue(), "staff queue")


def install() -> None:
    events.subscribe(on_event)
