"""The markdown link rule (what a message may link to) and who may open a conversation."""

from __future__ import annotations

import pytest

from handoff_app.domain.access import may_open_conversation
from handoff_app.domain.lifecycle import ConversationStatus
from handoff_app.domain.markdown import ALLOWED_ELEMENTS, LINK_REL, plain_text, safe_url
from handoff_app.domain.messages import VISITOR_VISIBLE_SENDERS, Sender


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/orders?id=1#top",
        "http://example.com",
        "HTTPS://EXAMPLE.COM",
        "mailto:help@example.com",
    ],
)
def test_web_and_mail_links_are_kept(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "javascript://example.com/%0Aalert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/agent/conversations/1",
        "#top",
        "x",
        "",
        "https://example.com/a b",  # whitespace: not one URL
        "https://example.com\njavascript:alert(1)",
    ],
)
def test_any_other_link_target_is_dropped(url: str) -> None:
    assert safe_url(url) == ""


def test_non_text_urls_are_dropped() -> None:
    assert safe_url(None) == ""
    assert safe_url(42) == ""


def test_no_raw_html_elements_can_be_rendered() -> None:
    for tag in ("script", "iframe", "object", "embed", "svg", "style", "form", "math"):
        assert tag not in ALLOWED_ELEMENTS
    assert set(LINK_REL.split()) == {"noopener", "noreferrer", "nofollow"}


def test_notes_are_never_visitor_visible() -> None:
    assert Sender.NOTE not in VISITOR_VISIBLE_SENDERS
    assert set(Sender) - VISITOR_VISIBLE_SENDERS == {Sender.NOTE}


@pytest.mark.parametrize("status", ["bot", "pending", "active"])
def test_agents_open_every_conversation_of_the_live_queue(status: str) -> None:
    assert may_open_conversation(role="agent", status=status, handled=False)


@pytest.mark.parametrize("status", [ConversationStatus.RESOLVED, ConversationStatus.DISMISSED])
def test_agents_open_closed_conversations_only_when_they_handled_them(
    status: ConversationStatus,
) -> None:
    assert may_open_conversation(role="agent", status=status, handled=True)
    assert not may_open_conversation(role="agent", status=status, handled=False)


@pytest.mark.parametrize("status", list(ConversationStatus))
def test_owners_open_everything(status: ConversationStatus) -> None:
    assert may_open_conversation(role="owner", status=status, handled=False)


def test_canned_names_are_short_lowercase_words_with_dashes() -> None:
    from handoff_app.domain.canned import clean_canned_name
    from handoff_app.domain.messages import InvalidMessage

    assert clean_canned_name(" /Refund-Policy ") == "refund-policy"
    for bad in ("", "/", "two words", "-dash", "x" * 41, "ümlaut", None, 3):
        with pytest.raises(InvalidMessage):
            clean_canned_name(bad)


def test_slash_offers_the_canned_names_it_starts() -> None:
    from handoff_app.domain.canned import matching

    names = ["refund", "refund-late", "shipping"]
    assert matching(names, "/") == names
    assert matching(names, "/REF") == ["refund", "refund-late"]
    assert matching(names, "/s") == ["shipping"]
    assert matching(names, "refund") == []  # no slash, no menu


@pytest.mark.parametrize(
    ("body", "preview"),
    [
        ("Thanks, **that** helps:\n\n1. one\n2. two", "Thanks, that helps: one two"),
        ("see [our site](https://x.example) and _this_ `code`", "see our site and this code"),
        ("# Title\n> quote\n- item ~~old~~", "Title quote item old"),
        ("snake_case_name and 2 * 3 = 6", "snake_case_name and 2 * 3 = 6"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # text, as typed
    ],
)
def test_queue_previews_are_plain_text(body: str, preview: str) -> None:
    assert plain_text(body) == preview
