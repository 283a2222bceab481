"""The unclaimed count on every staff page (not only the queue), in the browser tab's title,
with a sound and a desktop notification on a new escalation; the bell turns them off."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Staff, screenshot, sign_in
from tests.e2e.test_handoff_loop import visitor_says
from tests.support.server import AppServer

pytestmark = pytest.mark.browser
NewPage = Callable[..., Page]


def escalate(app_server: AppServer, new_page: NewPage, text: str) -> Page:
    """A visitor whose message carries a handoff keyword: in the queue at once."""
    visitor = new_page()
    visitor.goto(app_server.url)
    visitor_says(visitor, f"talk to an agent: {text}")
    expect(visitor.get_by_test_id("visitor-status")).to_have_attribute("data-state", "pending")
    return visitor


def count(page: Page) -> int:
    return int(page.get_by_test_id("nav-unclaimed-badge").inner_text())


def test_every_staff_page_shows_the_live_count_in_its_nav_and_title(
    app_server: AppServer, new_page: NewPage, staff: dict[str, Staff]
) -> None:
    owner = new_page()
    owner.context.grant_permissions(["notifications"], origin=app_server.url)
    sign_in(owner, app_server, staff["owner"])
    owner.get_by_test_id("nav-settings-link").click()
    owner.wait_for_url("**/settings")
    badge = owner.get_by_test_id("nav-unclaimed-badge")
    expect(badge).to_have_text(re.compile(r"^\d+$"))
    expect(owner.get_by_test_id("settings-save-button")).to_be_visible()
    owner.wait_for_function("window.__handoffAlerts && window.__handoffAlerts.last !== null")
    before = count(owner)

    agent = new_page()
    sign_in(agent, app_server, staff["ana"])
    agent.goto(f"{app_server.url}/account")
    expect(agent.get_by_test_id("nav-unclaimed-badge")).to_have_text(str(before))

    escalate(app_server, new_page, "Where is my parcel? (alerts test)")
    expect(badge).to_have_text(str(before + 1))  # live, on the settings page
    expect(agent.get_by_test_id("nav-unclaimed-badge")).to_have_text(str(before + 1))
    expect(owner).to_have_title(re.compile(rf"^\({before + 1}\) Settings"))
    sounds = owner.evaluate("window.__handoffAlerts.sounds")
    notes = owner.evaluate("window.__handoffAlerts.notifications")
    assert sounds >= 1 and notes >= 1
    screenshot(owner, "settings-with-live-badge")

    # the bell turns sound and notifications off for this browser
    owner.get_by_test_id("nav-alerts-toggle").click()
    expect(owner.locator("html")).to_have_attribute("data-handoff-alerts", "off")
    escalate(app_server, new_page, "Another question (alerts off)")
    expect(badge).to_have_text(str(before + 2))
    assert owner.evaluate("window.__handoffAlerts.sounds") == sounds
    owner.get_by_test_id("nav-alerts-toggle").click()
    expect(owner.locator("html")).to_have_attribute("data-handoff-alerts", "on")
