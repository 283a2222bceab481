"""`/login`: staff sign-in; on the very first run, creates the owner account instead."""

from __future__ import annotations

import reflex as rx

from handoff_app.states.staff_auth import LoginState


def _field(label: str, **props: object) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label"),
        rx.input(width="100%", size="3", **props),
        spacing="1",
        width="100%",
    )


def login_page() -> rx.Component:
    # Uncontrolled inputs: the password travels once, with the submitted form, and is never
    # kept in server state.
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(
                        rx.cond(
                            LoginState.needs_owner, "Create the owner account", "Staff sign in"
                        ),
                        size="6",
                    ),
                    rx.cond(
                        LoginState.needs_owner,
                        rx.text(
                            "No staff account exists yet. The first account owns this workspace.",
                            size="2",
                            color="var(--gray-11)",
                        ),
                    ),
                    rx.cond(
                        LoginState.needs_owner,
                        _field(
                            "Your name",
                            name="display_name",
                            custom_attrs={"data-testid": "login-name-input"},
                        ),
                    ),
                    _field(
                        "Email",
                        name="email",
                        type="email",
                        auto_complete="username",
                        custom_attrs={"data-testid": "login-email-input"},
                    ),
                    _field(
                        "Password",
                        name="password",
                        type="password",
                        auto_complete=rx.cond(
                            LoginState.needs_owner, "new-password", "current-password"
                        ),
                        custom_attrs={"data-testid": "login-password-input"},
                    ),
                    rx.cond(
                        LoginState.error != "",
                        rx.callout(
                            LoginState.error,
                            icon="triangle_alert",
                            color_scheme="red",
                            size="1",
                            width="100%",
                            custom_attrs={"data-testid": "login-error", "role": "alert"},
                        ),
                    ),
                    rx.button(
                        rx.cond(LoginState.needs_owner, "Create owner and sign in", "Sign in"),
                        type="submit",
                        size="3",
                        width="100%",
                        custom_attrs={"data-testid": "login-submit-button"},
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
            ),
            width="100%",
            max_width="400px",
            size="4",
        ),
        min_height="100dvh",
        padding="1rem",
        background="var(--gray-2)",
    )
