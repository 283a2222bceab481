"""A sensitive topic as the owner writes it in settings: its name, then, if they like, example
messages that must reach a person (pure Python).

    legal threat: I'm going to sue you; you will hear from my lawyer

The name is what the agent reads as the reason; the judgment compares a visitor's message with
the examples as well as with phrasings of the name (bot/intent.py). A topic is stored as one
string in this written form, so settings, the system prompt and the judgment share it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

EXAMPLES_MARK = ":"
EXAMPLE_SEPARATOR = ";"
MAX_TOPIC_NAME = 100
MIN_EXAMPLE_LENGTH = 3
MAX_EXAMPLE_LENGTH = 300
MAX_EXAMPLES = 10


class TopicError(ValueError):
    """A topic line that cannot be used, with the reason in words for the owner."""


@dataclass(frozen=True)
class SensitiveTopic:
    name: str
    examples: tuple[str, ...] = ()

    def written(self) -> str:
        """The stored form: `name`, or `name: example; example`."""
        if not self.examples:
            return self.name
        return f"{self.name}{EXAMPLES_MARK} {f'{EXAMPLE_SEPARATOR} '.join(self.examples)}"


def _squeeze(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=1024)  # parsed for every message judged: a topic parses once
def read_topic(entry: str) -> SensitiveTopic:
    """The topic an entry holds; lenient (for stored entries): blank examples are skipped."""
    name, _, rest = entry.partition(EXAMPLES_MARK)
    unique: dict[str, str] = {}  # the first spelling of each example, in order
    for example in (_squeeze(e) for e in rest.split(EXAMPLE_SEPARATOR)):
        if example:
            unique.setdefault(example.casefold(), example)
    return SensitiveTopic(_squeeze(name), tuple(unique.values()))


def check_topic(entry: str) -> SensitiveTopic:
    """`read_topic`, refusing what the owner should fix: no name, too long, too many examples."""
    topic = read_topic(entry)
    if not topic.name:
        raise TopicError(f'"{entry.strip()[:30]}" has no topic name before the colon.')
    if len(topic.name) > MAX_TOPIC_NAME:
        raise TopicError(f'"{topic.name[:30]}…" is too long a name (at most {MAX_TOPIC_NAME}).')
    if EXAMPLES_MARK in entry and not topic.examples:
        raise TopicError(
            f'"{topic.name}" has a colon but no examples: write them after it, or drop it.'
        )
    if len(topic.examples) > MAX_EXAMPLES:
        raise TopicError(
            f'"{topic.name}" has {len(topic.examples)} examples (at most {MAX_EXAMPLES}).'
        )
    for example in topic.examples:
        if len(example) < MIN_EXAMPLE_LENGTH:
            raise TopicError(
                f'"{example}", an example of "{topic.name}", is too short (at least '
                f"{MIN_EXAMPLE_LENGTH} characters: short ones match everywhere)."
            )
        if len(example) > MAX_EXAMPLE_LENGTH:
            raise TopicError(
                f'An example of "{topic.name}" is too long (at most {MAX_EXAMPLE_LENGTH}).'
            )
    return topic
