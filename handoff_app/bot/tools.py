"""The tool the bot is offered to hand a conversation to a person: `escalate_to_human(reason)`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

ESCALATE_TOOL_NAME = "escalate_to_human"
ESCALATE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": ESCALATE_TOOL_NAME,
        "description": (
            "Hand this conversation to a human member of the support team. Call it when the "
            "visitor asks for a person, is clearly frustrated with your answers, or raises one "
            "of the sensitive topics. Do not call it for ordinary questions that merely contain "
            "words like 'human' or 'agent'."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "reason": {
                    "type": "string",
                    "description": "One short sentence for the team: why a person is needed.",
                }
            },
            "required": ["reason"],
        },
    },
}


def offers_escalation(tools: Iterable[Mapping[str, Any]] | None) -> bool:
    """True when `tools` (OpenAI format) contains the escalate_to_human function."""
    for tool in tools or ():
        function = tool.get("function") or {}
        if isinstance(function, Mapping) and function.get("name") == ESCALATE_TOOL_NAME:
            return True
    return False


def escalation_arguments(reason: str) -> str:
    """The tool call's JSON arguments."""
    return json.dumps({"reason": reason})


def read_reason(arguments: str | None) -> str:
    """The `reason` of a tool call's JSON arguments ("" when missing or malformed)."""
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return ""
    reason = parsed.get("reason") if isinstance(parsed, dict) else None
    return reason.strip() if isinstance(reason, str) else ""


def find_escalation(tool_calls: Iterable[Any] | None) -> str | None:
    """The reason of the first escalate_to_human call among a message's `tool_calls` (litellm
    objects or dicts), or None when there is none."""
    for call in tool_calls or ():
        function = call.get("function") if isinstance(call, Mapping) else call.function
        if function is None:
            continue
        name = function.get("name") if isinstance(function, Mapping) else function.name
        if name == ESCALATE_TOOL_NAME:
            args = (
                function.get("arguments") if isinstance(function, Mapping) else function.arguments
            )
            return read_reason(args)
    return None
