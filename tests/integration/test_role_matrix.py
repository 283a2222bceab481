"""The role matrix over the raw websocket: every handler of the owner-only settings page and
of the account page, called by an anonymous socket, a forged token, an agent and the owner.
Refused calls change nothing in the database and show the caller nothing; allowed ones work.

(The staff page has its own matrix in test_staff_page_authz.py, the conversation handlers in
test_websocket_authz.py; pages over HTTP and in the browser in tests/e2e/test_settings.py.)
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff_app.domain.settings_form import settings_to_form
from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff, query

OWNER = ("owner@example.test", "correct horse battery")
AGENT = ("agent@example.test", "agent password 1")
SECRET_KEY = "sk-live-secret-key-do-not-leak-0001"
ACCOUNT = f"{rs.ROOT}.handoff_app___states___account____account_state"


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("role-matrix") / "app.db"


@pytest.fixture(scope="module")
def server(app_db: Path) -> Iterator[AppServer]:
    def secret_key(db: Path) -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE workspace_settings SET ai_api_key = ?", (SECRET_KEY,))

    with backend_with_staff(
        app_db,
        owner=Account(*OWNER, "Olivia"),
        agents=(Account(*AGENT, "Andy"),),
        seed_demo=True,
        prepare=secret_key,
    ) as app:
        yield app


@pytest.fixture
def base_url(server: AppServer) -> str:
    return server.backend_url


def snapshot(db: Path) -> dict[str, object]:
    return {
        "settings": query(db, "SELECT * FROM workspace_settings"),
        "articles": query(db, "SELECT id, title, body FROM knowledge_article ORDER BY id"),
        "passwords": query(db, "SELECT id, password_hash FROM staff_user ORDER BY id"),
    }


def redirects(tab: rs.ReflexSocket) -> list[str]:
    return [str(e.get("payload")) for e in tab.frontend_events if "redirect" in str(e).lower()]


async def storage_for(who: str, base_url: str) -> dict[str, str] | None:
    if who == "forged":
        return rs.staff_storage("forged-" + "y" * 40)
    if who == "agent":
        return rs.staff_storage(await rs.sign_in(base_url, *AGENT))
    if who == "owner":
        return rs.staff_storage(await rs.sign_in(base_url, *OWNER))
    return None


def settings_form(db: Path, **changes: str) -> dict[str, str]:
    """A complete, valid settings form (what the page would submit)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM workspace_settings").fetchone())
    for name in ("handoff_keywords", "sensitive_topics", "working_hours"):
        row[name] = json.loads(row[name])
    for name in ("live_support_enabled", "working_hours_enforced", "agents_available"):
        row[name] = bool(row[name])
    row["notify_email_alerts"] = bool(row["notify_email_alerts"])
    return settings_to_form(row) | changes


def settings_attacks(db: Path) -> list[tuple[str, dict[str, Any]]]:
    article_id = int(query(db, "SELECT min(id) FROM knowledge_article")[0][0])
    return [
        ("save", {"form": settings_form(db, handoff_keywords="pwned", ai_api_key="sk-evil")}),
        ("save", {"form": settings_form(db, clear_ai_api_key="on")}),
        ("edit_article", {"article_id": 0}),
        ("save_article", {"form": {"title": "Evil", "body": "Send your card number here."}}),
        ("delete_article", {"article_id": article_id}),
        ("search_articles", {"form": {"query": "returns"}}),
        ("try_message", {"form": {"text": "How long does shipping take?"}}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "forged", "agent"])
async def test_settings_handlers_refuse_everyone_but_the_owner(
    base_url: str, app_db: Path, who: str
) -> None:
    before = snapshot(app_db)
    tab = rs.ReflexSocket(base_url)
    await tab.connect("/settings", storage=await storage_for(who, base_url))
    try:
        expected = "/agent" if who == "agent" else "/login"
        await tab.wait_for(lambda s: any(expected in r for r in redirects(tab)))
        for handler, payload in [("load", {}), *settings_attacks(app_db)]:
            await tab.send(rs.SETTINGS, handler, payload)
        await asyncio.sleep(1.0)  # give every refused call time to (not) act
        assert snapshot(app_db) == before
        seen = tab.state.get(rs.SETTINGS, {})
        assert not seen.get("form") and not seen.get("articles") and not seen.get("try_answer")
        assert SECRET_KEY not in str(tab.state)
    finally:
        await tab.close()


async def test_the_owner_may_do_all_of_it_and_never_sees_the_key(
    base_url: str, app_db: Path
) -> None:
    tab = rs.ReflexSocket(base_url)
    await tab.connect("/settings", storage=await storage_for("owner", base_url))
    try:
        form = await tab.wait_for(lambda s: s.get(rs.SETTINGS, {}).get("form"))
        assert "ai_api_key" not in form
        assert tab.var(rs.SETTINGS, "masked")["ai_api_key"].endswith("0001")
        await tab.send(rs.SETTINGS, "save", {"form": settings_form(app_db, widget_title="Owned")})
        await tab.wait_for(lambda s: s.get(rs.SETTINGS, {}).get("notice"))
        assert query(app_db, "SELECT widget_title, ai_api_key FROM workspace_settings")[0] == (
            "Owned",
            SECRET_KEY,  # a blank key field kept the stored key
        )
        await tab.send(rs.SETTINGS, "edit_article", {"article_id": 0})
        await tab.send(
            rs.SETTINGS, "save_article", {"form": {"title": "Matrix", "body": "Owner wrote this."}}
        )
        await tab.wait_for(
            lambda s: any(
                a["title"] == "Matrix" for a in s.get(rs.SETTINGS, {}).get("articles", [])
            )
        )
        await tab.send(rs.SETTINGS, "try_message", {"form": {"text": "How do I return an item?"}})
        answer = await tab.wait_for(lambda s: s.get(rs.SETTINGS, {}).get("try_answer"))
        assert "30 days" in answer
        assert SECRET_KEY not in str(tab.state)
    finally:
        await tab.close()


@pytest.mark.parametrize(
    ("who", "allowed"), [("anonymous", False), ("forged", False), ("agent", True)]
)
async def test_everyone_signed_in_changes_only_their_own_password(
    base_url: str, app_db: Path, who: str, allowed: bool
) -> None:
    before = snapshot(app_db)["passwords"]
    tab = rs.ReflexSocket(base_url)
    await tab.connect("/account", storage=await storage_for(who, base_url))
    try:
        if not allowed:
            await tab.wait_for(lambda s: any("/login" in r for r in redirects(tab)))
        new = "a brand new password"
        await tab.send(
            ACCOUNT,
            "change_password",
            {
                "form": {
                    "current_password": AGENT[1],
                    "new_password": new,
                    "confirm_password": new,
                }
            },
        )
        if allowed:
            await tab.wait_for(lambda s: s.get(ACCOUNT, {}).get("notice"))
            after = snapshot(app_db)["passwords"]
            changed = [a for a, b in zip(after, before, strict=True) if a != b]  # type: ignore[call-overload]
            owner_id = query(app_db, "SELECT id FROM staff_user WHERE email = ?", OWNER[0])[0][0]
            assert len(changed) == 1 and changed[0][0] != owner_id
            await rs.sign_in(base_url, AGENT[0], new)  # the new password works
        else:
            await asyncio.sleep(1.0)
            assert snapshot(app_db)["passwords"] == before
    finally:
        await tab.close()
