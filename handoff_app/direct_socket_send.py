"""A push hands its packet to an idle websocket at once, not through the socket's writer task.

python-engineio gives each websocket a writer task waiting on the socket's queue. A packet put
on that queue reaches the web server three loop turns later (`room_fanout.WRITER_TURNS`), and
every callback that is ready in those turns runs first: another conversation's event that
arrived during this one's write runs its handler, a millisecond or two, in front of this
delivery. Under the delivery benchmark's load that wait was the largest part of the slowest
messages' gap to a bare event (1.3 ms of their 8).

`install()` (once per worker) wraps each websocket engineio opens: its sends are serialised
by a lock, which is FIFO, so the writer's sends and ours go out in the order they are called,
and the socket remembers its websocket. `send_now` then sends on the websocket directly when
nothing is ahead of the packet: the socket's queue is empty and its writer is waiting on it
(not in the middle of a batch it already took out). Otherwise, and for a socket that is not
(or no longer) a plain websocket, it queues the packet as engineio's own `send` does.
python-engineio is pinned in requirements.txt; tests/unit/test_direct_socket_send.py checks
this against its code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

log = logging.getLogger(__name__)

_WEBSOCKET = "_handoff_websocket"
_installed = False


def serialise_sends(ws: Any) -> None:
    """Make `ws.send` take a per-socket lock: concurrent senders go out in call order."""
    send: Callable[[Any], Awaitable[Any]] = ws.send
    lock = asyncio.Lock()

    async def send_in_turn(message: Any) -> Any:
        async with lock:
            return await send(message)

    ws.send = send_in_turn


def install() -> None:
    """Wrap engineio's websocket handler (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    handle = AsyncSocket._websocket_handler

    async def _websocket_handler(self: AsyncSocket, ws: Any) -> Any:
        serialise_sends(ws)
        setattr(self, _WEBSOCKET, ws)
        try:
            return await handle(self, ws)
        finally:
            if getattr(self, _WEBSOCKET, None) is ws:
                setattr(self, _WEBSOCKET, None)

    AsyncSocket._websocket_handler = _websocket_handler  # type: ignore[method-assign]


def writer_is_waiting(queue: asyncio.Queue[Any]) -> bool:
    """Nothing queued, and the socket's writer is waiting for the next packet (so it holds no
    packet of its own that it has taken out and not yet sent)."""
    getters = queue._getters  # type: ignore[attr-defined]
    return queue.empty() and any(not getter.done() for getter in getters)


def idle_websocket(socket: AsyncSocket) -> Any | None:
    """The socket's websocket if a packet can go to it now, ahead of nothing."""
    ws = getattr(socket, _WEBSOCKET, None)
    if ws is None or not socket.upgraded or socket.upgrading or socket.closing or socket.closed:
        return None
    return ws if writer_is_waiting(socket.queue) else None


async def send_now(socket: AsyncSocket, pkt: eio_packet.Packet) -> bool:
    """Send `pkt` on the socket's websocket now if nothing is ahead of it, else queue it as
    engineio would. True when it was sent directly."""
    ws = idle_websocket(socket)
    if ws is None:
        await socket.send(pkt)
        return False
    if not await socket.check_ping_timeout():  # what engineio's send checks first
        return True
    try:
        await ws.send(pkt.encode())
    except Exception:  # the connection is going: its reader closes the socket, as when the
        # writer's send fails
        log.debug("direct send to %s failed", socket.sid, exc_info=True)
    return True
