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
- `staff-queue`: staff tabs on the queue page, `staff-bot`: those showing the "All" tab. These
  two carry only the changes to their lists: each tab loads the rows once (live_changes.py).

Every event on a tab takes the locks of all the rooms that tab is linked to, and fans out to
their other tabs, so a tab links only what its page shows: conversation pages link neither
staff room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import reflex as rx
from pydantic import BaseModel
from reflex.istate.manager.memory import StateManagerMemory
from reflex.utils.prerequisites import get_app
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events, room_fanout
from handoff_app.coalescing import Coalescer
from handoff_app.db import open_read_session
from handoff_app.domain.lifecycle import HUMAN_STATUSES, ConversationStatus
from handoff_app.domain.messages import Sender
from handoff_app.domain.visitor_context import describe_browser
from handoff_app.live_changes import (
    ChangeSlots,
    record_changes,
    snapshot_of,
)
from handoff_app.live_window import (
    REBASE_DELAY,
    MessageSlots,
    add_messages,
    newest_id,
    rebase,
    show_window,
    wants_rebase,
)
from handoff_app.models import (
    BotAttempt,
    Conversation,
    ConversationRow,
    MessagePublic,
    QueueRow,
)
from handoff_app.room_fanout import forget_last_change
from handoff_app.services.bot_attempts import list_bot_attempts
from handoff_app.services.handoff import get_latest_escalation
from handoff_app.services.queue import (
    count_unclaimed,
    list_bot_conversations,
    list_queue,
    previous_conversations,
)
from handoff_app.services.staff_tabs import online_tabs
from handoff_app.services.transcript import (
    LIVE_MESSAGE_WINDOW,
    list_messages,
    list_notes,
    to_public,
)
from handoff_app.services.transitions import staff_label
from handoff_app.services.waiting import (
    WaitInfo,
    queue_wait_infos,
    wait_info,
)
from handoff_app.services.workspace import get_workspace_settings

log = logging.getLogger(__name__)

STAFF_QUEUE_ROOM = "staff-queue"
STAFF_BOT_ROOM = "staff-bot"
DRAFT_INTERVAL = 0.05  # seconds between pushes of a streaming answer
PREVIEW_INTERVAL = 1.0  # seconds between queue pushes made only to refresh previews
# Waiting visitors' places wait this long after a queue change: with hundreds waiting they
# are hundreds of pushes, and the staff tabs and the conversation's own room go first.
WAITING_ROOMS_DELAY = 0.2
# A typing indicator clears itself this long after the last "typing" (a closed tab never
# sends its "stopped"); clients repeat "typing" every few seconds while typing goes on.
TYPING_TIMEOUT = 6.0


def conversation_room(conversation_id: int) -> str:
    return f"conv-{conversation_id}"


def context_room(conversation_id: int) -> str:
    return f"ctx-{conversation_id}"


class ConversationRoom(MessageSlots, rx.SharedState):
    """What everyone in one conversation sees: its status and its newest messages (never
    internal notes: the visitor's tab reads this), pushed one at a time (live_window.py)."""

    conversation_id: int = 0
    status: str = ""
    agent_label: str = ""
    public_agent_label: str = ""  # what the visitor sees: the owner's agent label, or the name
    assigned_staff_id: int = 0
    # the bot's answer while it streams (the stored message replaces it)
    bot_draft: str = ""
    # while in the queue: waiting | busy (deadline passed) | away (nobody available); else ""
    wait_state: str = ""
    queue_position: int = 0
    wait_estimate: str = ""
    lead_contact: str = ""
    agent_typing: bool = False  # the assignee is typing a reply


