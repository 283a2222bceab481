"""What an agent is told about the visitor's browser and page (pure: no I/O)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

MAX_URL = 500
MAX_USER_AGENT = 400
MAX_TIME_ZONE = 64
# how long before the conversation a visitor's arrival on the site may be (older: ignored)
MAX_TIME_ON_SITE = timedelta(days=7)

# (pattern, name), first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari"
_BROWSERS = (
    (r"Edg(?:e|A|iOS)?/(\d+)", "Edge"),
    (r"OPR/(\d+)", "Opera"),
    (r"Firefox/(\d+)", "Firefox"),
    (r"FxiOS/(\d+)", "Firefox"),
    (r"CriOS/(\d+)", "Chrome"),
    (r"Chrome/(\d+)", "Chrome"),
    (r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari", "Safari"),
)
_SYSTEMS = (
    (r"Windows NT", "Windows"),
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux", "Linux"),
)


@dataclass(frozen=True)
class VisitorContext:
    """Facts captured when a conversation starts (IP, browser, the page they chatted from)."""

    ip: str = ""
    user_agent: str = ""
    page_url: str = ""
    referrer: str = ""
    time_zone: str = ""  # IANA, e.g. "Europe/Berlin"
    arrived_at: datetime | None = None  # when they arrived on the site (aware, UTC)


def describe_browser(user_agent: str) -> str:
    """ "Firefox 128 on Linux" from a User-Agent header; "" when it says nothing useful."""
    browser = next(
        (
            f"{name} {m.group(1)}"
            for pattern, name in _BROWSERS
            if (m := re.search(pattern, user_agent))
        ),
        "",
    )
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


def clean_url(raw: object) -> str:
    """An http(s) URL as given by the browser, or "" (anything else is not shown to agents)."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()[:MAX_URL]
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else ""


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def clean_time_zone(raw: object) -> str:
    """An IANA time zone name the server's zoneinfo knows (as the browser's
    `Intl.DateTimeFormat().resolvedOptions().timeZone` gives it), or ""."""
    if not isinstance(raw, str):
        return ""
    name = raw.strip()
    if not name or len(name) > MAX_TIME_ZONE:
        return ""
    return name if name in _known_time_zones() else ""


def arrival_from_elapsed(raw: object, *, now: datetime) -> datetime | None:
    """When the visitor arrived, from how long ago it was in milliseconds (the widget's host
    page measures it with its own clock, so a wrong clock on the visitor's machine does not
    matter). None for anything but a whole number of milliseconds up to MAX_TIME_ON_SITE."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 15:
            return None
        raw = int(raw)
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or raw < 0:
        return None
    elapsed = timedelta(milliseconds=raw)
    return now - elapsed if elapsed <= MAX_TIME_ON_SITE else None


def clean_arrival(raw: object, *, now: datetime) -> datetime | None:
    """An arrival time kept in the browser (ISO 8601 with an offset, written by the server at
    the first page load of the browser session), or None when it is not one, is in the
    future or is older than MAX_TIME_ON_SITE."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        return None
    try:
        when = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    when = when.astimezone(UTC)
    return when if now - MAX_TIME_ON_SITE <= when <= now else None


def clean_context(
    ip: object,
    user_agent: object,
    page_url: object,
    referrer: object,
    *,
    time_zone: object = "",
    arrived_at: datetime | None = None,
) -> VisitorContext:
    return VisitorContext(
        ip=ip.strip()[:64] if isinstance(ip, str) else "",
        user_agent=user_agent.strip()[:MAX_USER_AGENT] if isinstance(user_agent, str) else "",
        page_url=clean_url(page_url),
        referrer=clean_url(referrer),
        time_zone=clean_time_zone(time_zone),
        arrived_at=arrived_at,
    )
