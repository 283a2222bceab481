"""Knowledge articles carry their embedding: computed on save and seed, once per change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.bot import embeddings
from handoff_app.bot.retrieval import rank
from handoff_app.models import KnowledgeArticle
from handoff_app.services.knowledge import (
    ensure_article_embeddings,
    list_articles,
    save_article,
    seed_demo_knowledge,
    to_passage,
)


async def stored(session: AsyncSession, article_id: int) -> KnowledgeArticle:
    session.expire_all()
    found = await session.get(KnowledgeArticle, article_id)
    assert found is not None
    return found


async def test_saving_an_article_stores_its_embedding(session: AsyncSession) -> None:
    saved = await save_article(
        session=session, article_id=None, title="Gift cards", body="We sell gift cards from 10 EUR."
    )
    article = await stored(session, saved.id)
    assert article.embedding_model == embeddings.EMBEDDING_MODEL
    assert article.embedding is not None and len(article.embedding) == 384 * 4
    expected = embeddings.embed_text(to_passage(article).text)
    assert np.allclose(embeddings.from_bytes(article.embedding), expected, atol=1e-5)


async def test_editing_the_text_recomputes_the_embedding_and_a_same_save_keeps_it(
    session: AsyncSession,
) -> None:
    saved = await save_article(session=session, article_id=None, title="Gift cards", body="Sold.")
    first = (await stored(session, saved.id)).embedding
    await save_article(session=session, article_id=saved.id, title="Gift cards", body="Sold.")
    assert (await stored(session, saved.id)).embedding == first
    await save_article(
        session=session, article_id=saved.id, title="Gift cards", body="Not sold anymore."
    )
    assert (await stored(session, saved.id)).embedding not in (None, first)


async def test_seeding_the_demo_stores_every_embedding_and_retrieval_uses_them(
    session: AsyncSession,
) -> None:
    assert await seed_demo_knowledge(session=session) == 7
    articles = await list_articles(session=session)
    assert all(a.embedding_model == embeddings.EMBEDDING_MODEL for a in articles)
    passages = [to_passage(a) for a in articles]
    assert all(p.embedding is not None for p in passages)
    assert rank("can I send something back", passages)[0].passage.title == "Returns and refunds"
    assert await ensure_article_embeddings(session) == 0  # all current: nothing to do


async def test_ensure_fills_in_articles_saved_without_an_embedding(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(embeddings.MODEL_DIR_ENV, str(tmp_path / "missing"))
    saved = await save_article(session=session, article_id=None, title="Hours", body="9 to 5.")
    article = await stored(session, saved.id)
    assert (article.embedding, article.embedding_model) == (None, "")
    assert to_passage(article).embedding is None
    assert await ensure_article_embeddings(session) == 0  # still no model: nothing computed
    monkeypatch.delenv(embeddings.MODEL_DIR_ENV)
    assert await ensure_article_embeddings(session) == 1
    assert (await stored(session, saved.id)).embedding_model == embeddings.EMBEDDING_MODEL
    rows = (await session.exec(select(KnowledgeArticle))).all()
    assert all(r.embedding is not None for r in rows)
