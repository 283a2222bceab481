"""Internal notes: staff-only messages in a conversation's thread.

A note is a Message row with sender "note". It never reaches the visitor or the bot: the
transcript's readers leave notes out by default, a note publishes NotePosted (never
MessagePosted), and realtime pushes it only to the staff-only context room.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.models import Message, StaffPublic
from handoff_app.services.access import lock_for_staff
from handoff_app.services.transcript import add_message


async def stage_note(
    *, session: AsyncSession, conversation_id: int, author: StaffPublic | None, body: str
) -> tuple[Message, events.NotePosted]:
    """Add a note in the caller's transaction (the caller holds the conversation's row lock,
    then commits and publishes the returned event)."""
    message, _posted = await add_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.NOTE,
        body=body,
        author_staff_id=author.id if author else None,
        author_label=author.label if author else "",
    )
    assert message.id is not None
    return message, events.NotePosted(conversation_id=conversation_id, message_id=message.id)


async def post_note(
    *, session: AsyncSession, conversation_id: int, staff: StaffPublic, body: object
) -> Message:
    """Any staff member who may open the conversation adds a note, claimed or not."""
    text = clean_message_body(body)
    # the row lock keeps ids committed in order within the conversation (see add_message)
    await lock_for_staff(session=session, conversation_id=conversation_id, staff=staff)
    message, posted = await stage_note(
        session=session, conversation_id=conversation_id, author=staff, body=text
    )
    await session.commit()
    await events.publish(posted)
    return message
