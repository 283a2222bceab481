"""`/settings` (owner only): the workspace settings form, the knowledge base, and "try it".

Every handler re-checks that the caller is a signed-in owner: any websocket client can call
any handler, so the page hiding things is not the protection.
"""

from __future__ import annotations

import reflex as rx

from handoff_app.config import public_url
from handoff_app.db import open_read_session, open_scan_session, open_session
from handoff_app.domain.messages import InvalidMessage
from handoff_app.domain.settings_form import embed_snippet
from handoff_app.realtime import leave_rooms
from handoff_app.services import knowledge
from handoff_app.services.bot_replies import preview_turn
from handoff_app.services.errors import ServiceError
from handoff_app.services.workspace import (
    SettingsInvalid,
    SettingsView,
    get_workspace_settings,
    save_settings,
    settings_view,
)
from handoff_app.states.staff_auth import refuse_page, require_owner, require_staff

REFUSED = "Only the workspace owner can change settings."
NEW_ARTICLE = 0  # `editing_id` of the "add an article" form; -1 means no form is open


class SettingsState(rx.State):
    loaded: bool = False
    form: dict[str, str] = {}
    masked: dict[str, str] = {}
    errors: dict[str, str] = {}
    notice: str = ""
    error: str = ""
    embed_snippet: str = ""

    articles: list[knowledge.ArticlePublic] = []
    kb_query: str = ""
    editing_id: int = -1
    editing_title: str = ""
    editing_body: str = ""
    kb_error: str = ""

    try_answer: str = ""
    try_judgment: str = ""
    try_escalate: bool = False
    try_busy: bool = False
    try_error: str = ""

    def _show(self, view: SettingsView) -> None:
        self.form = view.form
        self.masked = view.masked_secrets
        self.embed_snippet = embed_snippet(
            public_url(self.router.page.host),
            accent=view.form.get("widget_accent", ""),
            title=view.form.get("widget_title", ""),
        )

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        self.errors, self.notice, self.error = {}, "", ""
        if await require_staff(self) is None:
            return await refuse_page(self)
        await leave_rooms(self)
        if await require_owner(self) is None:
            return rx.redirect("/agent", replace=True)  # agents have no settings page
        async with open_read_session() as session:
            self._show(settings_view(await get_workspace_settings(session=session)))
        await self._reload_articles()
        self.editing_id = -1
        self.loaded = True
        return None

    @rx.event
    async def save(self, form: dict) -> None:
        """Validate every field and save all of them, or none with a message per bad field."""
        self.notice, self.error = "", ""
        if await require_owner(self) is None:
            self.error = REFUSED
            return
        try:
            async with open_session() as session:
                view = await save_settings(
                    session=session, form=form if isinstance(form, dict) else {}
                )
        except SettingsInvalid as exc:
            self.errors = exc.errors
            self.error = str(exc)
            return
        self.errors = {}
        self._show(view)
        self.notice = "Saved. The new settings apply now, on every worker."

    # ---- knowledge base --------------------------------------------------------------------

    async def _reload_articles(self) -> None:
        async with open_scan_session() as session:  # a text search: off the event loop
            self.articles = await knowledge.search_articles(session=session, query=self.kb_query)

    @rx.event
    async def search_articles(self, form: dict) -> None:
        if await require_owner(self) is None:
            self.kb_error = REFUSED
            return
        query = form.get("query") if isinstance(form, dict) else ""
        self.kb_query = query.strip()[:200] if isinstance(query, str) else ""
        await self._reload_articles()

    @rx.event
    async def edit_article(self, article_id: int) -> None:
        """Open the editor: `NEW_ARTICLE` for a new one, else the id of an article."""
        self.kb_error = ""
        if await require_owner(self) is None:
            self.kb_error = REFUSED
            return
        if not isinstance(article_id, int) or isinstance(article_id, bool):
            return
        found = next((a for a in self.articles if a.id == article_id), None)
        self.editing_id = article_id if found or article_id == NEW_ARTICLE else -1
        self.editing_title = found.title if found else ""
        self.editing_body = found.body if found else ""

    @rx.event
    def cancel_edit(self) -> None:
        self.editing_id, self.kb_error = -1, ""

    @rx.event
    async def save_article(self, form: dict) -> None:
        if await require_owner(self) is None:
            self.kb_error = REFUSED
            return
        fields = form if isinstance(form, dict) else {}
        article_id = None if self.editing_id == NEW_ARTICLE else self.editing_id
        if article_id is not None and article_id < 0:
            return
        try:
            async with open_session() as session:
                await knowledge.save_article(
                    session=session,
                    article_id=article_id,
                    title=fields.get("title"),
                    body=fields.get("body"),
                )
        except ServiceError as exc:
            self.kb_error = str(exc)  # the editor stays open with the text as typed
            return
        self.editing_id, self.kb_error = -1, ""
        await self._reload_articles()

    @rx.event
    async def delete_article(self, article_id: int) -> None:
        if await require_owner(self) is None:
            self.kb_error = REFUSED
            return
        if not isinstance(article_id, int) or isinstance(article_id, bool):
            return
        try:
            async with open_session() as session:
                await knowledge.delete_article(session=session, article_id=article_id)
        except ServiceError as exc:
            self.kb_error = str(exc)
        if self.editing_id == article_id:
            self.editing_id = -1
        await self._reload_articles()

    # ---- try it ----------------------------------------------------------------------------

    @rx.event(background=True)
    async def try_message(self, form: dict):  # type: ignore[no-untyped-def]
        """Send a test message through the saved model and judgment; the model call runs
        outside the state lock (a real provider can take seconds)."""
        async with self:
            if self.try_busy:
                return
            owner = await require_owner(self)
            self.try_error = "" if owner else REFUSED
            if owner is None:
                return
            self.try_busy = True
        try:
            preview = await preview_turn(text=form.get("text") if isinstance(form, dict) else None)
        except InvalidMessage as exc:
            async with self:
                self.try_error, self.try_busy = str(exc), False
            return
        async with self:
            self.try_answer = preview.answer
            self.try_judgment = preview.judgment
            self.try_escalate = preview.escalate
            self.try_busy = False
