"""`direct_socket_send`: a push's packet goes to an idle websocket at once, never ahead of a
packet sent or queued before it, and never makes the pusher wait for a client.

Real engineio: its AsyncSocket, its writer task and its ASGI driver's WebSocket, in front of
an ASGI server that behaves like granian's (python-engineio is pinned; these fail when it
changes how its writer waits): a `websocket.send` starts writing the frame when it is called
(recorded in `started`), and its awaitable completes when the server has written it, which a
test can hold back (`hold`) as a slow or gone client would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import pytest
import socketio
from engineio import packet
from engineio.async_drivers.asgi import WebSocket
from engineio.async_socket import AsyncSocket

from handoff_app import direct_socket_send, room_fanout
from handoff_app.direct_socket_send import SendOrder, idle_websocket, send_now
from handoff_app.room_fanout import writers_flushed

direct_socket_send.install()


class _Server:
    """The ASGI server's side of one websocket connection."""

    def __init__(self) -> None:
        self.started: list[str] = []  # frames, in the order their sends were started
        self.written: list[str] = []  # frames whose send completed
        self.closed = False
        self.gone = asyncio.Event()  # the client disconnects
        self.hold: asyncio.Event | None = None  # while set and clear, sends do not complete
        self.failing = False
        self.raising = False  # the server's send raises at the call (a closed connection)
        self.writing: set[asyncio.Future[None]] = set()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "websocket.disconnect"}

    def send(self, message: dict[str, Any]) -> asyncio.Future[None]:
        """Like granian: the work starts on the call; the result says when it is done."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if message["type"] == "websocket.close":
            self.closed = True
            self.gone.set()
            done.set_result(None)
            return done
        if message["type"] != "websocket.send":
            done.set_result(None)
            return done
        if self.raising:
            raise RuntimeError("the connection is closed")
        if self.failing:
            done.set_exception(ConnectionResetError("the client went away"))
            return done
        text = message["text"]
        self.started.append(text)
        hold = self.hold

        async def complete() -> None:
            if hold is not None:
                await hold.wait()
            self.written.append(text)
            done.set_result(None)

        self.writing.add(asyncio.ensure_future(complete()))
        return done


def _message(text: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data=text)


def _wire(*texts: str) -> list[str]:
    return [_message(text).encode() for text in texts]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def _socket(
    engine: engineio.AsyncServer | None = None, eio_sid: str = "sid"
) -> tuple[AsyncSocket, _Server, asyncio.Task[Any]]:
    engine = engine or engineio.AsyncServer(async_mode="asgi")
    socket = AsyncSocket(engine, eio_sid)
    server = _Server()
    ws = WebSocket(socket._websocket_handler, engine)
    connection = asyncio.create_task(ws({"asgi.receive": server.receive, "asgi.send": server.send}))
    await _settle()  # accepted; the writer starts and waits on its queue
    return socket, server, connection


async def _stop(server: _Server, connection: asyncio.Task[Any]) -> None:
    if server.hold is not None:
        server.hold.set()
    server.gone.set()
    await asyncio.wait_for(connection, 5)


async def test_an_idle_websocket_is_sending_the_packet_when_send_now_returns() -> None:
    socket, server, connection = await _socket()
    try:
        assert idle_websocket(socket) is not None
        assert await send_now(socket, _message("pushed")) is not None
        assert server.started == _wire("pushed")  # no loop turn of the writer's needed
        assert socket.queue.empty()
        await _settle()
        assert server.written == _wire("pushed")
    finally:
        await _stop(server, connection)


async def test_a_packet_already_queued_goes_first() -> None:
    socket, server, connection = await _socket()
    try:
        await socket.send(_message("queued before"))
        assert idle_websocket(socket) is None
        assert await send_now(socket, _message("pushed")) is None
        await writers_flushed()
        await _settle()
        assert server.started == _wire("queued before", "pushed")
    finally:
        await _stop(server, connection)


async def test_a_batch_the_writer_is_sending_goes_first() -> None:
    """The writer has taken two packets out of the queue and is held sending the first: the
    queue is empty, but the second is still the writer's to send."""
    socket, server, connection = await _socket()
    try:
        server.hold = asyncio.Event()
        await socket.send(_message("first"))
        await socket.send(_message("second"))
        await _settle()
        assert socket.queue.empty() and server.started == _wire("first")
        assert idle_websocket(socket) is None
        assert await send_now(socket, _message("pushed")) is None
        server.hold.set()
        await _settle()
        assert server.started == _wire("first", "second", "pushed")
    finally:
        await _stop(server, connection)


