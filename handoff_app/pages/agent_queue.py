"""`/agent`: the live queue of conversations waiting for, or with, a human."""

from __future__ import annotations

import reflex as rx

from handoff_app.components.badges import trigger_badge
from handoff_app.components.staff_nav import staff_nav
from handoff_app.models import QueueRow
from handoff_app.realtime import StaffBadge, StaffQueueRoom
from handoff_app.states.agent_queue import AgentQueueState
from handoff_app.states.staff_auth import StaffAuthState


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
                rx.cond(
                    row.status == "pending",
                    rx.badge("Waiting", color_scheme="amber", variant="solid"),
                    rx.badge(f"With {row.claimed_by}", color_scheme="grass", variant="soft"),
                ),
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
        },
    )


def _availability() -> rx.Component:
    """Staff online now, and (owners) the "agents available" switch."""
    return rx.hstack(
        rx.hstack(
            rx.box(width="8px", height="8px", border_radius="50%", background="var(--grass-9)"),
            rx.text(
                StaffAuthState.staff_online,
                " staff online",
                size="2",
                color="var(--gray-11)",
                custom_attrs={"data-testid": "queue-staff-online"},
            ),
            align="center",
            spacing="2",
        ),
        rx.cond(
            StaffAuthState.staff_role == "owner",
            rx.el.label(
                rx.hstack(
                    rx.switch(
                        checked=AgentQueueState.agents_available,
                        on_change=AgentQueueState.set_agents_available,
                        custom_attrs={"data-testid": "queue-agents-available-switch"},
                    ),
                    rx.text("Agents available", size="2"),
                    align="center",
                    spacing="2",
                ),
            ),
            rx.cond(
                ~AgentQueueState.agents_available,
                rx.badge("Away: visitors get the away message", color_scheme="amber"),
            ),
        ),
        align="center",
        spacing="4",
    )


def agent_queue_page() -> rx.Component:
    return rx.vstack(
        staff_nav(),
        rx.vstack(
            rx.hstack(
                rx.heading("Live queue", size="5"),
                rx.badge(
                    StaffBadge.unclaimed.to_string() + " waiting",  # type: ignore[attr-defined]
                    color_scheme="amber",
                    variant="soft",
                    custom_attrs={"data-testid": "queue-tab-pending"},
                ),
                rx.spacer(),
                _availability(),
                align="center",
                spacing="3",
                width="100%",
                wrap="wrap",
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
