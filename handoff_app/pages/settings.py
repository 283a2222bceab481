"""`/settings` (owner only): one page, grouped; errors show next to their field."""

from __future__ import annotations

from typing import Any

import reflex as rx

from handoff_app.components.staff_nav import staff_nav
from handoff_app.domain.settings_form import SMTP_SECURITY, WEEKDAY_NAMES, WEEKDAYS
from handoff_app.domain.triggers import KeywordBehaviour, TriggerMode
from handoff_app.services.knowledge import ArticlePublic
from handoff_app.states.settings import NEW_ARTICLE, SettingsState

S = SettingsState


def _testid(name: str, role: str = "input") -> dict[str, str]:
    return {"data-testid": f"settings-{name.replace('_', '-')}-{role}"}


def _error(name: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(name),  # type: ignore[attr-defined]
        rx.text(
            S.errors[name], size="1", color="var(--red-11)", custom_attrs=_testid(name, "error")
        ),
    )


def _field(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"settings-{name}"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color="var(--gray-10)")),
        _error(name),
        spacing="1",
        width="100%",
    )


def _text(label: str, name: str, hint: str = "", **props: Any) -> rx.Component:
    control = rx.input(
        id=f"settings-{name}",
        name=name,
        default_value=S.form[name],
        width="100%",
        custom_attrs=_testid(name),
        **props,
    )
    return _field(label, name, control, hint)


def _area(label: str, name: str, hint: str = "", rows: int = 2) -> rx.Component:
    control = rx.text_area(
        id=f"settings-{name}",
        name=name,
        default_value=S.form[name],
        rows=str(rows),
        width="100%",
        custom_attrs=_testid(name),
    )
    return _field(label, name, control, hint)


def _switch(label: str, name: str, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(
            rx.hstack(
                rx.switch(
                    id=f"settings-{name}",
                    name=name,
                    default_checked=S.form[name] == "on",
                    custom_attrs=_testid(name),
                ),
                rx.text(label, size="2", weight="medium"),
                align="center",
                spacing="2",
            ),
        ),
        rx.cond(hint != "", rx.text(hint, size="1", color="var(--gray-10)")),
        spacing="1",
    )


def _select(label: str, name: str, choices: list[tuple[str, str]], hint: str = "") -> rx.Component:
    control = rx.el.select(
        *[rx.el.option(text, value=value) for value, text in choices],
        id=f"settings-{name}",
        name=name,
        default_value=S.form[name],
        class_name="settings-select",
        custom_attrs=_testid(name),
    )
    return _field(label, name, control, hint)


def _secret(label: str, name: str, hint: str) -> rx.Component:
    control = rx.hstack(
        rx.input(
            id=f"settings-{name}",
            name=name,
            type="password",
            auto_complete="new-password",
            placeholder=rx.cond(S.masked[name] != "", S.masked[name] + " (saved)", "not set"),
            width="100%",
            custom_attrs=_testid(name),
        ),
        rx.el.label(
            rx.hstack(
                rx.checkbox(name=f"clear_{name}", custom_attrs=_testid(f"clear_{name}")),
                rx.text("Clear", size="1"),
                align="center",
                spacing="1",
            ),
        ),
        align="center",
        width="100%",
    )
    return _field(label, name, control, hint)


