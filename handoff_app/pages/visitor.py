"""`/`: the visitor's chat with the bot and, after a handoff, with a human."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from handoff_app.components.composer import message_box
from handoff_app.components.messages import live_messages
from handoff_app.models import MessagePublic
from handoff_app.realtime import ConversationRoom
from handoff_app.states.visitor import COMPOSER_ID, VisitorState
from handoff_app.states.visitor_typing import VisitorTypingState

# The data-state the visitor's status element reports (see DESIGN.md, UI test ids).
VISITOR_STATE = rx.cond(
    VisitorState.confirming
    & (ConversationRoom.status != "pending")
    & (ConversationRoom.status != "active"),
    "confirming",
    rx.match(
        ConversationRoom.status,
        (
            "pending",
            rx.match(ConversationRoom.wait_state, ("busy", "busy"), ("away", "away"), "pending"),
        ),
        ("active", "active"),
        ("resolved", "resolved"),
        ("dismissed", "resolved"),
        "bot",
    ),
)
IS_CLOSED = (ConversationRoom.status == "resolved") | (ConversationRoom.status == "dismissed")


def _nobody_can_come(message: str | rx.Var[str]) -> rx.Component:
    """Busy (nobody claimed in time) and away (outside hours, nobody available): say so, take a
    phone or email, or go back to the AI. The request stays in the queue either way."""
    return rx.vstack(
        rx.text(message, size="2"),
        rx.cond(
            ConversationRoom.lead_contact != "",
            rx.text(
                "Thanks! We'll contact you at ",
                rx.text.strong(ConversationRoom.lead_contact),
                ". You can keep writing here too.",
                size="2",
                custom_attrs={"data-testid": "visitor-lead-saved"},
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="contact",
                        placeholder="Phone or email",
                        type="text",
                        auto_complete="email",
                        aria_label="Your phone number or email address",
                        width="100%",
                        custom_attrs={"data-testid": "visitor-lead-input"},
                    ),
                    rx.button(
                        "Send",
                        type="submit",
                        size="2",
                        custom_attrs={"data-testid": "visitor-lead-submit"},
                    ),
                    width="100%",
                ),
                on_submit=VisitorState.leave_contact,
                width="100%",
            ),
        ),
        rx.cond(
            VisitorState.lead_error != "",
            rx.text(VisitorState.lead_error, size="1", color="var(--red-11)", role="alert"),
        ),
        rx.button(
            rx.icon("bot", size=14),
            "Continue with AI",
            variant="soft",
            size="1",
            on_click=VisitorState.continue_with_ai,
            custom_attrs={"data-testid": "visitor-continue-ai-button"},
        ),
        spacing="2",
        width="100%",
    )


def _reconnecting() -> rx.Component:
    """Shown while the connection is down: the page resyncs from the last message it has when
    it is back, and a message sent meanwhile goes out then."""
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            rx.spinner(size="1"),
            rx.text("Reconnecting… your conversation is safe.", size="1"),
            align="center",
            spacing="2",
            padding="0.4rem 1rem",
            width="100%",
            background="var(--amber-3)",
            color="var(--amber-11)",
            role="status",
            custom_attrs={"data-testid": "visitor-reconnecting"},
        ),
    )


def _status_bar() -> rx.Component:
    return rx.box(
        rx.match(
            VISITOR_STATE,
            (
                "pending",
                rx.hstack(
                    rx.spinner(size="2"),
                    rx.vstack(
                        rx.text(VisitorState.waiting_message, size="2"),
                        rx.cond(
                            ConversationRoom.queue_position > 0,
                            rx.text(
                                "You are number ",
                                ConversationRoom.queue_position,
                                " in the queue",
                                rx.cond(
                                    ConversationRoom.wait_estimate != "",
                                    " · estimated wait " + ConversationRoom.wait_estimate,
                                    "",
                                ),
                                ".",
                                size="1",
                                color="var(--gray-10)",
                                custom_attrs={"data-testid": "visitor-queue-position"},
                            ),
                        ),
                        spacing="0",
                    ),
                    align="center",
                    spacing="2",
                ),
            ),
            ("busy", _nobody_can_come(VisitorState.busy_message)),
            ("away", _nobody_can_come(VisitorState.away_message)),
            (
                "active",
                rx.hstack(
                    rx.badge(
                        "● Live Agent",
                        color_scheme="grass",
                        variant="solid",
                        custom_attrs={"data-testid": "visitor-agent-badge"},
                    ),
                    rx.text(ConversationRoom.public_agent_label, size="2", weight="medium"),
                    align="center",
                    spacing="2",
                ),
            ),
            (
                "resolved",
                rx.hstack(
                    rx.text("Conversation resolved ✓", size="2", weight="medium"),
                    rx.button(
                        "Start new conversation",
                        size="2",
                        on_click=VisitorState.new_conversation,
                        custom_attrs={"data-testid": "visitor-new-conversation-button"},
                    ),
                    align="center",
                    justify="between",
                    width="100%",
                ),
            ),
            (
                "confirming",
                rx.hstack(
                    rx.text("Would you like to speak with a team member?", size="2"),
                    rx.hstack(
                        rx.button(
                            "Yes",
                            size="2",
                            on_click=VisitorState.confirm_handoff,
                            custom_attrs={"data-testid": "visitor-confirm-yes"},
                        ),
                        rx.button(
                            "No thanks",
                            size="2",
                            variant="soft",
                            on_click=VisitorState.decline_handoff,
                            custom_attrs={"data-testid": "visitor-confirm-no"},
                        ),
                        spacing="2",
                    ),
                    align="center",
                    justify="between",
                    wrap="wrap",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.icon("bot", size=16),
                rx.text("AI assistant", size="2"),
                align="center",
                spacing="2",
            ),
        ),
        custom_attrs={
            "data-testid": "visitor-status",
            "data-state": VISITOR_STATE,
            "role": "status",
            "aria-live": "polite",
        },
        padding="0.6rem 1rem",
        border_top="1px solid var(--gray-4)",
        width="100%",
    )


def _composer() -> rx.Component:
    return rx.form(
        rx.vstack(
            message_box(
                box_id=COMPOSER_ID,
                input_testid="visitor-composer-input",
                send_testid="visitor-send-button",
                placeholder="Type your message…",
                disabled=IS_CLOSED,
                label="Your message",
                on_focus=VisitorState.clear_error,
                on_typing=VisitorTypingState.typing,
                on_typing_stopped=VisitorTypingState.typing_stopped,
            ),
            rx.hstack(
                rx.cond(
                    VisitorState.error != "",
                    rx.text(
                        VisitorState.error,
                        size="1",
                        color="var(--red-11)",
                        custom_attrs={"data-testid": "visitor-error", "role": "alert"},
                    ),
                    rx.text(
                        "Enter to send · Shift+Enter for a new line",
                        size="1",
                        color="var(--gray-10)",
                    ),
                ),
                rx.spacer(),
                rx.cond(
                    (VISITOR_STATE == "bot") & VisitorState.talk_button,
                    rx.button(
                        rx.icon("user-round", size=14),
                        "Talk to a human",
                        type="button",
                        variant="soft",
                        size="1",
                        on_click=VisitorState.talk_to_human,
                        custom_attrs={"data-testid": "visitor-talk-to-human-button"},
                    ),
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=VisitorState.send,
        reset_on_submit=False,
        width="100%",
        padding="0.75rem 1rem 1rem",
    )


def _typing() -> rx.Component:
    """The bot's answer as it streams in; "typing…" until its first words arrive."""
    return rx.cond(
        ConversationRoom.bot_draft != "",
        rx.vstack(
            rx.text("AI assistant", size="1", weight="medium", color="var(--gray-11)"),
            rx.box(
                rx.text(ConversationRoom.bot_draft, size="2"),
                max_width="78%",
                padding="0.55rem 0.8rem",
                border_radius="14px",
                white_space="pre-wrap",
                overflow_wrap="anywhere",
                background="var(--gray-3)",
            ),
            spacing="1",
            width="100%",
            custom_attrs={"data-testid": "visitor-bot-draft", "aria-live": "polite"},
        ),
        rx.cond(
            VisitorState.bot_typing,
            rx.text(
                "AI assistant is typing…",
                size="1",
                color="var(--gray-10)",
                custom_attrs={"data-testid": "visitor-bot-typing"},
            ),
        ),
    )


