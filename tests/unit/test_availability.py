"""Working hours in the owner's time zone, availability, and the wait estimate (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handoff_app.domain.availability import (
    describe_wait,
    estimate_wait_seconds,
    team_reachable,
    within_working_hours,
)

WEEKDAY_9_TO_5 = {
    day: {"open": "09:00", "close": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")
}


@pytest.mark.parametrize(
    ("utc_now", "timezone", "open_"),
    [
        # Kiritimati is UTC+14: Sunday 20:00 UTC is Monday 10:00 there (open)
        (datetime(2026, 11, 22, 20, 0, tzinfo=UTC), "Pacific/Kiritimati", True),
        # ... and Monday 04:00 UTC is Monday 18:00 there (closed)
        (datetime(2026, 11, 23, 4, 0, tzinfo=UTC), "Pacific/Kiritimati", False),
        # Pago Pago is UTC-11: Saturday 21:00 UTC is Saturday 10:00 there (no hours on Saturday)
        (datetime(2026, 11, 21, 21, 0, tzinfo=UTC), "Pacific/Pago_Pago", False),
        # the closing minute is outside, the opening minute inside
        (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), "UTC", False),
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "UTC", True),
        # New York in summer time (UTC-4): 13:30 UTC on a Wednesday is 09:30 there
        (datetime(2026, 7, 15, 13, 30, tzinfo=UTC), "America/New_York", True),
        (datetime(2026, 7, 15, 12, 30, tzinfo=UTC), "America/New_York", False),
    ],
)
def test_working_hours_are_read_in_the_owner_time_zone(
    utc_now: datetime, timezone: str, open_: bool
) -> None:
    assert within_working_hours(utc_now, hours=WEEKDAY_9_TO_5, timezone=timezone) is open_


def test_reachability() -> None:
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    common = {"hours": WEEKDAY_9_TO_5, "timezone": "UTC"}
    assert team_reachable(sunday, agents_available=True, hours_enforced=False, **common)
    assert not team_reachable(sunday, agents_available=True, hours_enforced=True, **common)
    assert not team_reachable(sunday, agents_available=False, hours_enforced=False, **common)
    # enforced but no hours configured: escalations are always allowed
    assert team_reachable(
        sunday, agents_available=True, hours_enforced=True, hours={}, timezone="UTC"
    )


def test_wait_estimate_is_the_median_recent_wait_times_the_place_in_the_queue() -> None:
    assert estimate_wait_seconds([], 1) is None
    assert estimate_wait_seconds([30, 90, 600], 1) == 90
    assert estimate_wait_seconds([30, 90, 120, 600], 2) == 210
    assert describe_wait(None) == ""
    assert describe_wait(20) == "less than a minute"
    assert describe_wait(90) == "about 2 minutes"
    assert describe_wait(60) == "about 1 minute"
    assert describe_wait(5400) == "about 1.5 hours"
