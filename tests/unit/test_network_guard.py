"""The guard that keeps every test off the internet is on, and leaves loopback alone."""

from __future__ import annotations

import socket

import pytest

from tests.support.network_guard import InternetAccessBlocked


def test_an_internet_connection_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(InternetAccessBlocked):
        sock.connect(("93.184.216.34", 80))


def test_an_internet_name_lookup_is_refused() -> None:
    with pytest.raises(InternetAccessBlocked):
        socket.getaddrinfo("api.openai.com", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
    assert socket.getaddrinfo("localhost", 80)