class ConversationContextRoom(rx.SharedState):
    """Staff-only facts about a conversation: why it was handed off, the internal notes,
    whether the visitor is typing. No visitor tab ever links this room."""

    trigger: str = ""
    reason: str = ""
    triggering_text: str = ""
    lead_contact: str = ""  # the phone or email the visitor left while waiting
    wait_state: str = ""  # waiting | busy | away while in the queue
    notes: list[MessagePublic] = []  # the newest LIVE_MESSAGE_WINDOW notes
    visitor_typing: bool = False
    # the visitor, as captured when the conversation started
    browser: str = ""  # "Firefox 128 on Linux"
    visitor_ip: str = ""
    page_url: str = ""
    referrer: str = ""
    started_at: str = ""
    visitor_timezone: str = ""  # IANA name, e.g. "Europe/Berlin" ("" unknown)
    arrived_at: str = ""  # ISO: when the visitor arrived on the site ("" unknown)
    previous: list[ConversationRow] = []
    # the bot's last answers before the handoff, with the articles each cited
    bot_attempts: list[BotAttempt] = []


class StaffQueueRoom(ChangeSlots, rx.SharedState):
    """Changes to the live queue rows, shared by staff tabs on the queue page (each tab loads
    the rows themselves once, into `StaffListSnapshots.queue`; see live_changes.py), and the
    unclaimed count those tabs show (one push for all of them: see `push_badge`)."""

    unclaimed: int = 0


class StaffBotRoom(ChangeSlots, rx.SharedState):
    """Changes to the conversations the bot is handling now (the queue page's "All" tab,
    linked only while that tab is open; the rows load into `StaffListSnapshots.bot`)."""


class QueueSnapshot(BaseModel):
    rows: list[QueueRow] = []
    seq: int = 0
    epoch: str = ""  # "" until loaded (and after the tab left the room)
    loads: int = 0  # a new object for every load, even of identical rows


class BotSnapshot(BaseModel):
    rows: list[ConversationRow] = []
    seq: int = 0
    epoch: str = ""
    loads: int = 0


class StaffListSnapshots(rx.State):
    """Per tab: the staff lists as loaded once (page load, resync); the rooms above carry the
    changes since. Never pushed to: the only per-list data sent to a tab after its load is
    one change per changed row."""

    queue: QueueSnapshot = QueueSnapshot()
    bot: BotSnapshot = BotSnapshot()


class StaffBadge(rx.State):
    """The unclaimed count in the navigation of every staff page. A per-tab state, NOT a shared
    room: a room linked by every staff tab makes every event of every staff tab take its lock
    (that serialised all agents). Instead each change is pushed to the staff tabs that are open
    right now (the `staff_tab` registry with its heartbeat), each under its own lock."""

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
    incremental = not resync and room.conversation_id == conversation_id and newest_id(room)
    after_id = newest_id(room) if incremental else 0
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
        label = public_label = ""
        if conversation.assigned_staff_id:  # only then is a label shown (and the settings read)
            label = await staff_label(session=session, staff_id=conversation.assigned_staff_id)
            public_label = (await get_workspace_settings(session=session)).agent_label or label
        waiting = (
            await wait_info(session=session, conversation_id=conversation_id)
            if conversation.status == ConversationStatus.PENDING
            else WaitInfo()
        )
    room.conversation_id = conversation_id
    room.status = conversation.status
    room.agent_label = label
    room.public_agent_label = public_label
    room.assigned_staff_id = conversation.assigned_staff_id or 0
    _show_wait(room, conversation_id, waiting)
    if room.bot_draft and (
        conversation.status != ConversationStatus.BOT
        or any(m.sender == Sender.BOT.value for m in rows)
    ):
        room.bot_draft = ""  # the answer landed (or a person took over)
    if conversation.status != "active" and room.agent_typing:
        room.agent_typing = False
    if incremental and len(rows) <= LIVE_MESSAGE_WINDOW:
        if rows:
            add_messages(room, [to_public(m) for m in rows])
        return
    if incremental:  # a burst longer than the window: reload it whole
        await fill_conversation_room(room, conversation_id, resync=True)
        return
    older, window = rows[:-LIVE_MESSAGE_WINDOW], rows[-LIVE_MESSAGE_WINDOW:]
    show_window(room, [to_public(m) for m in window], (older[-1].id or 0) if older else 0)


