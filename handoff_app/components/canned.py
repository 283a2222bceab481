"""The canned responses section of the queue page."""

from __future__ import annotations

import reflex as rx

from handoff_app.models import CannedPublic
from handoff_app.states.canned import CannedState


def _row(item: CannedPublic) -> rx.Component:
    return rx.hstack(
        rx.code("/" + item.name, size="2"),
        rx.text(
            item.body,
            size="2",
            color="var(--gray-11)",
            style={"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis"},
            flex="1",
            min_width="0",
        ),
        rx.button(
            "Edit",
            size="1",
            variant="ghost",
            on_click=CannedState.edit(item.id),  # type: ignore[operator]
            custom_attrs={"data-testid": "canned-edit-button"},
        ),
        rx.button(
            "Delete",
            size="1",
            variant="ghost",
            color_scheme="red",
            on_click=CannedState.delete(item.id),  # type: ignore[operator]
            custom_attrs={"data-testid": "canned-delete-button"},
        ),
        align="center",
        width="100%",
        spacing="3",
        custom_attrs={"data-testid": "canned-row", "data-name": item.name},
    )


def _form() -> rx.Component:
    editing = CannedState.editing_id != 0
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    name="name",
                    placeholder="name, e.g. refund-policy",
                    default_value=CannedState.editing_name,
                    max_length=40,
                    width="220px",
                    custom_attrs={"data-testid": "canned-name-input"},
                ),
                rx.text(
                    "Type / and the name in the reply bar to insert it.",
                    size="1",
                    color="var(--gray-10)",
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.el.textarea(
                name="body",
                placeholder="The reply (markdown allowed)",
                default_value=CannedState.editing_body,
                rows=3,
                class_name="composer",
                width="100%",
                custom_attrs={"data-testid": "canned-body-input"},
            ),
            rx.hstack(
                rx.cond(
                    CannedState.error != "",
                    rx.text(
                        CannedState.error,
                        size="1",
                        color="var(--red-11)",
                        custom_attrs={"data-testid": "canned-error", "role": "alert"},
                    ),
                ),
                rx.spacer(),
                rx.cond(
                    editing,
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=CannedState.edit(0),  # type: ignore[operator]
                    ),
                ),
                rx.button(
                    rx.cond(editing, "Save changes", "Add response"),
                    type="submit",
                    custom_attrs={"data-testid": "canned-save-button"},
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        key=CannedState.editing_id.to_string()  # type: ignore[attr-defined]
        + "-"
        + CannedState.form_version.to_string(),  # type: ignore[attr-defined]
        on_submit=CannedState.save,
        reset_on_submit=False,
        width="100%",
    )


def canned_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Canned responses", size="3"),
        rx.cond(
            CannedState.items.length() == 0,  # type: ignore[attr-defined]
            rx.text("None yet: add the replies your team sends often.", size="2"),
            rx.vstack(rx.foreach(CannedState.items, _row), width="100%", spacing="1"),
        ),
        _form(),
        width="100%",
        spacing="3",
        padding="1rem",
        border_radius="10px",
        border="1px solid var(--gray-5)",
        background="var(--color-panel-solid)",
        custom_attrs={"data-testid": "canned-section"},
    )
