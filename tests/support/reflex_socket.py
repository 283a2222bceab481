"""A raw Reflex websocket client: what a browser tab (or an attacker) sends on `/_event`.

Protocol (Reflex 0.10): socket.io v5 on path and namespace `/_event`, websocket only, the tab
token in the query string, the `hydrate_and_load` boot event in the CONNECT auth payload, then
`event` packets both ways. Deltas are merged per state full name, vars without `_rx_state_`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from handoff_app.live_window import SLOT_NAMES, shown

ROOT = "reflex___state____state"
SHARED = f"{ROOT}.reflex___istate___shared____shared_state_base_internal"
VISITOR = f"{ROOT}.handoff_app___states___visitor____visitor_state"
STAFF_AUTH = f"{ROOT}.handoff_app___states___staff_auth____staff_auth_state"
LOGIN = f"{ROOT}.handoff_app___states___staff_auth____login_state"
AGENT_QUEUE = f"{ROOT}.handoff_app___states___agent_queue____agent_queue_state"
AGENT_CONVERSATION = f"{ROOT}.handoff_app___states___agent_conversation____agent_conversation_state"
SETTINGS = f"{ROOT}.handoff_app___states___settings____settings_state"
CONVERSATION_ROOM = f"{SHARED}.handoff_app___realtime____conversation_room"
STAFF_QUEUE_ROOM = f"{SHARED}.handoff_app___realtime____staff_queue_room"
STAFF_BOT_ROOM = f"{SHARED}.handoff_app___realtime____staff_bot_room"
STAFF_LISTS = f"{ROOT}.handoff_app___realtime____staff_list_snapshots"
STAFF_BADGE = f"{ROOT}.handoff_app___realtime____staff_badge"
CONTEXT_ROOM = f"{SHARED}.handoff_app___realtime____conversation_context_room"
STAFF_PAGE = f"{ROOT}.handoff_app___states___staff_admin____staff_page_state"
SUFFIX = "_rx_state_"

State = dict[str, dict[str, Any]]


def router_data(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """What the browser sends: the real path (dynamic params also go in `query`)."""
    data: dict[str, Any] = {"pathname": path, "asPath": path}
    if query:
        data["query"] = dict(query)
    return data


def conversation_path(conversation_id: int) -> tuple[str, dict[str, str]]:
    return f"/agent/conversations/{conversation_id}", {"conv_id": str(conversation_id)}


@dataclass
class Arrival:
    at: float  # time.perf_counter() when the packet was decoded
    delta: State


@dataclass
class ReflexSocket:
    """One tab. `state` holds every delta merged; `arrivals` (when `record`) each delta's time."""

    base_url: str  # e.g. "http://127.0.0.1:8000"
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    record: bool = False
    state: State = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    frontend_events: list[dict[str, Any]] = field(default_factory=list)
    new_tokens: list[str] = field(default_factory=list)
    listeners: list[Callable[[float, State], None]] = field(default_factory=list)
    path: str = "/"
    query: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self._changed = asyncio.Condition()
        self.sio.on("event", self._on_event, namespace="/_event")
        self.sio.on("new_token", self._on_new_token, namespace="/_event")

    async def _on_event(self, update: dict[str, Any]) -> None:
        now = time.perf_counter()
        delta: State = {
            name: {k.removesuffix(SUFFIX): v for k, v in changes.items()}
            for name, changes in (update.get("delta") or {}).items()
        }
        for name, changes in delta.items():
            self.state.setdefault(name, {}).update(changes)
        self.frontend_events.extend(update.get("events") or [])
        if self.record:
            self.arrivals.append(Arrival(now, delta))
        for listener in self.listeners:
            listener(now, delta)
        async with self._changed:
            self._changed.notify_all()

    async def _on_new_token(self, token: str) -> None:
        self.token = token
        self.new_tokens.append(token)

    async def connect(
        self,
        path: str = "/",
        query: dict[str, str] | None = None,
        storage: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Open the socket with the boot event; `storage` maps "<state>.<var>" to browser values."""
        self.path, self.query = path, dict(query or {})
        payload: dict[str, Any] = {"vars": dict(storage)} if storage else {}
        boot = {
            "name": f"{ROOT}.hydrate_and_load",
            "payload": payload,
            "router_data": router_data(path, query),
        }
        await self.sio.connect(
            f"{self.base_url}?token={self.token}",
            transports=["websocket"],
            socketio_path="/_event",
            namespaces=["/_event"],
            auth={"event": boot},
            wait_timeout=timeout,
        )

    async def send(
        self,
        state: str,
        handler: str,
        payload: dict[str, Any] | None = None,
        *,
        path: str | None = None,
        query: dict[str, str] | None = None,
    ) -> float:
        """Emit one event; returns its send time (perf_counter) for latency measurements."""
        event = {
            "name": f"{state}.{handler}",
            "payload": payload or {},
            "router_data": router_data(path or self.path, self.query if query is None else query),
        }
        sent = time.perf_counter()
        await self.sio.emit("event", event, namespace="/_event")
        return sent

    def var(self, state: str, name: str, default: Any = None) -> Any:
        return self.state.get(state, {}).get(name, default)

    async def wait_for(self, predicate: Callable[[State], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(state)` is truthy; return its value or raise TimeoutError."""

        async def watch() -> Any:
            async with self._changed:
                while not (result := predicate(self.state)):
                    await self._changed.wait()
                return result

        try:
            return await asyncio.wait_for(watch(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"condition not met within {timeout}s; state: {_short(self.state)}"
            ) from None

    def expect(self, match: Callable[[State], Any]) -> asyncio.Future[float]:
        """Arm before sending: resolves with the arrival time of the first delta `match`es."""
        arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        def listener(at: float, delta: State) -> None:
            if not arrived.done() and match(delta):
                arrived.set_result(at)

        self.listeners.append(listener)
        arrived.add_done_callback(lambda _: self.listeners.remove(listener))
        return arrived

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class LiveList:
    """What the browser's merge (components/live_list.py) shows for one live list, in Python:
    the tab's snapshot with the room's later changes applied once each, in `sort_key` order.
    `rows()` returns None when the tab must resync (a gap, or a new epoch)."""

    def __init__(self, room: str = STAFF_QUEUE_ROOM, snapshot: str = "queue") -> None:
        self.room, self.snapshot = room, snapshot
        self._snap: dict[str, Any] | None = None
        self._seq = 0
        self._rows: dict[int, dict[str, Any]] = {}

    def rows(self, state: State) -> list[dict[str, Any]] | None:
        snap = state.get(STAFF_LISTS, {}).get(self.snapshot) or {}
        if snap is not self._snap:
            self._snap, self._seq = snap, snap.get("seq", 0)
            self._rows = {r["conversation_id"]: r for r in snap.get("rows", [])}
        if not snap.get("epoch"):
            return []
        room_ = state.get(self.room, {})
        seq = room_.get("seq", 0)
        if room_.get("epoch") != snap["epoch"] or seq < self._seq:
            return None
        found = {
            c["seq"]: c
            for name, c in room_.items()
            if name[0] == "c" and name[1:].isdigit() and self._seq < c.get("seq", 0) <= seq
        }
        if len(found) != seq - self._seq:
            return None
        for n in range(self._seq + 1, seq + 1):
            change = found[n]
            if change["row"] is None:
                self._rows.pop(change["key"], None)
            else:
                self._rows[change["key"]] = change["row"]
        self._seq = seq
        return sorted(self._rows.values(), key=lambda r: r["sort_key"])


def queue_loaded(state: State) -> bool:
    """The queue page's rows have arrived (the tab's snapshot of the live queue)."""
    return bool(state.get(STAFF_LISTS, {}).get("queue", {}).get("epoch"))


def change_slots(delta: State, room: str = STAFF_QUEUE_ROOM) -> list[dict[str, Any]]:
    """The change slots a delta carries for `room`."""
    return [c for n, c in delta.get(room, {}).items() if n[0] == "c" and n[1:].isdigit() and c]


def _short(state: State, limit: int = 2000) -> str:
    text = repr({name.rsplit(".", 1)[-1]: vars_ for name, vars_ in state.items()})
    return text if len(text) <= limit else text[:limit] + "..."


# --- Scenario helpers shared by the socket tests and the benchmark ---------------------------


def staff_storage(token: str) -> dict[str, str]:
    """The browser storage a signed-in staff tab sends on hydrate."""
    return {f"{STAFF_AUTH}.token": token}


def room(state: State) -> dict[str, Any]:
    return state.get(CONVERSATION_ROOM, {})


async def sign_in(base_url: str, email: str, password: str, timeout: float = 10.0) -> str:
    """Sign in through LoginState like the /login page; return the staff token it stores."""
    tab = ReflexSocket(base_url)
    await tab.connect("/login", timeout=timeout)
    try:
        await tab.send(LOGIN, "submit", {"form": {"email": email, "password": password}})
        outcome = await tab.wait_for(
            lambda s: s.get(STAFF_AUTH, {}).get("token") or s.get(LOGIN, {}).get("error"),
            timeout,
        )
        token: str = tab.var(STAFF_AUTH, "token", "")
        if not token:
            raise AssertionError(f"sign-in refused: {outcome}")
        return token
    finally:
        await tab.close()


async def visitor_with_conversation(
    base_url: str, body: str = "Hello, I need help", timeout: float = 10.0
) -> tuple[ReflexSocket, int]:
    """A visitor tab that has posted one message; returns it and its conversation id."""
    tab = ReflexSocket(base_url)
    await tab.connect("/", timeout=timeout)
    await tab.send(VISITOR, "send", {"form": {"body": body}})
    conversation_id: int = await tab.wait_for(
        lambda s: s.get(VISITOR, {}).get("conversation_key") and room(s).get("conversation_id"),
        timeout,
    )
    await tab.wait_for(lambda s: body in messages_from(s, "visitor"), timeout)
    return tab, conversation_id


async def request_human(tab: ReflexSocket, timeout: float = 10.0) -> None:
    await tab.send(VISITOR, "talk_to_human")
    await tab.wait_for(lambda s: room(s).get("status") == "pending", timeout)


async def open_agent_conversation(
    base_url: str, token: str, conversation_id: int, timeout: float = 10.0
) -> ReflexSocket:
    """A staff tab on /agent/conversations/<id>, its room linked and filled."""
    path, query = conversation_path(conversation_id)
    tab = ReflexSocket(base_url)
    await tab.connect(path, query, storage=staff_storage(token), timeout=timeout)
    await tab.wait_for(lambda s: room(s).get("conversation_id") == conversation_id, timeout)
    return tab


def shown_messages(state: State) -> list[dict[str, Any]]:
    """The messages the tab shows: the room's base window and its later changes, merged as
    the browser merges them (handoff_app/live_window.py)."""
    return shown(room(state))


def messages_from(state: State, sender: str) -> list[str]:
    return [m["body"] for m in shown_messages(state) if m["sender"] == sender]


def messages_in_delta(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages one delta of the conversation room carries: a new base window, and the
    changes (one message each) it puts in the room's slots."""
    carried = list(changes.get("messages") or [])
    for name in SLOT_NAMES:
        slot = changes.get(name)
        if slot and slot.get("row"):
            carried.append(slot["row"])
    return carried
