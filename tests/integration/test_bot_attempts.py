"""What the bot tried: every bot answer records the knowledge articles it cites (as they were
then), and the agent's context panel lists the last answers before the handoff. Real bot turns
through litellm (the offline `local/kb` model, and a real OpenAI-compatible server on loopback)
on a real SQLite database."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import BotAttempt, Conversation, KnowledgeArticle, Message
from handoff_app.services import conversations, handoff
from handoff_app.services.bot_attempts import list_bot_attempts
from handoff_app.services.bot_replies import rate_bot_message, reply_as_bot
from handoff_app.services.knowledge import delete_article, save_article, seed_demo_knowledge
from tests.conftest import make_staff
from tests.integration.test_bot_turns import use_provider
from tests.support import openai_server as oa


async def article_id(session: AsyncSession, title: str) -> int:
    found = (
        await session.exec(select(KnowledgeArticle).where(KnowledgeArticle.title == title))
    ).one()
    assert found.id is not None
    return found.id


async def ask(session: AsyncSession, key: str, text: str, cid: int) -> Message | None:
    await conversations.post_visitor_message(session=session, key=key, body=text)
    return await reply_as_bot(conversation_id=cid)


async def start(session: AsyncSession) -> tuple[int, str]:
    started = await conversations.start_conversation(session=session)
    assert started.conversation.id is not None
    return started.conversation.id, started.key


async def attempts_of(session: AsyncSession, cid: int) -> list[BotAttempt]:
    session.expire_all()
    return await list_bot_attempts(session=session, conversation_id=cid)


async def test_an_answer_records_the_article_it_came_from_as_it_was_then(
    session: AsyncSession,
) -> None:
    await seed_demo_knowledge(session=session)
    shipping = await article_id(session, "Shipping times and costs")
    cid, key = await start(session)
    answer = await ask(session, key, "How long does shipping take?", cid)
    assert answer is not None and answer.bot_outcome == "answered"
    assert "(Source: Shipping times and costs)" in answer.body  # the visitor sees it too
    assert answer.bot_sources == [{"id": shipping, "title": "Shipping times and costs"}]
    # articles change and go away later: the record keeps what grounded the answer then
    await save_article(
        session=session, article_id=shipping, title="Delivery", body="Two days, always."
    )
    attempts = await attempts_of(session, cid)
    assert [(a.id, a.title) for a in attempts[0].sources] == [
        (shipping, "Shipping times and costs")
    ]
    await delete_article(session=session, article_id=shipping)
    assert (await attempts_of(session, cid))[0].sources[0].title == "Shipping times and costs"


async def test_no_answer_records_no_article(session: AsyncSession) -> None:
    await seed_demo_knowledge(session=session)
    cid, key = await start(session)
    answer = await ask(session, key, "What is the airspeed velocity of an unladen swallow?", cid)
    assert answer is not None and answer.bot_outcome == "no_answer"
    assert answer.bot_sources == []


async def test_the_panel_lists_the_last_three_answers_before_the_handoff(
    session: AsyncSession,
) -> None:
    await seed_demo_knowledge(session=session)
    cid, key = await start(session)
    first = await ask(session, key, "When are you open?", cid)
    await ask(session, key, "How long does shipping take?", cid)
    await ask(session, key, "What is the airspeed velocity of an unladen swallow?", cid)
    returns = await ask(session, key, "How do I return an item?", cid)
    assert first is not None and returns is not None and returns.id is not None
    await rate_bot_message(
        session=session, conversation_id=cid, message_id=returns.id, helpful=False
    )
    conversation = await session.get(Conversation, cid)
    assert conversation is not None
    await handoff.request_handoff(session=session, conversation=conversation)

    attempts = await attempts_of(session, cid)
    assert [a.outcome for a in attempts] == ["answered", "no_answer", "answered"]
    assert first.id not in [a.message_id for a in attempts]  # only the last three
    assert [[s.title for s in a.sources] for a in attempts] == [
        ["Shipping times and costs"],
        [],
        ["Returns and refunds"],
    ]
    assert [a.feedback for a in attempts] == ["", "", "down"]

    # claimed and handed back: the bot is silent meanwhile, then its newest answers show
    agent = await make_staff(session)
    await handoff.claim_conversation(session=session, conversation_id=cid, staff=agent)
    assert (await attempts_of(session, cid))[-1].message_id == returns.id
    await handoff.hand_back_to_bot(session=session, conversation_id=cid, staff=agent)
    later = await ask(session, key, "Which payment methods do you accept?", cid)
    assert later is not None
    assert (await attempts_of(session, cid))[-1].message_id == later.id


async def test_a_real_model_counts_only_articles_it_was_given_and_cites(
    session: AsyncSession, provider: oa.OpenAIServer
) -> None:
    await seed_demo_knowledge(session=session)
    await use_provider(session, provider)
    provider.script = [
        oa.text("Returns are free within 30 days.\n\n(Source: Returns and refunds)"),
        oa.text("We ship fast. (Source: Our secret shipping handbook)"),
        oa.text("Happy to help."),
    ]
    cid, key = await start(session)
    cited = await ask(session, key, "How do I return an item?", cid)
    made_up = await ask(session, key, "How long does shipping take?", cid)
    uncited = await ask(session, key, "How long does shipping take?", cid)
    assert cited is not None and made_up is not None and uncited is not None
    returns = await article_id(session, "Returns and refunds")
    assert cited.bot_sources == [{"id": returns, "title": "Returns and refunds"}]
    assert made_up.bot_sources == []  # a title that was not in its prompt
    assert uncited.bot_sources == []  # given articles, cited none
    session.expire_all()
    stored = (
        await session.exec(
            select(Message).where(Message.conversation_id == cid).order_by(col(Message.id))
        )
    ).all()
    assert next(m.bot_sources for m in stored if m.sender == "bot")[0]["id"] == returns  # read back
