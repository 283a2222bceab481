"""The owner's webhook receives each new escalation as JSON, from a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.notifications import webhook
from handoff_app.notifications.background import drain
from handoff_app.services import conversations, handoff
from handoff_app.services.workspace import update_settings
from tests.support.http_receiver import Receiver

HOOK_PATH = "/hooks/escalations"


@pytest.fixture
def installed() -> Iterator[None]:
    webhook.install()
    yield
    from handoff_app import events

    events.unsubscribe(webhook.on_event)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "BACKOFF_SECONDS", (0.01, 0.01))


async def escalate(session: AsyncSession) -> int:
    started = await conversations.start_conversation(session=session)
    await conversations.post_visitor_message(
        session=session, key=started.key, body="my parcel never arrived"
    )
    return await handoff.request_handoff(session=session, conversation=started.conversation)


async def test_a_new_escalation_is_posted_as_json(
    session: AsyncSession, installed: None, fast_retries: None
) -> None:
    receiver = Receiver([200])
    try:
        await update_settings(session=session, webhook_url=receiver.base + HOOK_PATH)
        escalation_id = await escalate(session)
        await drain()
    finally:
        receiver.close()
    assert receiver.paths == [HOOK_PATH]
    body = receiver.received[0]
    assert body["event"] == "escalation.created"
    assert body["escalation_id"] == escalation_id
    assert body["trigger"] == "button"
    assert body["reason"] == "The visitor asked to talk to a human."
    assert body["agent_path"] == f"/agent/conversations/{body['conversation_id']}"
    headers = {name.lower(): value for name, value in receiver.headers[0].items()}
    assert headers["content-type"] == "application/json"


async def test_server_errors_are_retried_and_client_errors_are_not(
    session: AsyncSession, installed: None, fast_retries: None
) -> None:
    receiver = Receiver([503, 502, 200, 400])
    try:
        await update_settings(session=session, webhook_url=receiver.base + HOOK_PATH)
        await escalate(session)
        await drain()
        assert len(receiver.received) == 3  # two 5xx answers, then delivered
        await escalate(session)
        await drain()
    finally:
        receiver.close()
    assert len(receiver.received) == 4  # the 400 is final: no retry


async def test_no_webhook_configured_sends_nothing_and_a_dead_url_loses_no_handoff(
    session: AsyncSession, installed: None, fast_retries: None
) -> None:
    receiver = Receiver([])
    receiver.close()  # nothing listens on this port any more
    await escalate(session)  # no URL set: nothing to send
    await drain()
    await update_settings(session=session, webhook_url=receiver.base + HOOK_PATH)
    escalation_id = await escalate(session)  # the delivery fails; the handoff stands
    await drain()
    assert escalation_id > 0
    assert receiver.received == []
