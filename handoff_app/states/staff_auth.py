"""Staff identity: a session token in browser storage, checked on the server by every handler."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.db import open_read_session, open_session
from handoff_app.models import StaffPublic
from handoff_app.realtime import leave_rooms, show_staff_badge
from handoff_app.security import hash_token
from handoff_app.services import staff as staff_service
from handoff_app.services import staff_tabs
from handoff_app.services.errors import ServiceError


class StaffAuthState(rx.State):
    token: str = rx.LocalStorage("", name="handoff_staff_token")
    staff_id: int = 0
    staff_label: str = ""
    staff_role: str = ""
    # set out of band when the owner removes this member or resets their password: the staff
    # nav then sends the tab to /login (see realtime.sign_out_tabs)
    session_ended: bool = False
    _registered_tab: str = ""  # which session and tab were last recorded in staff_tab

    async def current_staff(self) -> StaffPublic | None:
        """The signed-in staff member, re-checked against the database (sessions can end)."""
        live = await live_session_for_token(self.token)
        staff = live.staff if live else None
        self.staff_id = staff.id if staff else 0
        self.staff_label = staff.label if staff else ""
        self.staff_role = staff.role if staff else ""
        if live is not None:
            self.session_ended = False
            await self._register_tab(live.session_id)
        return staff

    async def _register_tab(self, session_id: int) -> None:
        """Record once per tab and session which tab uses it, so ending it signs the tab out."""
        client = self.router.session.client_token
        # keyed by the token too: SQLite may give a new session the id of a deleted one
        key = f"{session_id}:{hash_token(self.token)}:{client}"
        if not client or self._registered_tab == key:
            return
        async with open_session() as session:
            await staff_tabs.register_tab(
                session=session, session_id=session_id, client_token=client
            )
        self._registered_tab = key

    staff_online: int = 0  # staff with an open page now (refreshed by each heartbeat)

    @rx.event
    async def heartbeat(self, _tick: str = "") -> None:
        """Every open staff page calls this every 30 s: it keeps the tab counted as online and
        refreshes the count. Anything else (no session) is ignored."""
        client = self.router.session.client_token
        if not self.staff_id or not client:
            return
        async with open_session() as session:
            await staff_tabs.touch_tab(session=session, client_token=client)
            self.staff_online = await staff_tabs.count_staff_online(session=session)
        await show_staff_badge(self)  # every staff page's navigation shows the live count

    @rx.event
    async def sign_out(self):  # type: ignore[no-untyped-def]
        """End the session on the server and stop this tab receiving anything."""
        async with open_session() as session:
            await staff_service.sign_out(session=session, token=self.token)
        self.token = ""
        self.staff_id = 0
        self.staff_label = ""
        self.staff_role = ""
        await leave_rooms(self)
        return rx.redirect(routes.LOGIN, replace=True)


async def live_session_for_token(token: str) -> staff_service.LiveSession | None:
    """The live session behind a browser token; renews its sliding expiry when due (a write
    at most once an hour per session, so the usual check is one read)."""
    async with open_read_session() as session:
        live = await staff_service.get_live_session(session=session, token=token)
    if live is not None and staff_service.renewal_due(live):
        async with open_session() as session:
            await staff_service.renew_session(session=session, live=live)
    return live


async def staff_for_token(token: str) -> StaffPublic | None:
    """The live staff member behind a browser token (for background handlers, which read the
    token inside `async with self` and check it outside the lock)."""
    live = await live_session_for_token(token)
    return live.staff if live else None


async def require_staff(state: rx.State) -> StaffPublic | None:
    """Every staff handler starts here: None means refuse (and change nothing)."""
    auth = await state.get_state(StaffAuthState)
    return await auth.current_staff()


async def require_owner(state: rx.State) -> StaffPublic | None:
    """Owner-only handlers start here: None (anonymous, agent, or a session that ended) means
    refuse and change nothing."""
    staff = await require_staff(state)
    return staff if staff is not None and staff.role == "owner" else None


async def refuse_page(state: rx.State):  # type: ignore[no-untyped-def]
    """For a staff page opened without a live session: leave every room, go to /login."""
    await leave_rooms(state)
    return rx.redirect(routes.LOGIN, replace=True)


class LoginState(rx.State):
    """The sign-in form. Passwords arrive with the submitted form and are never kept in state."""

    error: str = ""
    needs_owner: bool = False

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        self.error = ""
        if await require_staff(self) is not None:
            return rx.redirect(routes.AGENT_QUEUE, replace=True)
        async with open_read_session() as session:
            self.needs_owner = await staff_service.count_staff(session=session) == 0

    @rx.event
    async def submit(self, form: dict):  # type: ignore[no-untyped-def]
        """The form's submit: on first run create the owner (the service refuses once any
        staff account exists), otherwise sign in."""
        fields = form if isinstance(form, dict) else {}
        email, password = fields.get("email"), fields.get("password")
        name = fields.get("display_name")
        try:
            async with open_session() as session:
                if self.needs_owner:
                    await staff_service.create_first_owner(
                        session=session,
                        email=email,
                        password=password,
                        display_name=name if isinstance(name, str) else "",
                    )
                signed = await staff_service.sign_in(
                    session=session,
                    email=email,
                    password=password,
                    ip=self.router.session.client_ip,
                )
        except ServiceError as exc:
            self.error = str(exc)
            return None
        return await self._enter(signed.token)

    async def _enter(self, token: str):  # type: ignore[no-untyped-def]
        auth = await self.get_state(StaffAuthState)
        auth.token = token
        await auth.current_staff()
        self.error = ""
        self.needs_owner = False
        return rx.redirect(routes.AGENT_QUEUE, replace=True)
