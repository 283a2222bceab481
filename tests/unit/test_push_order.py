"""Who gets a room's push first: the other tabs, then the tab whose handler posted the message
(room_fanout.recipients, realtime.pushes_in_this_task). The packets are handed to the web
server one socket after the other, and the person waiting is the one on the other tab."""

from __future__ import annotations

import asyncio

import pytest
from reflex.utils.token_manager import LocalTokenManager, SocketRecord

from handoff_app import realtime, room_fanout


def token_manager(sockets: dict[str, tuple[str, str]]) -> LocalTokenManager:
    """A real token manager holding `token -> (sid, instance)`; "here" is this worker."""
    manager = LocalTokenManager()
    manager.instance_id = "here"
    for token, (sid, instance) in sockets.items():
        manager.token_to_socket[token] = SocketRecord(instance_id=instance, sid=sid)
    return manager


def test_the_sender_is_served_last_and_other_workers_tabs_are_relayed() -> None:
    tokens = token_manager(
        {
            "agent": ("sid-agent", "here"),
            "visitor": ("sid-visitor", "here"),
            "watcher": ("sid-watcher", "here"),
            "remote": ("sid-remote", "other-worker"),
        }
    )
    linked = ["agent", "visitor", "remote", "watcher", "gone"]
    here, elsewhere = room_fanout.recipients(linked, tokens, sender="agent")
    assert here == ["sid-visitor", "sid-watcher", "sid-agent"]
    assert elsewhere == ["remote", "gone"]
    here, _ = room_fanout.recipients(linked, tokens, sender="visitor")
    assert here == ["sid-agent", "sid-watcher", "sid-visitor"]
    here, _ = room_fanout.recipients(linked, tokens, sender="")  # a push no tab sent
    assert here == ["sid-agent", "sid-visitor", "sid-watcher"]


async def test_a_send_handlers_tab_is_the_sender_only_inside_its_block() -> None:
    assert room_fanout.current_sender() == ""
    with realtime.pushes_in_this_task("tab-1"):
        assert room_fanout.current_sender() == "tab-1"
        # a task the handler starts (a coalesced push of another room) copies its context:
        # it is not the sender's push
        assert await asyncio.create_task(_sender_seen_in_a_task()) == ""
    assert room_fanout.current_sender() == ""


async def _sender_seen_in_a_task() -> str:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    handed = room_fanout.Handed(started={"sid": never})  # type: ignore[dict-item]
    await room_fanout.deliveries_written(handed)  # not the sender's push: no wait
    return room_fanout.current_sender()


async def test_a_senders_push_goes_on_once_its_frames_are_written() -> None:
    """`deliveries_written`: every frame the push started, the sender's own copy included."""
    loop = asyncio.get_running_loop()
    to_visitor: asyncio.Future[None] = loop.create_future()
    to_sender: asyncio.Future[None] = loop.create_future()
    handed = room_fanout.Handed(started={"sid-visitor": to_visitor, "sid-agent": to_sender})  # type: ignore[dict-item]

    async def web_server_writes() -> None:
        for frame in (to_visitor, to_sender):
            for _ in range(3):
                await asyncio.sleep(0)
            frame.set_result(None)

    with room_fanout.sent_from("agent"):
        writer = asyncio.ensure_future(web_server_writes())
        await room_fanout.deliveries_written(handed)  # in the handler's own task
        assert to_visitor.done() and to_sender.done()
    await writer


async def test_a_stalled_tab_holds_the_push_back_only_briefly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(room_fanout, "DELIVERY_WAIT_S", 0.01)
    stalled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with room_fanout.sent_from("agent"):
        handed = room_fanout.Handed(started={"sid-visitor": stalled})  # type: ignore[dict-item]
        await room_fanout.deliveries_written(handed)  # the handler's own task: bounded
    assert not stalled.done()  # it returned with the frame still unwritten


async def test_outside_a_send_handler_nothing_is_waited_for() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    handed = room_fanout.Handed(started={"sid-visitor": never})  # type: ignore[dict-item]
    await asyncio.wait_for(room_fanout.deliveries_written(handed), 1)
