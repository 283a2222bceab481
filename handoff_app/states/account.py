"""`/account`: every staff member changes their own password (the current one is required)."""

from __future__ import annotations

import reflex as rx

from handoff_app.db import open_session
from handoff_app.realtime import leave_rooms, schedule_sign_out
from handoff_app.services import staff as staff_service
from handoff_app.services.errors import ServiceError
from handoff_app.states.staff_auth import StaffAuthState, refuse_page, require_staff


class AccountState(rx.State):
    email: str = ""
    notice: str = ""
    error: str = ""

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        me = await require_staff(self)
        if me is None:
            return await refuse_page(self)
        await leave_rooms(self)  # this page shows no live room
        self.email = me.email
        self.notice = self.error = ""
        return None

    @rx.event
    async def change_password(self, form: dict):  # type: ignore[no-untyped-def]
        """Passwords arrive with the form and are never kept in state."""
        if await require_staff(self) is None:
            return await refuse_page(self)
        fields = form if isinstance(form, dict) else {}
        self.notice = self.error = ""
        new = fields.get("new_password")
        if new != fields.get("confirm_password"):
            self.error = "The new passwords do not match."
            return None
        auth = await self.get_state(StaffAuthState)
        try:
            async with open_session() as session:
                ended = await staff_service.change_password(
                    session=session,
                    token=auth.token,
                    current_password=fields.get("current_password"),
                    new_password=new,
                )
        except ServiceError as exc:
            self.error = str(exc)
            return None
        schedule_sign_out(ended)
        self.notice = "Password changed. Your other sessions were signed out."
        return None
