"""Chat bubbles and the scrolling thread, used by the visitor and the agent views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from handoff_app.models import MessagePublic

_SENDER_LABEL = {"visitor": "Visitor", "bot": "AI assistant", "agent": "Agent"}


def _bubble_style(sender: Any, mine: str) -> dict[str, Any]:
    is_mine = sender == mine
    return {
        "max_width": "78%",
        "padding": "0.55rem 0.8rem",
        "border_radius": "14px",
        "white_space": "pre-wrap",
        "overflow_wrap": "anywhere",
        "background": rx.cond(
            is_mine,
            "var(--accent-9)",
            rx.match(sender, ("agent", "var(--grass-3)"), "var(--gray-3)"),
        ),
        "color": rx.cond(is_mine, "white", "var(--gray-12)"),
        "border": rx.match(sender, ("agent", "1px solid var(--grass-6)"), "1px solid transparent"),
    }


Actions = Callable[[MessagePublic], rx.Component]


def message_bubble(
    message: MessagePublic, *, testid: str, mine: str, actions: Actions | None = None
) -> rx.Component:
    """One message; `mine` is the sender shown on the right (visitor or agent); `actions`
    renders controls under a bubble (the visitor's thumbs on bot answers)."""
    sender = message.sender
    system = rx.box(
        rx.text(message.body, size="1", color="var(--gray-11)", style={"white_space": "pre-wrap"}),
        custom_attrs={"data-testid": testid, "data-sender": sender, "data-id": message.id},
        style={
            "align_self": "center",
            "text_align": "center",
            "max_width": "90%",
            "padding": "0.2rem 0.6rem",
        },
    )
    who = rx.cond(
        message.author_label != "",
        message.author_label,
        rx.match(
            sender,
            ("visitor", "You" if mine == "visitor" else "Visitor"),
            ("bot", "AI assistant"),
            "Agent",
        ),
    )
    bubble = rx.vstack(
        rx.hstack(
            rx.text(who, size="1", weight="medium", color="var(--gray-11)"),
            rx.moment(
                message.created_at,
                format="HH:mm",
                local=True,
                style={"font_size": "11px", "color": "var(--gray-10)"},
            ),
            spacing="2",
            align="baseline",
        ),
        rx.box(rx.text(message.body, size="2"), style=_bubble_style(sender, mine)),
        actions(message) if actions is not None else rx.fragment(),
        spacing="1",
        align=rx.cond(sender == mine, "end", "start"),
        custom_attrs={"data-testid": testid, "data-sender": sender, "data-id": message.id},
        style={"align_self": rx.cond(sender == mine, "flex-end", "flex-start"), "width": "100%"},
    )
    return rx.cond(sender == "system", system, bubble)


def _history_button(label: str, on_click: Any, testid: str) -> rx.Component:
    return rx.button(
        label,
        variant="ghost",
        size="1",
        on_click=on_click,
        align_self="center",
        custom_attrs={"data-testid": testid},
    )


def message_thread(
    *,
    history: Any,
    testid: str,
    mine: str,
    footer: rx.Component | None = None,
    actions: Actions | None = None,
) -> rx.Component:
    """The room's live messages, preceded by what the tab loaded on demand (`history` is a
    state using HistoryMixin)."""
    from handoff_app.realtime import ConversationRoom

    loaded_any = history.earlier.length() > 0
    return rx.auto_scroll(
        rx.vstack(
            rx.cond(
                (~loaded_any & (ConversationRoom.before_window_id > 0))
                | (loaded_any & history.earlier_more),
                _history_button(
                    "Load earlier messages", history.load_earlier, f"{testid}-load-earlier"
                ),
            ),
            rx.foreach(
                history.earlier,
                lambda m: message_bubble(m, testid=testid, mine=mine, actions=actions),
            ),
            rx.cond(
                loaded_any & (history.earlier_last_id < ConversationRoom.before_window_id),
                _history_button("Show newer hidden messages", history.load_gap, f"{testid}-gap"),
            ),
            rx.foreach(
                ConversationRoom.messages,
                lambda m: message_bubble(m, testid=testid, mine=mine, actions=actions),
            ),
            footer if footer is not None else rx.fragment(),
            spacing="3",
            width="100%",
            padding="1rem",
        ),
        flex="1",
        min_height="0",
        width="100%",
        custom_attrs={"data-testid": f"{testid}-list"},
    )
