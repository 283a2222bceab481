"""`/agent/conversations/[conv_id]`: the whole thread, its context, and the actions."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.vars.base import Var, VarData

from handoff_app import routes
from handoff_app.components.badges import trigger_badge
from handoff_app.components.composer import message_box, typing_events
from handoff_app.components.messages import message_thread, typing_line
from handoff_app.components.staff_nav import staff_nav
from handoff_app.models import CannedPublic
from handoff_app.pages.not_found import not_found_card
from handoff_app.realtime import ConversationContextRoom, ConversationRoom
from handoff_app.states.agent_conversation import (
    NOTE,
    REPLY_BOX_ID,
    REPLY_DRAFT,
    AgentConversationState,
    StaffOption,
)
from handoff_app.states.staff_auth import StaffAuthState

S = AgentConversationState
C = ConversationContextRoom
IS_MINE = (ConversationRoom.status == "active") & (
    ConversationRoom.assigned_staff_id == StaffAuthState.staff_id
)
NOTE_MODE = S.compose_mode == NOTE


def _reject_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("undo-2", size=14),
                "Return to queue",
                variant="soft",
                color_scheme="amber",
                custom_attrs={"data-testid": "conversation-reject-button"},
            ),
        ),
        rx.dialog.content(
            rx.dialog.title("Return this conversation to the queue?"),
            rx.dialog.description(
                "It goes back to the pending queue for any agent to accept. The visitor sees "
                "that they are waiting again; your reason is an internal note for staff.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.el.textarea(
                        name="reason",
                        placeholder="Reason (optional, staff only)",
                        rows=2,
                        max_length=500,
                        class_name="composer",
                        width="100%",
                        custom_attrs={"data-testid": "conversation-reject-reason-input"},
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button(
                            "Return to queue",
                            type="submit",
                            color_scheme="amber",
                            custom_attrs={"data-testid": "conversation-reject-confirm"},
                        ),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1rem",
                    width="100%",
                ),
                on_submit=S.reject,
                reset_on_submit=True,
            ),
        ),
        open=S.reject_open,
        on_open_change=S.set_reject_open,
    )


def _staff_option(option: StaffOption) -> rx.Component:
    return rx.el.option(option.label, value=option.id.to_string())  # type: ignore[attr-defined]


def _transfer_dialog() -> rx.Component:
    return rx.fragment(
        rx.button(
            rx.icon("arrow-right-left", size=14),
            "Transfer",
            variant="soft",
            on_click=S.open_transfer,
            custom_attrs={"data-testid": "conversation-transfer-button"},
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Transfer to another agent"),
                rx.dialog.description(
                    "They take over at once and see it as theirs in the queue. Your note is "
                    "internal: the visitor never sees it.",
                    size="2",
                ),
                rx.form(
                    rx.vstack(
                        rx.el.select(
                            rx.el.option("Choose someone…", value="", disabled=True),
                            rx.foreach(S.transfer_targets, _staff_option),
                            name="to_staff_id",
                            default_value="",
                            required=True,
                            class_name="settings-select",
                            width="100%",
                            custom_attrs={
                                "data-testid": "conversation-transfer-select",
                                "aria-label": "Transfer to",
                            },
                        ),
                        rx.el.textarea(
                            name="note",
                            placeholder="Note for them (optional, staff only)",
                            rows=3,
                            max_length=500,
                            class_name="composer",
                            width="100%",
                            custom_attrs={"data-testid": "conversation-transfer-note-input"},
                        ),
                        rx.hstack(
                            rx.dialog.close(
                                rx.button(
                                    "Cancel", type="button", variant="soft", color_scheme="gray"
                                )
                            ),
                            rx.button(
                                "Transfer",
                                type="submit",
                                custom_attrs={"data-testid": "conversation-transfer-confirm"},
                            ),
                            justify="end",
                            spacing="3",
                            width="100%",
                        ),
                        spacing="3",
                        margin_top="1rem",
                        width="100%",
                    ),
                    on_submit=S.transfer,
                    reset_on_submit=True,
                ),
            ),
            open=S.transfer_open,
            on_open_change=S.set_transfer_open,
        ),
    )


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
        rx.cond(IS_MINE, rx.hstack(_reject_dialog(), _transfer_dialog(), spacing="2")),
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


def _mode_toggle() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item(
            "Reply", value="reply", custom_attrs={"data-testid": "conversation-mode-reply"}
        ),
        rx.segmented_control.item(
            rx.hstack(rx.icon("lock", size=12), "Internal note", align="center", spacing="1"),
            value="note",
            custom_attrs={"data-testid": "conversation-mode-note"},
        ),
        value=S.compose_mode,
        on_change=S.set_compose_mode,
        size="1",
        custom_attrs={"data-testid": "conversation-compose-mode"},
    )


def _offered_canned() -> Any:
    """The canned responses whose "/name" starts with the draft (only while it starts with
    "/"), filtered in the browser: no event per keystroke."""
    draft, items = REPLY_DRAFT.value, Var.create(S.canned)
    typed = f"(({draft}) ?? '')"
    return Var(
        _js_expr=(
            f"({typed}.startsWith('/') ? {items}.filter((c) => ('/' + c.name)"
            f".startsWith({typed}.trim().toLowerCase())) : [])"
        ),
        _var_data=VarData.merge(draft._get_all_var_data(), items._get_all_var_data()),
    ).to(list[CannedPublic])


def _canned_option(item: CannedPublic) -> rx.Component:
    return rx.button(
        rx.code("/" + item.name, size="1"),
        rx.text(
            item.body,
            size="1",
            color="var(--gray-11)",
            style={"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis"},
            min_width="0",
        ),
        type="button",
        variant="ghost",
        color_scheme="gray",
        on_click=[
            rx.set_value(REPLY_BOX_ID, item.body),
            REPLY_DRAFT.set_value(""),
            rx.set_focus(REPLY_BOX_ID),
        ],
        width="100%",
        style={"justify_content": "flex-start"},
        custom_attrs={"data-testid": "conversation-canned-option", "data-name": item.name},
    )


def _canned_menu() -> rx.Component:
    offered = _offered_canned()
    return rx.cond(
        offered.length() > 0,  # type: ignore[attr-defined]
        rx.vstack(
            rx.text(
                "Canned responses: click one, or press Enter when one is left",
                size="1",
                color="var(--gray-10)",
            ),
            rx.foreach(offered, _canned_option),
            spacing="1",
            width="100%",
            max_height="180px",
            overflow_y="auto",
            padding="0.4rem",
            border="1px solid var(--gray-5)",
            border_radius="8px",
            background="var(--color-panel-solid)",
            custom_attrs={"data-testid": "conversation-canned-menu"},
        ),
    )


def _reply_bar() -> rx.Component:
    can_write = IS_MINE | NOTE_MODE
    return rx.form(
        rx.vstack(
            _canned_menu(),
            rx.hstack(
                _mode_toggle(),
                rx.cond(
                    NOTE_MODE,
                    rx.text(
                        "Only staff see notes: never the visitor, never the bot.",
                        size="1",
                        color="var(--amber-11)",
                    ),
                    rx.text(
                        "Markdown: **bold**, _italic_, [link](https://…), lists, `code`",
                        size="1",
                        color="var(--gray-10)",
                    ),
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            message_box(
                box_id=REPLY_BOX_ID,
                input_testid="conversation-reply-input",
                send_testid="conversation-send-button",
                placeholder=rx.cond(
                    NOTE_MODE,
                    "Internal note for staff…",
                    rx.cond(IS_MINE, "Reply to the visitor…", "Accept & Join to reply"),
                ),
                disabled=~can_write,
                label=rx.cond(NOTE_MODE, "Internal note", "Reply"),
                on_change=[REPLY_DRAFT.set_value, *typing_events(S.typing, S.typing_stopped)],
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.send_reply,
        reset_on_submit=False,
        width="100%",
        padding="0.6rem 1rem 1rem",
        border_top="1px solid var(--gray-4)",
        background=rx.cond(NOTE_MODE, "var(--amber-2)", "transparent"),
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


def _context_panel() -> rx.Component:
    return rx.vstack(
        rx.heading("Context", size="3"),
        rx.cond(
            C.trigger != "",
            rx.vstack(
                rx.hstack(
                    rx.text("Trigger", size="2", color="var(--gray-11)"),
                    trigger_badge(C.trigger),
                    align="center",
                ),
                rx.text(
                    C.reason, size="2", custom_attrs={"data-testid": "conversation-trigger-reason"}
                ),
                rx.cond(
                    C.triggering_text != "",
                    rx.box(
                        rx.text(
                            "“", C.triggering_text, "”", size="2", style={"font_style": "italic"}
                        ),
                        padding="0.5rem",
                        background="var(--gray-3)",
                        border_radius="8px",
                        width="100%",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            rx.text("The bot is handling this conversation.", size="2", color="var(--gray-11)"),
        ),
        width=["100%", "100%", "300px"],
        padding="1rem",
        spacing="3",
        border_left=["none", "none", "1px solid var(--gray-4)"],
        custom_attrs={"data-testid": "conversation-context-panel"},
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
            _reply_bar(),
            spacing="0",
            flex="1",
            min_width="0",
            height=["auto", "auto", "calc(100dvh - 57px)"],
        ),
        _context_panel(),
        direction=rx.breakpoints(initial="column", md="row"),
        width="100%",
        background="var(--color-panel-solid)",
    )


def agent_conversation_page() -> rx.Component:
    return rx.vstack(
        staff_nav(show_count=False),
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
