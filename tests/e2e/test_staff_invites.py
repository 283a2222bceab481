"""Staff accounts in real browsers: the owner invites by email (a real SMTP server), the
invitee joins through the emailed link, a used link is refused, and removing someone signs
their open dashboard out at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, Staff, add_agent, screenshot, sign_in
from tests.support.server import AppServer
from tests.support.smtp import Inbox, invite_link_in, smtp_server

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]
INVITEE = "nora@example.test"
INVITEE_PASSWORD = "nora's own password"


def db_path(app_server: AppServer) -> str:
    return str(app_server.db_url).removeprefix("sqlite:///")  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def no_server_errors(app_server: AppServer) -> Iterator[None]:
    """No handler may fail behind the page (the browser only shows a vague toast)."""
    start = app_server.log_path.stat().st_size
    yield
    with app_server.log_path.open("rb") as log:
        log.seek(start)
        new = log.read().decode(errors="replace")
    assert "Traceback" not in new, new[-3000:]


@pytest.fixture
def inbox(app_server: AppServer) -> Iterator[Inbox]:
    """An SMTP server the running app sends to, configured in the workspace settings row (the
    app reads them on every delivery); switched back off afterwards."""
    with smtp_server() as (inbox, port), sqlite3.connect(db_path(app_server)) as conn:
        conn.execute(
            "UPDATE workspace_settings SET smtp_host = '127.0.0.1', smtp_port = ?, "
            "smtp_security = 'none', smtp_from = 'support@example.test'",
            (port,),
        )
        conn.commit()
        yield inbox
        conn.execute("UPDATE workspace_settings SET smtp_host = ''")
        conn.commit()


def test_owner_invites_by_email_and_the_invitee_joins_then_is_removed(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage, inbox: Inbox
) -> None:
    owner = new_page()
    sign_in(owner, app_server, staff["owner"])
    owner.get_by_test_id("nav-staff-link").click()
    owner.wait_for_url("**/staff")
    expect(owner.get_by_test_id("staff-row")).to_have_count(3)  # Olivia, Ana, Ben

    owner.get_by_test_id("staff-invite-name-input").fill("Nora")
    owner.get_by_test_id("staff-invite-email-input").fill(INVITEE)
    owner.get_by_test_id("staff-invite-submit-button").click()
    expect(owner.get_by_test_id("staff-notice")).to_have_text(f"Invite emailed to {INVITEE}.")
    row = owner.locator(f'[data-testid="staff-invite-row"][data-email="{INVITEE}"]')
    expect(row.get_by_test_id("staff-invite-link")).to_contain_text("/invite/")
    shown_link = row.get_by_test_id("staff-invite-link").inner_text()
    screenshot(owner, "staff-page")

    message = inbox.wait_for_message(INVITEE)
    link = invite_link_in(message)
    assert link == shown_link and link.startswith(app_server.url)

    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_test_id("invite-status")).to_have_attribute("data-state", "valid")
    expect(invitee.get_by_test_id("invite-summary")).to_contain_text(INVITEE)
    expect(invitee.get_by_test_id("invite-name-input")).to_have_value("Nora")
    screenshot(invitee, "invite-accept")
    invitee.get_by_test_id("invite-password-input").fill("short")
    invitee.get_by_test_id("invite-confirm-password-input").fill("short")
    invitee.get_by_test_id("invite-submit-button").click()
    expect(invitee.get_by_test_id("invite-error")).to_contain_text("at least 10 characters")
    invitee.get_by_test_id("invite-password-input").fill(INVITEE_PASSWORD)
    invitee.get_by_test_id("invite-confirm-password-input").fill(INVITEE_PASSWORD)
    invitee.get_by_test_id("invite-submit-button").click()
    invitee.wait_for_url("**/agent")
    expect(invitee.get_by_test_id("nav-staff-label")).to_have_text("Nora")
    expect(invitee.get_by_test_id("nav-staff-link")).to_have_count(0)  # an agent

    again = new_page()
    again.goto(link)
    expect(again.get_by_test_id("invite-status")).to_have_attribute("data-state", "used")
    expect(again.get_by_role("heading", name="This invite was already used")).to_be_visible()
    expect(again.get_by_text("ask the owner for a new invite")).to_be_visible()
    screenshot(again, "invite-used")

    # the owner removes Nora while her dashboard is open: it is signed out at once
    owner.reload()
    member = owner.locator(f'[data-testid="staff-row"][data-email="{INVITEE}"]')
    expect(member).to_be_visible()
    expect(
        owner.locator(f'[data-testid="staff-invite-row"][data-email="{INVITEE}"]')
    ).to_have_count(0)
    member.get_by_test_id("staff-remove-button").click()
    expect(owner.get_by_test_id("staff-remove-confirm-button")).to_be_visible()
    screenshot(owner, "staff-remove-confirm")
    owner.get_by_test_id("staff-remove-confirm-button").click()
    expect(owner.get_by_test_id("staff-notice")).to_contain_text("Nora was removed")
    expect(member).to_have_count(0)
    invitee.wait_for_url("**/login", timeout=10_000)
    assert invitee.evaluate("() => localStorage.getItem('handoff_staff_token')") in ("", None)

    # and she cannot sign back in
    invitee.get_by_test_id("login-email-input").fill(INVITEE)
    invitee.get_by_test_id("login-password-input").fill(INVITEE_PASSWORD)
    invitee.get_by_test_id("login-submit-button").click()
    expect(invitee.get_by_test_id("login-error")).to_contain_text("removed")


def test_an_agent_cannot_open_the_staff_page(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    page = new_page()
    sign_in(page, app_server, staff["ana"])
    page.goto(f"{app_server.url}/staff")
    page.wait_for_url("**/agent")
    expect(page.get_by_test_id("staff-row")).to_have_count(0)


def sign_in_with(page: Page, app_server: AppServer, email: str, password: str) -> None:
    page.goto(f"{app_server.url}/login")
    page.get_by_test_id("login-email-input").fill(email)
    page.get_by_test_id("login-password-input").fill(password)
    page.get_by_test_id("login-submit-button").click()
    page.wait_for_url("**/agent")


def test_password_changes_sign_the_other_tabs_out_and_roles_change(
    app_server: AppServer, staff: dict[str, Staff], new_page: NewPage
) -> None:
    add_agent(app_server.db_url, "cara@example.test", "Cara")  # type: ignore[attr-defined]
    here, elsewhere = new_page(), new_page()
    sign_in_with(here, app_server, "cara@example.test", PASSWORD)
    sign_in_with(elsewhere, app_server, "cara@example.test", PASSWORD)

    # Cara changes her own password: her other browser is signed out, this one stays
    here.get_by_test_id("nav-staff-label").click()
    here.wait_for_url("**/account")
    here.get_by_test_id("account-current-password-input").fill("not my password")
    here.get_by_test_id("account-new-password-input").fill("cara's new password")
    here.get_by_test_id("account-confirm-password-input").fill("cara's new password")
    here.get_by_test_id("account-submit-button").click()
    expect(here.get_by_test_id("account-error")).to_have_text("The current password is wrong.")
    here.get_by_test_id("account-current-password-input").fill(PASSWORD)
    here.get_by_test_id("account-new-password-input").fill("cara's new password")
    here.get_by_test_id("account-confirm-password-input").fill("cara's new password")
    here.get_by_test_id("account-submit-button").click()
    expect(here.get_by_test_id("account-notice")).to_contain_text("Password changed")
    screenshot(here, "account")
    elsewhere.wait_for_url("**/login", timeout=10_000)
    here.goto(f"{app_server.url}/agent")
    expect(here.get_by_test_id("nav-staff-label")).to_have_text("Cara")

    # the owner resets it: Cara's open tab is signed out, the new password works
    owner = new_page()
    sign_in(owner, app_server, staff["owner"])
    owner.goto(f"{app_server.url}/staff")
    cara = owner.locator('[data-testid="staff-row"][data-email="cara@example.test"]')
    cara.get_by_test_id("staff-reset-password-button").click()
    owner.get_by_test_id("staff-reset-password-input").fill("set by the owner")
    screenshot(owner, "staff-reset-password")
    owner.get_by_test_id("staff-reset-password-submit").click()
    expect(owner.get_by_test_id("staff-notice")).to_contain_text("New password set for Cara")
    here.wait_for_url("**/login", timeout=10_000)
    sign_in_with(elsewhere, app_server, "cara@example.test", "set by the owner")

    # roles: Cara becomes an owner (and sees the Staff link), then an agent again
    cara.get_by_test_id("staff-role-select").click()
    owner.get_by_role("option", name="owner").click()
    expect(cara).to_have_attribute("data-role", "owner")
    elsewhere.reload()
    expect(elsewhere.get_by_test_id("nav-staff-link")).to_be_visible()
    cara.get_by_test_id("staff-role-select").click()
    owner.get_by_role("option", name="agent").click()
    expect(cara).to_have_attribute("data-role", "agent")
    screenshot(owner, "staff-page-after-changes")
