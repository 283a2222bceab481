"""`/invite/[invite_token]`: the invited person chooses a password and is signed in."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.pages.account import password_field
from handoff_app.security import MIN_PASSWORD_LENGTH
from handoff_app.states.invite_accept import InviteAcceptState

S = InviteAcceptState


def _accept_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Join the support team", size="6"),
            rx.text(
                "You were invited as ",
                rx.text(S.role, as_="span", weight="bold"),
                " with ",
                rx.text(S.email, as_="span", weight="bold"),
                ". Choose your name and a password.",
                size="2",
                color="var(--gray-11)",
                custom_attrs={"data-testid": "invite-summary"},
            ),
            rx.vstack(
                rx.text("Your name", size="2", weight="medium", as_="label"),
                rx.input(
                    name="display_name",
                    default_value=S.display_name,
                    width="100%",
                    size="3",
                    custom_attrs={"data-testid": "invite-name-input"},
                ),
                spacing="1",
                width="100%",
            ),
            password_field(
                f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
                "password",
                "invite-password-input",
                "new-password",
            ),
            password_field(
                "Password again",
                "confirm_password",
                "invite-confirm-password-input",
                "new-password",
            ),
            rx.cond(
                S.error != "",
                rx.callout(
                    S.error,
                    icon="triangle_alert",
                    color_scheme="red",
                    size="1",
                    width="100%",
                    custom_attrs={"data-testid": "invite-error", "role": "alert"},
                ),
            ),
            rx.button(
                "Join and sign in",
                type="submit",
                size="3",
                width="100%",
                custom_attrs={"data-testid": "invite-submit-button"},
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=S.accept,
        reset_on_submit=False,
    )


def _unusable() -> rx.Component:
    return rx.vstack(
        rx.icon("link-2-off", size=32, color="var(--red-9)"),
        rx.heading(
            rx.match(
                S.status,
                ("used", "This invite was already used"),
                ("expired", "This invite has expired"),
                ("revoked", "This invite was withdrawn"),
                "This invite link does not work",
            ),
            size="5",
        ),
        rx.text(S.status_text, size="2", color="var(--gray-11)"),
        rx.link("Go to staff sign in", href=routes.LOGIN, size="2"),
        spacing="3",
        align="start",
    )


def invite_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.box(
                rx.cond(
                    S.status == "",
                    rx.center(rx.spinner(size="3"), padding="2rem"),
                    rx.cond(S.status == "valid", _accept_form(), _unusable()),
                ),
                custom_attrs={"data-testid": "invite-status", "data-state": S.status},
            ),
            width="100%",
            max_width="440px",
            size="4",
        ),
        min_height="100dvh",
        padding="1rem",
        background="var(--gray-2)",
    )