def append_posted(room: ConversationRoom, posted: events.MessagePosted) -> bool:
    """Show a just-posted message without reading the database, when the room is known to
    hold every message before it (its newest is the message's predecessor). False when the
    room must be refilled from the database instead (it is new, expired, or missed one)."""
    message = posted.message
    if message is None or room.conversation_id != posted.conversation_id:
        return False
    newest = newest_id(room)
    if message.id <= newest:
        return True  # a fill that read the database already shows it
    if newest != posted.previous_id:
        return False
    add_messages(room, [message])
    if room.bot_draft and message.sender == Sender.BOT.value:
        room.bot_draft = ""  # the answer landed
    return True


def _show_wait(room: ConversationRoom, conversation_id: int, waiting: WaitInfo) -> None:
    """Assign only what changed: Reflex sends a var whenever it is assigned."""
    _waits_shown[conversation_id] = waiting
    for name, value in (
        ("wait_state", waiting.state),
        ("queue_position", waiting.position),
        ("wait_estimate", waiting.estimate),
        ("lead_contact", waiting.lead_contact),
    ):
        if getattr(room, name) != value:
            setattr(room, name, value)


async def fill_context_room(room: ConversationContextRoom, conversation_id: int) -> None:
    async with open_read_session() as session:
        latest = await get_latest_escalation(session=session, conversation_id=conversation_id)
        waiting = await wait_info(session=session, conversation_id=conversation_id)
        notes = await list_notes(session=session, conversation_id=conversation_id)
        conversation = await session.get(Conversation, conversation_id)
        previous: list[ConversationRow] = []
        attempts: list[BotAttempt] = []
        if conversation is not None:
            previous = await previous_conversations(session=session, conversation=conversation)
            attempts = await list_bot_attempts(session=session, conversation_id=conversation_id)
    room.notes = [to_public(n) for n in notes]
    if conversation is not None:
        room.browser = describe_browser(conversation.user_agent)
        room.visitor_ip = conversation.visitor_ip
        room.page_url = conversation.page_url
        room.referrer = conversation.referrer
        room.started_at = conversation.created_at.isoformat()
        room.visitor_timezone = conversation.visitor_timezone
        room.arrived_at = conversation.arrived_at.isoformat() if conversation.arrived_at else ""
    room.previous = previous
    room.bot_attempts = attempts
    room.trigger = latest.trigger if latest else ""
    room.reason = latest.reason if latest else ""
    room.triggering_text = latest.triggering_text if latest else ""
    room.lead_contact = (latest.lead_contact or "") if latest else ""
    room.wait_state = waiting.state


async def fill_staff_queue(room: StaffQueueRoom) -> None:
    """The queue's changes: the rows of the conversations this worker's events touched since
    the last push (an event names its conversation), or the whole queue when none is known or
    the room is new."""
    taken = set(_queue_rows_changed)
    _queue_rows_changed.clear()  # (a full read covers them too)
    changed = taken if room.epoch else set()
    try:
        async with open_read_session() as session:
            if changed:
                rows = await list_queue(session=session, conversation_ids=changed)
                record_changes(room, rows, only=changed)
            else:
                record_changes(room, await list_queue(session=session))
            await _show_unclaimed(room, session)
    except BaseException:
        _queue_rows_changed.update(taken)  # not shown: the next push reads them again
        raise


async def _show_unclaimed(room: StaffQueueRoom, session: AsyncSession) -> None:
    unclaimed = await count_unclaimed(session=session)
    if room.unclaimed != unclaimed:  # assigned only when changed: Reflex sends every assignment
        room.unclaimed = unclaimed


async def fill_staff_bot(room: StaffBotRoom) -> None:
    async with open_read_session() as session:
        record_changes(room, await list_bot_conversations(session=session))


async def fill_staff_badge(badge: StaffBadge) -> None:
    async with open_read_session() as session:
        badge.unclaimed = await count_unclaimed(session=session)


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