async def test_what_is_emitted_during_a_direct_send_waits_until_it_is_written() -> None:
    """Two sends in flight on one websocket could reach the wire in either order (granian
    starts each on its own): the writer's next send waits for the direct one to complete."""
    socket, server, connection = await _socket()
    try:
        server.hold = asyncio.Event()
        assert await send_now(socket, _message("pushed")) is not None
        await socket.send(_message("emitted after"))
        await _settle()  # the writer took it and waits for its turn
        assert server.started == _wire("pushed")
        server.hold.set()
        await _settle()
        assert server.started == server.written == _wire("pushed", "emitted after")
    finally:
        await _stop(server, connection)


async def test_a_second_push_while_the_first_is_in_flight_is_queued_behind_it() -> None:
    socket, server, connection = await _socket()
    try:
        server.hold = asyncio.Event()
        assert await send_now(socket, _message("first push")) is not None
        await _settle()
        assert await send_now(socket, _message("second push")) is None
        server.hold.set()
        await writers_flushed()
        await _settle()
        assert server.written == _wire("first push", "second push")
    finally:
        await _stop(server, connection)


async def test_a_client_that_stopped_reading_holds_up_only_its_own_socket() -> None:
    stalled_socket, stalled, stalled_connection = await _socket()
    socket, server, connection = await _socket()
    try:
        stalled.hold = asyncio.Event()  # its sends never complete
        assert await asyncio.wait_for(send_now(stalled_socket, _message("m1")), 1) is not None
        assert await asyncio.wait_for(send_now(socket, _message("m1")), 1) is not None
        await _settle()
        assert server.written == _wire("m1")
        assert stalled.started == _wire("m1") and stalled.written == []
    finally:
        await _stop(stalled, stalled_connection)
        await _stop(server, connection)


async def test_a_pusher_cancelled_after_the_send_started_takes_nothing_back() -> None:
    """The pusher's task (the sender's handler) is cancelled when its tab goes away."""
    socket, server, connection = await _socket()
    try:
        server.hold = asyncio.Event()
        started = asyncio.Event()

        async def pusher() -> None:
            await send_now(socket, _message("pushed"))
            started.set()
            await asyncio.Event().wait()  # the rest of its handler

        task = asyncio.create_task(pusher())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        server.hold.set()
        await _settle()
        assert server.written == _wire("pushed")
    finally:
        await _stop(server, connection)


async def test_a_failed_direct_send_closes_the_websocket_as_the_writer_would() -> None:
    """Nothing is raised to the pusher; the tab's connection closes and it reconnects."""
    socket, server, connection = await _socket()
    try:
        server.failing = True
        assert await send_now(socket, _message("pushed")) is not None
        await asyncio.wait_for(connection, 5)  # the handler ended: the websocket was closed
        assert server.closed and socket.closed
    finally:
        await _stop(server, connection)


async def test_a_socket_without_an_open_websocket_is_queued() -> None:
    """A long-polling socket (never upgraded), or one whose websocket has closed."""
    engine = engineio.AsyncServer(async_mode="asgi")
    polling = AsyncSocket(engine, "sid")
    assert idle_websocket(polling) is None
    assert await send_now(polling, _message("pushed")) is None
    assert polling.queue.get_nowait().data == "pushed"

    socket, server, connection = await _socket()
    await _stop(server, connection)
    assert socket._handoff_sends is None  # type: ignore[attr-defined]  # what the wrapper set is let go
    assert idle_websocket(socket) is None


