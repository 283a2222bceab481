from __future__ import annotations

import pytest

from handoff_app.domain.keywords import DEFAULT_HANDOFF_KEYWORDS, find_handoff_keyword
from handoff_app.domain.messages import MAX_MESSAGE_LENGTH, InvalidMessage, clean_message_body


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_blank_message_is_refused_with_a_hint(body: str) -> None:
    with pytest.raises(InvalidMessage, match="Type a message"):
        clean_message_body(body)


def test_message_over_the_limit_is_refused_with_its_length() -> None:
    with pytest.raises(InvalidMessage, match="4,000") as info:
        clean_message_body("x" * (MAX_MESSAGE_LENGTH + 1))
    assert "4,001" in str(info.value)


def test_message_at_the_limit_is_accepted_and_trimmed() -> None:
    assert clean_message_body("  " + "y" * MAX_MESSAGE_LENGTH + " ") == "y" * MAX_MESSAGE_LENGTH


@pytest.mark.parametrize("body", [None, 12, ["hi"], {"body": "hi"}])
def test_non_text_message_is_refused(body: object) -> None:
    with pytest.raises(InvalidMessage):
        clean_message_body(body)


@pytest.mark.parametrize(
    "text",
    ["I want to SPEAK TO A HUMAN now", "can i talk   to an agent?", "Real person please"],
)
def test_default_keywords_match_anywhere_ignoring_case_and_spacing(text: str) -> None:
    assert find_handoff_keyword(text, DEFAULT_HANDOFF_KEYWORDS) is not None


def test_text_without_keyword_does_not_match() -> None:
    assert find_handoff_keyword("where is my parcel?", DEFAULT_HANDOFF_KEYWORDS) is None


def test_empty_keyword_never_matches() -> None:
    assert find_handoff_keyword("anything", ["", "  "]) is None
