"""What an agent is told about the visitor's browser and page (pure: no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 500
MAX_USER_AGENT = 400

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


def clean_context(
    ip: object, user_agent: object, page_url: object, referrer: object
) -> VisitorContext:
    return VisitorContext(
        ip=ip.strip()[:64] if isinstance(ip, str) else "",
        user_agent=user_agent.strip()[:MAX_USER_AGENT] if isinstance(user_agent, str) else "",
        page_url=clean_url(page_url),
        referrer=clean_url(referrer),
    )
