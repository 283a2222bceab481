"""`/invite/[invite_token]` (public: the token is the key): accept an invite and sign in."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.db import open_read_session, open_session
from handoff_app.realtime import leave_rooms
from handoff_app.services import invites
from handoff_app.services.errors import ServiceError
from handoff_app.services.invites import InviteStatus, InviteUnusable
from handoff_app.states.staff_auth import StaffAuthState


class InviteAcceptState(rx.State):
    status: str = ""  # "" while loading, then an InviteStatus value
    status_text: str = ""
    email: str = ""
    display_name: str = ""
    role: str = ""
    error: str = ""

    def _route_token(self) -> str:
        raw = getattr(self, "invite_token", "")
        return raw if isinstance(raw, str) and len(raw) <= 200 else ""

    def _show(self, status: InviteStatus) -> None:
        self.status = status.value
        self.status_text = invites.STATUS_TEXT[status]

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        await leave_rooms(self)
        self.error = ""
        async with open_read_session() as session:
            found = await invites.look_up_invite(session=session, token=self._route_token())
        self._show(found.status)
        self.email, self.display_name, self.role = found.email, found.display_name, found.role

    @rx.event
    async def accept(self, form: dict):  # type: ignore[no-untyped-def]
        """Create the account (the token comes from the URL, checked again), then sign in."""
        fields = form if isinstance(form, dict) else {}
        self.error = ""
        if fields.get("password") != fields.get("confirm_password"):
            self.error = "The passwords do not match."
            return None
        try:
            async with open_session() as session:
                signed = await invites.accept_invite(
                    session=session,
                    token=self._route_token(),
                    display_name=fields.get("display_name"),
                    password=fields.get("password"),
                )
        except InviteUnusable as exc:
            self._show(exc.status)
            return None
        except ServiceError as exc:
            self.error = str(exc)
            return None
        auth = await self.get_state(StaffAuthState)  # the same mechanism as /login
        auth.token = signed.token
        await auth.current_staff()
        return rx.redirect(routes.AGENT_QUEUE, replace=True)