async def show_staff_badge(state: rx.State) -> None:
    """Fill this staff tab's badge (pages call it on load, after their identity check)."""
    await fill_staff_badge(await state.get_state(StaffBadge))


async def join_staff_queue(state: rx.State) -> None:
    """Link the queue room and load the rows once into this tab (page load and resync)."""
    # the count too: a room that expired starts again at 0
    await _join_list(state, StaffQueueRoom, STAFF_QUEUE_ROOM, list_queue, also=_show_unclaimed)


async def join_staff_bot(state: rx.State) -> None:
    """Link the bot room and load its rows once into this tab (the "All" tab and resync)."""
    await _join_list(state, StaffBotRoom, STAFF_BOT_ROOM, list_bot_conversations)


async def _join_list(
    state: rx.State,
    cls: type[ChangeSlots],
    token: str,
    read: Callable[..., Awaitable[Any]],
    *,
    also: Callable[[Any, AsyncSession], Awaitable[None]] | None = None,
) -> None:
    """Link the tab to a live list's room and load the list once into its snapshot (`also`
    fills the room's other vars, in the same read session)."""
    room = await _join(state, cls, token)
    async with open_read_session() as session:
        rows = await read(session=session)
        if also is not None:
            await also(room, session)
    name, model = _SNAPSHOTS[cls]
    snapshots = await state.get_state(StaffListSnapshots)
    loads = getattr(snapshots, name).loads
    setattr(snapshots, name, model(**snapshot_of(room, rows, loads)))
    # runs once this event released the room (its own task: never inside this handler's lock)
    _pushes.schedule(f"forget-{token}", lambda: _forget_sent(cls, token))


async def leave_rooms(state: rx.State, *classes: type[Any]) -> None:
    """Move the tab out of the given rooms (all of them by default): a signed-out tab, or one
    that left the page, stops receiving anything.

    Reflex's `_unlink` answers with a full re-hydration of the tab (which resets its state,
    sign-in included), so instead the tab is re-linked to an empty room of its own, which
    nothing ever pushes to and no other tab shares (no lock contention).
    """
    await _leave(state, state.router.session.client_token, classes or _ALL_ROOMS)


async def _leave(state: rx.State, client_token: str, classes: tuple[type[Any], ...]) -> None:
    idle = f"idle-{client_token}"
    for cls in classes:
        room = await state.get_state(cls)
        linked = (room._reflex_internal_links or {}).get(cls.get_full_name())
        if linked and linked != idle:
            await room._link_to(idle)
        if cls in _SNAPSHOTS:  # the rows this tab loaded go with the room
            name, model = _SNAPSHOTS[cls]
            snapshots = await state.get_state(StaffListSnapshots)
            previous = getattr(snapshots, name)
            if previous.epoch:
                setattr(snapshots, name, model(loads=previous.loads + 1))


_ALL_ROOMS: tuple[type[Any], ...] = (
    ConversationRoom,
    ConversationContextRoom,
    StaffQueueRoom,
    StaffBotRoom,
)
_SNAPSHOTS: dict[type[Any], tuple[str, type[QueueSnapshot | BotSnapshot]]] = {
    StaffQueueRoom: ("queue", QueueSnapshot),
    StaffBotRoom: ("bot", BotSnapshot),
}


# ---- pushing after events ------------------------------------------------------------------


async def _push(cls: type[Any], token: str, fill: Callable[[Any], Awaitable[None]]) -> None:
    app = get_app().app
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
        room = await root.get_state(cls)
        forget_last_change(room)  # only what this fill changes goes out (room_fanout.py)
        await fill(room)
        await room_fanout.emit_to_linked_tabs(root, room)


@dataclass
class RoomWork:
    """What a conversation room still has to show, gathered until its push runs.

    One lane per conversation (coalescer key `room-<id>`): a message never overtakes the
    status change committed before it (a visitor must not read the agent's first words under
    "waiting for an agent"), and a burst costs at most two pushes."""

    refill: bool = False  # read the status and the new messages from the database
    resync: bool = False  # reload the whole window (an existing message changed)
    posted: list[events.MessagePosted] = field(default_factory=list)


