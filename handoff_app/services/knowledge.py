"""The knowledge base the bot answers from."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.demo_knowledge import DEMO_ARTICLES
from handoff_app.models import KnowledgeArticle


async def list_articles(*, session: AsyncSession) -> list[KnowledgeArticle]:
    return list(
        (await session.exec(select(KnowledgeArticle).order_by(col(KnowledgeArticle.id)))).all()
    )


async def seed_demo_knowledge(*, session: AsyncSession) -> int:
    """Add the demo shop's articles to an empty knowledge base; returns how many were added."""
    count = int((await session.exec(select(func.count()).select_from(KnowledgeArticle))).one())
    if count:
        return 0
    for title, body in DEMO_ARTICLES:
        session.add(KnowledgeArticle(title=title, body=body))
    await session.commit()
    return len(DEMO_ARTICLES)