async def test_turns_pass_in_order_and_a_cancelled_waiter_gives_up_its_place() -> None:
    order = SendOrder()
    served: list[str] = []

    async def send(name: str) -> None:
        await order.take()
        served.append(name)
        await asyncio.sleep(0)
        order.give_back()

    assert order.try_take()
    first, quitter, last = (asyncio.create_task(send(n)) for n in ("first", "quitter", "last"))
    await _settle()
    assert not order.try_take()  # held, and others wait
    quitter.cancel()
    await _settle()
    order.give_back()
    await asyncio.gather(first, last)
    assert quitter.cancelled() and served == ["first", "last"]
    assert order.try_take()  # free again


async def test_the_senders_copy_starts_once_the_other_tabs_frames_are_written() -> None:
    """`after`: the socket's turn is taken at once (what is emitted meanwhile waits behind the
    copy), the send itself starts when the other sends are written."""
    socket, server, connection = await _socket()
    other_tab: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    try:
        assert await send_now(socket, _message("own copy"), after=[other_tab]) is not None
        await socket.send(_message("emitted after"))
        await _settle()
        assert server.started == []  # waiting for the other tab's frame
        other_tab.set_result(None)
        await _settle()
        assert server.written == _wire("own copy", "emitted after")
    finally:
        await _stop(server, connection)


async def test_the_senders_copy_waits_for_a_stalled_tab_only_briefly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(direct_socket_send, "AFTER_WAIT_S", 0.01)
    socket, server, connection = await _socket()
    stalled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    try:
        sent = await send_now(socket, _message("own copy"), after=[stalled])
        assert sent is not None
        await asyncio.wait_for(sent, 1)
        assert server.written == _wire("own copy") and not stalled.done()
    finally:
        await _stop(server, connection)


@pytest.mark.parametrize("when", ["at the call", "after the wait"])
async def test_a_send_the_server_refuses_at_once_closes_the_websocket(when: str) -> None:
    socket, server, connection = await _socket()
    try:
        server.raising = True
        other_tab: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        after = [other_tab] if when == "after the wait" else []
        await send_now(socket, _message("pushed"), after=after)
        other_tab.set_result(None)
        await asyncio.wait_for(connection, 5)  # the handler ended: the websocket was closed
        assert server.closed and socket.closed
    finally:
        await _stop(server, connection)


async def test_a_send_cancelled_before_its_first_step_gives_its_turn_back() -> None:
    """Only the loop's shutdown cancels these tasks; the writer must not wait forever."""
    socket, server, connection = await _socket()
    try:
        sends = idle_websocket(socket)
        assert sends is not None
        other_tab: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = sends.start(_message("own copy").encode(), after=[other_tab])
        assert task is not None
        task.cancel()
        await _settle()
        assert sends.order.try_take()  # free again
        sends.order.give_back()
        await socket.send(_message("emitted after"))
        await writers_flushed()
        await _settle()
        assert server.written == _wire("emitted after")
    finally:
        await _stop(server, connection)


async def test_send_to_sockets_serves_the_sender_once_the_other_tab_has_its_frame() -> None:
    """room_fanout.send_to_sockets with python-socketio's real server and manager."""
    sio = socketio.AsyncServer(async_mode="asgi")
    tabs = {name: await _socket(sio.eio, f"eio-{name}") for name in ("visitor", "agent")}
    sids = {}
    for name, (socket, _server, _connection) in tabs.items():
        sio.eio.sockets[socket.sid] = socket
        sids[name] = await sio.manager.pre_connect(socket.sid, "/")
    visitor, agent = tabs["visitor"][1], tabs["agent"][1]
    try:
        visitor.hold = asyncio.Event()
        namespace = type("Namespace", (), {"server": sio, "namespace": "/"})()
        handed = await room_fanout.send_to_sockets(
            namespace,
            "event",
            {"said": "hi"},
            [sids["visitor"], sids["agent"]],
            sender_sid=sids["agent"],
        )
        assert not handed.queued and set(handed.started) == {sids["visitor"], sids["agent"]}
        await _settle()
        assert len(visitor.started) == 1 and agent.started == []  # the agent sent it: last
        visitor.hold.set()
        await asyncio.wait_for(asyncio.gather(*handed.started.values()), 1)
        assert agent.written == visitor.written and '"said":"hi"' in agent.written[0]
    finally:
        for _, server, connection in tabs.values():
            await _stop(server, connection)
