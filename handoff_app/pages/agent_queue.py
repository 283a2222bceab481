"""`/agent`: the live queue of conversations waiting for, or with, a human."""

from __future__ import annotations

import reflex as rx

from handoff_app.components.badges import trigger_badge
from handoff_app.components.canned import canned_section
from handoff_app.components.staff_nav import staff_nav
from handoff_app.models import QueueRow
from handoff_app.realtime import StaffBadgeRoom, StaffQueueRoom
from handoff_app.states.staff_auth import StaffAuthState


def _status_badge(row: QueueRow) -> rx.Component:
    """Waiting (new to you), returned by you (not new to you), or with whom."""
    me = StaffAuthState.staff_id
    returned_by_me = (row.returned_by_id == me) & (row.returned_by_id != 0)
    return rx.cond(
        row.status == "pending",
        rx.hstack(
            rx.cond(
                returned_by_me,
                rx.badge(
                    "You returned this",
                    color_scheme="gray",
                    variant="soft",
                    custom_attrs={"data-testid": "queue-row-returned"},
                ),
                rx.cond(
                    row.returned_by_id != 0,
                    rx.badge(
                        "Returned by ",
                        row.returned_by,
                        color_scheme="amber",
                        variant="soft",
                        custom_attrs={"data-testid": "queue-row-returned"},
                    ),
                ),
            ),
            rx.badge(
                "Waiting",
                color_scheme=rx.cond(returned_by_me, "gray", "amber"),
                variant=rx.cond(returned_by_me, "soft", "solid"),
            ),
            spacing="1",
        ),
        rx.cond(
            row.assigned_staff_id == me,
            rx.badge(
                "With you",
                color_scheme="grass",
                variant="solid",
                custom_attrs={"data-testid": "queue-row-mine"},
            ),
            rx.badge(f"With {row.claimed_by}", color_scheme="grass", variant="soft"),
        ),
    )


def queue_row(row: QueueRow) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.text(row.visitor_label, weight="bold", size="2"),
                    rx.text(f"#{row.conversation_id}", size="1", color="var(--gray-10)"),
                    trigger_badge(row.trigger),
                    align="center",
                    spacing="2",
                ),
                rx.text(
                    row.preview,
                    size="2",
                    color="var(--gray-11)",
                    style={
                        "white_space": "nowrap",
                        "overflow": "hidden",
                        "text_overflow": "ellipsis",
                        "line_height": "1.5",
                        "max_width": "60vw",
                    },
                ),
                spacing="1",
                align="start",
                min_width="0",
            ),
            rx.spacer(),
            rx.vstack(
                _status_badge(row),
                rx.moment(
                    row.requested_at,
                    from_now=True,
                    interval=10_000,
                    style={"font_size": "12px", "color": "var(--gray-10)"},
                    custom_attrs={"data-testid": "queue-row-wait"},
                ),
                align="end",
                spacing="1",
            ),
            width="100%",
            align="center",
            padding="0.8rem 1rem",
            border_radius="10px",
            border="1px solid var(--gray-5)",
            background="var(--color-panel-solid)",
            _hover={"border_color": "var(--accent-8)"},
        ),
        href="/agent/conversations/" + row.conversation_id.to_string(),  # type: ignore[attr-defined]
        underline="none",
        color="inherit",
        width="100%",
        custom_attrs={
            "data-testid": "queue-row",
            "data-conversation-id": row.conversation_id,
            "data-status": row.status,
            "data-mine": rx.cond(row.assigned_staff_id == StaffAuthState.staff_id, "true", "false"),
            # "true" on the row its viewer returned to the queue: not new to them
            "data-returned-by-me": rx.cond(
                (row.returned_by_id == StaffAuthState.staff_id) & (row.returned_by_id != 0),
                "true",
                "false",
            ),
        },
    )


def agent_queue_page() -> rx.Component:
    return rx.vstack(
        staff_nav(),
        rx.vstack(
            rx.hstack(
                rx.heading("Live queue", size="5"),
                rx.badge(
                    StaffBadgeRoom.unclaimed.to_string() + " waiting",  # type: ignore[attr-defined]
                    color_scheme="amber",
                    variant="soft",
                    custom_attrs={"data-testid": "queue-tab-pending"},
                ),
                align="center",
                spacing="3",
            ),
            rx.cond(
                StaffQueueRoom.rows.length() == 0,  # type: ignore[attr-defined]
                rx.center(
                    rx.vstack(
                        rx.icon("inbox", size=32, color="var(--gray-9)"),
                        rx.text(
                            "Nobody is waiting. New handoffs appear here instantly.",
                            color="var(--gray-11)",
                            size="2",
                        ),
                        align="center",
                    ),
                    padding="3rem",
                    width="100%",
                    custom_attrs={"data-testid": "queue-empty"},
                ),
                rx.vstack(rx.foreach(StaffQueueRoom.rows, queue_row), width="100%", spacing="2"),
            ),
            canned_section(),
            width="100%",
            max_width="960px",
            padding="1.25rem",
            spacing="4",
        ),
        align="center",
        spacing="0",
        min_height="100dvh",
        background="var(--gray-2)",
        width="100%",
    )
