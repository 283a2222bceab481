"""The message box with its Send button, used by the visitor and the agent reply bar."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.domain.messages import MAX_MESSAGE_LENGTH


def message_box(
    *,
    box_id: str,
    input_testid: str,
    send_testid: str,
    placeholder: Any,
    disabled: Any,
    label: str,
    **textarea: Any,
) -> rx.Component:
    """Enter sends (the enclosing form's submit), Shift+Enter adds a line. The box accepts a
    little more than the limit so an over-long text gets the server's clear refusal and stays
    in the box instead of being cut silently."""
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
