"""The owner's webhook: every new escalation is POSTed as JSON to the configured URL.

Delivery runs in its own task after the escalation has committed (a rolled-back handoff never
calls out), with a short timeout and a few retries on network errors and 5xx answers. It lives
in the worker that committed the escalation, so each escalation is sent once even with several
workers; a worker that dies mid-retry loses that delivery (logged), it never blocks a visitor.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from handoff_app import events
from handoff_app.db import open_read_session
from handoff_app.models import Conversation, Escalation
from handoff_app.notifications.background import spawn
from handoff_app.services.workspace import get_workspace_settings

log = logging.getLogger(__name__)
ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = (0.5, 2.0)
USER_AGENT = "handoff_app-webhook/1"


async def escalation_payload(event: events.HandoffRequested) -> tuple[str, dict[str, Any]] | None:
    """(url, JSON body) for this escalation, or None when no webhook is configured."""
    async with open_read_session() as session:
        settings = await get_workspace_settings(session=session)
        if not settings.webhook_url:
            return None
        escalation = await session.get(Escalation, event.escalation_id)
        conversation = await session.get(Conversation, event.conversation_id)
    if escalation is None or conversation is None:
        return None
    return settings.webhook_url, {
        "event": "escalation.created",
        "conversation_id": conversation.id,
        "escalation_id": escalation.id,
        "visitor": conversation.visitor_label,
        "trigger": escalation.trigger,
        "reason": escalation.reason,
        "triggering_message": escalation.triggering_text,
        "requested_at": escalation.requested_at.isoformat(),
        "response_deadline": (
            escalation.response_deadline.isoformat() if escalation.response_deadline else None
        ),
        "agent_path": f"/agent/conversations/{conversation.id}",
    }


async def deliver(url: str, body: dict[str, Any]) -> bool:
    """POST `body` to `url`; True once a 2xx answer came back. Retries what may pass on retry
    (network errors, timeouts, 5xx, 429); a 4xx other than 429 is final."""
    async with httpx.AsyncClient(
        timeout=TIMEOUT_SECONDS, headers={"User-Agent": USER_AGENT}, follow_redirects=False
    ) as client:
        for attempt in range(ATTEMPTS):
            try:
                response = await client.post(url, json=body)
            except httpx.HTTPError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    log.info(
                        "webhook delivered escalation %s to %s", body.get("escalation_id"), url
                    )
                    return True
                outcome = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    log.warning("webhook %s refused the escalation: %s", url, outcome)
                    return False
            if attempt < ATTEMPTS - 1:
                await asyncio.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
    log.warning("webhook %s failed after %d attempts: %s", url, ATTEMPTS, outcome)
    return False


async def _send(event: events.HandoffRequested) -> None:
    target = await escalation_payload(event)
    if target is not None:
        await deliver(*target)


async def on_event(event: events.ConversationEvent) -> None:
    """Subscriber: start the delivery and return at once (the publisher is a visitor's turn)."""
    if isinstance(event, events.HandoffRequested):
        spawn(_send(event), f"webhook for escalation {event.escalation_id}")


def install() -> None:
    events.subscribe(on_event)
