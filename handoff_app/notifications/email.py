"""Email over SMTP (stdlib smtplib, run in a thread so the event loop never blocks).

The server comes from the workspace settings (smtp_* fields); when their host is blank, from
the environment: HANDOFF_SMTP_HOST, HANDOFF_SMTP_PORT, HANDOFF_SMTP_USER,
HANDOFF_SMTP_PASSWORD, HANDOFF_SMTP_SECURITY (starttls | ssl | none), HANDOFF_SMTP_FROM.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT_SECONDS = 20


class EmailNotSent(Exception):
    """Delivery failed; the text says why (fit to show the owner, never a password)."""


class SmtpFields(Protocol):
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_security: str
    smtp_from: str


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str
    security: str  # starttls | ssl | none
    sender: str


def smtp_config(settings: SmtpFields | None) -> SmtpConfig | None:
    """The SMTP server to use, or None when email is not configured anywhere."""
    if settings is not None and settings.smtp_host.strip():
        security = (
            settings.smtp_security if settings.smtp_security in SECURITY_MODES else "starttls"
        )
        return SmtpConfig(
            host=settings.smtp_host.strip(),
            port=settings.smtp_port or DEFAULT_PORTS[security],
            user=settings.smtp_user,
            password=settings.smtp_password,
            security=security,
            sender=settings.smtp_from or settings.smtp_user or f"handoff@{settings.smtp_host}",
        )
    host = os.environ.get("HANDOFF_SMTP_HOST", "").strip()
    if not host:
        return None
    security = os.environ.get("HANDOFF_SMTP_SECURITY", "starttls").strip().lower()
    if security not in SECURITY_MODES:
        security = "starttls"
    port = os.environ.get("HANDOFF_SMTP_PORT", "").strip()
    user = os.environ.get("HANDOFF_SMTP_USER", "")
    return SmtpConfig(
        host=host,
        port=int(port) if port.isdigit() else DEFAULT_PORTS[security],
        user=user,
        password=os.environ.get("HANDOFF_SMTP_PASSWORD", ""),
        security=security,
        sender=os.environ.get("HANDOFF_SMTP_FROM", "") or user or f"handoff@{host}",
    )


def _send_blocking(config: SmtpConfig, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.security == "ssl":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if config.security == "starttls":
            smtp.starttls(context=context)
        if config.user:
            smtp.login(config.user, config.password)
        smtp.send_message(message)


async def send_email(config: SmtpConfig, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text email; raise EmailNotSent with a short reason on any failure."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        await asyncio.to_thread(_send_blocking, config, message)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        reason = str(exc) or type(exc).__name__
        raise EmailNotSent(
            f"Email to {to} failed via {config.host}:{config.port}: {reason}"[:500]
        ) from exc
