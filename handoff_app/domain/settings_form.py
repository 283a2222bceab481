"""The owner's settings form: every field parsed and checked, all or nothing (pure Python).

`parse_settings(form)` takes the submitted strings and returns either the typed values to save or
one message per bad field, to show next to it. Nothing is saved unless every field is valid.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from handoff_app.domain.availability import WEEKDAYS
from handoff_app.domain.sensitive_topics import (
    EXAMPLES_MARK,
    SensitiveTopic,
    TopicError,
    check_topic,
)
from handoff_app.domain.triggers import KeywordBehaviour, TriggerMode

WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
SMTP_SECURITY = ("starttls", "ssl", "none")
MAX_MESSAGE_SETTING = 1000
MAX_LIST_ENTRIES = 50
MAX_ENTRY_LENGTH = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MODEL = re.compile(r"^[A-Za-z0-9_.-]+/\S+$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")

# The write-only secrets: a blank field keeps the stored value; `clear_<name>` empties it.
SECRET_FIELDS = ("ai_api_key", "smtp_password")


class FieldError(ValueError):
    pass


@dataclass
class ParsedSettings:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(raw: str, *, max_length: int, required: bool = False, what: str = "This") -> str:
    value = raw.strip()
    if required and not value:
        raise FieldError(f"{what} cannot be empty.")
    if len(value) > max_length:
        raise FieldError(f"{what} is too long ({len(value)} characters; at most {max_length}).")
    return value


def _message(raw: str) -> str:
    return _text(raw, max_length=MAX_MESSAGE_SETTING, required=True, what="The message")


def _entries(raw: str) -> list[str]:
    """One entry per line (commas also separate); an empty entry in the middle is refused."""
    lines = raw.replace(",", "\n").strip().split("\n")
    if lines == [""]:
        return []
    entries: list[str] = []
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry:
            raise FieldError(f"Entry {number} is empty: remove the blank line or extra comma.")
        if len(entry) > MAX_ENTRY_LENGTH:
            raise FieldError(f'"{entry[:30]}…" is too long (at most {MAX_ENTRY_LENGTH}).')
        if entry.lower() not in (e.lower() for e in entries):
            entries.append(entry)
    if len(entries) > MAX_LIST_ENTRIES:
        raise FieldError(f"At most {MAX_LIST_ENTRIES} entries.")
    return entries


def _topics(raw: str) -> list[str]:
    """One topic per line: `name`, or `name: example; example`. A line without a colon may
    list several names, comma-separated (examples often hold commas, so a line with a colon is
    one topic). Stored in the written form of `SensitiveTopic`; a name written twice is one
    topic with the examples of both lines."""
    lines = raw.strip().split("\n")
    if lines == [""]:
        return []
    topics: dict[str, SensitiveTopic] = {}  # by name, case-insensitive, in order
    for number, line in enumerate(lines, start=1):
        for piece in [line] if EXAMPLES_MARK in line else line.split(","):
            if not piece.strip():
                raise FieldError(f"Line {number} has an empty topic: remove it or the extra comma.")
            try:
                topic = check_topic(piece)
                earlier = topics.get(topic.name.casefold())
                if earlier is not None:  # the same name again: one topic, both lines' examples
                    both = SensitiveTopic(earlier.name, earlier.examples + topic.examples)
                    topic = check_topic(both.written())
            except TopicError as error:
                raise FieldError(str(error)) from None
            topics[topic.name.casefold()] = topic
    if len(topics) > MAX_LIST_ENTRIES:
        raise FieldError(f"At most {MAX_LIST_ENTRIES} topics.")
    return [t.written() for t in topics.values()]


def _keywords(raw: str) -> list[str]:
    entries = _entries(raw)
    if any(len(e) < 3 for e in entries):
        raise FieldError("Each keyword needs at least 3 characters (short ones match everywhere).")
    return entries


def _integer(raw: str, *, low: int, high: int, what: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise FieldError(f"{what} must be a whole number.") from None
    if not low <= value <= high:
        raise FieldError(f"{what} must be between {low} and {high}.")
    return value


def _optional_integer(raw: str, *, low: int, high: int, what: str) -> int | None:
    return None if not raw.strip() else _integer(raw, low=low, high=high, what=what)


def _number(raw: str, *, low: float, high: float, what: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise FieldError(f"{what} must be a number.") from None
    if not low <= value <= high:
        raise FieldError(f"{what} must be between {low:g} and {high:g}.")
    return value


def _choice(raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip()
    if value not in choices:
        raise FieldError(f"Choose one of: {', '.join(choices)}.")
    return value


def _switch(raw: str) -> bool:
    return raw.strip().lower() in ("on", "true", "1", "yes")


def _timezone(raw: str) -> str:
    name = raw.strip()
    if not name or name not in available_timezones():
        raise FieldError(f'"{name}" is not a time zone. Use an IANA name such as Europe/Paris.')
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(f'"{name}" is not a time zone.') from None
    return name


def _url(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise FieldError("Enter a full http:// or https:// address, or leave it blank.")
    if len(value) > 500:
        raise FieldError("The address is too long (at most 500 characters).")
    return value


def _email(raw: str) -> str:
    value = raw.strip()
    if value and not _EMAIL.match(value):
        raise FieldError("Enter a valid email address, or leave it blank.")
    return value[:254]


def _model(raw: str) -> str:
    value = raw.strip()
    if not _MODEL.match(value) or len(value) > 200:
        raise FieldError('Use a litellm model string such as "openai/gpt-4o-mini" or "local/kb".')
    return value


def _colour(raw: str) -> str:
    value = raw.strip()
    if not _COLOUR.match(value):
        raise FieldError("Use a hex colour such as #2563eb.")
    return value.lower()


def _host(raw: str) -> str:
    value = raw.strip()
    if value and not _HOST.match(value):
        raise FieldError("Enter a host name such as smtp.example.com, or leave it blank.")
    return value


Parser = Callable[[str], Any]

# Every field of the form, in page order, with its parser. The keys are the column names.
FIELDS: dict[str, Parser] = {
    "live_support_enabled": _switch,
    "trigger_mode": lambda raw: _choice(raw, tuple(TriggerMode)),
    "handoff_keywords": _keywords,
    "keyword_behaviour": lambda raw: _choice(raw, tuple(KeywordBehaviour)),
    "failure_threshold": lambda raw: _optional_integer(
        raw, low=1, high=20, what="Consecutive failures"
    ),
    "sensitive_topics": _topics,
    "handoff_message": _message,
    "waiting_message": _message,
    "away_message": _message,
    "busy_message": _message,
    "resolution_message": _message,
    "agent_joined_message": _message,
    "handback_message": _message,
    "agent_label": lambda raw: _text(raw, max_length=80, what="The agent label"),
    "working_hours_enforced": _switch,
    "timezone": _timezone,
    "agents_available": _switch,
    "response_timeout_seconds": lambda raw: _integer(
        raw, low=1, high=86_400, what="The response timeout"
    ),
    "ai_model": _model,
    "ai_api_key": lambda raw: _text(raw, max_length=500, what="The API key"),
    "ai_api_base": _url,
    "ai_system_prompt": lambda raw: _text(raw, max_length=4000, what="The system prompt"),
    "ai_temperature": lambda raw: _number(raw, low=0, high=2, what="The temperature"),
    "ai_reply_timeout_seconds": lambda raw: _integer(
        raw, low=1, high=300, what="The reply timeout"
    ),
    "notify_email_alerts": _switch,
    "webhook_url": _url,
    "widget_title": lambda raw: _text(raw, max_length=80, required=True, what="The title"),
    "widget_accent": _colour,
    "smtp_host": _host,
    "smtp_port": lambda raw: _integer(raw, low=1, high=65_535, what="The port"),
    "smtp_user": lambda raw: _text(raw, max_length=254, what="The user name"),
    "smtp_password": lambda raw: _text(raw, max_length=500, what="The password"),
    "smtp_security": lambda raw: _choice(raw, SMTP_SECURITY),
    "smtp_from": _email,
}
SWITCH_FIELDS = tuple(name for name, parser in FIELDS.items() if parser is _switch)


def _working_hours(form: Mapping[str, object], errors: dict[str, str]) -> dict[str, dict[str, str]]:
    """`hours_<day>_open` / `hours_<day>_close` pairs; both blank means closed that day."""
    hours: dict[str, dict[str, str]] = {}
    for day in WEEKDAYS:
        opening = str(form.get(f"hours_{day}_open") or "").strip()
        closing = str(form.get(f"hours_{day}_close") or "").strip()
        if not opening and not closing:
            continue
        if not (_TIME.match(opening) and _TIME.match(closing)):
            errors[f"hours_{day}"] = "Use 24-hour times such as 09:00 and 17:30 (both, or none)."
        elif closing <= opening:
            errors[f"hours_{day}"] = "The closing time must be after the opening time."
        else:
            hours[day] = {"open": opening, "close": closing}
    return hours


def parse_settings(form: Mapping[str, object]) -> ParsedSettings:
    """Parse a submitted settings form. A missing switch is off (an unchecked box sends
    nothing), a missing secret is kept; any other missing field is an error, so a partial form
    never saves."""
    parsed = ParsedSettings()
    for name, parser in FIELDS.items():
        raw = form.get(name)
        if raw is None and (name in SWITCH_FIELDS or name in SECRET_FIELDS):
            raw = ""  # an unchecked switch sends nothing; a blank secret keeps the stored one
        if not isinstance(raw, str):
            parsed.errors[name] = "This field is missing."
            continue
        try:
            parsed.values[name] = parser(raw)
        except FieldError as exc:
            parsed.errors[name] = str(exc)
    parsed.values["working_hours"] = _working_hours(form, parsed.errors)
    if parsed.values.get("working_hours_enforced") and not parsed.values["working_hours"]:
        parsed.errors.setdefault(
            "working_hours", "Enter the hours of at least one day, or switch enforcement off."
        )
    for secret in SECRET_FIELDS:  # blank keeps the stored secret unless "clear" is ticked
        if secret in parsed.values and not parsed.values[secret]:
            if _switch(str(form.get(f"clear_{secret}") or "")):
                parsed.values[secret] = ""
            else:
                del parsed.values[secret]
    return parsed


def settings_to_form(values: Mapping[str, Any]) -> dict[str, str]:
    """The stored values as the form's strings (secrets are never included)."""
    form: dict[str, str] = {}
    for name in FIELDS:
        if name in SECRET_FIELDS:
            continue
        value = values.get(name)
        if isinstance(value, bool):
            form[name] = "on" if value else ""
        elif isinstance(value, list):
            form[name] = "\n".join(str(v) for v in value)
        elif value is None:
            form[name] = ""
        else:
            form[name] = f"{value:g}" if isinstance(value, float) else str(value)
    hours = values.get("working_hours") or {}
    for day in WEEKDAYS:
        form[f"hours_{day}_open"] = str(hours.get(day, {}).get("open", ""))
        form[f"hours_{day}_close"] = str(hours.get(day, {}).get("close", ""))
    return form


def mask_secret(secret: str) -> str:
    """What the page shows of a stored secret: that it is set, and its last 4 characters."""
    if not secret:
        return ""
    return "•" * 8 + (secret[-4:] if len(secret) >= 12 else "")


def embed_snippet(app_url: str, *, accent: str, title: str) -> str:
    """The tag an owner pastes into their site to get the chat launcher (assets/embed.js)."""
    return (
        f'<script src="{html.escape(app_url, quote=True)}/embed.js" '
        f'data-accent="{html.escape(accent, quote=True)}" '
        f'data-title="{html.escape(title, quote=True)}" async></script>'
    )
