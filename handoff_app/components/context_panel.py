"""The agent's context panel: why the conversation was handed off, what the bot tried, and
who the visitor is. Fed by the staff-only `ctx-<id>` room (`realtime.ConversationContextRoom`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.components.badges import trigger_badge
from handoff_app.components.messages import message_time
from handoff_app.models import ArticleRef, BotAttempt, ConversationRow
from handoff_app.realtime import ConversationContextRoom

C = ConversationContextRoom

OUTCOMES = {
    "answered": ("Answered", "grass"),
    "no_answer": ("No answer", "amber"),
    "provider_error": ("Provider error", "red"),
    "partial": ("Cut off", "orange"),
}


def _label(text: str) -> rx.Component:
    return rx.text(text, size="1", color="var(--gray-10)")


def _section(title: str, *children: rx.Component, testid: str) -> rx.Component:
    return rx.vstack(
        rx.separator(size="4"),
        rx.text(title, size="2", weight="bold"),
        *children,
        spacing="2",
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def _fact(label: str, value: Any, testid: str) -> rx.Component:
    return rx.cond(
        value != "",
        rx.vstack(
            _label(label),
            rx.text(
                value,
                size="2",
                style={"overflow_wrap": "anywhere"},
                custom_attrs={"data-testid": testid},
            ),
            spacing="0",
            width="100%",
        ),
    )


def _why() -> rx.Component:
    return rx.cond(
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
                    rx.text("“", C.triggering_text, "”", size="2", style={"font_style": "italic"}),
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
    )


def _waiting() -> rx.Component:
    return rx.fragment(
        rx.cond(
            C.wait_state == "busy",
            rx.callout(
                "Nobody answered within the response timeout: the visitor was offered to "
                "leave their contact details.",
                icon="clock",
                color_scheme="red",
                size="1",
            ),
        ),
        rx.cond(
            C.wait_state == "away",
            rx.callout(
                "Asked outside working hours or while no agent was available.",
                icon="moon",
                color_scheme="amber",
                size="1",
            ),
        ),
        rx.cond(
            C.lead_contact != "",
            rx.vstack(
                rx.text("Contact left by the visitor", size="2", color="var(--gray-11)"),
                rx.text(
                    C.lead_contact,
                    size="2",
                    weight="bold",
                    custom_attrs={"data-testid": "conversation-lead-contact"},
                ),
                spacing="1",
            ),
        ),
    )


def _article(article: ArticleRef) -> rx.Component:
    return rx.badge(
        rx.icon("book-open", size=11),
        article.title,
        variant="surface",
        color_scheme="gray",
        size="1",
        style={"white_space": "normal", "text_align": "left"},
        custom_attrs={"data-testid": "conversation-bot-attempt-article"},
    )


def _attempt(attempt: BotAttempt) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                rx.match(
                    attempt.outcome,
                    *((key, label) for key, (label, _) in OUTCOMES.items()),
                    attempt.outcome,
                ),
                color_scheme=rx.match(  # type: ignore[arg-type]
                    attempt.outcome,
                    *((key, color) for key, (_, color) in OUTCOMES.items()),
                    "gray",
                ),
                variant="soft",
                size="1",
                custom_attrs={
                    "data-testid": "conversation-bot-attempt-outcome",
                    "data-outcome": attempt.outcome,
                },
            ),
            rx.cond(
                attempt.feedback == "down",
                rx.badge(
                    rx.icon("thumbs-down", size=11),
                    "Not helpful",
                    color_scheme="red",
                    variant="outline",
                    size="1",
                    custom_attrs={"data-testid": "conversation-bot-attempt-thumbs-down"},
                ),
            ),
            rx.spacer(),
            message_time(attempt.created_at),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.text(
            attempt.body,
            size="1",
            color="var(--gray-11)",
            class_name="three-lines",
            title=attempt.body,
            custom_attrs={"data-testid": "conversation-bot-attempt-body"},
        ),
        rx.cond(
            attempt.sources.length() > 0,  # type: ignore[attr-defined]
            rx.flex(
                rx.text("From", size="1", color="var(--gray-10)"),
                rx.foreach(attempt.sources, _article),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
            rx.text("No article used", size="1", color="var(--gray-9)"),
        ),
        spacing="1",
        width="100%",
        padding="0.5rem",
        border="1px solid var(--gray-4)",
        border_radius="8px",
        custom_attrs={"data-testid": "conversation-bot-attempt"},
    )


def _bot_attempts() -> rx.Component:
    return rx.cond(
        C.bot_attempts.length() > 0,  # type: ignore[attr-defined]
        _section(
            "What the bot tried",
            rx.foreach(C.bot_attempts, _attempt),
            testid="conversation-bot-attempts",
        ),
    )


def _previous_row(row: ConversationRow) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.text(f"#{row.conversation_id}", size="1", color="var(--gray-10)"),
            rx.badge(row.status, variant="soft", color_scheme="gray", size="1"),
            rx.text(row.preview, size="1", class_name="one-line", flex="1"),
            align="center",
            spacing="2",
            width="100%",
        ),
        href="/agent/conversations/" + row.conversation_id.to_string(),  # type: ignore[attr-defined]
        underline="none",
        color="inherit",
        custom_attrs={"data-testid": "conversation-previous-row"},
    )


def _ticking(label: str, *parts: rx.Component | Any, when: Any, testid: str) -> rx.Component:
    """A fact whose text assets/live-clock.js keeps current (React renders the spans empty)."""
    return rx.cond(
        when,
        rx.vstack(
            _label(label),
            rx.text(*parts, size="2", custom_attrs={"data-testid": testid}),
            spacing="0",
        ),
    )


def _visitor_facts() -> rx.Component:
    """Who the visitor is, as far as their browser told us when the conversation started."""
    return _section(
        "Visitor",
        _ticking(
            "Local time",
            rx.el.span(
                custom_attrs={
                    "data-live-clock": C.visitor_timezone,
                    "data-testid": "conversation-visitor-clock",
                }
            ),
            " (",
            C.visitor_timezone,
            ")",
            when=C.visitor_timezone != "",
            testid="conversation-visitor-local-time",
        ),
        _ticking(
            "On site for",
            rx.el.span(custom_attrs={"data-live-elapsed": C.arrived_at}),
            when=C.arrived_at != "",
            testid="conversation-visitor-on-site",
        ),
        _ticking(
            "In this chat for",
            rx.el.span(custom_attrs={"data-live-elapsed": C.started_at}),
            when=C.started_at != "",
            testid="conversation-visitor-chatting",
        ),
        _fact("Browser", C.browser, "conversation-visitor-browser"),
        _fact("Page", C.page_url, "conversation-visitor-page"),
        _fact("Came from", C.referrer, "conversation-visitor-referrer"),
        _fact("IP address", C.visitor_ip, "conversation-visitor-ip"),
        rx.cond(
            C.previous.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                _label("Previous conversations"),
                rx.foreach(C.previous, _previous_row),
                spacing="1",
                width="100%",
            ),
        ),
        testid="conversation-visitor-facts",
    )


def context_panel() -> rx.Component:
    return rx.vstack(
        rx.script(src="/live-clock.js"),
        rx.heading("Context", size="3"),
        _why(),
        _waiting(),
        _bot_attempts(),
        _visitor_facts(),
        width=["100%", "100%", "320px"],
        flex_shrink="0",
        padding="1rem",
        spacing="3",
        border_left=["none", "none", "1px solid var(--gray-4)"],
        border_top=["1px solid var(--gray-4)", "1px solid var(--gray-4)", "none"],
        overflow_y=["visible", "visible", "auto"],
        max_height=["none", "none", "calc(100dvh - 57px)"],
        custom_attrs={"data-testid": "conversation-context-panel"},
    )
