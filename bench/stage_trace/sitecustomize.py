"""Stage timestamps inside the app's worker, for `python -m bench.delivery --trace PATH`.

Loaded into the benchmark's server only (bench.delivery puts this folder on its PYTHONPATH and
sets STAGE_TRACE=PATH): it wraps, as each module is imported, the points a message and the
floor's bare event pass, and records `time.perf_counter()` (CLOCK_MONOTONIC, the bench
client's clock too) with the asyncio task and a key (a message's body, "seen<N>" for a floor
probe) to PATH.server.<pid>, every two seconds and at exit. Garbage collections are recorded
too. `python -m bench.stage_report PATH` reads them with the client's own times.

Stages: arrive (the socket handler has the event), act/act_end (an agent action's write
transaction), staff (its session check done), access (its row lock and access check done),
uc_start/uc_end (the message's use case), publish (committed; events go out), push (the room's
packet is queued to the sockets), emit_floor (the floor's delta is emitted), wsend (the packet
is handed to the web server), gc (a collection: generation, microseconds).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import importlib.abc
import os
import re
import sys
import threading
import time
from typing import Any

OUT = os.environ.get("STAGE_TRACE", "")
# each record a finished line: a string is no container, so recording allocates nothing the
# cyclic collector counts (tuples did: ~30,000 a run brought on collections of their own)
_records: list[str] = []
_BODY = re.compile(r"(?:agent|visitor) says c\d+-\d+")
_SEEN = re.compile(r'seen_id_rx_state_":(\d+)')
_SLOT = re.compile(r"m\d+_rx_state_")
now = time.perf_counter


def record(stage: str, key: str = "") -> None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    _records.append(f"{now():.6f}\t{stage}\t{id(task) if task else 0}\t{key}\n")


# per process id: how many of `_records` its file holds (a forked worker starts its own file)
_written: dict[int, int] = {}


def _dump() -> None:
    """Append the records not written yet: rewriting them all every two seconds held the GIL
    longer as the run went on (~60 ms at 60,000 records) and slowed the run it measured."""
    pid = os.getpid()
    done = _written.get(pid)
    new = _records[done or 0 :]  # a copy: the loop may append meanwhile
    with open(f"{OUT}.server.{pid}", "w" if done is None else "a") as out:
        out.writelines(new)
    _written[pid] = (done or 0) + len(new)


def _dump_every_two_seconds() -> None:
    while True:
        time.sleep(2)
        _dump()


def _wrap(module: Any, name: str, enter: str = "", leave: str = "", body: bool = False) -> None:
    original = getattr(module, name)

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("body") if body else ""
        key = key if isinstance(key, str) else ""
        if enter:
            record(enter, key)
        try:
            return await original(*args, **kwargs)
        finally:
            if leave:
                record(leave, key)

    setattr(module, name, wrapped)


def _key_of(text: str) -> str:
    found = _BODY.findall(text)
    if found:
        return str(found[-1])
    seen = _SEEN.search(text)
    return f"seen{seen.group(1)}" if seen else ""


def _patch_reflex_app(module: Any) -> None:
    namespace = module.EventNamespace
    on_event, emit_update = namespace.on_event, namespace.emit_update

    async def traced_on_event(self: Any, sid: str, data: Any) -> Any:
        payload = data.get("payload") if isinstance(data, dict) else None
        payload = payload if isinstance(payload, dict) else {}
        form = payload.get("form") if isinstance(payload.get("form"), dict) else {}
        key = form.get("body") or (
            f"seen{payload['message_id']}" if "message_id" in payload else ""
        )
        record("arrive", key if isinstance(key, str) else "")
        return await on_event(self, sid, data)

    async def traced_emit_update(self: Any, update: Any, token: str) -> Any:
        for changes in (getattr(update, "delta", None) or {}).values():
            if "seen_id_rx_state_" in changes:
                record("emit_floor", f"seen{changes['seen_id_rx_state_']}")
        return await emit_update(self, update, token)

    namespace.on_event, namespace.emit_update = traced_on_event, traced_emit_update


def _patch_fanout(module: Any) -> None:
    send = module.send_to_sockets

    async def traced_send(
        namespace: Any, event: str, data: Any, sids: list[str], **options: Any
    ) -> Any:
        for changes in (getattr(data, "delta", None) or {}).values():
            # a room's messages: a base window, or one per change slot (live_window.py)
            messages = list(changes.get("messages_rx_state_") or [])
            messages += [
                slot["row"]
                for name, slot in changes.items()
                if _SLOT.fullmatch(name) and isinstance(slot, dict) and slot.get("row")
            ]
            if messages:
                last = messages[-1]
                body = last.get("body") if isinstance(last, dict) else getattr(last, "body", "")
                record("push", body or "")
        return await send(namespace, event, data, sids, **options)

    module.send_to_sockets = traced_send


def _patch_websocket(module: Any) -> None:
    send = module.WebSocket.send

    async def traced_send(self: Any, message: Any) -> Any:
        if isinstance(message, str):
            key = _key_of(message)
            if key:
                record("wsend", key)
        return await send(self, message)

    module.WebSocket.send = traced_send


def _patch_direct_send(module: Any) -> None:
    asgi_send = module.WebSocketSends.asgi_send

    def traced_asgi_send(self: Any, text: str) -> Any:
        key = _key_of(text)
        if key:
            record("wsend", key)  # handed to the web server (it starts the send when called)
        return asgi_send(self, text)

    module.WebSocketSends.asgi_send = traced_asgi_send


def _patch_events(module: Any) -> None:
    publish = module.publish

    async def traced_publish(*events: Any) -> None:
        record("publish")
        await publish(*events)

    module.publish = traced_publish


PATCHES = {
    "reflex.app": _patch_reflex_app,
    "handoff_app.room_fanout": _patch_fanout,
    "engineio.async_drivers.asgi": _patch_websocket,
    "handoff_app.direct_socket_send": _patch_direct_send,
    "handoff_app.events": _patch_events,
    "handoff_app.states.agent_conversation": lambda m: (
        _wrap(m, "_act_as", enter="act", leave="act_end"),
        _wrap(m, "staff_in_transaction", leave="staff"),
        _wrap(m, "lock_for_staff", leave="access"),
    ),
    "handoff_app.services.handoff": lambda m: _wrap(
        m, "post_agent_reply", enter="uc_start", leave="uc_end", body=True
    ),
    "handoff_app.services.conversations": lambda m: _wrap(
        m, "post_visitor_message", enter="uc_start", leave="uc_end", body=True
    ),
}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the other finders load a module, then patches it."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                execute = spec.loader.exec_module

                def exec_module(module: Any, _execute: Any = execute) -> None:
                    _execute(module)
                    PATCHES[fullname](module)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _on_collection.started = now()  # type: ignore[attr-defined]
    else:
        started = getattr(_on_collection, "started", now())
        took = (now() - started) * 1e6
        _records.append(f"{started:.6f}\tgc\t{info['generation']}\t{took:.0f}\n")


if OUT:
    sys.meta_path.insert(0, _PatchOnImport())
    gc.callbacks.append(_on_collection)
    atexit.register(_dump)
    threading.Thread(target=_dump_every_two_seconds, daemon=True).start()
    # workers are forked: threads do not survive a fork
    os.register_at_fork(
        after_in_child=lambda: threading.Thread(target=_dump_every_two_seconds, daemon=True).start()
    )
