"""Connections accepted after a worker starts send small frames at once (TCP_NODELAY)."""

from __future__ import annotations

import socket
import sys

import pytest

from handoff_app.tcp_nodelay import disable_nagle_on_listeners


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_listening_sockets_get_nodelay_and_connections_inherit_it() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    try:
        accepted_before, _ = listener.accept()
        assert not listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert disable_nagle_on_listeners() >= 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        # connected sockets are left as they were
        assert not client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert not accepted_before.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:  # accepted afterwards: inherits it from the listener
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        accepted_before.close()
    finally:
        client.close()
        listener.close()
