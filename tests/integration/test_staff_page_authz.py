"""The staff page's handlers over a raw websocket: agents and anonymous sockets are refused
and change nothing; removal signs the removed person's open tab out at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff, query, run_cli

OWNER = ("owner@example.test", "correct horse battery")
AGENT = ("agent@example.test", "agent password 1")


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staff-authz") / "app.db"


@pytest.fixture(scope="module")
def server(app_db: Path) -> Iterator[AppServer]:
    with backend_with_staff(
        app_db, owner=Account(*OWNER, "Olivia"), agents=(Account(*AGENT, "Andy"),)
    ) as app:
        yield app


@pytest.fixture
def base_url(server: AppServer) -> str:
    return server.backend_url


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "staff": query(
            db, "SELECT id, role, removed_at, password_hash FROM staff_user ORDER BY id"
        ),
        "invites": query(
            db, "SELECT id, token_hash, revoked_at, accepted_at FROM staff_invite ORDER BY id"
        ),
        "sessions": query(db, "SELECT staff_id, token_hash FROM staff_session ORDER BY id"),
    }


def staff_id(db: Path, email: str) -> int:
    return int(query(db, "SELECT id FROM staff_user WHERE email = ?", email)[0][0])


def redirects(tab: rs.ReflexSocket) -> list[str]:
    return [str(e.get("payload")) for e in tab.frontend_events if "redirect" in str(e).lower()]


async def owner_tab(base_url: str) -> rs.ReflexSocket:
    token = await rs.sign_in(base_url, *OWNER)
    tab = rs.ReflexSocket(base_url)
    await tab.connect("/staff", storage=rs.staff_storage(token))
    await tab.wait_for(lambda s: len(s.get(rs.STAFF_PAGE, {}).get("staff", [])) >= 2)
    return tab


async def invite_someone(owner: rs.ReflexSocket, email: str) -> int:
    await owner.send(
        rs.STAFF_PAGE, "invite", {"form": {"display_name": "Zed", "email": email, "role": "agent"}}
    )
    rows = await owner.wait_for(
        lambda s: [i for i in s.get(rs.STAFF_PAGE, {}).get("invites", []) if i["email"] == email]
    )
    assert "/invite/" in rows[0]["link"]  # the owner's tab sees the raw link once
    return int(rows[0]["id"])


@pytest.mark.parametrize("who", ["anonymous", "forged", "agent"])
async def test_staff_page_handlers_refuse_agents_and_anonymous_sockets(
    base_url: str, app_db: Path, who: str
) -> None:
    owner = await owner_tab(base_url)
    invite_id = await invite_someone(owner, f"pending-{who}@example.test")
    await owner.close()
    storage = None
    if who == "forged":
        storage = rs.staff_storage("forged-" + "x" * 40)
    elif who == "agent":
        storage = rs.staff_storage(await rs.sign_in(base_url, *AGENT))
    owner_id, agent_id = staff_id(app_db, OWNER[0]), staff_id(app_db, AGENT[0])
    before = snapshot(app_db)

    tab = rs.ReflexSocket(base_url, record=True)
    await tab.connect("/staff", storage=storage)
    try:
        expected = "/agent" if who == "agent" else "/login"
        await tab.wait_for(lambda s: any(expected in r for r in redirects(tab)))
        attacks: list[tuple[str, dict[str, Any]]] = [
            ("load", {}),
            ("invite", {"form": {"display_name": "Eve", "email": "eve@example.test"}}),
            ("remove_staff", {"staff_id": owner_id}),
            ("remove_staff", {"staff_id": agent_id}),
            ("reset_password", {"form": {"staff_id": owner_id, "password": "pwned password"}}),
            ("set_role", {"staff_id": agent_id, "role": "owner"}),
            ("set_role", {"staff_id": owner_id, "role": "agent"}),
            ("revoke", {"invite_id": invite_id}),
            ("new_link", {"invite_id": invite_id}),
            ("resend", {"invite_id": invite_id}),
            ("ask_remove", {"staff_id": owner_id}),
        ]
        for handler, payload in attacks:
            seen = len(redirects(tab))
            await tab.send(rs.STAFF_PAGE, handler, payload, path="/staff", query={})
            await tab.wait_for(lambda s, seen=seen: len(redirects(tab)) > seen)
        await asyncio.sleep(0.3)
        page = tab.state.get(rs.STAFF_PAGE, {})
        assert page.get("staff", []) == [] and page.get("invites", []) == []
        assert page.get("remove_target_id", 0) == 0
    finally:
        await tab.close()
    assert snapshot(app_db) == before
    assert query(app_db, "SELECT count(*) FROM staff_invite WHERE email = 'eve@example.test'") == [
        (0,)
    ]


async def test_removing_an_agent_signs_their_open_tab_out_at_once(
    base_url: str, app_db: Path
) -> None:
    email, password = "removed@example.test", "removed password"
    run_cli(f"sqlite:///{app_db}", "create-agent", "--email", email, "--password", password)
    token = await rs.sign_in(base_url, email, password)
    agent = rs.ReflexSocket(base_url, record=True)
    await agent.connect("/agent", storage=rs.staff_storage(token))
    await agent.wait_for(lambda s: s.get(rs.STAFF_AUTH, {}).get("staff_label"))
    owner = await owner_tab(base_url)
    try:
        await owner.wait_for(
            lambda s: any(r["email"] == email for r in s.get(rs.STAFF_PAGE, {}).get("staff", []))
        )
        await owner.send(rs.STAFF_PAGE, "remove_staff", {"staff_id": staff_id(app_db, email)})
        await owner.wait_for(lambda s: "removed" in s.get(rs.STAFF_PAGE, {}).get("notice", ""))
        await agent.wait_for(lambda s: s.get(rs.STAFF_AUTH, {}).get("session_ended") is True)
        assert agent.var(rs.STAFF_AUTH, "token") == ""
        # out of every room: a new handoff reaches other staff, not this tab
        arrivals = len(agent.arrivals)
        visitor, _ = await rs.visitor_with_conversation(base_url)
        await rs.request_human(visitor)
        await owner.close()
        watcher_token = await rs.sign_in(base_url, *OWNER)
        watcher = rs.ReflexSocket(base_url)
        await watcher.connect("/agent", storage=rs.staff_storage(watcher_token))
        await watcher.wait_for(lambda s: s.get(rs.STAFF_BADGE, {}).get("unclaimed", 0) >= 1)
        await asyncio.sleep(0.5)
        assert not any(
            rs.STAFF_QUEUE_ROOM in a.delta or rs.STAFF_BADGE in a.delta
            for a in agent.arrivals[arrivals:]
        )
        await watcher.close()
        await visitor.close()
    finally:
        await agent.close()
        await owner.close()
    assert query(
        app_db,
        "SELECT count(*) FROM staff_session s JOIN staff_user u ON u.id = s.staff_id "
        "WHERE u.email = ?",
        email,
    ) == [(0,)]


async def test_the_login_form_is_throttled_by_the_sockets_ip(base_url: str, app_db: Path) -> None:
    """The state passes the socket's address to the service. (It blocks 127.0.0.1 on this
    server for 15 minutes: the attempts are deleted afterwards for the tests that follow.)"""
    tab = rs.ReflexSocket(base_url)
    await tab.connect("/login")
    try:
        for n in range(6):
            form = {"email": f"guess{n}@example.test", "password": "not the password"}
            await tab.send(rs.LOGIN, "submit", {"form": form})
            error = await tab.wait_for(lambda s: s.get(rs.LOGIN, {}).get("error"))
            tab.state[rs.LOGIN]["error"] = ""
        assert error == "Too many failed sign-ins. Try again in 15 minutes."
        assert query(app_db, "SELECT DISTINCT ip FROM sign_in_attempt") == [("127.0.0.1",)]
        failures = "SELECT count(*) FROM sign_in_attempt WHERE NOT succeeded"
        assert query(app_db, failures) == [(5,)]
    finally:
        await tab.close()
        query(app_db, "DELETE FROM sign_in_attempt")