_room_work: dict[int, RoomWork] = {}
# set by a handler that holds no Reflex state lock (`pushes_in_this_task`): the messages it
# posts are pushed in its own task (see `on_event`)
_push_here: ContextVar[bool] = ContextVar("handoff_push_here", default=False)


@contextmanager
def pushes_in_this_task(sender: str) -> Iterator[None]:
    """Around a background handler's use case (no Reflex state lock held): a message it posts
    reaches the room in the handler's own task, right after the commit, when the room's lane
    is idle, instead of in a task that starts a loop turn later behind whatever is ready.

    Only a commit that posted messages and changed nothing else in the conversation is pushed
    this way (`_pushed_here`): one that also changed its status (a claim's "joined" line, a
    keyword's handoff line) keeps to the lane, where the line and its status go out in one
    push, so the line never shows under the status before it.

    `sender` is the handler's tab (its client token): the room's other tabs get the push
    first (`room_fanout.sent_from`), and the push goes on once their frames are written
    (`room_fanout.deliveries_written`)."""
    token = _push_here.set(True)
    try:
        with room_fanout.sent_from(sender):
            yield
    finally:
        _push_here.reset(token)


def _pushed_here(posted: events.MessagePosted) -> bool:
    """Push `posted` in the publisher's task? Only under `pushes_in_this_task`, and only when
    its commit published nothing but messages for that conversation."""
    return _push_here.get() and all(
        isinstance(other, events.MessagePosted)
        for other in events.published_together()
        if other.conversation_id == posted.conversation_id
    )


def _room_lane(conversation_id: int) -> str:
    return f"room-{conversation_id}"


def want_room_push(
    conversation_id: int,
    *,
    refill: bool = False,
    resync: bool = False,
    posted: events.MessagePosted | None = None,
) -> None:
    work = _room_work.setdefault(conversation_id, RoomWork())
    work.refill |= refill or resync
    work.resync |= resync
    if posted is not None:
        work.posted.append(posted)
    _pushes.schedule(_room_lane(conversation_id), lambda: push_room(conversation_id))


async def push_room(conversation_id: int) -> None:
    """Show the room's gathered work: a refill reads the database (which holds any posted
    message too); posted messages alone are appended as they were posted when the room is up
    to date (no database read), else read. Then the previews."""
    work = _room_work.pop(conversation_id, None)
    if work is None:
        return  # an earlier run took it
    status = ""
    rebase_due = False

    async def fill(room: ConversationRoom) -> None:
        nonlocal status, rebase_due
        if work.refill or not all(append_posted(room, p) for p in work.posted):
            await fill_conversation_room(room, conversation_id, resync=work.resync)
        status = room.status
        rebase_due = wants_rebase(room)

    await _push(ConversationRoom, conversation_room(conversation_id), fill)
    if rebase_due:
        _pushes.schedule(f"rebase-{conversation_id}", lambda: push_rebase(conversation_id))
    _schedule_previews(conversation_id, status, preview=bool(work.posted))


async def push_rebase(conversation_id: int) -> None:
    """A moment after the messages that asked for it (live_window.py), on its own: the room's
    current window becomes its base, so its change slots never run out."""
    await asyncio.sleep(REBASE_DELAY)

    async def fill(room: ConversationRoom) -> None:
        if room.conversation_id == conversation_id and room.seq != room.base_seq:
            rebase(room)

    await _push(ConversationRoom, conversation_room(conversation_id), fill)


def _schedule_previews(conversation_id: int, status: str, *, preview: bool) -> None:
    """The lists that show the conversation's newest message (not urgent: at most one push
    a second for previews)."""
    if status == ConversationStatus.BOT:
        _pushes.schedule("bot-rows", push_bot_rows, min_interval=PREVIEW_INTERVAL)
    if preview and status in HUMAN_STATUSES:
        _queue_rows_changed.add(conversation_id)
        _pushes.schedule("queue-previews", push_queue_rows, min_interval=PREVIEW_INTERVAL)


