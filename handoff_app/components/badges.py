"""Small badges shared by staff pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

TRIGGER_COLORS = {
    "button": "blue",
    "keyword": "violet",
    "ai": "cyan",
    "failures": "orange",
    "frustration": "red",
    "takeover": "gray",
}


def trigger_badge(trigger: Any) -> rx.Component:
    return rx.badge(
        trigger,
        color_scheme=rx.match(trigger, *TRIGGER_COLORS.items(), "gray"),  # type: ignore[arg-type]
        variant="soft",
        custom_attrs={"data-testid": "queue-row-trigger"},
    )
