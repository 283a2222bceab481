"""What agents are told about the visitor's browser and page."""

from __future__ import annotations

import pytest

from handoff_app.domain.visitor_context import clean_context, clean_url, describe_browser

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
