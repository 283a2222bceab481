"""A shared room fans out to its other tabs only when an event changed it.

Reflex 0.10.1 (`reflex/istate/shared.py`) updates every other tab linked to a shared state
after *any* event that loaded it, changed or not:

- `_modify_linked_states` treats a linked state as affected when its `_previous_dirty_vars`
  `is not None`, and on a `SharedState` that is always a set;
- `_previous_dirty_vars` is refilled only when the state is cleaned, that is when an event
  dirtied it, so between changes it keeps the last change's var names: an event that leaves
  the room alone sends those names again, and each other tab recomputes and resolves them.

So every event of a visitor's tab (a "seen" receipt, a typing ping, each message's own
lock round) cost a full state update of every other tab in the conversation, about a
millisecond and a half each on the CI machine, on the one event loop that also delivers the
messages. Two patches, installed once per worker by `install()`:

1. when an event (or a push) opens a room, the room's last dirty vars are forgotten, so only
   what this event changes is recorded (`_clean` records it while the room is still locked);
2. a fan-out whose dirty var sets are all empty is skipped: there is nothing to send.

A room changed by an event still reaches every other linked tab, on one worker or through
Redis on several (tests/integration/test_room_fanout.py and the live-loop tests).

A push (a room opened by its own shared token, `realtime._push`) does not go through that
fan-out at all: `emit_to_linked_tabs` resolves the room's delta once and emits it to every
connected linked tab while the room is still locked. Reflex's fan-out would, per tab and one
tab after the other (each waits for the room's lock), lock the tab, patch in every room that
tab links, resolve the same delta again and emit it: about 2 ms per tab on the machine the
benchmark ran on, so the second tab of a conversation (the visitor, or the agent) got each
message 2 ms after the first. The shortcut is exact while no state outside the rooms computes
a var from them (the tabs' own states have no such computed vars; a room delta carries only
the room's own vars, which is all Reflex's per-tab delta would carry).

The packet is handed to each socket in the pushing task (`send_to_sockets`): socket.io's own
emit starts a task per recipient and waits for them all, which costs the push a turn of the
event loop, behind whatever else is ready, before any socket has the packet. An idle
websocket gets it at once, without its writer task's turns (`direct_socket_send`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from engineio import packet as eio_packet
from reflex.constants import SocketEvent
from reflex.istate import shared
from reflex.istate.shared import SharedState, SharedStateBaseInternal
from reflex.state import StateUpdate
from reflex.utils.prerequisites import get_app
from socketio import packet as sio_packet

from handoff_app import direct_socket_send
from handoff_app.direct_socket_send import send_now

log = logging.getLogger(__name__)
_installed = False


# A send handler's push (`sent_from`), kept with the task that runs the handler: a task the
# handler starts (a coalesced push of another room, a typing indicator) copies its context,
# and must not count as the sender's push.
@dataclass
class _SenderPush:
    task: asyncio.Task[Any] | None
    token: str  # the sender's tab: its own copy of a push goes out last


_sender_push: ContextVar[_SenderPush | None] = ContextVar("handoff_sender_push", default=None)
# How long a sender's handler waits for its push's frames to be written
# (`deliveries_written`): far above a frame's usual microseconds, short for a stalled client.
DELIVERY_WAIT_S = 0.02


def _current_sender_push() -> _SenderPush | None:
    push = _sender_push.get()
    if push is None or push.task is not asyncio.current_task():
        return None
    return push


def current_sender() -> str:
    """The tab whose handler is pushing in this task (`sent_from`), or ""."""
    push = _current_sender_push()
    return push.token if push is not None else ""


@contextmanager
def sent_from(token: str) -> Iterator[None]:
    """Around a tab's handler that pushes what it posted: the other tabs in the room get the
    packet before this one. The sender already knows what it sent; the others are waiting for
    it (the packets are handed to the web server one socket after the other)."""
    reset = _sender_push.set(_SenderPush(asyncio.current_task(), token))
    try:
        yield
    finally:
        _sender_push.reset(reset)


async def deliveries_written(handed: Handed) -> None:
    """Inside `sent_from`, after a push: wait (at most DELIVERY_WAIT_S) until the web server
    has written the frames the push started (the sender's own copy goes once the others are
    written, `send_to_sockets`), before the sender's handler goes on with its own bookkeeping
    (its tab's state, its answer). The loop thread leaves the web server's I/O thread and the
    readers the CPU meanwhile, as it does after a bare event's answer. A send stalled by a
    client that stopped reading is waited for once: the socket's later packets are queued
    behind it, not started."""
    if _current_sender_push() is None:
        return
    pending = [task for task in handed.started.values() if not task.done()]
    if pending:
        await asyncio.wait(pending, timeout=DELIVERY_WAIT_S)


def forget_last_change(state: Any) -> None:
    """Call holding the room's lock, before changing it: from now on its recorded dirty vars
    are this event's only."""
    previous = getattr(state, "_previous_dirty_vars", None)
    if previous:
        previous.clear()


def recipients(linked: Iterable[str], tokens: Any, sender: str) -> tuple[list[str], list[str]]:
    """The socket ids on this worker of the `linked` tabs, the sender's last, and the tabs
    whose socket is on another worker (or gone). `tokens` is Reflex's token manager."""
    here: list[str] = []
    elsewhere: list[str] = []
    for token in sorted(linked, key=lambda t: t == sender):  # a stable sort: the sender last
        record = tokens.token_to_socket.get(token)
        if record is not None and record.instance_id == tokens.instance_id:
            here.append(record.sid)
        else:
            elsewhere.append(token)
    return here, elsewhere


async def emit_to_linked_tabs(root: Any, room: Any) -> None:
    """Send what this push changed in `room` (opened by its shared token, `root` its state
    tree, still locked) to every connected tab linked to it, and leave nothing for Reflex's
    own fan-out or for the room token's own (socketless) update to do. A tab's own state
    (not a shared room) is left to Reflex, which emits it to that tab."""
    if not isinstance(room, SharedState):
        return
    delta = await root._get_resolved_delta()
    root._clean()
    forget_last_change(room)  # the fan-out on unlock finds no change and is skipped
    if not delta:
        return
    namespace = get_app().app.event_namespace
    if namespace is None:
        return
    tokens = namespace._token_manager
    update = StateUpdate(delta=delta)
    sender = current_sender()
    here, elsewhere = recipients(room._linked_from, tokens, sender)
    handed = Handed()
    if here:
        # encoded once, handed to every socket in this task (an emit per tab waits a loop
        # turn or more each)
        sender_record = tokens.token_to_socket.get(sender)
        sender_sid = sender_record.sid if sender_record is not None else None
        handed = await send_to_sockets(
            namespace, str(SocketEvent.EVENT), update, here, sender_sid=sender_sid
        )
        if handed.queued:
            await writers_flushed()
    for token in elsewhere:  # relayed through Redis to the worker holding the socket
        try:
            if await tokens.is_token_connected(token):
                await namespace.emit_update(update=update, token=token)
        except Exception:  # one tab's relay failing must not keep the others from theirs
            log.exception("push to tab %s on another worker failed", token)
    await deliveries_written(handed)


@dataclass
class Handed:
    """What `send_to_sockets` did: queued some packet (for the sockets' writers to send), and
    the sends it started itself, by socket id (each a task that ends when the frame is
    written)."""

    queued: bool = False
    started: dict[str, asyncio.Task[None]] = field(default_factory=dict)


async def send_to_sockets(
    namespace: Any, event: str, data: Any, sids: list[str], *, sender_sid: str | None = None
) -> Handed:
    """What `namespace.emit(event, data, to=sids)` does on one worker without a message
    queue (python-socketio's AsyncManager.emit, no callback): one packet, encoded once, for
    each connected socket. Unlike AsyncManager.emit it starts no task per recipient: an idle
    websocket gets the packet at once (`direct_socket_send.send_now`), any other socket's
    send queue has it before this returns. A queued packet goes out on the loop's next turns
    (`writers_flushed`). The sender's own tab (`sender_sid`, last in `sids`) gets its packet
    once the other tabs' frames are written: its socket's turn is taken at once, so nothing
    overtakes it (`direct_socket_send.WebSocketSends.start`)."""
    server = namespace.server
    name = namespace.namespace
    encoded = server.packet_class(sio_packet.EVENT, namespace=name, data=[event, data]).encode()
    parts = encoded if isinstance(encoded, list) else [encoded]
    packets = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]
    handed = Handed()
    for sid in sids:
        eio_sid = server.manager.eio_sid_from_sid(sid, name)
        if eio_sid is None:  # disconnected since the room listed it
            continue
        if len(packets) > 1:  # a packet with attachments: its parts queued together, in order
            for part in packets:
                await server._send_eio_packet(eio_sid, part)
            handed.queued = True
            continue
        try:
            socket = server.eio._get_socket(eio_sid)
        except KeyError:  # closed meanwhile
            continue
        after = list(handed.started.values()) if sid == sender_sid else []
        started = await send_now(socket, packets[0], after)
        if started is None:
            handed.queued = True
        else:
            handed.started[sid] = started
    return handed


