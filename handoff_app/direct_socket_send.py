"""A push hands its packet to an idle websocket at once, not through the socket's writer task.

python-engineio gives each websocket a writer task waiting on the socket's queue. A packet put
on that queue reaches the web server three loop turns later (`room_fanout.WRITER_TURNS`), and
every callback that is ready in those turns runs first: another conversation's event that
arrived during this one's write runs its handler, a millisecond or two, in front of this
delivery. Under the delivery benchmark's load that wait was the largest part of the slowest
messages' gap to a bare event (1.3 ms of their 8).

`install()` (once per worker) gives each websocket engineio opens a `WebSocketSends`: every
send on it, the writer's and ours, takes a turn (`SendOrder`, first come first served), so they
reach the web server in the order they were asked for, one at a time as engineio's writer
sends them. `send_now` starts a packet's send on the spot when nothing is ahead of it: the
socket's queue is empty, its writer is waiting on it (not in the middle of a batch it already
took out) and no send holds or waits for a turn. The ASGI server's `send` is called right
there (granian starts writing the frame when it is called); its completion is awaited in a
task of its own, so a client that stopped reading holds up only its own socket, never the
pusher (which holds the room's lock) or the room's other tabs, and a pusher cancelled after
`send_now` returned takes nothing back. Otherwise the packet is queued as engineio's own
`send` does. python-engineio is pinned in requirements.txt; tests/unit/test_direct_socket_send.py
checks this against its socket, writer and ASGI driver.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any

from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

log = logging.getLogger(__name__)

_SENDS = "_handoff_sends"
# How long a packet sent `after` others waits for them at most: far above a frame's usual
# write (microseconds), short for a client that stopped reading.
AFTER_WAIT_S = 0.02
_installed = False


class SendOrder:
    """Turns to send on one websocket: one at a time, first asked, first served."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: deque[asyncio.Future[None]] = deque()

    def try_take(self) -> bool:
        """Take the turn now if nobody holds it or waits for it."""
        if self._held or self._waiting:
            return False
        self._held = True
        return True

    async def take(self) -> None:
        if self.try_take():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # it was handed the turn: pass it on
                self.give_back()
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def give_back(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the turn passes to it, still held
                return
        self._held = False


class WebSocketSends:
    """One websocket's sends in turn; replaces the engineio ASGI driver's `ws.send`."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.driver_send = ws.send
        self.order = SendOrder()
        self._finishing: set[asyncio.Task[None]] = set()

    async def send_in_turn(self, message: Any) -> None:
        await self.order.take()
        try:
            await self.driver_send(message)
        finally:
            self.order.give_back()

    def start(
        self, text: str, after: Sequence[asyncio.Future[None]] = ()
    ) -> asyncio.Task[None] | None:
        """Start sending `text` now if no send holds or waits for a turn (else None); the send
        ends, and gives its turn back, in a task of its own, which is returned. What the
        engineio ASGI driver's `send` does with a text, without waiting for the web server.

        With `after` (other sockets' sends still being written), the turn is taken now, so
        nothing overtakes this packet on its socket, and the send starts once those are
        written (at most AFTER_WAIT_S later)."""
        if not self.order.try_take():
            return None
        pending = [future for future in after if not future.done()]
        if pending:
            return self._in_turn(self._send_after(pending, text))
        try:
            sending = self.asgi_send(text)
        except Exception:
            self.order.give_back()
            self._lost()
            return None
        return self._in_turn(self._finish(sending))

    def asgi_send(self, text: str) -> Awaitable[Any]:
        return self.ws.asgi_send({"type": "websocket.send", "bytes": None, "text": text})

    async def _send_after(self, pending: list[asyncio.Future[None]], text: str) -> None:
        await asyncio.wait(pending, timeout=AFTER_WAIT_S)
        try:
            sending = self.asgi_send(text)
        except Exception:
            self._lost()
            return
        await self._finish(sending)

    async def _finish(self, sending: Awaitable[Any]) -> None:
        try:
            await sending
        except Exception:
            self._lost()

    def _in_turn(self, send: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `send`, which holds the socket's turn, in a task of its own; the turn is given
        back when the task is done, however it ends (even cancelled before its first step)."""
        task = self._keep(asyncio.ensure_future(send))
        task.add_done_callback(lambda _: self.order.give_back())
        return task

    def _keep(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._finishing.add(task)  # a task nobody awaits is kept until it is done
        task.add_done_callback(self._finishing.discard)
        return task

    def _lost(self) -> asyncio.Task[None]:
        """A send failed: close the websocket, as engineio's writer does when its own send
        fails; the tab reconnects and loads its state afresh."""
        log.debug("direct send failed; closing the websocket", exc_info=True)
        return self._keep(asyncio.ensure_future(self.ws.close()))  # its close swallows errors


def install() -> None:
    """Wrap engineio's websocket handler (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    handle = AsyncSocket._websocket_handler

    async def _websocket_handler(self: AsyncSocket, ws: Any) -> Any:
        sends = WebSocketSends(ws)
        ws.send = sends.send_in_turn
        setattr(self, _SENDS, sends)
        try:
            return await handle(self, ws)
        finally:
            if getattr(self, _SENDS, None) is sends:
                setattr(self, _SENDS, None)
            vars(ws).pop("send", None)  # no cycle ws -> sends -> ws left for the collector

    AsyncSocket._websocket_handler = _websocket_handler  # type: ignore[method-assign]


def writer_is_waiting(queue: asyncio.Queue[Any]) -> bool:
    """Nothing queued, and the socket's writer is waiting for the next packet (so it holds no
    packet of its own that it has taken out and not yet sent)."""
    getters = queue._getters  # type: ignore[attr-defined]
    return queue.empty() and any(not getter.done() for getter in getters)


def idle_websocket(socket: AsyncSocket) -> WebSocketSends | None:
    """The socket's websocket sends if a packet can go now, ahead of nothing queued."""
    sends: WebSocketSends | None = getattr(socket, _SENDS, None)
    if sends is None or not socket.upgraded or socket.upgrading or socket.closing:
        return None
    if socket.closed or not hasattr(sends.ws, "asgi_send"):
        return None
    last_ping = socket.last_ping  # engineio's send closes a socket whose pings stopped
    if last_ping and time.time() - last_ping > socket.server.ping_timeout:
        return None
    return sends if writer_is_waiting(socket.queue) else None


async def send_now(
    socket: AsyncSocket, pkt: eio_packet.Packet, after: Sequence[asyncio.Future[None]] = ()
) -> asyncio.Task[None] | None:
    """Start sending `pkt` on the socket's websocket now if nothing is ahead of it (once the
    sends `after` are written, see `WebSocketSends.start`), and return the end of that send;
    else queue it as engineio would, and return None."""
    sends = idle_websocket(socket)
    encoded = pkt.encode()
    started = None
    if sends is not None and isinstance(encoded, str):
        started = sends.start(encoded, after)
    if started is None:
        await socket.send(pkt)
    return started
