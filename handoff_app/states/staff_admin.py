"""The owner's `/staff` page: staff list, roles, removal, password resets and invites.

Every handler re-checks on the server that the caller is a signed-in owner (any websocket
client can call any handler with any arguments); the services check the role again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from handoff_app import routes
from handoff_app.config import public_url
from handoff_app.db import open_read_session, open_session
from handoff_app.models import StaffPublic
from handoff_app.notifications.email import smtp_config
from handoff_app.realtime import leave_rooms, schedule_sign_out
from handoff_app.services import invite_delivery, invites, staff_admin
from handoff_app.services.errors import ServiceError
from handoff_app.services.invites import InviteRow, IssuedInvite
from handoff_app.services.staff_admin import StaffRow
from handoff_app.services.workspace import get_workspace_settings
from handoff_app.states.staff_auth import (
    StaffAuthState,
    refuse_page,
    require_staff,
    staff_for_token,
)


def _form(form: object) -> dict[str, Any]:
    return form if isinstance(form, dict) else {}


def _as_id(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return 0


@dataclasses.dataclass
class _Rows:
    staff: list[StaffRow]
    invites: list[InviteRow]
    email_configured: bool


async def _read_rows(me: StaffPublic) -> _Rows:
    async with open_read_session() as session:
        return _Rows(
            staff=await staff_admin.list_staff(session=session, actor=me),
            invites=await invites.list_pending_invites(session=session, actor=me),
            email_configured=smtp_config(await get_workspace_settings(session=session)) is not None,
        )


def _delivery_notice(
    issued: IssuedInvite, delivery: invite_delivery.Delivery, *, resent: bool
) -> str:
    if delivery.emailed:
        text = f"Invite emailed to {issued.email}."
    elif not delivery.configured:
        text = f"Email is not set up: copy the link below and send it to {issued.email}."
    else:
        text = f"The email to {issued.email} failed: copy the link below and send it by hand."
    return text + (" Earlier links no longer work." if resent else "")


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
    sending: bool = False
    # raw invite links this tab has seen (the database only keeps their hashes)
    _links: dict[int, str] = {}
    # invites created or resent by this tab, waiting to be emailed by `deliver_outbox`
    _outbox: list[dict[str, Any]] = []

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
        self._show_rows(await _read_rows(me))

    def _show_rows(self, rows: _Rows) -> None:
        self.staff, self.email_configured = rows.staff, rows.email_configured
        pending = {row.id for row in rows.invites}
        self._links = {k: v for k, v in self._links.items() if k in pending}
        self.invites = [
            row.model_copy(update={"link": self._links.get(row.id, "")}) for row in rows.invites
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

    def _queue_delivery(self, issued: IssuedInvite, *, resent: bool = False) -> str:
        """Keep the raw link for this tab and queue the email for `deliver_outbox`."""
        link = invite_delivery.invite_link(public_url(self.router.headers.origin), issued.token)
        self._links = {**self._links, issued.invite_id: link}
        self._outbox = [
            *self._outbox,
            {"issued": dataclasses.asdict(issued), "link": link, "resent": resent},
        ]
        self.sending = True
        return f"Sending the invite to {issued.email}…"

    @rx.event(background=True)
    async def deliver_outbox(self):  # type: ignore[no-untyped-def]
        """Email the queued invites outside the tab's lock (SMTP can take seconds). Takes no
        arguments: it only sends what this tab's owner-checked handlers queued."""
        async with self:
            token = (await self.get_state(StaffAuthState)).token
            outbox, self._outbox = self._outbox, []
        if not outbox:
            return
        me = await staff_for_token(token)
        if me is None or me.role != "owner":
            async with self:
                self.sending = False
            return
        notices = []
        for item in outbox:
            issued = IssuedInvite(**item["issued"])
            async with open_session() as session:
                delivery = await invite_delivery.deliver_invite(
                    session=session, issued=issued, link=item["link"], inviter=me.label
                )
            notices.append(_delivery_notice(issued, delivery, resent=item["resent"]))
        rows = await _read_rows(me)
        async with self:
            self.sending = False
            self.notice = " ".join(notices)
            self._show_rows(rows)

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
            return self._queue_delivery(issued)

        result = await self._run(act)
        self.invite_error, self.error = self.error, ""
        if result is not None or self.invite_error:
            return result  # refused: keep what was typed, to correct it
        return [
            rx.set_value(INVITE_NAME_ID, ""),
            rx.set_value(INVITE_EMAIL_ID, ""),
            StaffPageState.deliver_outbox,
        ]

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
                    public_url(self.router.headers.origin), issued.token
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
            return self._queue_delivery(issued, resent=True)

        return await self._run(act) or (StaffPageState.deliver_outbox if self._outbox else None)

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
