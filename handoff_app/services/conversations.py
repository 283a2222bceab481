"""The visitor's side of a conversation: start, post, read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app import events
from handoff_app.domain.keywords import find_handoff_keyword
from handoff_app.domain.lifecycle import (
    CLOSED_STATUSES,
    ConversationStatus,
    TransitionNotAllowed,
    TriggerType,
)
from handoff_app.domain.messages import Sender, clean_message_body
from handoff_app.domain.triggers import KeywordBehaviour
from handoff_app.domain.visitor_context import VisitorContext
from handoff_app.models import Conversation, Message
from handoff_app.security import hash_token, new_token
from handoff_app.services import handoff
from handoff_app.services.errors import ConversationClosed, NotFound
from handoff_app.services.transcript import add_message
from handoff_app.services.transitions import lock_conversation, lock_conversation_by_key
from handoff_app.services.workspace import escalation_allowed, get_workspace_settings


@dataclass
class StartedConversation:
    conversation: Conversation
    key: str  # the visitor's secret; only its hash is stored


@dataclass
class VisitorPost:
    message: Message
    conversation_id: int
    status: str  # the conversation's, after the post (a keyword may have handed it off)
    escalation_id: int | None = None
    # a keyword matched under the "ask first" behaviour: the visitor is asked to confirm,
    # and the bot does not answer this message unless they say no
    confirm_keyword: str | None = None

    @property
    def bot_should_reply(self) -> bool:
        return self.status == ConversationStatus.BOT and self.confirm_keyword is None


async def start_conversation(
    *, session: AsyncSession, context: VisitorContext | None = None, visitor_id: object = ""
) -> StartedConversation:
    """Open a new bot-handled conversation and return it with the visitor's secret key.

    `context` (IP, browser, page) and `visitor_id` (the browser's own random id, stored hashed,
    linking a visitor's conversations) are for the agent's context panel."""
    key = new_token()
    facts = context or VisitorContext()
    browser_id = visitor_id if isinstance(visitor_id, str) and 16 <= len(visitor_id) <= 100 else ""
    conversation = Conversation(
        visitor_key_hash=hash_token(key),
        visitor_id_hash=hash_token(browser_id) if browser_id else "",
        visitor_ip=facts.ip,
        user_agent=facts.user_agent,
        page_url=facts.page_url,
        referrer=facts.referrer,
        visitor_timezone=facts.time_zone,
        arrived_at=facts.arrived_at,
    )
    session.add(conversation)
    await session.commit()
    assert conversation.id is not None
    await events.publish(events.ConversationStarted(conversation_id=conversation.id))
    return StartedConversation(conversation=conversation, key=key)


async def get_conversation(*, session: AsyncSession, conversation_id: int) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("This conversation does not exist.")
    return conversation


async def get_conversation_by_key(*, session: AsyncSession, key: object) -> Conversation:
    """The conversation a visitor's key opens; NotFound for a missing or unknown key."""
    if not _well_formed(key):
        raise NotFound("No conversation for this key.")
    query = select(Conversation).where(Conversation.visitor_key_hash == hash_token(key))
    conversation = (await session.exec(query)).first()
    if conversation is None:
        raise NotFound("No conversation for this key.")
    return conversation


def _well_formed(key: object) -> TypeGuard[str]:
    return isinstance(key, str) and bool(key) and len(key) <= 200


async def post_visitor_message(*, session: AsyncSession, key: object, body: object) -> VisitorPost:
    """Persist a visitor's message; a configured keyword hands the conversation off at once.

    The message is committed before any event is published, so nothing a visitor types is lost.
    """
    text = clean_message_body(body)
    if not _well_formed(key):
        raise NotFound("No conversation for this key.")
    # the row locked (a concurrent close waits, or is seen), its status and id only: the ORM
    # row is not needed on a visitor's every message
    conversation = await lock_conversation_by_key(session=session, key_hash=hash_token(key))
    if conversation is None:
        raise NotFound("No conversation for this key.")
    if conversation.status in CLOSED_STATUSES:
        raise ConversationClosed("This conversation is closed. Start a new one to keep chatting.")
    cid = conversation.id
    message, posted = await add_message(
        session=session, conversation_id=cid, sender=Sender.VISITOR, body=text
    )
    published: list[events.ConversationEvent] = [posted]
    escalation_id = None
    confirm_keyword = None
    status = conversation.status
    # keywords hand off from the bot only: with a person (or waiting for one), no settings read
    if status == ConversationStatus.BOT:
        settings = await get_workspace_settings(session=session)
        keyword = (
            find_handoff_keyword(text, settings.handoff_keywords)
            if escalation_allowed(settings, TriggerType.KEYWORD)
            else None
        )
        if keyword is not None and settings.keyword_behaviour == KeywordBehaviour.ASK:
            confirm_keyword = keyword
        elif keyword is not None:
            try:
                staged = await handoff.stage_handoff(
                    session=session,
                    conversation_id=cid,
                    trigger=TriggerType.KEYWORD,
                    reason=f'The visitor wrote "{keyword}".',
                    triggering_message=message,
                    settings=settings,
                )
            except TransitionNotAllowed:
                pass  # handed off meanwhile (another tab): keep the message, skip a second one
            else:
                escalation_id = staged.escalation_id
                published.extend(staged.events)
            # the handoff (this one or another tab's) changed the row: its status now, read
            # inside the transaction (a move, made or refused, makes the lock read it again)
            status = (await lock_conversation(session=session, conversation_id=cid)).status
    await session.commit()
    await events.publish(*published)
    return VisitorPost(
        message=message,
        conversation_id=cid,
        status=status,
        escalation_id=escalation_id,
        confirm_keyword=confirm_keyword,
    )
