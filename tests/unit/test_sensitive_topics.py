"""A sensitive topic as written in settings: its name, then example messages after a colon."""

from __future__ import annotations

import pytest

from handoff_app.domain.sensitive_topics import SensitiveTopic, TopicError, check_topic, read_topic


def test_a_topic_is_its_name_then_its_examples() -> None:
    topic = read_topic("  safety   hazard : the plug smoked;  my kettle caught fire ;; ")
    assert topic == SensitiveTopic("safety hazard", ("the plug smoked", "my kettle caught fire"))
    assert topic.written() == "safety hazard: the plug smoked; my kettle caught fire"
    assert read_topic(topic.written()) == topic
    assert read_topic("legal threat") == SensitiveTopic("legal threat")
    assert read_topic("legal threat").written() == "legal threat"


def test_a_repeated_example_counts_once_in_its_first_spelling_and_place() -> None:
    topic = read_topic("recall: It broke; it smoked; it  BROKE; it sparked")
    assert topic.examples == ("It broke", "it smoked", "it sparked")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (": the plug smoked", "no topic name"),
        ("recall:", "no examples"),
        ("recall: it broke; ?", "too short"),
        ("x" * 101, "too long a name"),
        ("recall: " + "; ".join(f"case {n}" for n in range(11)), "11 examples"),
        ("recall: " + "y" * 301, "too long"),
    ],
)
def test_what_the_owner_must_fix_is_refused_with_the_reason(entry: str, says: str) -> None:
    with pytest.raises(TopicError, match=says):
        check_topic(entry)
