"""`/account`: the signed-in staff member changes their own password."""

from __future__ import annotations

import reflex as rx

from handoff_app.components.staff_nav import staff_nav
from handoff_app.security import MIN_PASSWORD_LENGTH
from handoff_app.states.account import AccountState
from handoff_app.states.staff_auth import StaffAuthState


def password_field(label: str, name: str, test_id: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label"),
        rx.input(
            name=name,
            type="password",
            auto_complete=autocomplete,
            width="100%",
            size="3",
            custom_attrs={"data-testid": test_id},
        ),
        spacing="1",
        width="100%",
    )


def account_page() -> rx.Component:
    return rx.vstack(
        staff_nav(),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Your account", size="5"),
                    rx.text(
                        StaffAuthState.staff_label,
                        " · ",
                        AccountState.email,
                        size="2",
                        color="var(--gray-11)",
                    ),
                    rx.heading("Change password", size="3"),
                    password_field(
                        "Current password",
                        "current_password",
                        "account-current-password-input",
                        "current-password",
                    ),
                    password_field(
                        f"New password (at least {MIN_PASSWORD_LENGTH} characters)",
                        "new_password",
                        "account-new-password-input",
                        "new-password",
                    ),
                    password_field(
                        "New password again",
                        "confirm_password",
                        "account-confirm-password-input",
                        "new-password",
                    ),
                    rx.cond(
                        AccountState.error != "",
                        rx.callout(
                            AccountState.error,
                            icon="triangle_alert",
                            color_scheme="red",
                            size="1",
                            width="100%",
                            custom_attrs={"data-testid": "account-error", "role": "alert"},
                        ),
                    ),
                    rx.cond(
                        AccountState.notice != "",
                        rx.callout(
                            AccountState.notice,
                            icon="check",
                            color_scheme="grass",
                            size="1",
                            width="100%",
                            custom_attrs={"data-testid": "account-notice", "role": "status"},
                        ),
                    ),
                    rx.button(
                        "Change password",
                        type="submit",
                        size="3",
                        custom_attrs={"data-testid": "account-submit-button"},
                    ),
                    rx.text(
                        "Your other signed-in browsers are signed out when you change it.",
                        size="1",
                        color="var(--gray-10)",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AccountState.change_password,
                reset_on_submit=True,
            ),
            width="100%",
            max_width="480px",
            size="3",
            margin_top="2rem",
        ),
        align="center",
        spacing="0",
        min_height="100dvh",
        background="var(--gray-2)",
        width="100%",
    )