async def push_context(conversation_id: int) -> None:
    await _push(
        ConversationContextRoom,
        context_room(conversation_id),
        lambda room: fill_context_room(room, conversation_id),
    )


async def push_waiting_rooms() -> None:
    """Every waiting visitor's place in the queue and estimate, after the queue changed."""
    await asyncio.sleep(WAITING_ROOMS_DELAY)
    async with open_read_session() as session:
        infos = await queue_wait_infos(session=session)
    # One worker (no Redis): every push to a room goes through this process, so a room whose
    # visitor's place did not change (a new escalation joins at the end: nobody else's
    # changes) needs no push. With several workers, others push too: push every room.
    local = isinstance(get_app().app.state_manager, StateManagerMemory)
    for cid in [c for c in _waits_shown if c not in infos]:
        del _waits_shown[cid]  # left the queue (the room itself shows that by its refill)
    for cid, info in infos.items():
        if local and _waits_shown.get(cid) == info:
            continue
        await _push(ConversationRoom, conversation_room(cid), _wait_filler(cid, info))
        await asyncio.sleep(0)  # a long queue: let the other tasks run between rooms


def _wait_filler(
    conversation_id: int, waiting: WaitInfo
) -> Callable[[ConversationRoom], Awaitable[None]]:
    async def fill(room: ConversationRoom) -> None:
        _show_wait(room, conversation_id, waiting)

    return fill


async def push_bot_rows() -> None:
    await _push(StaffBotRoom, STAFF_BOT_ROOM, fill_staff_bot)


async def push_queue_rows() -> None:
    await _push_queue_rows()


async def _push_queue_rows() -> set[str]:
    """The queue's changes and unclaimed count; returns the tabs linked to the queue room."""
    linked: set[str] = set()

    async def fill(room: StaffQueueRoom) -> None:
        await fill_staff_queue(room)
        linked.update(room._linked_from)

    await _push(StaffQueueRoom, STAFF_QUEUE_ROOM, fill)
    return linked


async def push_queue_rows_and_badge() -> None:
    """The queue room first: its tabs get the unclaimed count from it, in the same push, so
    the badge push skips them (opening a tab linked to the room would fan the room out again
    to every other tab linked to it: N tabs, N x N updates)."""
    on_queue_page = await _push_queue_rows()
    await push_badge(skip=on_queue_page)


async def _forget_sent(cls: type[ChangeSlots], token: str) -> None:
    """After a tab joined a change room: let Reflex's fan-out of that join go out before the
    lane's next push, and keep Reflex from sending those changes again.

    Reflex updates each other linked tab in a task of its own, and each of those takes the
    room's lock; taking it once more here queues behind the ones already waiting for it. The
    clearing itself is `_push`'s own, done whenever a room is opened (room_fanout.py). A push
    needs no such call: it sends its changes itself, inside the room's lock
    (`room_fanout.emit_to_linked_tabs`), so pushes cannot run ahead of their tabs' updates."""

    async def nothing(room: ChangeSlots) -> None:
        return None

    await _push(cls, token, nothing)


async def push_badge(*, skip: set[str] | None = None) -> None:
    """The new unclaimed count to every open staff tab but `skip`, on any worker (each tab's
    own lock)."""
    async with open_read_session() as session:
        unclaimed = await count_unclaimed(session=session)
        tabs = [t for t in await online_tabs(session=session) if t not in (skip or ())]

    async def show(badge: StaffBadge) -> None:
        if badge.unclaimed != unclaimed:
            badge.unclaimed = unclaimed

    results = await asyncio.gather(
        *(_push(StaffBadge, token, show) for token in tabs), return_exceptions=True
    )
    for token, result in zip(tabs, results, strict=True):
        if isinstance(result, Exception):
            log.warning("badge push to tab %s failed: %s", token, result)


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
# conversations whose queue rows this worker's events changed, not pushed yet (fill_staff_queue)
_queue_rows_changed: set[int] = set()
# what this worker last showed each waiting visitor's room (see push_waiting_rooms)
_waits_shown: dict[int, WaitInfo] = {}
# per worker: a tab's socket (and so its typing events) stays on one worker
_typing_timers: dict[str, asyncio.TimerHandle] = {}


