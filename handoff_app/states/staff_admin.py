"""The owner's `/staff` page: staff list, roles, removal, password resets and invites.

Every handler re-checks on the server that the caller is a signed-in owner (any websocket
client can call any handler with any arguments); the services check the role again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from handoff_app import routes
from handoff_app.db import open_read_session, open_session
from handoff_app.models import StaffPublic
from handoff_app.notifications.email import smtp_config
from handoff_app.realtime import leave_rooms, schedule_sign_out
from handoff_app.services import invite_delivery, invites, staff_admin
from handoff_app.services.errors import ServiceError
from handoff_app.services.invites import InviteRow, IssuedInvite
from handoff_app.services.staff_admin import StaffRow
from handoff_app.services.workspace import get_workspace_settings
from handoff_app.states.staff_auth import refuse_page, require_staff


def _form(form: object) -> dict[str, Any]:
    return form if isinstance(form, dict) else {}


def _as_id(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return 0


INVITE_NAME_ID = "staff-invite-name"
INVITE_EMAIL_ID = "staff-invite-email"


class StaffPageState(rx.State):
    staff: list[StaffRow] = []
    invites: list[InviteRow] = []
    notice: str = ""
    error: str = ""
    invite_error: str = ""
    email_configured: bool = False
    remove_target_id: int = 0
    remove_target_label: str = ""
    reset_target_id: int = 0
    reset_target_label: str = ""
    # raw invite links this tab has seen (the database only keeps their hashes)
    _links: dict[int, str] = {}

    async def _owner(self) -> StaffPublic | None:
        staff = await require_staff(self)
        return staff if staff is not None and staff.role == "owner" else None

    async def _refuse(self):  # type: ignore[no-untyped-def]
        self.staff, self.invites = [], []
        self._links = {}
        if await require_staff(self) is None:
            return await refuse_page(self)
        return rx.redirect(routes.AGENT_QUEUE, replace=True)  # an agent: not their page

    async def _refresh(self, me: StaffPublic) -> None:
        async with open_read_session() as session:
            self.staff = await staff_admin.list_staff(session=session, actor=me)
            rows = await invites.list_pending_invites(session=session, actor=me)
            self.email_configured = (
                smtp_config(await get_workspace_settings(session=session)) is not None
            )
        pending = {row.id for row in rows}
        self._links = {k: v for k, v in self._links.items() if k in pending}
        self.invites = [
            row.model_copy(update={"link": self._links.get(row.id, "")}) for row in rows
        ]

    async def _run(self, action: Callable[[StaffPublic], Awaitable[str]]):  # type: ignore[no-untyped-def]
        """Check the caller is an owner, run one action, show its result, refresh the page."""
        me = await self._owner()
        if me is None:
            return await self._refuse()
        self.error = ""
        self.notice = ""
        try:
            self.notice = await action(me)
        except ServiceError as exc:
            self.error = str(exc)
        await self._refresh(me)
        return None

    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        me = await self._owner()
        if me is None:
            return await self._refuse()
        await leave_rooms(self)  # this page shows no live room
        self.notice = self.error = self.invite_error = ""
        self.remove_target_id = self.reset_target_id = 0
        await self._refresh(me)
        return None

    async def _deliver(self, me: StaffPublic, issued: IssuedInvite) -> str:
        link = invite_delivery.invite_link(
            invite_delivery.public_base_url(self.router.headers.origin), issued.token
        )
        self._links = {**self._links, issued.invite_id: link}
        async with open_session() as session:
            delivery = await invite_delivery.deliver_invite(
                session=session, issued=issued, link=link, inviter=me.label
            )
        if delivery.emailed:
            return f"Invite emailed to {issued.email}."
        if not delivery.configured:
            return f"Email is not set up: copy the link below and send it to {issued.email}."
        return f"The email to {issued.email} failed: copy the link below and send it by hand."

    @rx.event
    async def invite(self, form: dict):  # type: ignore[no-untyped-def]
        fields = _form(form)

        async def act(me: StaffPublic) -> str:
            async with open_session() as session:
                issued = await invites.create_invite(
                    session=session,
                    actor=me,
                    email=fields.get("email"),
                    display_name=fields.get("display_name"),
                    role=fields.get("role") or "agent",
                )
            return await self._deliver(me, issued)

        result = await self._run(act)
        self.invite_error, self.error = self.error, ""
        if result is not None or self.invite_error:
            return result  # refused: keep what was typed, to correct it
        return [rx.set_value(INVITE_NAME_ID, ""), rx.set_value(INVITE_EMAIL_ID, "")]

    @rx.event
    async def new_link(self, invite_id: int):  # type: ignore[no-untyped-def]
        async def act(me: StaffPublic) -> str:
            async with open_session() as session:
                issued = await invites.rotate_invite_token(
                    session=session, actor=me, invite_id=_as_id(invite_id)
                )
            self._links = {
                **self._links,
                issued.invite_id: invite_delivery.invite_link(
                    invite_delivery.public_base_url(self.router.headers.origin), issued.token
                ),
            }
            return f"New link for {issued.email}. Earlier links to this invite no longer work."

        return await self._run(act)

    @rx.event
    async def resend(self, invite_id: int):  # type: ignore[no-untyped-def]
        async def act(me: StaffPublic) -> str:
            async with open_session() as session:
                issued = await invites.rotate_invite_token(
                    session=session, actor=me, invite_id=_as_id(invite_id)
                )
            return await self._deliver(me, issued) + " Earlier links no longer work."

        return await self._run(act)

    @rx.event
    async def revoke(self, invite_id: int):  # type: ignore[no-untyped-def]
        async def act(me: StaffPublic) -> str:
            async with open_session() as session:
                await invites.revoke_invite(session=session, actor=me, invite_id=_as_id(invite_id))
            return "Invite revoked: its link no longer works."

        return await self._run(act)

    @rx.event
    async def set_role(self, staff_id: int, role: str):  # type: ignore[no-untyped-def]
        async def act(me: StaffPublic) -> str:
            async with open_session() as session:
                await staff_admin.change_role(
                    session=session, actor=me, staff_id=_as_id(staff_id), role=role
                )
            return "Role changed."

        return await self._run(act)

    def _label(self, staff_id: int) -> str:
        row = next((r for r in self.staff if r.id == staff_id), None)
        return (row.display_name or row.email) if row else ""

    @rx.event
    async def ask_remove(self, staff_id: int):  # type: ignore[no-untyped-def]
        if await self._owner() is None:
            return await self._refuse()
        self.reset_target_id = 0
        self.remove_target_id = _as_id(staff_id)
        self.remove_target_label = self._label(self.remove_target_id)
        return None

    @rx.event
    async def ask_reset(self, staff_id: int):  # type: ignore[no-untyped-def]
        if await self._owner() is None:
            return await self._refuse()
        self.remove_target_id = 0
        self.reset_target_id = _as_id(staff_id)
        self.reset_target_label = self._label(self.reset_target_id)
        return None

    @rx.event
    def cancel(self) -> None:
        self.remove_target_id = self.reset_target_id = 0

    @rx.event
    async def remove_staff(self, staff_id: int):  # type: ignore[no-untyped-def]
        async def act(me: StaffPublic) -> str:
            label = self._label(_as_id(staff_id))
            async with open_session() as session:
                ended = await staff_admin.remove_staff(
                    session=session, actor=me, staff_id=_as_id(staff_id)
                )
            schedule_sign_out(ended.client_tokens)
            self.remove_target_id = 0
            return f"{label} was removed and signed out everywhere."

        return await self._run(act)

    @rx.event
    async def reset_password(self, form: dict):  # type: ignore[no-untyped-def]
        fields = _form(form)

        async def act(me: StaffPublic) -> str:
            target = _as_id(fields.get("staff_id"))
            label = self._label(target)
            async with open_session() as session:
                ended = await staff_admin.reset_password(
                    session=session, actor=me, staff_id=target, password=fields.get("password")
                )
            schedule_sign_out(ended.client_tokens)
            self.reset_target_id = 0
            return f"New password set for {label}; they were signed out everywhere."

        return await self._run(act)
