"""Waiting visitors see their place in the queue change live, over real websockets: a new
request behind them leaves their place as it is, a claim ahead of them moves them up at once.
The app backend on SQLite, one worker (where unchanged places are not pushed again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import reflex_socket as rs
from tests.support.server import Account, AppServer, backend_with_staff

OWNER = Account("owner@example.test", "correct horse battery")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    app_db: Path = tmp_path_factory.mktemp("waiting") / "app.db"
    with backend_with_staff(app_db, owner=OWNER) as app:
        yield app


def place(state: rs.State) -> int:
    return int(rs.room(state).get("queue_position") or 0)


async def test_places_in_the_queue_follow_claims_live(server: AppServer) -> None:
    base = server.backend_url
    first, first_id = await rs.visitor_with_conversation(base)
    second, _ = await rs.visitor_with_conversation(base)
    agent = None
    try:
        await rs.request_human(first)
        await first.wait_for(lambda s: place(s) == 1)
        await rs.request_human(second)
        await second.wait_for(lambda s: place(s) == 2)
        assert place(first.state) == 1  # someone queued behind: still first

        token = await rs.sign_in(base, OWNER.email, OWNER.password)
        agent = await rs.open_agent_conversation(base, token, first_id)
        await agent.send(rs.AGENT_CONVERSATION, "claim")
        await second.wait_for(lambda s: place(s) == 1)  # moved up, with no reload
        await first.wait_for(lambda s: rs.room(s).get("status") == "active")
    finally:
        for tab in (first, second, agent):
            if tab is not None:
                await tab.close()
