"""The message box with its Send button, used by the visitor and the agent reply bar."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.domain.messages import MAX_MESSAGE_LENGTH

# Typing indicators without flooding the server: while keys are pressed, at most one "typing"
# every TYPING_EVERY_MS; one "stopped" once the box has been idle for TYPING_IDLE_MS. (The
# server also clears an indicator by itself a few seconds after the last "typing".)
TYPING_EVERY_MS = 2500
TYPING_IDLE_MS = 4000


def typing_events(typing: Any, stopped: Any) -> list[Any]:
    """The box's on_change chain for a pair of handlers taking no arguments (the draft itself
    is never sent to the server)."""
    return [typing.throttle(TYPING_EVERY_MS), stopped.debounce(TYPING_IDLE_MS)]


def message_box(
    *,
    box_id: str,
    input_testid: str,
    send_testid: str,
    placeholder: Any,
    disabled: Any,
    label: Any,
    on_typing: Any = None,
    on_typing_stopped: Any = None,
    **textarea: Any,
) -> rx.Component:
    """Enter sends (the enclosing form's submit), Shift+Enter adds a line. The box accepts a
    little more than the limit so an over-long text gets the server's clear refusal and stays
    in the box instead of being cut silently. `on_typing`/`on_typing_stopped`: handlers that
    announce typing (throttled and debounced here)."""
    if on_typing is not None and on_typing_stopped is not None:
        textarea.setdefault("on_change", typing_events(on_typing, on_typing_stopped))
    return rx.hstack(
        rx.el.textarea(
            id=box_id,
            name="body",
            placeholder=placeholder,
            enter_key_submit=True,
            rows=2,
            max_length=MAX_MESSAGE_LENGTH + 1000,
            disabled=disabled,
            custom_attrs={"data-testid": input_testid, "aria-label": label},
            class_name="composer",
            **textarea,
        ),
        rx.button(
            rx.icon("send", size=16),
            "Send",
            type="submit",
            disabled=disabled,
            custom_attrs={"data-testid": send_testid},
        ),
        align="end",
        width="100%",
    )
