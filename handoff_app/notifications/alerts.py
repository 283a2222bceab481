"""Email alerts to staff on each new escalation (settings → notifications), through the
workspace's SMTP server. Staff who were removed get nothing."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from handoff_app import events
from handoff_app.config import public_url
from handoff_app.db import open_read_session
from handoff_app.models import Conversation, Escalation, StaffUser
from handoff_app.notifications.background import spawn
from handoff_app.notifications.email import EmailNotSent, send_email, smtp_config
from handoff_app.routes import agent_conversation
from handoff_app.services.workspace import get_workspace_settings

log = logging.getLogger(__name__)


def alert_text(conversation: Conversation, escalation: Escalation, link: str) -> tuple[str, str]:
    """(subject, body) of the alert."""
    subject = f"New handoff: {conversation.visitor_label} is waiting ({escalation.trigger})"
    lines = [
        f"{conversation.visitor_label} asked for a person.",
        "",
        f"Trigger: {escalation.trigger}",
        f"Reason: {escalation.reason}",
    ]
    if escalation.triggering_text:
        lines.append(f'Their message: "{escalation.triggering_text[:500]}"')
    lines += ["", f"Open it: {link}"]
    return subject, "\n".join(lines)


async def send_escalation_alerts(event: events.HandoffRequested) -> int:
    """Email every active staff member about the escalation; returns how many were sent."""
    async with open_read_session() as session:
        settings = await get_workspace_settings(session=session)
        if not settings.notify_email_alerts:
            return 0
        config = smtp_config(settings)
        escalation = await session.get(Escalation, event.escalation_id)
        conversation = await session.get(Conversation, event.conversation_id)
        recipients = (
            await session.exec(select(StaffUser.email).where(col(StaffUser.removed_at).is_(None)))
        ).all()
    if config is None:
        log.warning("email alerts are on but no SMTP server is configured")
        return 0
    if escalation is None or conversation is None:
        return 0
    link = public_url() + agent_conversation(event.conversation_id)
    subject, body = alert_text(conversation, escalation, link)
    sent = 0
    for address in recipients:
        try:
            await send_email(config, to=address, subject=subject, body=body)
            sent += 1
        except EmailNotSent as exc:
            log.warning("escalation alert not sent: %s", exc)
    return sent


async def on_event(event: events.ConversationEvent) -> None:
    if isinstance(event, events.HandoffRequested):
        spawn(send_escalation_alerts(event), f"email alerts for escalation {event.escalation_id}")


def install() -> None:
    events.subscribe(on_event)
