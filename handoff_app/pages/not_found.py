"""Not-found views: an unknown route, or a conversation id that does not exist."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes


def not_found_card(text: str | rx.Var[str], title: str = "Not found") -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading(title, size="6"),
            rx.text(text, color="var(--gray-11)"),
            rx.link("Back to the queue", href=routes.AGENT_QUEUE),
            align="center",
            spacing="3",
            custom_attrs={"data-testid": "not-found"},
        ),
        padding="4rem 1rem",
        width="100%",
    )


def not_found_page() -> rx.Component:
    return not_found_card("There is no page at this address.")
