"""Any websocket client can call any handler: the server must refuse what the caller may not do.

The real app runs backend-only on a fresh, migrated SQLite database; a raw socket client plays
an attacker without a staff session (or with a forged one) against a real pending conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff, query

OWNER_EMAIL = "owner@example.test"
OWNER_PASSWORD = "correct horse battery"
COUNT_MESSAGES = "SELECT count(*) FROM message WHERE conversation_id = ?"


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("authz") / "app.db"


@pytest.fixture(scope="module")
def server(app_db: Path) -> Iterator[AppServer]:
    with backend_with_staff(app_db, owner=Account(OWNER_EMAIL, OWNER_PASSWORD)) as app:
        yield app


@pytest.fixture
def base_url(server: AppServer) -> str:
    return server.backend_url


@pytest.fixture
async def pending(base_url: str) -> AsyncIterator[tuple[rs.ReflexSocket, int]]:
    """A real conversation waiting in the queue, made through the visitor's own handlers."""
    visitor, conversation_id = await rs.visitor_with_conversation(base_url)
    await rs.request_human(visitor)
    yield visitor, conversation_id
    await visitor.close()


def assert_untouched(db: Path, conversation_id: int) -> None:
    assert query(
        db, "SELECT status, assigned_staff_id FROM conversation WHERE id = ?", conversation_id
    ) == [("pending", None)]
    assert query(
        db,
        "SELECT claimed_by_id, closed_at FROM escalation WHERE conversation_id = ?",
        conversation_id,
    ) == [(None, None)]
    assert query(
        db,
        "SELECT count(*) FROM message WHERE conversation_id = ? AND sender = 'agent'",
        conversation_id,
    ) == [(0,)]


def assert_no_room_data(tab: rs.ReflexSocket) -> None:
    """Hydration sends the rooms' defaults; nothing of a real room may follow."""
    conv_room = tab.state.get(rs.CONVERSATION_ROOM, {})
    assert conv_room.get("conversation_id", 0) == 0
    assert rs.shown_messages(tab.state) == []
    assert conv_room.get("status", "") == ""
    assert tab.state.get(rs.STAFF_LISTS, {}).get("queue", {}).get("rows", []) == []
    assert rs.change_slots(tab.state) == []
    assert tab.state.get(rs.STAFF_BADGE, {}).get("unclaimed", 0) == 0
    assert tab.state.get(rs.STAFF_QUEUE_ROOM, {}).get("unclaimed", 0) == 0
    assert not any(rs.CONVERSATION_ROOM in arrival.delta for arrival in tab.arrivals[1:])
    assert not any(rs.STAFF_QUEUE_ROOM in arrival.delta for arrival in tab.arrivals[1:])
    assert not any(rs.STAFF_LISTS in arrival.delta for arrival in tab.arrivals[1:])
    assert not any(rs.STAFF_BADGE in arrival.delta for arrival in tab.arrivals[1:])
    assert not any(rs.CONTEXT_ROOM in arrival.delta for arrival in tab.arrivals[1:])


def redirected_to_login(tab: rs.ReflexSocket) -> bool:
    return any("/login" in str(event.get("payload")) for event in tab.frontend_events)


async def attack(tab: rs.ReflexSocket, conversation_id: int) -> None:
    """Every staff action on the conversation, each answered by a refusal in `notice`."""
    path, params = rs.conversation_path(conversation_id)
    for handler, payload in [
        ("claim", {}),
        ("send_reply", {"form": {"body": "I am not an agent"}}),
        ("resolve", {}),
        ("dismiss", {}),
        ("hand_back", {}),
    ]:
        await tab.send(rs.AGENT_CONVERSATION, "load", path=path, query=params)
        await tab.send(rs.AGENT_CONVERSATION, handler, payload, path=path, query=params)
        notice = await tab.wait_for(lambda s: s.get(rs.AGENT_CONVERSATION, {}).get("notice"))
        assert "Sign in" in notice, (handler, notice)
        tab.state[rs.AGENT_CONVERSATION]["notice"] = ""  # each refusal resends it
    await tab.send(rs.AGENT_QUEUE, "load", path="/agent", query={})
    await tab.wait_for(lambda s: redirected_to_login(tab))


