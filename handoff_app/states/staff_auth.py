"""Staff identity: a session token in browser storage, checked on the server by every handler."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.db import open_session
from handoff_app.models import StaffPublic
from handoff_app.services import staff as staff_service
from handoff_app.services.errors import ServiceError


class StaffAuthState(rx.State):
    token: str = rx.LocalStorage("", name="handoff_staff_token")
    staff_label: str = ""
    staff_role: str = ""

    async def current_staff(self) -> StaffPublic | None:
        """The signed-in staff member, re-checked against the database (sessions can end)."""
        async with open_session() as session:
            staff = await staff_service.get_staff_by_token(session=session, token=self.token)
        self.staff_label = staff.label if staff else ""
        self.staff_role = staff.role if staff else ""
        return staff

    @rx.event
    async def sign_out(self):  # type: ignore[no-untyped-def]
        async with open_session() as session:
            await staff_service.sign_out(session=session, token=self.token)
        self.token = ""
        self.staff_label = ""
        self.staff_role = ""
        return rx.redirect(routes.LOGIN, replace=True)


class LoginState(rx.State):
    email: str = ""
    password: str = ""
    display_name: str = ""
    error: str = ""
    needs_owner: bool = False

    @rx.event
    def set_email(self, value: str) -> None:
        self.email = value if isinstance(value, str) else ""

    @rx.event
    def set_password(self, value: str) -> None:
        self.password = value if isinstance(value, str) else ""

    @rx.event
    def set_display_name(self, value: str) -> None:
        self.display_name = value if isinstance(value, str) else ""

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        self.error = ""
        auth = await self.get_state(StaffAuthState)
        if await auth.current_staff() is not None:
            return rx.redirect(routes.AGENT_QUEUE, replace=True)
        async with open_session() as session:
            self.needs_owner = await staff_service.count_staff(session=session) == 0

    @rx.event
    async def sign_in(self):  # type: ignore[no-untyped-def]
        try:
            async with open_session() as session:
                signed = await staff_service.sign_in(
                    session=session, email=self.email, password=self.password
                )
        except ServiceError as exc:
            self.error = str(exc)
            return
        return await self._enter(signed.token)

    @rx.event
    async def create_owner(self):  # type: ignore[no-untyped-def]
        """First run only: the service refuses once any staff account exists."""
        try:
            async with open_session() as session:
                await staff_service.create_first_owner(
                    session=session,
                    email=self.email,
                    password=self.password,
                    display_name=self.display_name,
                )
                signed = await staff_service.sign_in(
                    session=session, email=self.email, password=self.password
                )
        except ServiceError as exc:
            self.error = str(exc)
            return
        return await self._enter(signed.token)

    async def _enter(self, token: str):  # type: ignore[no-untyped-def]
        auth = await self.get_state(StaffAuthState)
        auth.token = token
        await auth.current_staff()
        self.password = ""
        self.error = ""
        self.needs_owner = False
        return rx.redirect(routes.AGENT_QUEUE, replace=True)


async def require_staff(state: rx.State) -> StaffPublic | None:
    """Every staff handler starts here: None means refuse (and change nothing)."""
    auth = await state.get_state(StaffAuthState)
    return await auth.current_staff()
