"""Send every websocket frame at once: TCP_NODELAY on the worker's listening sockets.

Granian (the ASGI server `reflex run` uses) leaves Nagle's algorithm on for the connections
it accepts, and Reflex often writes two frames in a row (a delta, then its events). The second
then waits for the browser's delayed ACK of the first: 40 ms on Linux, however idle the server
(a loopback echo of two small writes: 44 ms with Nagle, 0.09 ms without). Accepted sockets
inherit TCP_NODELAY from their listening socket, and a worker
shares its listening socket with the server's supervisor, so setting it once in the worker
covers every connection accepted afterwards.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

_FD_DIR = Path("/proc/self/fd")  # Linux; elsewhere nothing is changed


def _is_tcp_listener(sock: socket.socket) -> bool:
    """A TCP socket with no peer: listening, or bound and about to listen (a worker's
    lifespan can run before the server calls listen())."""
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        return True
    try:
        sock.getpeername()
    except OSError:
        return True  # not connected
    return False


def disable_nagle_on_listeners() -> int:
    """Set TCP_NODELAY on every listening TCP socket of this process; returns how many."""
    if not _FD_DIR.is_dir():
        return 0
    changed = 0
    for entry in list(_FD_DIR.iterdir()):
        try:
            fd = int(entry.name)
            sock = socket.socket(fileno=os.dup(fd))  # a duplicate: closing it keeps `fd` open
        except (ValueError, OSError):
            continue  # not a socket (or already closed)
        try:
            if _is_tcp_listener(sock):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                changed += 1
        except OSError:
            pass
        finally:
            sock.close()
    log.info("TCP_NODELAY set on %d listening socket(s)", changed)
    return changed


async def send_frames_at_once() -> None:
    """A Reflex lifespan task: runs in each worker as it starts."""
    disable_nagle_on_listeners()