@pytest.mark.parametrize("storage", [None, rs.staff_storage("forged-" + "x" * 40)])
async def test_staff_handlers_refuse_a_socket_without_a_staff_session(
    base_url: str,
    app_db: Path,
    pending: tuple[rs.ReflexSocket, int],
    storage: dict[str, str] | None,
) -> None:
    _, conversation_id = pending
    path, params = rs.conversation_path(conversation_id)
    tab = rs.ReflexSocket(base_url, record=True)
    await tab.connect(path, params, storage=storage)
    try:
        await tab.wait_for(lambda s: redirected_to_login(tab))  # the page's own on_load refuses
        if storage:  # the forged token did reach the server's state, and was not trusted
            assert tab.var(rs.STAFF_AUTH, "token") == next(iter(storage.values()))
        await attack(tab, conversation_id)
        await asyncio.sleep(0.5)  # room pushes, were any linked, would land well within this
        assert_no_room_data(tab)
        assert tab.var(rs.AGENT_CONVERSATION, "conversation_id") == 0
    finally:
        await tab.close()
    assert_untouched(app_db, conversation_id)


async def test_the_visitors_own_tab_cannot_act_as_staff(
    app_db: Path, pending: tuple[rs.ReflexSocket, int]
) -> None:
    """The visitor is linked to the room; that still gives no staff rights over it."""
    visitor, conversation_id = pending
    await attack(visitor, conversation_id)
    await asyncio.sleep(0.3)
    # Refused staff pages unlink every room, so the tab that tried it may even lose its own
    # live view (it reloads to get it back); it never gains anything.
    assert visitor.state[rs.CONVERSATION_ROOM]["status"] in ("pending", "")
    assert rs.messages_from(visitor.state, "agent") == []
    assert visitor.state.get(rs.STAFF_LISTS, {}).get("queue", {}).get("rows", []) == []
    assert_untouched(app_db, conversation_id)


async def test_a_signed_in_agent_can_claim_and_reply(
    base_url: str, app_db: Path, pending: tuple[rs.ReflexSocket, int]
) -> None:
    """The control: the same calls with a real staff session do go through."""
    visitor, conversation_id = pending
    token = await rs.sign_in(base_url, OWNER_EMAIL, OWNER_PASSWORD)
    agent = await rs.open_agent_conversation(base_url, token, conversation_id)
    try:
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "Hi, Owner here"}})
        await visitor.wait_for(lambda s: "Hi, Owner here" in rs.messages_from(s, "agent"))
        assert visitor.state[rs.CONVERSATION_ROOM]["status"] == "active"
    finally:
        await agent.close()
    assert query(app_db, "SELECT status FROM conversation WHERE id = ?", conversation_id) == [
        ("active",)
    ]


@pytest.mark.parametrize(
    "form",
    [{"body": ""}, {"body": "   \n\t "}, {"body": "x" * 4001}, {"body": 42}, {}, "not a form"],
    ids=["empty", "whitespace", "4001-chars", "not-text", "no-body", "no-form"],
)
async def test_visitor_messages_are_validated_on_the_server(
    base_url: str, app_db: Path, form: object
) -> None:
    # A fresh visitor (no conversation yet) and one with a conversation both get refused.
    fresh = rs.ReflexSocket(base_url)
    await fresh.connect("/")
    chatting, conversation_id = await rs.visitor_with_conversation(base_url)
    try:
        await chatting.wait_for(lambda s: rs.messages_from(s, "bot"))  # the bot has answered
        messages_before = query(app_db, COUNT_MESSAGES, conversation_id)
        conversations_before = query(app_db, "SELECT count(*) FROM conversation")
        for tab in (fresh, chatting):
            await tab.send(rs.VISITOR, "send", {"form": form})
            error = await tab.wait_for(lambda s: s.get(rs.VISITOR, {}).get("error"))
            assert isinstance(error, str) and error
        await asyncio.sleep(0.3)
        assert fresh.var(rs.VISITOR, "conversation_key") == ""
        assert chatting.var(rs.CONVERSATION_ROOM, "conversation_id") == conversation_id
    finally:
        await fresh.close()
        await chatting.close()
    assert query(app_db, COUNT_MESSAGES, conversation_id) == messages_before
    assert query(app_db, "SELECT count(*) FROM conversation") == conversations_before


async def test_a_4000_char_message_is_accepted(base_url: str, app_db: Path) -> None:
    """The boundary: the longest allowed message is stored whole."""
    body = "y" * 4000
    tab, conversation_id = await rs.visitor_with_conversation(base_url, body=body)
    await tab.close()
    assert query(
        app_db,
        "SELECT length(body) FROM message WHERE conversation_id = ? AND sender = 'visitor'",
        conversation_id,
    ) == [(4000,)]
