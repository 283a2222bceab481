"""`direct_socket_send`: a push's packet goes to an idle websocket at once, and never ahead of
a packet that was sent or queued before it (engineio's real AsyncSocket and writer task, with
a websocket that records what it is given; python-engineio is pinned, this fails when it
changes how its writer waits)."""

from __future__ import annotations

import asyncio

import engineio
from engineio import packet
from engineio.async_socket import AsyncSocket

from handoff_app import direct_socket_send
from handoff_app.direct_socket_send import idle_websocket, send_now
from handoff_app.room_fanout import writers_flushed

direct_socket_send.install()


class _WebSocket:
    """What engineio's ASGI driver gives its socket: receives nothing, records sends; a send
    can be held until released, as a slow web server would."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed = asyncio.Event()
        self.open = asyncio.Event()
        self.open.set()
        self.failing = False

    async def wait(self) -> None:
        await self.closed.wait()
        return None

    async def send(self, data: str) -> None:
        await self.open.wait()
        if self.failing:
            raise ConnectionResetError("the peer went away")
        self.sent.append(data)

    async def close(self) -> None:
        self.closed.set()


def _message(text: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data=text)


def _wire(*texts: str) -> list[str]:
    return [_message(text).encode() for text in texts]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def _socket() -> tuple[AsyncSocket, _WebSocket, asyncio.Task[None]]:
    server = engineio.AsyncServer(async_mode="asgi")
    socket = AsyncSocket(server, "sid")
    ws = _WebSocket()
    handler = asyncio.create_task(socket._websocket_handler(ws))
    await _settle()  # the writer starts and waits on its queue
    return socket, ws, handler


async def _stop(ws: _WebSocket, handler: asyncio.Task[None]) -> None:
    ws.open.set()
    await ws.close()
    await asyncio.wait_for(handler, 5)


async def test_an_idle_websocket_has_the_packet_when_send_now_returns() -> None:
    socket, ws, handler = await _socket()
    try:
        assert idle_websocket(socket) is not None
        assert await send_now(socket, _message("pushed")) is True
        assert ws.sent == _wire("pushed")  # no loop turn of the writer's needed
        assert socket.queue.empty()
    finally:
        await _stop(ws, handler)


async def test_a_packet_already_queued_goes_first() -> None:
    socket, ws, handler = await _socket()
    try:
        await socket.send(_message("queued before"))
        assert idle_websocket(socket) is None
        assert await send_now(socket, _message("pushed")) is False
        await writers_flushed()
        assert ws.sent == _wire("queued before", "pushed")
    finally:
        await _stop(ws, handler)


async def test_a_batch_the_writer_is_sending_goes_first() -> None:
    """The writer has taken two packets out of the queue and is held sending the first: the
    queue is empty, but the second is still the writer's to send."""
    socket, ws, handler = await _socket()
    try:
        ws.open.clear()
        await socket.send(_message("first"))
        await socket.send(_message("second"))
        await _settle()
        assert socket.queue.empty() and ws.sent == []  # taken out, held in the send
        assert idle_websocket(socket) is None
        assert await send_now(socket, _message("pushed")) is False
        ws.open.set()
        await _settle()
        assert ws.sent == _wire("first", "second", "pushed")
    finally:
        await _stop(ws, handler)


async def test_what_is_queued_during_a_direct_send_goes_after_it() -> None:
    socket, ws, handler = await _socket()
    try:
        ws.open.clear()
        direct = asyncio.create_task(send_now(socket, _message("pushed")))
        await _settle()  # the direct send is held in the web server
        await socket.send(_message("emitted after"))
        await _settle()  # the writer takes it and waits for the socket's send lock
        ws.open.set()
        assert await direct is True
        await _settle()
        assert ws.sent == _wire("pushed", "emitted after")
    finally:
        await _stop(ws, handler)


async def test_a_socket_without_a_websocket_is_queued() -> None:
    """A long-polling socket (never upgraded) or one whose websocket has closed."""
    server = engineio.AsyncServer(async_mode="asgi")
    socket = AsyncSocket(server, "sid")
    assert idle_websocket(socket) is None
    assert await send_now(socket, _message("pushed")) is False
    assert socket.queue.get_nowait().data == "pushed"

    socket, ws, handler = await _socket()
    await _stop(ws, handler)
    assert idle_websocket(socket) is None


async def test_a_failed_direct_send_is_not_raised_to_the_pusher() -> None:
    """The connection went away under the send: its reader closes the socket, as when the
    writer's own send fails; the push goes on to the room's other tabs."""
    socket, ws, handler = await _socket()
    try:
        ws.failing = True
        assert await send_now(socket, _message("pushed")) is True
        assert ws.sent == []
    finally:
        await _stop(ws, handler)
