"""`/staff` (owner only): the team, their roles, removal, password resets, and invites."""

from __future__ import annotations

import reflex as rx

from handoff_app.components.staff_invites import MUTED, invite_form, pending_invites
from handoff_app.components.staff_nav import staff_nav
from handoff_app.security import MIN_PASSWORD_LENGTH
from handoff_app.services.staff_admin import StaffRow
from handoff_app.states.staff_admin import StaffPageState

S = StaffPageState


def _callouts() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.notice != "",
            rx.callout(
                S.notice,
                icon="check",
                color_scheme="grass",
                size="1",
                width="100%",
                custom_attrs={"data-testid": "staff-notice", "role": "status"},
            ),
        ),
        rx.cond(
            S.error != "",
            rx.callout(
                S.error,
                icon="triangle_alert",
                color_scheme="red",
                size="1",
                width="100%",
                custom_attrs={"data-testid": "staff-error", "role": "alert"},
            ),
        ),
    )


def _section(title: str, *children: rx.Component, hint: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3"),
            rx.cond(hint != "", rx.text(hint, size="2", color=MUTED)),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        size="2",
    )


def _staff_row(row: StaffRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(row.display_name, weight="medium", size="2"),
                rx.cond(row.is_you, rx.badge("you", variant="outline", size="1")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(rx.text(row.email, size="2")),
        rx.table.cell(
            rx.select(
                ["owner", "agent"],
                value=row.role,
                size="1",
                on_change=lambda role: S.set_role(row.id, role),  # type: ignore[operator]
                custom_attrs={"data-testid": "staff-role-select"},
            )
        ),
        rx.table.cell(rx.moment(row.joined, format="YYYY-MM-DD", style={"font_size": "13px"})),
        rx.table.cell(
            rx.cond(
                row.is_you,
                rx.fragment(),
                rx.hstack(
                    rx.button(
                        "Reset password",
                        size="1",
                        variant="soft",
                        on_click=S.ask_reset(row.id),  # type: ignore[operator]
                        custom_attrs={"data-testid": "staff-reset-password-button"},
                    ),
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.ask_remove(row.id),  # type: ignore[operator]
                        custom_attrs={"data-testid": "staff-remove-button"},
                    ),
                    spacing="2",
                ),
            )
        ),
        align="center",
        custom_attrs={
            "data-testid": "staff-row",
            "data-email": row.email,
            "data-role": row.role,
        },
    )


def _confirm_remove() -> rx.Component:
    return rx.callout.root(
        rx.hstack(
            rx.text(
                "Remove ",
                rx.text.strong(S.remove_target_label),
                "? They are signed out at once and can no longer sign in. "
                "Their conversations and messages stay.",
                size="2",
            ),
            rx.spacer(),
            rx.button(
                "Remove",
                color_scheme="red",
                size="1",
                on_click=S.remove_staff(S.remove_target_id),  # type: ignore[operator]
                custom_attrs={"data-testid": "staff-remove-confirm-button"},
            ),
            rx.button(
                "Cancel",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=S.cancel,
                custom_attrs={"data-testid": "staff-remove-cancel-button"},
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        color_scheme="red",
        width="100%",
    )


def _reset_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("New password for ", rx.text.strong(S.reset_target_label), size="2"),
                rx.text(
                    f"At least {MIN_PASSWORD_LENGTH} characters. Their sessions end; "
                    "give them the new password yourself.",
                    size="1",
                    color=MUTED,
                ),
                rx.el.input(type="hidden", name="staff_id", value=S.reset_target_id),
                rx.hstack(
                    rx.input(
                        name="password",
                        type="password",
                        auto_complete="new-password",
                        width="100%",
                        custom_attrs={"data-testid": "staff-reset-password-input"},
                    ),
                    rx.button(
                        "Set password",
                        type="submit",
                        custom_attrs={"data-testid": "staff-reset-password-submit"},
                    ),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.cancel,
                    ),
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=S.reset_password,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _team() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Name"),
                rx.table.column_header_cell("Email"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Joined"),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(S.staff, _staff_row)),
        width="100%",
        size="1",
    )


def staff_page() -> rx.Component:
    return rx.vstack(
        staff_nav(),
        rx.vstack(
            rx.heading("Staff", size="5"),
            _callouts(),
            _section(
                "Invite someone",
                invite_form(),
                hint="They get a link to choose a password. Links work once and expire "
                "after 7 days.",
            ),
            _section(
                "Pending invites",
                pending_invites(),
                hint="New link and Resend replace the invite's link: earlier links stop working.",
            ),
            _section(
                "Team",
                rx.cond(S.remove_target_id != 0, _confirm_remove()),
                rx.cond(S.reset_target_id != 0, _reset_form()),
                _team(),
            ),
            width="100%",
            max_width="1040px",
            padding="1.25rem",
            spacing="4",
        ),
        align="center",
        spacing="0",
        min_height="100dvh",
        background="var(--gray-2)",
        width="100%",
    )