def _rating(message: MessagePublic) -> rx.Component:
    """Thumbs on the bot's answers: a thumbs-down counts as a failure (N in a row hands off)."""

    def thumb(icon: str, helpful: bool, label: str, chosen: str) -> rx.Component:
        return rx.icon_button(
            rx.icon(icon, size=13),
            size="1",
            variant=rx.cond(message.feedback == chosen, "soft", "ghost"),
            color_scheme=rx.cond(message.feedback == chosen, "blue", "gray"),
            aria_label=label,
            on_click=VisitorState.rate(message.id, helpful),  # type: ignore[operator]
            custom_attrs={"data-testid": f"visitor-thumbs-{chosen}-button"},
        )

    return rx.cond(
        (message.sender == "bot") & (ConversationRoom.status == "bot"),
        rx.hstack(
            thumb("thumbs-up", True, "This answer helped", "up"),
            thumb("thumbs-down", False, "This answer did not help", "down"),
            spacing="1",
        ),
    )


def _welcome() -> rx.Component:
    return rx.cond(
        live_messages().length() == 0,  # type: ignore[attr-defined]
        rx.box(
            rx.text("Hi! I'm the AI assistant.", size="3", weight="medium"),
            rx.text(
                "Ask me about orders, shipping, returns, billing or your account. "
                "You can talk to a person at any time.",
                size="2",
                color="var(--gray-11)",
            ),
            padding="1rem",
            border_radius="12px",
            background="var(--gray-2)",
        ),
    )


