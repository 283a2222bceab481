"""The knowledge base the bot answers from: the owner adds, edits, deletes and searches it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.bot.embeddings import EMBEDDING_MODEL, embed_texts, get_encoder, to_bytes
from handoff_app.bot.retrieval import Passage
from handoff_app.demo_knowledge import DEMO_ARTICLES
from handoff_app.models import KnowledgeArticle, utcnow
from handoff_app.services.errors import NotFound, ServiceError

MAX_TITLE = 200
MAX_BODY = 20_000


class InvalidArticle(ServiceError):
    pass


class ArticlePublic(BaseModel):
    id: int
    title: str
    body: str
    updated_at: str


def to_public(article: KnowledgeArticle) -> ArticlePublic:
    assert article.id is not None
    return ArticlePublic(
        id=article.id,
        title=article.title,
        body=article.body,
        updated_at=article.updated_at.isoformat(),
    )


def check_article(title: object, body: object) -> tuple[str, str]:
    """(title, body) cleaned, or InvalidArticle saying what is wrong."""
    if not isinstance(title, str) or not title.strip():
        raise InvalidArticle("The article needs a title.")
    if not isinstance(body, str) or not body.strip():
        raise InvalidArticle("The article needs some text.")
    if len(title.strip()) > MAX_TITLE:
        raise InvalidArticle(f"The title is too long (at most {MAX_TITLE} characters).")
    if len(body.strip()) > MAX_BODY:
        raise InvalidArticle(f"The text is too long (at most {MAX_BODY:,} characters).")
    return title.strip(), body.strip()


def to_passage(article: KnowledgeArticle) -> Passage:
    """The article as retrieval sees it, with its stored embedding when it is current."""
    current = article.embedding is not None and article.embedding_model == EMBEDDING_MODEL
    return Passage(
        article.title,
        article.body,
        article.embedding if current else None,
        article_id=article.id or 0,
    )


async def embed_articles(articles: Sequence[KnowledgeArticle]) -> int:
    """Set each article's embedding (computed in a worker thread: the event loop stays free);
    returns how many were set. Leaves them untouched when the model files are missing."""
    if not articles:
        return 0
    texts = [Passage(a.title, a.body).text for a in articles]
    vectors = await asyncio.to_thread(lambda: embed_texts(texts) if get_encoder() else None)
    if vectors is None:
        return 0
    for article, vector in zip(articles, vectors, strict=True):
        article.embedding, article.embedding_model = to_bytes(vector), EMBEDDING_MODEL
    return len(articles)


async def ensure_article_embeddings(session: AsyncSession) -> int:
    """Compute the embeddings missing (or from another model) and commit them; returns how many
    were computed (0 when all are current or the model files are missing)."""
    stale = (
        await session.exec(
            select(KnowledgeArticle).where(
                or_(
                    col(KnowledgeArticle.embedding).is_(None),
                    col(KnowledgeArticle.embedding_model) != EMBEDDING_MODEL,
                )
            )
        )
    ).all()
    computed = await embed_articles(list(stale))
    if computed:
        await session.commit()
    return computed


async def list_articles(*, session: AsyncSession) -> list[KnowledgeArticle]:
    return list(
        (await session.exec(select(KnowledgeArticle).order_by(col(KnowledgeArticle.id)))).all()
    )


async def search_articles(
    *, session: AsyncSession, query: object, limit: int = 100
) -> list[ArticlePublic]:
    """Articles whose title or text contains `query` (case-insensitive); all when blank."""
    statement = select(KnowledgeArticle).order_by(col(KnowledgeArticle.title))
    text = query.strip()[:200] if isinstance(query, str) else ""
    if text:
        pattern = f"%{text.lower()}%"
        statement = statement.where(
            func.lower(KnowledgeArticle.title).like(pattern)
            | func.lower(KnowledgeArticle.body).like(pattern)
        )
    rows = (await session.exec(statement.limit(limit))).all()
    return [to_public(a) for a in rows]


async def save_article(
    *, session: AsyncSession, article_id: int | None, title: object, body: object
) -> ArticlePublic:
    """Add an article (`article_id` None) or replace one's title and text."""
    clean_title, clean_body = check_article(title, body)
    if article_id is None:
        article = KnowledgeArticle(title=clean_title, body=clean_body)
        session.add(article)
    else:
        found = await session.get(KnowledgeArticle, article_id)
        if found is None:
            raise NotFound("This article no longer exists.")
        article = found
        changed = (article.title, article.body) != (clean_title, clean_body)
        article.title, article.body, article.updated_at = clean_title, clean_body, utcnow()
        if changed:  # the old embedding describes the old text
            article.embedding, article.embedding_model = None, ""
    if article.embedding is None:
        await embed_articles([article])
    await session.commit()
    await session.refresh(article)
    return to_public(article)


async def delete_article(*, session: AsyncSession, article_id: int) -> None:
    article = await session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound("This article no longer exists.")
    await session.delete(article)
    await session.commit()


async def seed_demo_knowledge(*, session: AsyncSession) -> int:
    """Add the demo shop's articles to an empty knowledge base; returns how many were added."""
    count = int((await session.exec(select(func.count()).select_from(KnowledgeArticle))).one())
    if count:
        return 0
    articles = [KnowledgeArticle(title=title, body=body) for title, body in DEMO_ARTICLES]
    await embed_articles(articles)
    session.add_all(articles)
    await session.commit()
    return len(DEMO_ARTICLES)
