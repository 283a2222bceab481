"""Every allowed and every refused transition of the conversation lifecycle."""

from __future__ import annotations

import itertools

import pytest

from handoff_app.domain.lifecycle import (
    TRANSITIONS,
    ConversationStatus,
    LifecycleAction,
    TransitionNotAllowed,
    next_status,
)

S = ConversationStatus
A = LifecycleAction

EXPECTED_ALLOWED = {
    (S.BOT, A.REQUEST_HANDOFF): S.PENDING,
    (S.BOT, A.TAKEOVER): S.ACTIVE,
    (S.PENDING, A.CLAIM): S.ACTIVE,
    (S.PENDING, A.HAND_BACK): S.BOT,
    (S.PENDING, A.DISMISS): S.DISMISSED,
    (S.PENDING, A.RESOLVE): S.RESOLVED,
    (S.PENDING, A.CONTINUE_WITH_AI): S.BOT,
    (S.ACTIVE, A.REJECT): S.PENDING,
    (S.ACTIVE, A.TRANSFER): S.ACTIVE,
    (S.ACTIVE, A.RESOLVE): S.RESOLVED,
    (S.ACTIVE, A.HAND_BACK): S.BOT,
    (S.ACTIVE, A.DISMISS): S.DISMISSED,
}


def test_transition_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == EXPECTED_ALLOWED


@pytest.mark.parametrize(("pair", "target"), list(EXPECTED_ALLOWED.items()))
def test_allowed_transition_leads_to_its_target(
    pair: tuple[ConversationStatus, LifecycleAction], target: ConversationStatus
) -> None:
    status, action = pair
    assert next_status(status, action) is target
    assert next_status(status.value, action) is target


REFUSED = [pair for pair in itertools.product(S, A) if pair not in EXPECTED_ALLOWED]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_transition_raises(status: ConversationStatus, action: LifecycleAction) -> None:
    with pytest.raises(TransitionNotAllowed) as info:
        next_status(status, action)
    assert info.value.status is status
    assert action.value in str(info.value)


def test_closed_conversations_accept_no_action() -> None:
    for status, action in itertools.product((S.RESOLVED, S.DISMISSED), A):
        with pytest.raises(TransitionNotAllowed):
            next_status(status, action)


def test_claim_only_from_pending() -> None:
    assert [src for (src, act) in TRANSITIONS if act is A.CLAIM] == [S.PENDING]


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError):
        next_status("archived", A.CLAIM)


def test_only_a_held_conversation_can_be_rejected_or_transferred() -> None:
    assert [src for (src, act) in TRANSITIONS if act is A.REJECT] == [S.ACTIVE]
    assert [src for (src, act) in TRANSITIONS if act is A.TRANSFER] == [S.ACTIVE]
    assert next_status(S.ACTIVE, A.REJECT) is S.PENDING  # back to the queue
    assert next_status(S.ACTIVE, A.TRANSFER) is S.ACTIVE  # stays live, with someone else
