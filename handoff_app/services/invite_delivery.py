"""Sending an invite's link: by email when SMTP is configured, otherwise logged for the owner
to share by hand. A failed delivery is stored on the invite (it stays valid)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import routes
from handoff_app.models import StaffInvite, utcnow
from handoff_app.notifications.email import EmailNotSent, send_email, smtp_config
from handoff_app.security import hash_token
from handoff_app.services.invites import INVITE_LIFETIME, IssuedInvite
from handoff_app.services.workspace import get_workspace_settings

log = logging.getLogger("handoff_app.invites")


@dataclass
class Delivery:
    emailed: bool  # the SMTP server accepted the message
    configured: bool  # an SMTP server is configured at all
    error: str = ""


def invite_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{routes.invite(token)}"


def invite_email_body(issued: IssuedInvite, link: str, inviter: str) -> str:
    days = INVITE_LIFETIME.days
    return (
        f"Hello {issued.display_name},\n\n"
        f"{inviter} invited you to join the support team on Handoff as {issued.role}.\n\n"
        f"Open this link to choose your password and sign in:\n{link}\n\n"
        f"The link works once and expires in {days} days.\n"
    )


async def deliver_invite(
    *, session: AsyncSession, issued: IssuedInvite, link: str, inviter: str
) -> Delivery:
    """Email the link (or log it when no SMTP server is configured) and record the outcome.

    No transaction stays open while the mail server is talked to.
    """
    config = smtp_config(await get_workspace_settings(session=session))
    await session.rollback()  # end the read before the slow part
    if config is None:
        log.warning("email not configured: share the invite for %s by hand: %s", issued.email, link)
        return Delivery(emailed=False, configured=False)
    error = ""
    try:
        await send_email(
            config,
            to=issued.email,
            subject="You're invited to Handoff",
            body=invite_email_body(issued, link, inviter),
        )
    except EmailNotSent as exc:
        error = str(exc)
        log.warning("invite email for %s not sent: %s", issued.email, error)
    # only the invite still carrying this token: a newer link's delivery is not overwritten
    await session.execute(
        sa.update(StaffInvite)
        .where(
            col(StaffInvite.id) == issued.invite_id,
            col(StaffInvite.token_hash) == hash_token(issued.token),
        )
        .values(sent_at=None if error else utcnow(), delivery_error=error)
    )
    await session.commit()
    return Delivery(emailed=not error, configured=True, error=error)
