"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import openai_server as oa


@pytest.fixture
def provider() -> Iterator[oa.OpenAIServer]:
    """A real OpenAI-compatible server on loopback; tests script its answers."""
    server = oa.OpenAIServer()
    yield server
    server.close()
