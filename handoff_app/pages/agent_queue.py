"""`/agent`: the live queue of conversations waiting for, or with, a human."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.components.badges import trigger_badge
from handoff_app.components.canned import canned_section
from handoff_app.components.live_list import live_rows, resync_button
from handoff_app.components.staff_nav import staff_nav
from handoff_app.models import ConversationRow, QueueRow
from handoff_app.realtime import (
    STAFF_BOT_ROOM,
    STAFF_QUEUE_ROOM,
    StaffBotRoom,
    StaffListSnapshots,
    StaffQueueRoom,
)
from handoff_app.states.agent_queue import AgentQueueState
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
                rx.cond(row.busy, "Waiting too long", "Waiting"),
                color_scheme=rx.cond(returned_by_me, "gray", rx.cond(row.busy, "red", "amber")),
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
                rx.hstack(
                    rx.cond(
                        row.unread > 0,
                        rx.badge(
                            row.unread,
                            color_scheme="red",
                            variant="solid",
                            radius="full",
                            title="visitor messages since the last agent reply",
                            custom_attrs={"data-testid": "queue-row-unread"},
                        ),
                    ),
                    _status_badge(row),
                    spacing="1",
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
        class_name="queue-row",
        custom_attrs={
            "data-testid": "queue-row",
            "data-conversation-id": row.conversation_id,
            "data-status": row.status,
            # assets/staff-alerts.js colours waiting rows: amber after a minute, red past the
            # response deadline
            "data-requested-at": row.requested_at,
            "data-deadline": row.deadline,
            "data-mine": rx.cond(row.assigned_staff_id == StaffAuthState.staff_id, "true", "false"),
            # "true" on the row its viewer returned to the queue: not new to them
            "data-returned-by-me": rx.cond(
                (row.returned_by_id == StaffAuthState.staff_id) & (row.returned_by_id != 0),
                "true",
                "false",
            ),
        },
    )


def _shown_in_tab(row: QueueRow) -> Any:
    """Pending / Active / Mine filter the live rows in the browser (one room for all three)."""
    tab = AgentQueueState.tab
    return (
        ((tab == "pending") & (row.status == "pending"))
        | ((tab == "active") & (row.status == "active"))
        | ((tab == "mine") & (row.assigned_staff_id == StaffAuthState.staff_id))
    )


def _queue_item(row: QueueRow) -> rx.Component:
    return rx.cond(_shown_in_tab(row), queue_row(row))


def _tab_button(tab: str, label: rx.Component | str, testid: str) -> rx.Component:
    return rx.button(
        label,
        size="2",
        variant=rx.cond(AgentQueueState.tab == tab, "solid", "soft"),
        color_scheme=rx.cond(AgentQueueState.tab == tab, "blue", "gray"),
        on_click=AgentQueueState.show_tab(tab),  # type: ignore[operator]
        custom_attrs={"data-testid": testid, "aria-pressed": AgentQueueState.tab == tab},
    )


def _tabs() -> rx.Component:
    return rx.hstack(
        _tab_button(
            "pending",
            rx.hstack(rx.text("Pending"), rx.badge(StaffQueueRoom.unclaimed, variant="surface")),
            "queue-tab-pending",
        ),
        _tab_button("active", "Active", "queue-tab-active"),
        _tab_button("mine", "Mine", "queue-tab-mine"),
        _tab_button("closed", "Closed", "queue-tab-resolved"),
        _tab_button("all", "All conversations", "queue-tab-all"),
        spacing="2",
        wrap="wrap",
        custom_attrs={"role": "tablist"},
    )


def _conversation_row(row: ConversationRow, *, closed: bool) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.vstack(
                rx.hstack(
                    rx.text(row.visitor_label, weight="bold", size="2"),
                    rx.text(f"#{row.conversation_id}", size="1", color="var(--gray-10)"),
                    rx.badge(row.status, variant="soft", color_scheme="gray"),
                    rx.cond(
                        row.handled_by != "",
                        rx.text("by ", row.handled_by, size="1", color="var(--gray-10)"),
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.text(row.preview, size="2", color="var(--gray-11)", class_name="one-line"),
                rx.moment(
                    row.updated_at,
                    from_now=True,
                    style={"font_size": "12px", "color": "var(--gray-10)"},
                ),
                spacing="1",
                min_width="0",
            ),
            href="/agent/conversations/" + row.conversation_id.to_string(),  # type: ignore[attr-defined]
            underline="none",
            color="inherit",
            flex="1",
            min_width="0",
        ),
        rx.fragment()
        if closed
        else rx.button(
            "Take over",
            size="1",
            variant="soft",
            on_click=AgentQueueState.take_over(row.conversation_id),  # type: ignore[operator]
            custom_attrs={"data-testid": "queue-takeover-button"},
        ),
        align="center",
        width="100%",
        padding="0.7rem 1rem",
        border_radius="10px",
        border="1px solid var(--gray-5)",
        background="var(--color-panel-solid)",
        custom_attrs={
            "data-testid": "queue-closed-row" if closed else "queue-bot-row",
            "data-conversation-id": row.conversation_id,
        },
    )


def _empty(text: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=32, color="var(--gray-9)"),
            rx.text(text, color="var(--gray-11)", size="2"),
            align="center",
        ),
        padding="3rem",
        width="100%",
        custom_attrs={"data-testid": "queue-empty"},
    )


def _live_list() -> rx.Component:
    rows = live_rows(STAFF_QUEUE_ROOM, StaffListSnapshots.queue, StaffQueueRoom, list[QueueRow])
    return rx.cond(
        rows.length() == 0,  # type: ignore[attr-defined]
        _empty("Nobody is waiting. New handoffs appear here instantly."),
        rx.vstack(rx.foreach(rows, _queue_item), width="100%", spacing="2"),
    )


def _closed_list() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    default_value=AgentQueueState.closed_search,
                    placeholder="Search closed conversations (visitor or message text)",
                    width="100%",
                    custom_attrs={"data-testid": "queue-closed-search-input"},
                ),
                rx.button("Search", type="submit", variant="soft"),
                width="100%",
            ),
            on_submit=AgentQueueState.search_closed,
            width="100%",
        ),
        rx.cond(
            AgentQueueState.closed_rows.length() == 0,  # type: ignore[attr-defined]
            _empty("No closed conversations match."),
            rx.vstack(
                rx.foreach(
                    AgentQueueState.closed_rows, lambda r: _conversation_row(r, closed=True)
                ),
                width="100%",
                spacing="2",
            ),
        ),
        width="100%",
        spacing="3",
    )


def _bot_list() -> rx.Component:
    rows = live_rows(STAFF_BOT_ROOM, StaffListSnapshots.bot, StaffBotRoom, list[ConversationRow])
    return rx.cond(
        rows.length() == 0,  # type: ignore[attr-defined]
        _empty("The bot is not talking with anyone right now."),
        rx.vstack(
            rx.text(
                "Conversations the bot is handling now. Take one over to answer yourself.",
                size="2",
                color="var(--gray-11)",
            ),
            rx.foreach(rows, lambda r: _conversation_row(r, closed=False)),
            width="100%",
            spacing="2",
        ),
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
        staff_nav(StaffQueueRoom.unclaimed),
        rx.vstack(
            rx.hstack(
                rx.heading("Live queue", size="5"),
                rx.badge(
                    StaffQueueRoom.unclaimed.to_string() + " waiting",  # type: ignore[attr-defined]
                    color_scheme="amber",
                    variant="soft",
                    custom_attrs={"data-testid": "queue-waiting-count"},
                ),
                rx.spacer(),
                _availability(),
                align="center",
                spacing="3",
                width="100%",
                wrap="wrap",
            ),
            _tabs(),
            rx.cond(
                AgentQueueState.notice != "",
                rx.callout(AgentQueueState.notice, icon="info", size="1", width="100%"),
            ),
            rx.match(
                AgentQueueState.tab,
                ("closed", _closed_list()),
                ("all", _bot_list()),
                _live_list(),
            ),
            canned_section(),
            resync_button(STAFF_QUEUE_ROOM, AgentQueueState.resync_queue),
            resync_button(STAFF_BOT_ROOM, AgentQueueState.resync_bot),
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
