"""Whether a visitor can reach a person now: working hours in the owner's time zone and the
"agents available" switch (pure: the caller passes the current time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_working_hours(
    now: datetime, *, hours: Mapping[str, Mapping[str, str]], timezone: str
) -> bool:
    """Is `now` (aware) inside the opening hours of its weekday, in `timezone`?

    A day missing from `hours` is closed; times are "HH:MM", closing time excluded.
    """
    local = now.astimezone(ZoneInfo(timezone))
    day = hours.get(WEEKDAYS[local.weekday()])
    if not day:
        return False
    moment = local.strftime("%H:%M")
    return day.get("open", "") <= moment < day.get("close", "")


def team_reachable(
    now: datetime,
    *,
    agents_available: bool,
    hours_enforced: bool,
    hours: Mapping[str, Mapping[str, str]],
    timezone: str,
) -> bool:
    """False means "away": the visitor gets the away message and a contact field, not a wait.

    Without enforced hours, escalations are always allowed (when agents are available).
    """
    if not agents_available:
        return False
    if not hours_enforced or not hours:
        return True
    return within_working_hours(now, hours=hours, timezone=timezone)


def estimate_wait_seconds(recent_waits: list[float], position: int) -> float | None:
    """A visitor's expected wait: the median of recent waits (request to claim), times their
    place in the queue. None without history."""
    if not recent_waits or position < 1:
        return None
    ordered = sorted(recent_waits)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return median * position


def describe_wait(seconds: float | None) -> str:
    """ "about 3 minutes" for the visitor; "" when there is no estimate."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(seconds / 3600, 1)
    return f"about {hours:g} hour{'s' if hours != 1 else ''}"
