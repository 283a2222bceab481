"""`room_fanout.writers_flushed`: after a push queues a packet on a socket, the socket's
engineio writer hands it to the web server within WRITER_TURNS turns of the loop, before
the pushing task goes on (python-engineio is pinned; this fails when it changes)."""

from __future__ import annotations

import asyncio

import engineio
from engineio import packet
from engineio.async_socket import AsyncSocket

from handoff_app.room_fanout import WRITER_TURNS, writers_flushed


class _WebSocket:
    """What engineio's ASGI driver gives its socket: receives nothing, records sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed = asyncio.Event()

    async def wait(self) -> None:
        await self.closed.wait()
        return None

    async def send(self, data: str) -> None:
        self.sent.append(data)

    async def close(self) -> None:
        self.closed.set()


async def _socket() -> tuple[AsyncSocket, _WebSocket, asyncio.Task[None]]:
    server = engineio.AsyncServer(async_mode="asgi")
    socket = AsyncSocket(server, "sid")
    ws = _WebSocket()
    handler = asyncio.create_task(socket._websocket_handler(ws))
    for _ in range(10):  # the writer starts and waits on its queue
        await asyncio.sleep(0)
    return socket, ws, handler


async def _stop(ws: _WebSocket, handler: asyncio.Task[None]) -> None:
    await ws.close()
    await asyncio.wait_for(handler, 5)


async def test_the_writer_has_sent_a_queued_packet_when_it_returns() -> None:
    socket, ws, handler = await _socket()
    try:
        await socket.send(packet.Packet(packet.MESSAGE, data="pushed"))
        assert ws.sent == []  # queued only
        await writers_flushed()
        assert ws.sent == [packet.Packet(packet.MESSAGE, data="pushed").encode()]
    finally:
        await _stop(ws, handler)


async def test_one_turn_fewer_is_not_enough() -> None:
    """Why three: with fewer, the pusher's own next work would run before the send."""
    socket, ws, handler = await _socket()
    try:
        await socket.send(packet.Packet(packet.MESSAGE, data="pushed"))
        for _ in range(WRITER_TURNS - 1):
            await asyncio.sleep(0)
        assert ws.sent == []
        await asyncio.sleep(0)
        assert len(ws.sent) == 1
    finally:
        await _stop(ws, handler)
