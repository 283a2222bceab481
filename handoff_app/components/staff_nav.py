"""The navigation bar of every staff page, with the live unclaimed count."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app import routes
from handoff_app.realtime import StaffBadge
from handoff_app.services.staff_tabs import HEARTBEAT_SECONDS
from handoff_app.states.staff_auth import StaffAuthState


def staff_nav(unclaimed: Any = None) -> rx.Component:
    """The bar on every staff page, with the live unclaimed count: `StaffBadge.unclaimed`
    (pushed to each open staff tab; filled when the page loads), or on the queue page the
    count its room carries."""
    return rx.hstack(
        rx.link(
            rx.hstack(
                rx.icon("headset", size=20),
                rx.text("Handoff", weight="bold", size="4", display=["none", "inline"]),
                align="center",
                spacing="2",
            ),
            href=routes.AGENT_QUEUE,
            underline="none",
            color="var(--gray-12)",
        ),
        rx.link(
            rx.hstack(
                rx.text("Queue", size="2"),
                _unclaimed_badge(StaffBadge.unclaimed if unclaimed is None else unclaimed),
                align="center",
                spacing="2",
            ),
            href=routes.AGENT_QUEUE,
            underline="none",
        ),
        rx.cond(
            StaffAuthState.staff_role == "owner",
            rx.hstack(
                _nav_link("Staff", routes.STAFF, "nav-staff-link"),
                _nav_link("Settings", routes.SETTINGS, "nav-settings-link"),
                spacing="4",
            ),
        ),
        rx.spacer(),
        _alerts_toggle(),
        rx.cond(StaffAuthState.session_ended, _session_ended()),
        _nav_link(StaffAuthState.staff_label, routes.ACCOUNT, "nav-staff-label"),
        rx.button(
            "Sign out",
            variant="soft",
            size="1",
            on_click=StaffAuthState.sign_out,
            custom_attrs={"data-testid": "logout-button"},
        ),
        _heartbeat(),
        rx.script(src="/staff-alerts.js"),
        align="center",
        spacing=rx.breakpoints(initial="3", sm="4"),
        wrap="wrap",  # phones: the links wrap instead of widening the page
        padding=rx.breakpoints(initial="0.6rem 0.75rem", sm="0.75rem 1.25rem"),
        border_bottom="1px solid var(--gray-5)",
        width="100%",
        background="var(--color-panel-solid)",
    )


def _alerts_toggle() -> rx.Component:
    """Sound and desktop notifications on new escalations, on or off for this browser
    (assets/staff-alerts.js keeps the choice and asks for notification permission)."""
    return rx.icon_button(
        rx.box(rx.icon("bell", size=16), class_name="alerts-on"),
        rx.box(rx.icon("bell-off", size=16), class_name="alerts-off"),
        variant="ghost",
        size="2",
        color_scheme="gray",
        aria_label="Sound and desktop alerts on new conversations (on/off)",
        title="Sound and desktop alerts on new conversations",
        custom_attrs={"data-testid": "nav-alerts-toggle"},
    )


def _heartbeat() -> rx.Component:
    """An invisible clock that ticks every 30 s: each tick tells the server this page is still
    open (the "staff online" count) and brings the count back."""
    return rx.moment(
        interval=HEARTBEAT_SECONDS * 1000,
        format="X",
        on_change=StaffAuthState.heartbeat,
        display="none",
        aria_hidden="true",
    )


def _nav_link(text: str | rx.Var[str], href: str, test_id: str) -> rx.Component:
    return rx.link(
        rx.text(text, size="2"),
        href=href,
        underline="none",
        custom_attrs={"data-testid": test_id},
    )


def _unclaimed_badge(unclaimed: Any) -> rx.Component:
    return rx.badge(
        unclaimed,
        color_scheme=rx.cond(unclaimed > 0, "red", "gray"),
        variant="solid",
        radius="full",
        custom_attrs={
            "data-testid": "nav-unclaimed-badge",
            "aria-label": "unclaimed conversations",
        },
    )


def _session_ended() -> rx.Component:
    """Shown (and redirecting to /login) when the session was ended from elsewhere."""
    return rx.badge(
        "Your session has ended",
        color_scheme="red",
        on_mount=rx.redirect(routes.LOGIN, replace=True),
        custom_attrs={"data-testid": "session-ended"},
    )
