"""Which knowledge articles an answer cites: only articles that were in its prompt."""

from __future__ import annotations

from handoff_app.bot.citations import cited_articles
from handoff_app.bot.retrieval import Passage

SHIPPING = Passage("Shipping times and costs", "3 to 5 days.", article_id=2)
RETURNS = Passage("Returns and refunds", "30 days.", article_id=4)
COMMA = Passage("Hours, holidays", "9 to 6.", article_id=7)
GIVEN = [SHIPPING, RETURNS, COMMA]


def test_the_offline_models_citation_names_its_article() -> None:
    assert cited_articles("3 to 5 days.\n\n(Source: Shipping times and costs)", GIVEN) == [SHIPPING]


def test_case_spacing_and_several_citations_are_read() -> None:
    text = (
        "(source:  returns AND refunds ) and "
        "(Sources: Shipping times and costs; Returns and refunds)"
    )
    assert cited_articles(text, GIVEN) == [RETURNS, SHIPPING]


def test_a_title_with_a_comma_is_one_title() -> None:
    assert cited_articles("(Source: Hours, holidays)", GIVEN) == [COMMA]


def test_made_up_titles_and_uncited_answers_count_nothing() -> None:
    assert cited_articles("(Source: The secret handbook)", GIVEN) == []
    assert cited_articles("Shipping times and costs say 3 days.", GIVEN) == []
    assert cited_articles("(Source: Shipping times and costs)", []) == []
