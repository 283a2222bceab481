"""Which staff member may open which conversation."""

from __future__ import annotations

from handoff_app.domain.lifecycle import CLOSED_STATUSES, ConversationStatus


def may_open_conversation(*, role: str, status: ConversationStatus | str, handled: bool) -> bool:
    """Owners open everything. Agents open what the live queue holds (bot, pending, active)
    and closed conversations they handled (were assigned to, or claimed an escalation of)."""
    if role == "owner":
        return True
    if ConversationStatus(status) in CLOSED_STATUSES:
        return handled
    return True