def _group(title: str, description: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(description, size="2", color="var(--gray-11)"),
            rx.separator(size="4"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _hours_row(day: str) -> rx.Component:
    def time_input(edge: str) -> rx.Component:
        name = f"hours_{day}_{edge}"
        return rx.input(
            type="time",
            name=name,
            default_value=S.form[name],
            aria_label=f"{WEEKDAY_NAMES[day]} {'opens' if edge == 'open' else 'closes'}",
            custom_attrs={"data-testid": f"settings-hours-{day}-{edge}-input"},
        )

    return rx.vstack(
        rx.hstack(
            rx.text(WEEKDAY_NAMES[day], size="2", width="6rem"),
            time_input("open"),
            rx.text("to", size="2", color="var(--gray-10)"),
            time_input("close"),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        _error(f"hours_{day}"),
        spacing="1",
    )


def _embed_snippet() -> rx.Component:
    return rx.vstack(
        rx.text("Embed on your site", size="2", weight="medium"),
        rx.text(
            "Paste this before </body> on any page: a chat bubble opens the widget. "
            "Save first to put a new colour or title in it.",
            size="1",
            color="var(--gray-10)",
        ),
        rx.hstack(
            rx.code(
                S.embed_snippet,
                variant="soft",
                size="1",
                style={"white_space": "pre-wrap", "word_break": "break-all", "flex": "1"},
                custom_attrs={"data-testid": "settings-embed-snippet"},
            ),
            rx.button(
                rx.icon("copy", size=14),
                "Copy",
                type="button",
                size="1",
                variant="soft",
                on_click=[
                    rx.set_clipboard(S.embed_snippet),
                    rx.toast.success("Snippet copied"),
                ],
                custom_attrs={"data-testid": "settings-embed-copy-button"},
            ),
            align="start",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _settings_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _group(
                "Live support and triggers",
                "When the bot hands a conversation to your team.",
                _switch(
                    "Live support on",
                    "live_support_enabled",
                    "Off: no escalation fires and the visitor sees no 'Talk to a human' button.",
                ),
                _select(
                    "Trigger mode",
                    "trigger_mode",
                    [
                        (TriggerMode.BOTH.value, "Button and automatic triggers"),
                        (TriggerMode.BUTTON.value, "Only the 'Talk to a human' button"),
                        (TriggerMode.AUTO.value, "Only automatic triggers (button hidden)"),
                    ],
                ),
                _area(
                    "Handoff keywords",
                    "handoff_keywords",
                    "One per line. Case-insensitive, matched anywhere in a visitor's message.",
                    rows=4,
                ),
                _select(
                    "When a keyword matches",
                    "keyword_behaviour",
                    [
                        (KeywordBehaviour.ESCALATE.value, "Hand off at once"),
                        (KeywordBehaviour.ASK.value, "Ask the visitor to confirm first"),
                    ],
                ),
                _text(
                    "Consecutive failures before handoff",
                    "failure_threshold",
                    "Blank = off. Failures: no confident answer, provider error, thumbs-down.",
                    type="number",
                ),
                _area(
                    "Sensitive topics",
                    "sensitive_topics",
                    "One per line, e.g. account hacked. Teach a topic with example messages "
                    "after a colon, separated by semicolons, e.g. \u201clegal threat: I'm going "
                    "to sue you; you will hear from my lawyer\u201d.",
                    rows=4,
                ),
            ),
            _group(
                "Messages",
                "What the visitor reads at each step. {agent} stands for the agent label.",
                _area("Handoff", "handoff_message"),
                _area("Waiting", "waiting_message"),
                _area("Away / offline", "away_message"),
                _area("All agents busy", "busy_message"),
                _area("Agent joined", "agent_joined_message"),
                _area("Resolved", "resolution_message"),
                _area("Handed back to the bot", "handback_message"),
                _text(
                    "Agent label",
                    "agent_label",
                    "What visitors see for an agent, e.g. 'Support Agent'. Blank = their name.",
                ),
            ),
            _group(
                "Availability",
                "When visitors can reach a person, and how long they wait.",
                _switch("Agents available", "agents_available"),
                _switch("Enforce working hours", "working_hours_enforced"),
                _text(
                    "Time zone", "timezone", "An IANA name, e.g. Europe/Paris or America/New_York."
                ),
                rx.vstack(*[_hours_row(day) for day in WEEKDAYS], spacing="2"),
                _error("working_hours"),
                rx.text(
                    "Leave both times blank on days you are closed.",
                    size="1",
                    color="var(--gray-10)",
                ),
                _text(
                    "Response timeout (seconds)",
                    "response_timeout_seconds",
                    "How long a visitor waits before being offered to leave contact details.",
                    type="number",
                ),
            ),
            _group(
                "AI",
                "The model the bot uses (any litellm model string) and how it answers.",
                _text("Model", "ai_model", "local/kb is the offline default (no key, no network)."),
                _secret(
                    "API key", "ai_api_key", "Write-only: stored on the server, never shown again."
                ),
                _text(
                    "API base URL",
                    "ai_api_base",
                    "Blank = the provider default. For Azure, Ollama or a compatible server.",
                ),
                _area("System prompt", "ai_system_prompt", "Blank = the built-in prompt.", rows=4),
                _text(
                    "Temperature",
                    "ai_temperature",
                    "0 to 2.",
                    type="number",
                    step="0.1",
                ),
                _text("Reply timeout (seconds)", "ai_reply_timeout_seconds", type="number"),
            ),
            _group(
                "Notifications",
                "Tell your team about new escalations outside the dashboard.",
                _switch("Email staff on new escalations", "notify_email_alerts"),
                _text(
                    "Webhook URL", "webhook_url", "Blank = off. We POST each escalation as JSON."
                ),
            ),
            _group(
                "Widget",
                "How the chat looks to visitors.",
                _text("Title", "widget_title"),
                _text("Accent colour", "widget_accent", "A hex colour such as #2563eb."),
                _embed_snippet(),
            ),
            _group(
                "Email (SMTP)",
                "For invites and alerts. Blank host = the HANDOFF_SMTP_* environment variables.",
                _text("Host", "smtp_host"),
                _text("Port", "smtp_port", type="number"),
                _select(
                    "Security",
                    "smtp_security",
                    [
                        (v, {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "None"}[v])
                        for v in SMTP_SECURITY
                    ],
                ),
                _text("User", "smtp_user"),
                _secret("Password", "smtp_password", "Write-only."),
                _text("From address", "smtp_from", "e.g. support@example.com"),
            ),
            rx.hstack(
                rx.button(
                    "Save settings",
                    type="submit",
                    size="3",
                    custom_attrs={"data-testid": "settings-save-button"},
                ),
                rx.cond(
                    S.notice != "",
                    rx.callout(
                        S.notice,
                        icon="check",
                        color_scheme="grass",
                        size="1",
                        custom_attrs={"data-testid": "settings-notice"},
                    ),
                ),
                rx.cond(
                    S.error != "",
                    rx.callout(
                        S.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        size="1",
                        custom_attrs={"data-testid": "settings-error"},
                    ),
                ),
                align="center",
                spacing="3",
                class_name="settings-save-bar",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=S.save,
        width="100%",
    )


def _try_it() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Try it", size="4"),
            rx.text(
                "Send a message through the saved model and triggers, as a first message.",
                size="2",
                color="var(--gray-11)",
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="text",
                        placeholder="e.g. Where is my order?",
                        width="100%",
                        custom_attrs={"data-testid": "settings-try-input"},
                    ),
                    rx.button(
                        "Try",
                        type="submit",
                        loading=S.try_busy,
                        custom_attrs={"data-testid": "settings-try-button"},
                    ),
                    width="100%",
                ),
                on_submit=S.try_message,
                width="100%",
            ),
            rx.cond(S.try_error != "", rx.text(S.try_error, size="2", color="var(--red-11)")),
            rx.cond(
                S.try_judgment != "",
                rx.vstack(
                    rx.badge(
                        rx.cond(S.try_escalate, "Would escalate", "Bot answers"),
                        color_scheme=rx.cond(S.try_escalate, "amber", "grass"),
                        custom_attrs={"data-testid": "settings-try-escalate"},
                    ),
                    rx.text(
                        S.try_judgment,
                        size="2",
                        custom_attrs={"data-testid": "settings-try-judgment"},
                    ),
                    rx.box(
                        rx.text(S.try_answer, size="2", white_space="pre-wrap"),
                        padding="0.75rem",
                        border_radius="8px",
                        background="var(--gray-3)",
                        width="100%",
                        custom_attrs={"data-testid": "settings-try-answer"},
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _article_editor() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.input(
                name="title",
                default_value=S.editing_title,
                placeholder="Title",
                width="100%",
                custom_attrs={"data-testid": "settings-article-title-input"},
            ),
            rx.text_area(
                name="body",
                default_value=S.editing_body,
                placeholder="What the bot should know",
                rows="6",
                width="100%",
                custom_attrs={"data-testid": "settings-article-body-input"},
            ),
            rx.cond(
                S.kb_error != "",
                rx.text(
                    S.kb_error,
                    size="2",
                    color="var(--red-11)",
                    custom_attrs={"data-testid": "settings-article-error"},
                ),
            ),
            rx.hstack(
                rx.button(
                    "Save article",
                    type="submit",
                    custom_attrs={"data-testid": "settings-article-save-button"},
                ),
                rx.button(
                    "Cancel",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.cancel_edit,
                ),
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.save_article,
        # a fresh editor (and fresh default values) for each article opened
        key=S.editing_id.to_string(),  # type: ignore[attr-defined]
        width="100%",
    )


def _article_row(article: ArticlePublic) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(article.title, weight="medium", size="2"),
            rx.text(
                article.body,
                size="1",
                color="var(--gray-10)",
                style={
                    "display": "-webkit-box",
                    "-webkit-line-clamp": "2",
                    "-webkit-box-orient": "vertical",
                    "overflow": "hidden",
                },
            ),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        rx.button(
            "Edit",
            size="1",
            variant="soft",
            on_click=S.edit_article(article.id),  # type: ignore[operator]
            custom_attrs={"data-testid": "settings-article-edit-button"},
        ),
        rx.button(
            "Delete",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=S.delete_article(article.id),  # type: ignore[operator]
            custom_attrs={"data-testid": "settings-article-delete-button"},
        ),
        align="center",
        width="100%",
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-4)",
        custom_attrs={"data-testid": "settings-article-row"},
    )


def _knowledge_base() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Knowledge base", size="4"),
                rx.spacer(),
                rx.button(
                    "Add article",
                    size="2",
                    on_click=S.edit_article(NEW_ARTICLE),  # type: ignore[operator]
                    custom_attrs={"data-testid": "settings-article-add-button"},
                ),
                width="100%",
                align="center",
            ),
            rx.text("The bot answers from these articles.", size="2", color="var(--gray-11)"),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="query",
                        default_value=S.kb_query,
                        placeholder="Search articles",
                        width="100%",
                        custom_attrs={"data-testid": "settings-article-search-input"},
                    ),
                    rx.button("Search", type="submit", variant="soft"),
                    width="100%",
                ),
                on_submit=S.search_articles,
                width="100%",
            ),
            rx.cond(S.editing_id >= 0, _article_editor()),
            rx.cond(
                S.articles.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(rx.foreach(S.articles, _article_row), spacing="0", width="100%"),
                rx.text("No articles match.", size="2", color="var(--gray-10)"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def settings_page() -> rx.Component:
    return rx.box(
        staff_nav(),
        rx.container(
            rx.cond(
                S.loaded,
                rx.vstack(
                    rx.heading("Settings", size="6"),
                    _settings_form(),
                    _try_it(),
                    _knowledge_base(),
                    spacing="5",
                    width="100%",
                    padding_y="1.5rem",
                ),
                rx.center(rx.spinner(size="3"), padding="4rem"),
            ),
            size="3",
        ),
        min_height="100vh",
        background="var(--gray-2)",
    )
