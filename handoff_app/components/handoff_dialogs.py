"""The holder's dialogs on the conversation page: return to queue (reject) and transfer."""

from __future__ import annotations

import reflex as rx

from handoff_app.states.agent_conversation import AgentConversationState, StaffOption

S = AgentConversationState


def _refusal() -> rx.Component:
    """A refusal shown where the person is looking (the page's notice is behind the dialog)."""
    return rx.cond(
        S.notice != "",
        rx.callout(
            S.notice,
            icon="info",
            color_scheme="amber",
            size="1",
            width="100%",
            custom_attrs={"data-testid": "conversation-dialog-notice", "role": "alert"},
        ),
    )


def _actions(confirm: str, testid: str, **confirm_props: str) -> rx.Component:
    """Cancel (closes the dialog) and the form's submit button, at the dialog's foot."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
        rx.button(confirm, type="submit", custom_attrs={"data-testid": testid}, **confirm_props),
        justify="end",
        spacing="3",
        width="100%",
    )


def reject_dialog() -> rx.Component:
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
                    _refusal(),
                    rx.el.textarea(
                        name="reason",
                        placeholder="Reason (optional, staff only)",
                        rows=2,
                        max_length=500,
                        class_name="composer",
                        width="100%",
                        custom_attrs={"data-testid": "conversation-reject-reason-input"},
                    ),
                    _actions(
                        "Return to queue", "conversation-reject-confirm", color_scheme="amber"
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


def transfer_dialog() -> rx.Component:
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
                        _refusal(),
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
                        _actions("Transfer", "conversation-transfer-confirm"),
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
