"""The workspace's server-side rules over raw websockets (what any client could send): agents
kept out of closed conversations they did not handle, in the page load AND every handler, and
internal notes never sent to the visitor's socket."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff, query

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace-authz") / "app.db"


@pytest.fixture(scope="module")
def server(app_db: Path) -> Iterator[AppServer]:
    agents = tuple(Account(f"{n}@example.test", PASSWORD, n.capitalize()) for n in ("ana", "ben"))
    with backend_with_staff(
        app_db, owner=Account("owner@example.test", PASSWORD), agents=agents
    ) as app:
        yield app


@pytest.fixture
def base_url(server: AppServer) -> str:
    return server.backend_url


def counts(db: Path, conversation_id: int) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT sender, count(*) FROM message WHERE conversation_id = ? GROUP BY sender "
        "ORDER BY sender",
        conversation_id,
    )


async def agent_tab(base_url: str, who: str, conversation_id: int) -> rs.ReflexSocket:
    token = await rs.sign_in(base_url, f"{who}@example.test", PASSWORD)
    path, params = rs.conversation_path(conversation_id)
    tab = rs.ReflexSocket(base_url, record=True)
    await tab.connect(path, params, storage=rs.staff_storage(token))
    await tab.wait_for(lambda s: s.get(rs.STAFF_AUTH, {}).get("staff_id"))
    return tab


async def refused_everything(tab: rs.ReflexSocket) -> None:
    """Every handler of the conversation page, each answered by a refusal (or nothing)."""
    for handler, payload in [
        ("set_compose_mode", {"mode": "note"}),
        ("send_reply", {"form": {"body": "sneaky note"}}),
        ("set_compose_mode", {"mode": "reply"}),
        ("send_reply", {"form": {"body": "sneaky reply"}}),
        ("claim", {}),
        ("reject", {"form": {"reason": "x"}}),
        ("transfer", {"form": {"to_staff_id": "1", "note": "x"}}),
        ("resolve", {}),
        ("typing", {}),
        ("load_earlier", {}),
        ("open_transfer", {}),
    ]:
        await tab.send(rs.AGENT_CONVERSATION, handler, payload)
    await asyncio.sleep(1.0)


async def test_an_agent_is_refused_a_closed_conversation_they_did_not_handle(
    base_url: str, app_db: Path
) -> None:
    visitor, cid = await rs.visitor_with_conversation(base_url, body="PRIVATE-1 my address")
    await rs.request_human(visitor)
    ana = await agent_tab(base_url, "ana", cid)
    await ana.wait_for(lambda s: rs.room(s).get("conversation_id") == cid)
    await ana.send(rs.AGENT_CONVERSATION, "claim")
    await visitor.wait_for(lambda s: rs.room(s).get("status") == "active")
    await ana.send(rs.AGENT_CONVERSATION, "resolve")
    await visitor.wait_for(lambda s: rs.room(s).get("status") == "resolved")
    before = counts(app_db, cid)

    ben = await agent_tab(base_url, "ben", cid)
    try:
        refused = await ben.wait_for(lambda s: s.get(rs.AGENT_CONVERSATION, {}).get("refused"))
        assert "did not handle" in refused
        assert ben.var(rs.AGENT_CONVERSATION, "conversation_id") == 0
        await refused_everything(ben)
        # nothing of the conversation ever reached Ben's socket
        received = json.dumps([a.delta for a in ben.arrivals])
        assert "PRIVATE-1" not in received
        assert rs.shown_messages(ben.state) == []
        assert ben.var(rs.AGENT_CONVERSATION, "earlier", []) == []
        assert ben.var(rs.AGENT_CONVERSATION, "transfer_targets", []) == []
    finally:
        await ben.close()
        await ana.close()
        await visitor.close()
    assert counts(app_db, cid) == before
    assert query(app_db, "SELECT status FROM conversation WHERE id = ?", cid) == [("resolved",)]


async def test_handlers_recheck_access_when_a_conversation_closes_under_an_open_page(
    base_url: str, app_db: Path
) -> None:
    visitor, cid = await rs.visitor_with_conversation(base_url, body="Hello")
    await rs.request_human(visitor)
    ben = await agent_tab(base_url, "ben", cid)  # allowed while it is in the queue
    ana = await agent_tab(base_url, "ana", cid)
    try:
        await ben.wait_for(lambda s: rs.room(s).get("conversation_id") == cid)
        await ana.wait_for(lambda s: rs.room(s).get("conversation_id") == cid)
        await ana.send(rs.AGENT_CONVERSATION, "claim")
        await ana.send(rs.AGENT_CONVERSATION, "resolve")
        await ben.wait_for(lambda s: rs.room(s).get("status") == "resolved")
        before = counts(app_db, cid)
        await ben.send(rs.AGENT_CONVERSATION, "set_compose_mode", {"mode": "note"})
        await ben.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "late note"}})
        notice = await ben.wait_for(lambda s: s.get(rs.AGENT_CONVERSATION, {}).get("notice"))
        assert "did not handle" in notice
        assert counts(app_db, cid) == before
    finally:
        await ben.close()
        await ana.close()
        await visitor.close()


async def test_a_note_never_reaches_the_visitors_socket(base_url: str, app_db: Path) -> None:
    visitor, cid = await rs.visitor_with_conversation(base_url, body="Hi there")
    visitor.record = True
    await rs.request_human(visitor)
    ben = await agent_tab(base_url, "ben", cid)
    try:
        await ben.wait_for(lambda s: rs.room(s).get("conversation_id") == cid)
        await ben.send(rs.AGENT_CONVERSATION, "set_compose_mode", {"mode": "note"})
        # (a person toggles, types, then sends: wait for the toggle like the page does)
        await ben.wait_for(lambda s: s[rs.AGENT_CONVERSATION].get("compose_mode") == "note")
        await ben.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "NOTE-SECRET-9"}})
        await ben.wait_for(
            lambda s: any(
                n["body"] == "NOTE-SECRET-9" for n in s.get(rs.CONTEXT_ROOM, {}).get("notes", [])
            )
        )
        # the visitor's own tab calling the staff handler gets nothing either
        await visitor.send(rs.AGENT_CONVERSATION, "set_compose_mode", {"mode": "note"})
        await visitor.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": "visitor note"}})
        await visitor.send(rs.VISITOR, "note_seen", {"message_id": 1})
        await asyncio.sleep(1.0)
        everything = json.dumps([a.delta for a in visitor.arrivals]) + json.dumps(visitor.state)
        assert "NOTE-SECRET-9" not in everything
        # hydration sends every room's defaults; the staff room stays empty for the visitor
        assert visitor.state.get(rs.CONTEXT_ROOM, {}).get("notes", []) == []
    finally:
        await ben.close()
        await visitor.close()
    assert query(
        app_db, "SELECT body FROM message WHERE conversation_id = ? AND sender = 'note'", cid
    ) == [("NOTE-SECRET-9",)]


async def test_earlier_history_includes_notes_for_staff_only_without_overlap(
    base_url: str, app_db: Path
) -> None:
    """60 messages with notes among them: the staff page's live part (room messages + notes
    newer than before_window_id) and its "earlier" part meet without a gap or a duplicate;
    the visitor's "earlier" holds no note."""
    visitor, cid = await rs.visitor_with_conversation(base_url, body="first")
    await rs.request_human(visitor)
    with sqlite3.connect(app_db) as conn:
        for i in range(60):
            for sender, body in [("visitor", f"msg {i}")] + (
                [("note", f"note {i}")] if i % 12 == 5 else []
            ):
                conn.execute(
                    "INSERT INTO message (conversation_id, sender, author_label, body, created_at)"
                    " VALUES (?, ?, '', ?, '2026-11-21 10:00:00.000000')",
                    (cid, sender, body),
                )
    all_ids = [r[0] for r in query(app_db, "SELECT id FROM message WHERE conversation_id = ?", cid)]
    visible_ids = [
        r[0]
        for r in query(
            app_db, "SELECT id FROM message WHERE conversation_id = ? AND sender != 'note'", cid
        )
    ]
    ben = await agent_tab(base_url, "ben", cid)  # its join rebuilds the room for both tabs
    try:
        await ben.wait_for(lambda s: len(rs.shown_messages(s)) == 50)
        room = rs.room(ben.state)
        boundary = room["before_window_id"]
        notes = ben.state[rs.CONTEXT_ROOM]["notes"]
        assert boundary > 0 and len(notes) == 5
        await ben.send(rs.AGENT_CONVERSATION, "load_earlier")
        earlier = await ben.wait_for(lambda s: s.get(rs.AGENT_CONVERSATION, {}).get("earlier"))
        live = [m["id"] for m in rs.shown_messages(ben.state)]
        live += [n["id"] for n in notes if n["id"] > boundary]
        earlier_ids = [m["id"] for m in earlier]
        assert max(earlier_ids) <= boundary < min(live)
        assert sorted(earlier_ids + live) == sorted(all_ids)  # everything, once
        assert {m["sender"] for m in earlier} >= {"note", "visitor"}
        # the visitor: same boundary, no note anywhere
        await visitor.wait_for(lambda s: rs.room(s).get("before_window_id") == boundary)
        await visitor.send(rs.VISITOR, "load_earlier")
        mine = await visitor.wait_for(lambda s: s.get(rs.VISITOR, {}).get("earlier"))
        assert "note" not in {m["sender"] for m in mine}
        window = [m["id"] for m in rs.shown_messages(visitor.state)]
        assert sorted([m["id"] for m in mine] + window) == sorted(visible_ids)
    finally:
        await ben.close()
        await visitor.close()
