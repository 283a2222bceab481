"""The agent workspace on a real SQLite database: internal notes, reject, transfer, and who
may open what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.models import Conversation, Escalation, StaffPublic, StaffUser, utcnow
from handoff_app.services import access, assignment, conversations, handoff, notes
from handoff_app.services.bot_replies import reply_as_bot
from handoff_app.services.errors import NotFound, PermissionDenied
from handoff_app.services.knowledge import seed_demo_knowledge
from handoff_app.services.queue import list_queue
from handoff_app.services.transcript import list_messages, list_notes
from tests.conftest import (
    drop_postgres_database,
    fresh_postgres_database,
    make_staff,
    require_postgres,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """These use cases lock rows and compare escalations: run them on PostgreSQL too."""
    from sqlmodel import Session, SQLModel

    from handoff_app import db
    from handoff_app.models import WorkspaceSettings
    from handoff_app.services.workspace import SETTINGS_ID

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        require_postgres()
        url = fresh_postgres_database()
    engine = db.make_sync_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as setup:
        setup.add(WorkspaceSettings(id=SETTINGS_ID, live_support_enabled=True))
        setup.commit()
    engine.dispose()
    yield url
    if request.param == "postgresql":
        drop_postgres_database(url)


async def _pending(session: AsyncSession, text: str = "My parcel is late") -> int:
    started = await conversations.start_conversation(session=session)
    await conversations.post_visitor_message(session=session, key=started.key, body=text)
    await handoff.request_handoff(session=session, conversation=started.conversation)
    assert started.conversation.id is not None
    return started.conversation.id


async def _held(session: AsyncSession, staff: StaffPublic) -> int:
    cid = await _pending(session)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=staff)
    return cid


async def _escalations(session: AsyncSession, cid: int) -> list[Escalation]:
    session.expire_all()
    rows = await session.exec(
        select(Escalation).where(Escalation.conversation_id == cid).order_by(col(Escalation.id))
    )
    return list(rows.all())


async def _status(session: AsyncSession, cid: int) -> tuple[str, int | None]:
    session.expire_all()
    conversation = await session.get(Conversation, cid)
    assert conversation is not None
    return conversation.status, conversation.assigned_staff_id


# ---- internal notes ------------------------------------------------------------------------


async def test_a_note_is_staff_only_and_published_as_a_note_never_as_a_message(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    watcher = await make_staff(session, name="Watcher")  # not the holder: notes need no claim
    cid = await _pending(session)
    published.clear()
    note = await notes.post_note(
        session=session, conversation_id=cid, staff=watcher, body="  VIP: **refund** ok  "
    )
    assert note.sender == "note" and note.body == "VIP: **refund** ok"
    assert note.author_label == "Watcher"
    assert [type(e) for e in published] == [events.NotePosted]
    assert not any(isinstance(e, events.MessagePosted) for e in published)
    # what the visitor's room, resync and history read: no note
    visible = await list_messages(session=session, conversation_id=cid)
    assert "note" not in {m.sender for m in visible}
    assert [m.id for m in await list_notes(session=session, conversation_id=cid)] == [note.id]
    staff_view = await list_messages(session=session, conversation_id=cid, include_notes=True)
    assert staff_view[-1].id == note.id


async def test_the_bot_never_reads_notes_and_still_answers_after_one(
    session: AsyncSession,
) -> None:
    await seed_demo_knowledge(session=session)
    owner = await make_staff(session, role="owner")
    started = await conversations.start_conversation(session=session)
    cid = started.conversation.id or 0
    await conversations.post_visitor_message(
        session=session, key=started.key, body="How long does shipping take?"
    )
    # a note is now the newest row: the bot's thread leaves it out, so it still answers
    await notes.post_note(session=session, conversation_id=cid, staff=owner, body="SECRET-123")
    answer = await reply_as_bot(conversation_id=cid)
    assert answer is not None and "SECRET-123" not in answer.body
    assert "3 to 5 business days" in answer.body


async def test_a_blank_note_or_one_on_a_closed_conversation_of_others_is_refused(
    session: AsyncSession,
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    cid = await _held(session, ana)
    with pytest.raises(ValueError):
        await notes.post_note(session=session, conversation_id=cid, staff=ben, body="   ")
    await handoff.resolve_conversation(session=session, conversation_id=cid, staff=ana)
    with pytest.raises(PermissionDenied):
        await notes.post_note(session=session, conversation_id=cid, staff=ben, body="hi")
    await notes.post_note(session=session, conversation_id=cid, staff=ana, body="follow up")
    assert len(await list_notes(session=session, conversation_id=cid)) == 1


# ---- reject --------------------------------------------------------------------------------


async def test_reject_returns_the_conversation_to_the_queue_and_records_who_and_why(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    cid = await _held(session, ana)
    first = (await _escalations(session, cid))[0]
    published.clear()
    await assignment.reject_conversation(
        session=session, conversation_id=cid, staff=ana, reason="Needs billing access"
    )
    assert await _status(session, cid) == ("pending", None)
    closed, reopened = await _escalations(session, cid)
    assert (closed.outcome, closed.claimed_by_id) == ("rejected", ana.id)
    assert closed.closed_at is not None
    assert reopened.closed_at is None and reopened.claimed_by_id is None
    assert (reopened.trigger, reopened.reason) == (first.trigger, first.reason)
    assert reopened.requested_at == first.requested_at  # the visitor keeps their place
    assert reopened.response_deadline is not None and reopened.response_deadline > utcnow()
    # staff read why; the visitor's transcript only shows the state (no new message)
    (note,) = await list_notes(session=session, conversation_id=cid)
    assert "Ana returned this conversation to the queue" in note.body
    assert "Needs billing access" in note.body
    assert [type(e) for e in published] == [events.NotePosted, events.ConversationRejected]
    # in the queue, pending again, marked as returned by Ana
    (row,) = [r for r in await list_queue(session=session) if r.conversation_id == cid]
    assert (row.status, row.returned_by_id, row.assigned_staff_id) == ("pending", ana.id, 0)
    # anyone may claim it now; once claimed it is no longer "returned"
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=ben)
    (row,) = [r for r in await list_queue(session=session) if r.conversation_id == cid]
    assert (row.status, row.returned_by_id, row.assigned_staff_id) == ("active", 0, ben.id)


async def test_only_the_holder_can_reject(session: AsyncSession) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    owner = await make_staff(session, role="owner", name="Boss")
    pending = await _pending(session)
    with pytest.raises(PermissionDenied):
        await assignment.reject_conversation(session=session, conversation_id=pending, staff=ana)
    cid = await _held(session, ana)
    for other in (ben, owner):
        with pytest.raises(PermissionDenied, match="Ana is handling"):
            await assignment.reject_conversation(session=session, conversation_id=cid, staff=other)
    assert await _status(session, cid) == ("active", ana.id)
    assert len(await _escalations(session, cid)) == 1


# ---- transfer ------------------------------------------------------------------------------


async def test_transfer_hands_the_live_conversation_to_another_agent(
    session: AsyncSession, published: list[events.ConversationEvent]
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    cid = await _held(session, ana)
    published.clear()
    target = await assignment.transfer_conversation(
        session=session, conversation_id=cid, staff=ana, to_staff_id=str(ben.id), note="Refund"
    )
    assert target.id == ben.id
    assert await _status(session, cid) == ("active", ben.id)
    closed, current = await _escalations(session, cid)
    assert (closed.outcome, closed.claimed_by_id) == ("transferred", ana.id)
    assert current.closed_at is None and current.claimed_by_id == ben.id
    (note,) = await list_notes(session=session, conversation_id=cid)
    assert note.body.startswith("Ana transferred this conversation to Ben.")
    assert "Refund" in note.body
    visible = await list_messages(session=session, conversation_id=cid)
    assert visible[-1].sender == "system" and "Ben joined" in visible[-1].body
    assert isinstance(published[-1], events.ConversationTransferred)
    (row,) = [r for r in await list_queue(session=session) if r.conversation_id == cid]
    assert (row.assigned_staff_id, row.claimed_by) == (ben.id, "Ben")
    # Ben replies now; Ana no longer can
    await handoff.post_agent_reply(session=session, conversation_id=cid, staff=ben, body="Hi")
    with pytest.raises(PermissionDenied):
        await handoff.post_agent_reply(session=session, conversation_id=cid, staff=ana, body="x")


async def test_transfer_is_refused_to_nobody_oneself_removed_staff_or_by_a_non_holder(
    session: AsyncSession,
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    gone = await make_staff(session, name="Gone")
    row = await session.get(StaffUser, gone.id)
    assert row is not None
    row.removed_at = utcnow()
    session.add(row)
    await session.commit()
    cid = await _held(session, ana)
    for bad in (None, "", "abc", True, ana.id, gone.id, 999_999):
        with pytest.raises(assignment.InvalidTransfer):
            await assignment.transfer_conversation(
                session=session, conversation_id=cid, staff=ana, to_staff_id=bad
            )
    with pytest.raises(PermissionDenied):
        await assignment.transfer_conversation(
            session=session, conversation_id=cid, staff=ben, to_staff_id=ben.id
        )
    with pytest.raises(assignment.InvalidTransfer):
        await assignment.transfer_conversation(
            session=session, conversation_id=cid, staff=ana, to_staff_id=ben.id, note="x" * 501
        )
    assert await _status(session, cid) == ("active", ana.id)
    targets = await assignment.list_transfer_targets(session=session, staff_id=ana.id)
    assert ben.id in {t.id for t in targets}
    assert not {ana.id, gone.id} & {t.id for t in targets}


# ---- access --------------------------------------------------------------------------------


async def test_agents_open_the_live_queue_and_closed_conversations_they_handled_only(
    session: AsyncSession,
) -> None:
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    cat = await make_staff(session, name="Cat")
    owner = await make_staff(session, role="owner")
    pending = await _pending(session)
    bot = (await conversations.start_conversation(session=session)).conversation.id or 0
    for cid in (pending, bot):
        for who in (ana, ben, owner):
            await access.get_conversation_for_staff(session=session, conversation_id=cid, staff=who)
    # Ana claims, transfers to Ben, Ben resolves: both handled it, Cat did not
    cid = await _held(session, ana)
    await assignment.transfer_conversation(
        session=session, conversation_id=cid, staff=ana, to_staff_id=ben.id
    )
    await handoff.resolve_conversation(session=session, conversation_id=cid, staff=ben)
    for who in (ana, ben, owner):
        await access.get_conversation_for_staff(session=session, conversation_id=cid, staff=who)
    with pytest.raises(PermissionDenied):
        await access.get_conversation_for_staff(session=session, conversation_id=cid, staff=cat)
    with pytest.raises(NotFound):
        await access.get_conversation_for_staff(
            session=session, conversation_id=999_999, staff=owner
        )


# ---- canned responses ----------------------------------------------------------------------


async def test_canned_responses_are_saved_renamed_and_deleted(session: AsyncSession) -> None:
    from handoff_app.services import canned

    ana = await make_staff(session, name="Ana")
    saved = await canned.save_canned(
        session=session, staff=ana, name="/Refund", body="Refunds take **5 days**."
    )
    assert (saved.name, saved.body) == ("refund", "Refunds take **5 days**.")
    with pytest.raises(canned.DuplicateName):
        await canned.save_canned(session=session, staff=ana, name="refund", body="again")
    with pytest.raises(ValueError):
        await canned.save_canned(session=session, staff=ana, name="bad name", body="x")
    renamed = await canned.save_canned(
        session=session, staff=ana, name="refunds", body="New text", canned_id=saved.id
    )
    assert [(c.id, c.name, c.body) for c in await canned.list_canned(session=session)] == [
        (saved.id, "refunds", "New text")
    ]
    await canned.delete_canned(session=session, canned_id=renamed.id)
    assert await canned.list_canned(session=session) == []
    with pytest.raises(NotFound):
        await canned.delete_canned(session=session, canned_id="1")
