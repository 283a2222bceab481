"""Chat bubbles and the scrolling thread, used by the visitor and the agent views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex_base.vars.base import Var, VarData
from reflex_base.vars.function import FunctionStringVar, FunctionVar

from handoff_app.components.markdown import message_markdown
from handoff_app.live_window import SLOT_NAMES
from handoff_app.models import MessagePublic

# (base, base_seq, ...slots) -> the messages to show: the room's base window with every change
# newer than it applied by message id, in id order (live_window.py; `shown` is the same rule)
MERGE_JS = """(base, baseSeq, ...slots) => {
  const newer = slots.filter((s) => s && s.seq > baseSeq);
  if (newer.length === 0) return base;
  const rows = new Map(base.map((m) => [m.id, m]));
  for (const s of newer.sort((a, b) => a.seq - b.seq)) rows.set(s.row.id, s.row);
  return [...rows.values()].sort((a, b) => a.id - b.id);
}"""
_merge: FunctionVar[Any] = FunctionStringVar.create(MERGE_JS)


def live_messages() -> Var:
    """The conversation room's messages as the browser shows them (see live_window.py)."""
    from handoff_app.realtime import ConversationRoom

    slots = [getattr(ConversationRoom, name) for name in SLOT_NAMES]
    return _merge.call(ConversationRoom.messages, ConversationRoom.base_seq, *slots).to(
        list[MessagePublic]
    )


def message_time(created_at: Any) -> rx.Component:
    """When a message was sent, small, in the viewer's own time zone."""
    return rx.moment(
        created_at,
        format="HH:mm",
        local=True,
        style={"font_size": "11px", "color": "var(--gray-10)"},
    )


def _bubble_style(sender: Any, mine: str) -> dict[str, Any]:
    is_mine = sender == mine
    return {
        "max_width": "78%",
        "padding": "0.55rem 0.8rem",
        "border_radius": "14px",
        "overflow_wrap": "anywhere",
        "background": rx.cond(
            is_mine,
            "var(--accent-9)",
            rx.match(
                sender,
                ("agent", "var(--grass-3)"),
                ("note", "var(--amber-3)"),
                "var(--gray-3)",
            ),
        ),
        "color": rx.cond(is_mine, "white", "var(--gray-12)"),
        "border": rx.match(
            sender,
            ("agent", "1px solid var(--grass-6)"),
            ("note", "1px dashed var(--amber-8)"),
            "1px solid transparent",
        ),
    }


Actions = Callable[[MessagePublic], rx.Component]


def message_bubble(
    message: MessagePublic, *, testid: str, mine: str, actions: Actions | None = None
) -> rx.Component:
    """One message; `mine` is the sender shown on the right (visitor or agent). Internal
    notes (staff views only) sit on the staff side, amber, labelled. `actions` renders controls
    under a bubble (the visitor's thumbs on bot answers)."""
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
    right = (sender == mine) | (sender == "note")
    bubble = rx.vstack(
        rx.hstack(
            rx.cond(
                sender == "note",
                rx.badge(
                    rx.icon("lock", size=11),
                    "Internal note",
                    color_scheme="amber",
                    variant="soft",
                    size="1",
                    custom_attrs={"data-testid": f"{testid}-note-label"},
                ),
            ),
            rx.text(who, size="1", weight="medium", color="var(--gray-11)"),
            message_time(message.created_at),
            spacing="2",
            align="center",
        ),
        rx.box(
            message_markdown(message.body),
            style=_bubble_style(sender, mine),
            custom_attrs={"data-testid": f"{testid}-body"},
        ),
        actions(message) if actions is not None else rx.fragment(),
        spacing="1",
        align=rx.cond(right, "end", "start"),
        custom_attrs={"data-testid": testid, "data-sender": sender, "data-id": message.id},
        style={"align_self": rx.cond(right, "flex-end", "flex-start"), "width": "100%"},
    )
    return rx.cond(sender == "system", system, bubble)


def _history_button(
    label: str, on_click: Any, testid: str, extra: dict[str, str] | None = None
) -> rx.Component:
    return rx.button(
        label,
        variant="ghost",
        size="1",
        on_click=on_click,
        align_self="center",
        custom_attrs={"data-testid": testid, **(extra or {})},
    )


def _with_notes(messages: Any, notes: Any, after_id: Any) -> Var:
    """The room's messages and the staff-only notes newer than `after_id`, in id order,
    merged in the browser (the two arrive through different rooms)."""
    return Var(
        _js_expr=(
            f"[...{messages}, ...{notes}.filter((n) => n.id > {after_id})]"
            ".sort((a, b) => a.id - b.id)"
        ),
        _var_type=list[MessagePublic],
        _var_data=VarData.merge(
            messages._get_all_var_data(), notes._get_all_var_data(), after_id._get_all_var_data()
        ),
    )


def typing_line(text: Any, testid: str) -> rx.Component:
    return rx.hstack(
        rx.icon("ellipsis", size=14, color="var(--gray-10)"),
        rx.text(text, size="1", color="var(--gray-10)", style={"font_style": "italic"}),
        align="center",
        spacing="2",
        custom_attrs={"data-testid": testid, "aria-live": "polite"},
    )


def message_thread(
    *,
    history: Any,
    testid: str,
    mine: str,
    footer: rx.Component | None = None,
    actions: Actions | None = None,
    notes: Any = None,
) -> rx.Component:
    """The room's live messages, preceded by what the tab loaded on demand (`history` is a
    state using HistoryMixin). Staff views pass `notes` (the context room's internal notes)."""
    from handoff_app.realtime import ConversationRoom

    loaded_any = history.earlier.length() > 0
    messages = live_messages()
    live = (
        messages
        if notes is None
        else _with_notes(messages, notes, ConversationRoom.before_window_id)
    )
    agent_typing = (
        rx.cond(
            ConversationRoom.agent_typing & (ConversationRoom.status == "active"),
            typing_line(
                ConversationRoom.public_agent_label + " is typing…", "visitor-agent-typing"
            ),
        )
        if mine == "visitor"
        else rx.fragment()
    )
    # assets/history-scroll.js clicks "Load earlier messages" when the sentinel at the top
    # comes into view, and keeps the reader's place as the older messages are put above
    return rx.auto_scroll(
        rx.script(src="/history-scroll.js"),
        rx.vstack(
            rx.box(height="1px", width="100%", custom_attrs={"data-history-sentinel": ""}),
            rx.cond(
                (~loaded_any & (ConversationRoom.before_window_id > 0))
                | (loaded_any & history.earlier_more),
                _history_button(
                    "Load earlier messages",
                    history.load_earlier,
                    f"{testid}-load-earlier",
                    {"data-history-load": ""},
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
                live, lambda m: message_bubble(m, testid=testid, mine=mine, actions=actions)
            ),
            agent_typing,
            footer if footer is not None else rx.fragment(),
            spacing="3",
            width="100%",
            padding="1rem",
        ),
        flex="1",
        min_height="0",
        width="100%",
        custom_attrs={"data-testid": f"{testid}-list", "data-history-scroll": ""},
    )
