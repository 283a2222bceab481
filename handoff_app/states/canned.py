"""Canned responses on the queue page: list, add, edit, delete (any signed-in staff member)."""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_read_session, open_session
from handoff_app.domain.messages import InvalidMessage
from handoff_app.models import CannedPublic
from handoff_app.services import canned
from handoff_app.services.errors import ServiceError
from handoff_app.states.staff_auth import require_staff


class CannedState(rx.State):
    items: list[CannedPublic] = []
    error: str = ""
    editing_id: int = 0  # 0: the form adds a new one
    form_version: int = 0  # bumped after a save: the form remounts empty (kept on a refusal)

    @rx.var
    def editing_name(self) -> str:
        return next((c.name for c in self.items if c.id == self.editing_id), "")

    @rx.var
    def editing_body(self) -> str:
        return next((c.body for c in self.items if c.id == self.editing_id), "")

    async def _reload(self) -> None:
        async with open_read_session() as session:
            self.items = await canned.list_canned(session=session)

    @rx.event
    async def load(self) -> None:
        if await require_staff(self) is None:
            self.items = []
            return
        self.error = ""
        self.editing_id = 0
        await self._reload()

    @rx.event
    def edit(self, canned_id: int) -> None:
        self.editing_id = canned_id if isinstance(canned_id, int) else 0
        self.error = ""

    @rx.event
    async def save(self, form: dict) -> None:  # type: ignore[type-arg]
        staff = await require_staff(self)
        if staff is None:
            self.error = "Your session has ended. Sign in again."
            return
        fields = form if isinstance(form, dict) else {}
        try:
            async with open_session() as session:
                await canned.save_canned(
                    session=session,
                    staff=staff,
                    name=fields.get("name"),
                    body=fields.get("body"),
                    canned_id=self.editing_id or None,
                )
        except (ServiceError, InvalidMessage) as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.editing_id = 0
        self.form_version += 1
        await self._reload()

    @rx.event
    async def delete(self, canned_id: int) -> None:
        if await require_staff(self) is None:
            return
        try:
            async with open_session() as session:
                await canned.delete_canned(session=session, canned_id=canned_id)
        except ServiceError as exc:
            self.error = str(exc)
        await self._reload()
