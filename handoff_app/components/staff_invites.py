"""The invite form and the pending invites table of `/staff` (owner only)."""

from __future__ import annotations

import reflex as rx

from handoff_app.services.invites import InviteRow
from handoff_app.states.staff_admin import INVITE_EMAIL_ID, INVITE_NAME_ID, StaffPageState

S = StaffPageState
MUTED = "var(--gray-11)"


def _labelled(label: str, child: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="medium", color=MUTED),
        child,
        spacing="1",
        flex="1",
        min_width="180px",
    )


def invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                _labelled(
                    "Name",
                    rx.input(
                        name="display_name",
                        id=INVITE_NAME_ID,
                        placeholder="Ana Lopez",
                        width="100%",
                        custom_attrs={"data-testid": "staff-invite-name-input"},
                    ),
                ),
                _labelled(
                    "Email",
                    rx.input(
                        name="email",
                        id=INVITE_EMAIL_ID,
                        type="email",
                        placeholder="ana@example.com",
                        width="100%",
                        custom_attrs={"data-testid": "staff-invite-email-input"},
                    ),
                ),
                _labelled(
                    "Role",
                    rx.select(
                        ["agent", "owner"],
                        name="role",
                        default_value="agent",
                        width="100%",
                        custom_attrs={"data-testid": "staff-invite-role-select"},
                    ),
                ),
                rx.button(
                    rx.icon("send", size=16),
                    "Send invite",
                    type="submit",
                    loading=S.sending,
                    custom_attrs={"data-testid": "staff-invite-submit-button"},
                ),
                spacing="3",
                align="end",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(
                S.invite_error != "",
                rx.callout(
                    S.invite_error,
                    icon="triangle_alert",
                    color_scheme="red",
                    size="1",
                    width="100%",
                    custom_attrs={"data-testid": "staff-invite-error", "role": "alert"},
                ),
            ),
            rx.cond(
                ~S.email_configured,
                rx.text(
                    "Email is not set up (SMTP in settings or HANDOFF_SMTP_* variables): "
                    "copy each invite link and send it yourself.",
                    size="1",
                    color=MUTED,
                ),
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=S.invite,
        reset_on_submit=False,
        width="100%",
    )


def _invite_row(row: InviteRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row.display_name, weight="medium", size="2"),
                rx.text(row.email, size="1", color=MUTED),
                spacing="0",
            )
        ),
        rx.table.cell(rx.badge(row.role, variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.cond(
                    row.expired,
                    rx.badge("Expired", color_scheme="red", variant="soft"),
                    rx.hstack(
                        rx.text("Expires", size="1", color=MUTED),
                        rx.moment(
                            row.expires_at,
                            from_now=True,
                            style={"font_size": "12px", "color": "var(--gray-11)"},
                        ),
                        spacing="1",
                    ),
                ),
                rx.cond(
                    row.sent_at != "",
                    rx.badge("Emailed", color_scheme="grass", variant="soft"),
                ),
                rx.cond(
                    row.delivery_error != "",
                    rx.text(
                        row.delivery_error,
                        size="1",
                        color="var(--red-11)",
                        custom_attrs={"data-testid": "staff-invite-delivery-error"},
                    ),
                ),
                spacing="1",
                align="start",
            ),
        ),
        rx.table.cell(
            rx.cond(
                row.link != "",
                rx.hstack(
                    rx.code(
                        row.link,
                        size="1",
                        style={"word_break": "break-all"},
                        custom_attrs={"data-testid": "staff-invite-link"},
                    ),
                    rx.icon_button(
                        rx.icon("copy", size=14),
                        size="1",
                        variant="soft",
                        on_click=rx.set_clipboard(row.link),
                        custom_attrs={
                            "data-testid": "staff-invite-copy-button",
                            "aria-label": "Copy link",
                        },
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.text(
                    "Link shown once. Use New link to get a fresh one.",
                    size="1",
                    color=MUTED,
                ),
            ),
            max_width="320px",
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "New link",
                    size="1",
                    variant="soft",
                    on_click=S.new_link(row.id),  # type: ignore[operator]
                    custom_attrs={"data-testid": "staff-invite-new-link-button"},
                ),
                rx.button(
                    "Resend",
                    size="1",
                    variant="soft",
                    on_click=S.resend(row.id),  # type: ignore[operator]
                    custom_attrs={"data-testid": "staff-invite-resend-button"},
                ),
                rx.button(
                    "Revoke",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.revoke(row.id),  # type: ignore[operator]
                    custom_attrs={"data-testid": "staff-invite-revoke-button"},
                ),
                spacing="2",
            )
        ),
        align="center",
        custom_attrs={"data-testid": "staff-invite-row", "data-email": row.email},
    )


def pending_invites() -> rx.Component:
    return rx.cond(
        S.invites.length() == 0,  # type: ignore[attr-defined]
        rx.text("No pending invites.", size="2", color=MUTED),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Invited"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Link"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.invites, _invite_row)),
            width="100%",
            size="1",
        ),
    )