def _accent_style() -> dict[str, object]:
    """The owner's accent colour (settings → widget) on buttons, links and the visitor's bubbles."""
    return {
        "--accent-8": VisitorState.accent,
        "--accent-9": VisitorState.accent,
        "--accent-10": VisitorState.accent,
    }


def _header(*, closable: bool) -> rx.Component:
    return rx.hstack(
        rx.icon("message-circle", size=22, color="var(--accent-9)"),
        rx.vstack(
            rx.text(VisitorState.widget_title, weight="bold", size="3"),
            rx.text("Support chat", size="1", color="var(--gray-10)"),
            spacing="0",
        ),
        rx.spacer(),
        rx.icon_button(
            rx.icon("x", size=18),
            variant="ghost",
            color_scheme="gray",
            aria_label="Close chat",
            custom_attrs={"data-testid": "widget-close-button"},
        )
        if closable
        else rx.fragment(),
        align="center",
        padding="0.8rem 1rem",
        border_bottom="1px solid var(--gray-4)",
        width="100%",
    )


def _chat(*, closable: bool, **panel: object) -> rx.Component:
    from handoff_app.components.messages import message_thread

    return rx.vstack(
        _header(closable=closable),
        _welcome(),
        message_thread(
            history=VisitorState,
            testid="visitor-message",
            mine="visitor",
            footer=_typing(),
            actions=_rating,
        ),
        _reconnecting(),
        _status_bar(),
        _composer(),
        spacing="0",
        width="100%",
        height="100dvh",
        background="var(--color-panel-solid)",
        custom_attrs={"data-accent": VisitorState.accent},
        **panel,
    )


def visitor_page() -> rx.Component:
    """`/`: the chat as a full page."""
    return rx.center(
        _chat(
            closable=False,
            max_width="720px",
            border_left="1px solid var(--gray-4)",
            border_right="1px solid var(--gray-4)",
        ),
        width="100%",
        background="var(--gray-2)",
        style=_accent_style(),
    )


def widget_page() -> rx.Component:
    """`/widget`: the same chat, made to fill the iframe that `/embed.js` opens on a customer's
    site; the bridge script tells the host page about agent replies (unread dot) and "close"."""
    return rx.box(
        _chat(closable=True),
        rx.script(src="/widget-bridge.js"),
        width="100%",
        style=_accent_style(),
    )
