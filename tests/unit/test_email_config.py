"""Which SMTP server invites use, and the throttling message (no I/O)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff_app.config import public_url
from handoff_app.models import WorkspaceSettings
from handoff_app.notifications.email import SmtpConfig, smtp_config
from handoff_app.services.invite_delivery import invite_link
from handoff_app.services.sign_in_throttle import SignInThrottled

ENV = ("HOST", "PORT", "USER", "PASSWORD", "SECURITY", "FROM")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(f"HANDOFF_SMTP_{name}", raising=False)
    monkeypatch.delenv("HANDOFF_PUBLIC_URL", raising=False)


def test_no_smtp_anywhere_means_email_is_not_configured() -> None:
    assert smtp_config(WorkspaceSettings()) is None
    assert smtp_config(None) is None


def test_the_workspace_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_SMTP_HOST", "env.example.test")
    settings = WorkspaceSettings(
        smtp_host="mail.example.test",
        smtp_port=2525,
        smtp_user="bot@example.test",
        smtp_password="secret",
        smtp_security="ssl",
    )
    assert smtp_config(settings) == SmtpConfig(
        "mail.example.test", 2525, "bot@example.test", "secret", "ssl", "bot@example.test"
    )


def test_a_blank_settings_host_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HANDOFF_SMTP_HOST", "env.example.test")
    monkeypatch.setenv("HANDOFF_SMTP_SECURITY", "SSL")
    monkeypatch.setenv("HANDOFF_SMTP_FROM", "help@example.test")
    config = smtp_config(WorkspaceSettings())
    assert config == SmtpConfig("env.example.test", 465, "", "", "ssl", "help@example.test")
    monkeypatch.setenv("HANDOFF_SMTP_SECURITY", "bogus")
    monkeypatch.setenv("HANDOFF_SMTP_PORT", "2526")
    config = smtp_config(None)
    assert config is not None and (config.security, config.port) == ("starttls", 2526)


def test_invite_links_use_the_public_url_else_the_browser_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert invite_link(public_url("http://localhost:3000"), "abc") == (
        "http://localhost:3000/invite/abc"
    )
    monkeypatch.setenv("HANDOFF_PUBLIC_URL", "https://help.example.test/")
    assert invite_link(public_url("http://localhost:3000"), "abc") == (
        "https://help.example.test/invite/abc"
    )


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (timedelta(seconds=1), "Try again in 1 minute."),
        (timedelta(minutes=1, seconds=1), "Try again in 2 minutes."),
        (timedelta(minutes=15), "Try again in 15 minutes."),
        (timedelta(0), "Try again in 1 minute."),
    ],
)
def test_the_throttle_message_rounds_the_wait_up(wait: timedelta, text: str) -> None:
    assert str(SignInThrottled(wait)) == f"Too many failed sign-ins. {text}"
