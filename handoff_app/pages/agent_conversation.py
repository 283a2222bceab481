"""`/agent/conversations/[conv_id]`: the whole thread, its context, and the actions."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.components.context_panel import context_panel
from handoff_app.components.handoff_dialogs import reject_dialog, transfer_dialog
from handoff_app.components.messages import message_thread, typing_line
from handoff_app.components.reply_bar import IS_MINE, reply_bar
from handoff_app.components.staff_nav import staff_nav
from handoff_app.pages.not_found import not_found_card
from handoff_app.realtime import ConversationContextRoom, ConversationRoom
from handoff_app.states.agent_conversation import AgentConversationState
from handoff_app.states.staff_auth import StaffAuthState

S = AgentConversationState
C = ConversationContextRoom


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(
            ConversationRoom.status == "pending",
            rx.button(
                "Accept & Join",
                on_click=S.claim,
                color_scheme="grass",
                custom_attrs={"data-testid": "conversation-claim-button"},
            ),
        ),
        rx.cond(
            (ConversationRoom.status == "active") | (ConversationRoom.status == "pending"),
            rx.hstack(
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button(
                            "Resolve",
                            variant="soft",
                            color_scheme="grass",
                            custom_attrs={"data-testid": "conversation-resolve-button"},
                        ),
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Resolve this conversation?"),
                        rx.alert_dialog.description(
                            "The visitor sees the resolution message and can start a new "
                            "conversation.",
                            size="2",
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(
                                rx.button("Cancel", variant="soft", color_scheme="gray")
                            ),
                            rx.alert_dialog.action(
                                rx.button(
                                    "Resolve",
                                    color_scheme="grass",
                                    on_click=S.resolve,
                                    custom_attrs={"data-testid": "conversation-resolve-confirm"},
                                ),
                            ),
                            justify="end",
                            spacing="3",
                            margin_top="1rem",
                        ),
                    ),
                ),
                rx.button(
                    "Hand back to bot",
                    variant="soft",
                    on_click=S.hand_back,
                    custom_attrs={"data-testid": "conversation-handback-button"},
                ),
                rx.button(
                    "Dismiss",
                    variant="outline",
                    color_scheme="gray",
                    on_click=S.dismiss,
                    custom_attrs={"data-testid": "conversation-dismiss-button"},
                ),
                spacing="2",
            ),
        ),
        rx.cond(IS_MINE, rx.hstack(reject_dialog(), transfer_dialog(), spacing="2")),
        spacing="2",
        wrap="wrap",
    )


def _status_line() -> rx.Component:
    return rx.hstack(
        rx.badge(
            ConversationRoom.status,
            variant="soft",
            color_scheme=rx.match(
                ConversationRoom.status,
                ("pending", "amber"),
                ("active", "grass"),
                ("bot", "blue"),
                "gray",
            ),
            custom_attrs={
                "data-testid": "conversation-status",
                "data-state": ConversationRoom.status,
            },
        ),
        rx.cond(
            ConversationRoom.agent_label != "",
            rx.text(
                "Claimed by ",
                rx.text.strong(ConversationRoom.agent_label),
                size="2",
                custom_attrs={"data-testid": "conversation-claimed-by"},
            ),
        ),
        align="center",
        spacing="2",
    )


def _typing_footer() -> rx.Component:
    """Who is typing: the visitor (staff-only room), and the assignee to other staff."""
    return rx.fragment(
        rx.cond(
            C.visitor_typing,
            typing_line("Visitor is typing…", "conversation-visitor-typing"),
        ),
        rx.cond(
            ConversationRoom.agent_typing
            & (ConversationRoom.status == "active")
            & (ConversationRoom.assigned_staff_id != StaffAuthState.staff_id),
            typing_line(ConversationRoom.agent_label + " is typing…", "conversation-agent-typing"),
        ),
    )


def _conversation() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.link("← Queue", href=routes.AGENT_QUEUE, size="2"),
                rx.heading(
                    "Conversation #",
                    S.conversation_id.to_string(),  # type: ignore[attr-defined]
                    size="4",
                ),
                _status_line(),
                rx.spacer(),
                _actions(),
                align="center",
                spacing="3",
                wrap="wrap",
                padding="0.75rem 1rem",
                width="100%",
                border_bottom="1px solid var(--gray-4)",
            ),
            rx.cond(
                S.notice != "",
                rx.callout(
                    S.notice,
                    icon="info",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                    custom_attrs={"data-testid": "conversation-notice", "role": "alert"},
                ),
            ),
            message_thread(
                history=S,
                testid="conversation-message",
                mine="agent",
                notes=C.notes,
                footer=_typing_footer(),
            ),
            reply_bar(),
            spacing="0",
            flex="1",
            min_width="0",
            height=["auto", "auto", "calc(100dvh - 57px)"],
        ),
        context_panel(),
        direction=rx.breakpoints(initial="column", md="row"),
        width="100%",
        background="var(--color-panel-solid)",
    )


def agent_conversation_page() -> rx.Component:
    return rx.vstack(
        staff_nav(),
        rx.cond(
            S.not_found,
            not_found_card("This conversation does not exist."),
            rx.cond(
                S.refused != "",
                rx.box(
                    not_found_card(S.refused, title="Not available"),
                    custom_attrs={"data-testid": "conversation-refused"},
                    width="100%",
                ),
                _conversation(),
            ),
        ),
        spacing="0",
        width="100%",
        min_height="100dvh",
    )
