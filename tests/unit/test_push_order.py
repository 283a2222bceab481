"""Who gets a room's push first: the other tabs, then the tab whose handler posted the message
(room_fanout.recipients, realtime.pushes_in_this_task). The packets are handed to the web
server one socket after the other, and the person waiting is the one on the other tab."""

from __future__ import annotations

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


def test_a_send_handlers_tab_is_the_sender_only_inside_its_block() -> None:
    assert room_fanout._sender.get() == ""
    with realtime.pushes_in_this_task("tab-1"):
        assert room_fanout._sender.get() == "tab-1"
    assert room_fanout._sender.get() == ""