async def push_draft(draft: events.BotDraft) -> None:
    async def fill(room: ConversationRoom) -> None:
        current = (
            room.conversation_id == draft.conversation_id and newest_id(room) <= draft.after_id
        )
        text = draft.text if current else ""
        if room.bot_draft != text:
            room.bot_draft = text

    await _push(ConversationRoom, conversation_room(draft.conversation_id), fill)


async def on_event(event: events.ConversationEvent) -> None:
    """Decide who must see `event` and push to them (in tasks of their own)."""
    if isinstance(event, events.ConversationStarted):
        return
    cid = event.conversation_id
    if isinstance(event, events.BotDraft):
        # a growing answer: at most one push in flight and one waiting, ~20 a second at most
        _pushes.schedule(f"draft-{cid}", lambda: push_draft(event), min_interval=DRAFT_INTERVAL)
        return
    if isinstance(event, events.MessageRated):  # an existing message changed: rebuild
        want_room_push(cid, resync=True)
        _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))  # what the bot tried
        return
    if isinstance(event, events.NotePosted):  # staff only: the context room, never conv-<id>
        _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))
        return
    if isinstance(event, events.MessagePosted):
        _clear_typing_after(event)
        if _pushed_here(event):  # no state lock held, only messages committed: no task hop
            _room_work.setdefault(cid, RoomWork()).posted.append(event)
            try:
                await _pushes.run_here(_room_lane(cid), lambda: push_room(cid))
            except asyncio.CancelledError:  # the handler was cancelled mid-push (its tab
                want_room_push(cid, refill=True)  # went away): the room reads what it missed
                raise
        else:
            want_room_push(cid, posted=event)
        if event.sender == Sender.BOT.value:  # what the bot tried, for staff watching live
            _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))
        return
    # A status change: the room, the context panel, the queue rows and the unclaimed count.
    want_room_push(cid, refill=True)
    _pushes.schedule(f"ctx-{cid}", lambda: push_context(cid))
    _queue_rows_changed.add(cid)
    _pushes.schedule("queue-rows", push_queue_rows_and_badge)
    _pushes.schedule("bot-rows", push_bot_rows, min_interval=PREVIEW_INTERVAL)
    # the other waiting visitors' places in the queue (not urgent: at most once a second)
    _pushes.schedule("waiting-rooms", push_waiting_rooms, min_interval=PREVIEW_INTERVAL)


def install() -> None:
    room_fanout.install()
    events.subscribe(on_event)


# ---- ending staff sessions live ------------------------------------------------------------


async def sign_out_tab(client_token: str) -> None:
    """Sign one tab out from outside it (its staff member was removed, or their password was
    reset): forget its session token, move it out of every room (it stops receiving at once)
    and flag it, so its staff nav sends it to /login."""
    from handoff_app.states.staff_auth import StaffAuthState  # the state imports this module

    app = get_app().app
    async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=StaffAuthState)) as root:
        auth = await root.get_state(StaffAuthState)
        auth.token = ""
        auth.staff_id = 0
        auth.staff_label = ""
        auth.staff_role = ""
        auth.session_ended = True
        await _leave(root, client_token, _ALL_ROOMS)


async def sign_out_tabs(client_tokens: list[str]) -> None:
    """Sign out each tab in turn (one tab's failure does not spare the others)."""
    for client_token in client_tokens:
        try:
            await sign_out_tab(client_token)
        except Exception:
            log.exception("signing out tab %s failed", client_token)


def schedule_sign_out(client_tokens: list[str]) -> None:
    """From a handler: push in a task of its own, never inside the caller's state lock."""
    if client_tokens:
        task = asyncio.get_running_loop().create_task(sign_out_tabs(list(client_tokens)))
        _background.add(task)
        task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()
