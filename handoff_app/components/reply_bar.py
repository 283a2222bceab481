"""The conversation page's reply bar: Reply / Internal note, and the "/" canned responses."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.vars.base import Var, VarData

from handoff_app.components.composer import message_box, typing_events
from handoff_app.models import CannedPublic
from handoff_app.realtime import ConversationRoom
from handoff_app.states.agent_conversation import (
    NOTE,
    REPLY_BOX_ID,
    REPLY_DRAFT,
    AgentConversationState,
)
from handoff_app.states.staff_auth import StaffAuthState

S = AgentConversationState
# the signed-in staff member holds this conversation (and so may reply)
IS_MINE = (ConversationRoom.status == "active") & (
    ConversationRoom.assigned_staff_id == StaffAuthState.staff_id
)
NOTE_MODE = S.compose_mode == NOTE


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


def reply_bar() -> rx.Component:
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
