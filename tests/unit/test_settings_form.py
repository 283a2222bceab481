"""The settings form's rules: every field parsed, bad values named per field, secrets write-only."""

from __future__ import annotations

import pytest

from handoff_app.domain.lifecycle import TriggerType
from handoff_app.domain.settings_form import parse_settings, settings_to_form
from handoff_app.domain.triggers import trigger_allowed
from handoff_app.models import WorkspaceSettings


def default_form() -> dict[str, str]:
    return settings_to_form(WorkspaceSettings(id=1).model_dump())


def test_the_stored_defaults_round_trip_through_the_form() -> None:
    parsed = parse_settings(default_form())
    assert parsed.ok, parsed.errors
    defaults = WorkspaceSettings(id=1).model_dump()
    for name, value in parsed.values.items():
        assert value == defaults[name], name
    assert "ai_api_key" not in parsed.values  # blank secret: keep what is stored


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "not a time zone"),
        ("timezone", "", "not a time zone"),
        ("response_timeout_seconds", "-5", "between 1 and 86400"),
        ("response_timeout_seconds", "soon", "whole number"),
        ("failure_threshold", "0", "between 1 and 20"),
        ("webhook_url", "ftp://example.com/x", "http"),
        ("webhook_url", "javascript:alert(1)", "http"),
        ("smtp_from", "not-an-email", "email"),
        ("handoff_keywords", "real person\n\nagent", "empty"),
        ("handoff_keywords", "real person,,agent", "empty"),
        ("handoff_keywords", "hi", "at least 3"),
        ("sensitive_topics", "legal threat\n \naccount hacked", "empty"),
        ("sensitive_topics", "legal threat,,account hacked", "empty"),
        ("sensitive_topics", ": I'm going to sue you", "no topic name"),
        ("sensitive_topics", "legal threat:  ;  ", "no examples"),
        (
            "sensitive_topics",
            "recall: " + "; ".join(f"it broke {n}" for n in range(11)),
            "at most 10",
        ),
        ("sensitive_topics", "recall: " + "x" * 301, "too long"),
        ("trigger_mode", "sometimes", "Choose one of"),
        ("keyword_behaviour", "", "Choose one of"),
        ("ai_model", "gpt4", "litellm model string"),
        ("ai_temperature", "3", "between 0 and 2"),
        ("widget_accent", "blue", "hex colour"),
        ("widget_title", "   ", "cannot be empty"),
        ("handoff_message", "", "cannot be empty"),
        ("smtp_port", "70000", "between 1 and 65535"),
        ("smtp_security", "tls1.0", "Choose one of"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_for_its_field(
    field: str, raw: str, message: str
) -> None:
    form = default_form() | {field: raw}
    parsed = parse_settings(form)
    assert set(parsed.errors) == {field}
    assert message in parsed.errors[field]


def test_working_hours_need_both_times_in_order() -> None:
    form = default_form() | {
        "hours_mon_open": "09:00",
        "hours_mon_close": "17:30",
        "hours_tue_open": "18:00",
        "hours_tue_close": "08:00",
        "hours_wed_open": "9am",
        "hours_wed_close": "",
    }
    parsed = parse_settings(form)
    assert set(parsed.errors) == {"hours_tue", "hours_wed"}
    assert parsed.values["working_hours"] == {"mon": {"open": "09:00", "close": "17:30"}}


def test_enforced_hours_need_at_least_one_open_day() -> None:
    parsed = parse_settings(default_form() | {"working_hours_enforced": "on"})
    assert "working_hours" in parsed.errors


def test_a_missing_field_is_an_error_but_a_missing_switch_is_off() -> None:
    form = default_form()
    del form["ai_model"]
    del form["live_support_enabled"]
    parsed = parse_settings(form)
    assert set(parsed.errors) == {"ai_model"}
    assert parsed.values["live_support_enabled"] is False


def test_lists_are_cleaned_and_deduplicated() -> None:
    form = default_form() | {"handoff_keywords": " Real person \nreal PERSON\nhuman please\n"}
    assert parse_settings(form).values["handoff_keywords"] == ["Real person", "human please"]


def test_topics_take_example_messages_after_a_colon() -> None:
    raw = (
        "legal threat, account hacked\n"
        "safety hazard:  the plug started smoking ; my kettle caught fire, twice;\n"
        "Legal Threat: I'm going to sue you\n"  # the same name again: one topic
    )
    topics = parse_settings(default_form() | {"sensitive_topics": raw}).values["sensitive_topics"]
    assert topics == [
        "legal threat: I'm going to sue you",
        "account hacked",
        "safety hazard: the plug started smoking; my kettle caught fire, twice",
    ]
    # what is stored reads back into the form as it was written, and parses to the same
    form = settings_to_form(WorkspaceSettings(id=1, sensitive_topics=topics).model_dump())
    assert parse_settings(form).values["sensitive_topics"] == topics


def test_secrets_are_write_only() -> None:
    base = default_form()
    assert "ai_api_key" not in base and "smtp_password" not in base
    assert parse_settings(base | {"ai_api_key": " sk-new "}).values["ai_api_key"] == "sk-new"
    assert "ai_api_key" not in parse_settings(base | {"ai_api_key": ""}).values
    cleared = parse_settings(base | {"ai_api_key": "", "clear_ai_api_key": "on"})
    assert cleared.values["ai_api_key"] == ""


@pytest.mark.parametrize(
    ("live", "mode", "trigger", "allowed"),
    [
        (False, "both", TriggerType.BUTTON, False),
        (False, "both", TriggerType.KEYWORD, False),
        (False, "both", TriggerType.TAKEOVER, True),
        (True, "both", TriggerType.BUTTON, True),
        (True, "both", TriggerType.KEYWORD, True),
        (True, "button", TriggerType.BUTTON, True),
        (True, "button", TriggerType.KEYWORD, False),
        (True, "button", TriggerType.AI, False),
        (True, "auto", TriggerType.BUTTON, False),
        (True, "auto", TriggerType.KEYWORD, True),
        (True, "auto", TriggerType.FAILURES, True),
    ],
)
def test_which_triggers_may_fire(
    live: bool, mode: str, trigger: TriggerType, allowed: bool
) -> None:
    assert trigger_allowed(live_support_enabled=live, trigger_mode=mode, trigger=trigger) is allowed
