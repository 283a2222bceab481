"""Which escalation triggers may fire under the owner's settings (pure rules)."""

from __future__ import annotations

from enum import StrEnum

from handoff_app.domain.lifecycle import TriggerType


class TriggerMode(StrEnum):
    BUTTON = "button"  # only the visitor's "Talk to a human" button
    AUTO = "auto"  # only automatic triggers (keywords, failures, the bot's judgment); no button
    BOTH = "both"


class KeywordBehaviour(StrEnum):
    ESCALATE = "escalate"  # hand off at once
    ASK = "ask"  # ask "Would you like to speak with a team member?" first


AUTOMATIC_TRIGGERS = frozenset(
    {TriggerType.KEYWORD, TriggerType.AI, TriggerType.FAILURES, TriggerType.FRUSTRATION}
)


def trigger_allowed(*, live_support_enabled: bool, trigger_mode: str, trigger: TriggerType) -> bool:
    """May this trigger open an escalation? Staff takeovers always may; visitor-side triggers
    need live support on and a trigger mode that includes them."""
    if trigger == TriggerType.TAKEOVER:
        return True
    if not live_support_enabled:
        return False
    if trigger == TriggerType.BUTTON:
        return trigger_mode in (TriggerMode.BUTTON, TriggerMode.BOTH)
    return trigger in AUTOMATIC_TRIGGERS and trigger_mode in (TriggerMode.AUTO, TriggerMode.BOTH)
