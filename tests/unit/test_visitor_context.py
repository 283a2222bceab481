"""What agents are told about the visitor's browser and page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff_app.domain.visitor_context import (
    arrival_from_elapsed,
    clean_arrival,
    clean_context,
    clean_time_zone,
    clean_url,
    describe_browser,
)

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "described"),
    [
        (CHROME_LINUX, "Chrome 156 on Linux"),
        (EDGE_WINDOWS, "Edge 131 on Windows"),
        (SAFARI_IPHONE, "Safari 17 on iOS"),
        (FIREFOX_MAC, "Firefox 128 on macOS"),
        (CHROME_ANDROID, "Chrome 130 on Android"),
        ("curl/8.5.0", ""),
        ("", ""),
    ],
)
def test_browser_and_system_from_the_user_agent(agent: str, described: str) -> None:
    assert describe_browser(agent) == described


def test_only_web_addresses_are_kept() -> None:
    assert clean_url("https://shop.example.com/cart?x=1") == "https://shop.example.com/cart?x=1"
    assert clean_url("javascript:alert(1)") == ""
    assert clean_url("data:text/html,<b>x</b>") == ""
    assert clean_url(42) == ""
    assert len(clean_url("https://e.com/" + "a" * 900)) == 500
    context = clean_context(" 10.0.0.7 ", CHROME_LINUX, "ftp://x", "https://google.com/")
    assert context.ip == "10.0.0.7" and context.page_url == "" and context.referrer


NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Europe/Berlin", "Asia/Tokyo", "America/Argentina/Salta", "UTC"])
def test_a_time_zone_zoneinfo_knows_is_kept(name: str) -> None:
    assert clean_time_zone(name) == name
    assert clean_time_zone(f"  {name} ") == name


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Mars/Olympus_Mons",
        "europe/berlin",
        "../../etc/passwd",
        "Europe/Berlin\x00",
        "x" * 65,
        None,
        3,
        ["UTC"],
        {"tz": "UTC"},
    ],
)
def test_an_unknown_or_malformed_time_zone_is_ignored(raw: object) -> None:
    assert clean_time_zone(raw) == ""


def test_the_arrival_is_now_minus_the_time_on_site_the_host_page_measured() -> None:
    assert arrival_from_elapsed("720000", now=NOW) == NOW - timedelta(minutes=12)
    assert arrival_from_elapsed(0, now=NOW) == NOW
    assert arrival_from_elapsed(1500.0, now=NOW) == NOW - timedelta(milliseconds=1500)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "-5",
        "12.5",
        "1e9",
        "abc",
        "１２",
        "9" * 16,
        True,
        -1,
        float("nan"),
        1.5,
        str(8 * 24 * 3600 * 1000),
        ["1"],
    ],
)
def test_a_bad_time_on_site_is_ignored(raw: object) -> None:
    assert arrival_from_elapsed(raw, now=NOW) is None


def test_an_arrival_kept_in_the_browser_must_be_a_past_aware_time_within_a_week() -> None:
    assert clean_arrival("2026-11-21T11:30:00+00:00", now=NOW) == NOW - timedelta(minutes=30)
    assert clean_arrival("2026-11-21T12:30:00+01:00", now=NOW) == NOW - timedelta(minutes=30)
    for raw in [
        "2026-11-21T11:30:00",  # no offset: whose clock?
        "2026-11-21T12:05:00+00:00",  # the future
        "2026-11-01T12:00:00+00:00",  # weeks ago
        "yesterday",
        "",
        None,
        17,
        "2026-11-21T11:30:00+00:00" + " " * 40,
    ]:
        assert clean_arrival(raw, now=NOW) is None, raw


def test_the_context_keeps_a_known_zone_and_drops_an_unknown_one() -> None:
    arrived = NOW - timedelta(minutes=3)
    kept = clean_context("", "", "", "", time_zone="Asia/Tokyo", arrived_at=arrived)
    assert (kept.time_zone, kept.arrived_at) == ("Asia/Tokyo", arrived)
    assert clean_context("", "", "", "", time_zone="Nowhere/Else").time_zone == ""