# Loop turns an engineio socket's writer task takes from a packet put on its queue to the
# packet handed to the web server: its `poll` waits with `asyncio.wait_for(queue.get())`, so
# the queue wakes wait_for's inner task (1), whose completion wakes wait_for (2), which wakes
# the writer (3). python-engineio is pinned in requirements.txt.
WRITER_TURNS = 3


async def writers_flushed() -> None:
    """Yield until the sockets' writers have handed what was just queued to the web server.

    The pushing task goes on with the rest of its handler afterwards (the session's close,
    Reflex's own emits to the sender's tab): yielding once, as Reflex's emit_update does,
    let that work run before the writers, which put it in front of every delivery. Other
    ready tasks run in these turns too; nothing waits longer than it would have anyway.
    """
    for _ in range(WRITER_TURNS):
        await asyncio.sleep(0)


def changed_vars(previous_dirty_vars: dict[str, set[str]]) -> bool:
    """Does a fan-out carry any change at all?"""
    return any(previous_dirty_vars.values())


def install() -> None:
    """Patch Reflex's fan-out (idempotent; Reflex is pinned in requirements.txt)."""
    global _installed
    if _installed:
        return
    _installed = True
    direct_socket_send.install()
    patch_linked = SharedStateBaseInternal._internal_patch_linked_state
    update_others = shared._do_update_other_tokens

    async def _internal_patch_linked_state(
        self: SharedStateBaseInternal, token: str, full_delta: bool = False
    ) -> Any:
        linked = await patch_linked(self, token, full_delta)
        if not full_delta:  # linking marks every var dirty on purpose: keep that
            forget_last_change(linked)
        return linked

    def _do_update_other_tokens(
        affected_tokens: set[str],
        previous_dirty_vars: dict[str, set[str]],
        state_type: type[Any],
    ) -> list[asyncio.Task[Any]]:
        if not changed_vars(previous_dirty_vars):
            return []
        return update_others(affected_tokens, previous_dirty_vars, state_type)

    SharedStateBaseInternal._internal_patch_linked_state = _internal_patch_linked_state  # type: ignore[method-assign]
    shared._do_update_other_tokens = _do_update_other_tokens
