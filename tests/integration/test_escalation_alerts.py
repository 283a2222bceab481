"""Email alerts on new escalations reach every active staff member through a real SMTP server
(aiosmtpd on loopback), only when the owner switched them on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.models import StaffUser, utcnow
from handoff_app.notifications import alerts
from handoff_app.notifications.background import drain
from handoff_app.services import conversations, handoff
from handoff_app.services.workspace import update_settings
from tests.conftest import make_staff
from tests.support.smtp import body_of, smtp_server


@pytest.fixture
def installed() -> Iterator[None]:
    alerts.install()
    yield
    events.unsubscribe(alerts.on_event)


async def escalate(session: AsyncSession) -> int:
    started = await conversations.start_conversation(session=session)
    await conversations.post_visitor_message(
        session=session, key=started.key, body="I was charged twice, talk to an agent"
    )
    assert started.conversation.id is not None
    return started.conversation.id


async def test_every_active_staff_member_is_emailed(session: AsyncSession, installed: None) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    gone = await make_staff(session, name="Gone")
    removed = await session.get(StaffUser, gone.id)
    assert removed is not None
    removed.removed_at = utcnow()
    await session.commit()
    with smtp_server() as (inbox, port):
        await update_settings(
            session=session,
            notify_email_alerts=True,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_from="alerts@example.test",
        )
        cid = await escalate(session)
        await drain()
        to_ana = inbox.wait_for_message(ana.email)
        inbox.wait_for_message(ben.email)
        assert not any(gone.email in str(m["To"]) for m in inbox.messages)
    assert "New handoff" in str(to_ana["Subject"]) and "keyword" in str(to_ana["Subject"])
    body = body_of(to_ana)
    assert "I was charged twice, talk to an agent" in body
    assert f"/agent/conversations/{cid}" in body


async def test_alerts_off_send_nothing(session: AsyncSession, installed: None) -> None:
    await make_staff(session)
    with smtp_server() as (inbox, port):
        await update_settings(
            session=session, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
        )
        started = await conversations.start_conversation(session=session)
        await handoff.request_handoff(session=session, conversation=started.conversation)
        await drain()
        assert inbox.messages == []
