"""The live queue over real websockets: a staff tab loads the rows once, then each change
arrives as one row whatever the queue's length; a tab that missed changes resyncs.

The real app runs backend-only on a fresh SQLite database seeded with 200 pending
conversations; raw socket clients play the staff tabs and the visitors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from handoff_app.live_changes import CHANGE_SLOTS
from tests.support import reflex_socket as rs
from tests.support.seed import seed_pending
from tests.support.server import Account, AppServer, backend_with_staff, query

SEEDED = 200
PASSWORD = "correct horse battery"
ADA = Account("ada@example.test", PASSWORD, "Ada")
QUEUE_ORDER = """
    SELECT c.id FROM conversation c JOIN escalation e ON e.conversation_id = c.id
    WHERE c.status IN ('pending', 'active') AND e.closed_at IS NULL
    ORDER BY e.requested_at, e.id
"""


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("queue-changes") / "app.db"


@pytest.fixture(scope="module")
def server(app_db: Path) -> Iterator[AppServer]:
    def prepare(db: Path) -> None:
        asyncio.run(seed_pending(f"sqlite:///{db}", SEEDED))

    with backend_with_staff(
        app_db, owner=Account("owner@example.test", PASSWORD), agents=(ADA,), prepare=prepare
    ) as app:
        yield app


@pytest.fixture
async def ada_token(server: AppServer) -> str:
    return await rs.sign_in(server.backend_url, ADA.email, ADA.password)


@pytest.fixture
async def queue_tab(server: AppServer, ada_token: str) -> AsyncIterator[rs.ReflexSocket]:
    tab = rs.ReflexSocket(server.backend_url, record=True)
    await tab.connect("/agent", storage=rs.staff_storage(ada_token))
    await tab.wait_for(rs.queue_loaded)
    yield tab
    await tab.close()


def size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def queue_ids(db: Path) -> list[int]:
    return [cid for (cid,) in query(db, QUEUE_ORDER)]


async def test_after_the_load_one_escalation_sends_one_row_whatever_the_queue_length(
    server: AppServer, app_db: Path, queue_tab: rs.ReflexSocket
) -> None:
    view = rs.LiveList()
    loaded = view.rows(queue_tab.state)
    assert loaded is not None and len(loaded) >= SEEDED
    assert [r["conversation_id"] for r in loaded] == queue_ids(app_db)
    snapshot_bytes = size(queue_tab.state[rs.STAFF_LISTS]["queue"])
    after_load = len(queue_tab.arrivals)

    visitor, cid = await rs.visitor_with_conversation(server.backend_url)
    try:
        await rs.request_human(visitor)
        rows = await queue_tab.wait_for(
            lambda s: (r := view.rows(s)) and any(x["conversation_id"] == cid for x in r) and r
        )
    finally:
        await visitor.close()
    assert [r["conversation_id"] for r in rows] == queue_ids(app_db)
    assert rows[-1]["conversation_id"] == cid and rows[-1]["status"] == "pending"

    deltas = [a.delta for a in queue_tab.arrivals[after_load:]]
    # the list itself is never resent: only the room's changes (and the badge) arrive
    assert not any(rs.STAFF_LISTS in d for d in deltas)
    changes = [c for d in deltas for c in rs.change_slots(d)]
    assert [c["key"] for c in changes] == [cid]  # exactly one row, the new one
    room_bytes = sum(size(d[rs.STAFF_QUEUE_ROOM]) for d in deltas if rs.STAFF_QUEUE_ROOM in d)
    assert room_bytes < 1_000 and snapshot_bytes > 50 * room_bytes
    assert "_fingerprints" not in queue_tab.state[rs.STAFF_QUEUE_ROOM]  # backend only


async def test_a_claim_sends_the_claimed_row_only(
    server: AppServer, app_db: Path, ada_token: str, queue_tab: rs.ReflexSocket
) -> None:
    view = rs.LiveList()
    first = view.rows(queue_tab.state)
    assert first
    target = next(r["conversation_id"] for r in first if r["status"] == "pending")
    after_load = len(queue_tab.arrivals)
    agent = await rs.open_agent_conversation(server.backend_url, ada_token, target)
    try:
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        rows = await queue_tab.wait_for(
            lambda s: (
                (r := view.rows(s))
                and any(x["conversation_id"] == target and x["status"] == "active" for x in r)
                and r
            )
        )
    finally:
        await agent.close()
    claimed = next(r for r in rows if r["conversation_id"] == target)
    assert claimed["claimed_by"] == "Ada"
    assert [r["conversation_id"] for r in rows] == queue_ids(app_db)
    changes = [c for a in queue_tab.arrivals[after_load:] for c in rs.change_slots(a.delta)]
    assert [c["key"] for c in changes] == [target]


async def test_a_tab_that_missed_changes_resyncs_to_the_current_list(
    server: AppServer, app_db: Path, queue_tab: rs.ReflexSocket
) -> None:
    view = rs.LiveList()
    assert view.rows(queue_tab.state)
    seq = queue_tab.state[rs.STAFF_QUEUE_ROOM]["seq"]
    # more changes than the room keeps, while this view looks away (as if a browser rendered
    # after all of them): the oldest it needs have been overwritten
    visitors = [await rs.visitor_with_conversation(server.backend_url) for _ in range(20)]
    try:
        await asyncio.gather(*(rs.request_human(tab) for tab, _ in visitors))
        await queue_tab.wait_for(
            lambda s: s[rs.STAFF_QUEUE_ROOM]["seq"] >= seq + CHANGE_SLOTS + 1, timeout=20
        )
        assert view.rows(queue_tab.state) is None  # the gap is seen
        loads = queue_tab.state[rs.STAFF_LISTS]["queue"]["loads"]
        await queue_tab.send(rs.AGENT_QUEUE, "resync_queue")
        await queue_tab.wait_for(lambda s: s[rs.STAFF_LISTS]["queue"]["loads"] > loads)
        # the pushes of the burst may still be landing: the view follows them from here
        expected = queue_ids(app_db)
        rows = await queue_tab.wait_for(
            lambda s: (r := view.rows(s)) and [x["conversation_id"] for x in r] == expected and r
        )
    finally:
        await asyncio.gather(*(tab.close() for tab, _ in visitors))
    assert {cid for _, cid in visitors} <= {r["conversation_id"] for r in rows}


async def test_resync_without_a_staff_session_loads_nothing(server: AppServer) -> None:
    tab = rs.ReflexSocket(server.backend_url)
    await tab.connect("/agent")
    try:
        await tab.send(rs.AGENT_QUEUE, "resync_queue")
        await tab.wait_for(lambda s: any("/login" in str(e) for e in tab.frontend_events))
        await asyncio.sleep(0.3)
        assert tab.state.get(rs.STAFF_LISTS, {}).get("queue", {}).get("rows", []) == []
        assert not rs.change_slots(tab.state)
    finally:
        await tab.close()
