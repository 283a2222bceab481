"""Invites on a real database, delivered through a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import public_url
from handoff_app.db import open_session
from handoff_app.models import StaffInvite, StaffUser, WorkspaceSettings, utcnow
from handoff_app.services import invite_delivery, invites, staff_admin
from handoff_app.services import staff as staff_service
from handoff_app.services.errors import PermissionDenied, ServiceError
from handoff_app.services.invites import InviteStatus, InviteUnusable
from handoff_app.services.workspace import SETTINGS_ID
from tests.conftest import make_staff, random_email
from tests.support.server import free_port
from tests.support.smtp import body_of, invite_link_in, smtp_server

NEW_PASSWORD = "a fine new password"


@pytest.fixture(autouse=True)
def no_smtp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "USER", "PASSWORD", "SECURITY", "FROM"):
        monkeypatch.delenv(f"HANDOFF_SMTP_{name}", raising=False)
    monkeypatch.delenv("HANDOFF_PUBLIC_URL", raising=False)


async def use_smtp(session: AsyncSession, port: int) -> None:
    settings = await session.get(WorkspaceSettings, SETTINGS_ID)
    assert settings is not None
    settings.smtp_host, settings.smtp_port, settings.smtp_security = "127.0.0.1", port, "none"
    settings.smtp_from = "support@example.test"
    await session.commit()


async def invite(session: AsyncSession, owner, email: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return await invites.create_invite(
        session=session,
        actor=owner,
        email=email or random_email(),
        display_name=kw.pop("name", "Nina"),
        **kw,
    )


async def test_the_invite_email_arrives_and_its_link_creates_the_agent(
    session: AsyncSession,
) -> None:
    owner = await make_staff(session, role="owner", name="Olivia")
    with smtp_server() as (inbox, port):
        await use_smtp(session, port)
        issued = await invite(session, owner, "nina@example.test")
        link = invite_delivery.invite_link("http://support.example.test", issued.token)
        delivery = await invite_delivery.deliver_invite(
            session=session, issued=issued, link=link, inviter="Olivia"
        )
        assert delivery.emailed and delivery.error == ""
        message = await asyncio.to_thread(inbox.wait_for_message, "nina@example.test")
    assert message["From"] == "support@example.test"
    assert "Olivia invited you" in body_of(message)
    emailed_link = invite_link_in(message)
    assert emailed_link == link
    token = emailed_link.rsplit("/", 1)[1]

    found = await invites.look_up_invite(session=session, token=token)
    assert (found.status, found.email, found.role) == (
        InviteStatus.VALID,
        "nina@example.test",
        "agent",
    )
    signed = await invites.accept_invite(
        session=session, token=token, display_name="Nina R", password=NEW_PASSWORD
    )
    assert (signed.staff.email, signed.staff.display_name, signed.staff.role) == (
        "nina@example.test",
        "Nina R",
        "agent",
    )
    assert await staff_service.get_staff_by_token(session=session, token=signed.token) is not None
    await staff_service.sign_in(session=session, email="nina@example.test", password=NEW_PASSWORD)
    row = await session.get(StaffInvite, issued.invite_id)
    assert row is not None and row.sent_at is not None and row.accepted_at is not None
    assert row.token_hash != token  # stored hashed
    assert await invites.list_pending_invites(session=session, actor=owner) == []


async def test_a_used_link_is_refused(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    issued = await invite(session, owner)
    await invites.accept_invite(
        session=session, token=issued.token, display_name="", password=NEW_PASSWORD
    )
    with pytest.raises(InviteUnusable) as refused:
        await invites.accept_invite(
            session=session, token=issued.token, display_name="", password=NEW_PASSWORD
        )
    assert refused.value.status is InviteStatus.USED
    assert "already been used" in str(refused.value)
    assert (await invites.look_up_invite(session=session, token=issued.token)).status == "used"


async def test_an_expired_link_is_refused(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    start = utcnow()
    issued = await invite(session, owner, now=start)
    late = start + timedelta(days=7, seconds=1)
    assert (await invites.look_up_invite(session=session, token=issued.token, now=late)).status == (
        InviteStatus.EXPIRED
    )
    with pytest.raises(InviteUnusable, match=r"expired\. Ask the owner for a new invite"):
        await invites.accept_invite(
            session=session, token=issued.token, display_name="", password=NEW_PASSWORD, now=late
        )
    # a day before, it worked
    assert (
        await invites.look_up_invite(
            session=session, token=issued.token, now=late - timedelta(days=1)
        )
    ).status == InviteStatus.VALID


async def test_a_revoked_link_and_a_replaced_link_are_refused(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    first = await invite(session, owner)
    rotated = await invites.rotate_invite_token(
        session=session, actor=owner, invite_id=first.invite_id
    )
    assert (await invites.look_up_invite(session=session, token=first.token)).status == "unknown"
    await invites.revoke_invite(session=session, actor=owner, invite_id=first.invite_id)
    with pytest.raises(InviteUnusable, match="withdrawn"):
        await invites.accept_invite(
            session=session, token=rotated.token, display_name="", password=NEW_PASSWORD
        )
    assert (await session.exec(select(StaffUser))).all() == [await session.get(StaffUser, owner.id)]


async def test_short_passwords_and_existing_accounts_are_refused(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    agent = await make_staff(session)
    with pytest.raises(ServiceError, match="already exists"):
        await invite(session, owner, agent.email)
    issued = await invite(session, owner)
    with pytest.raises(ServiceError, match="at least 10"):
        await invites.accept_invite(
            session=session, token=issued.token, display_name="", password="short"
        )
    with pytest.raises(ServiceError, match="pending invite"):
        await invite(session, owner, issued.email)
    # the refused attempt did not use the invite up
    assert (await invites.look_up_invite(session=session, token=issued.token)).status == "valid"


async def test_an_invite_for_a_removed_account_reactivates_it(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    agent = await make_staff(session, name="Old name")
    await staff_admin.remove_staff(session=session, actor=owner, staff_id=agent.id)
    issued = await invite(session, owner, agent.email, name="Back again")
    signed = await invites.accept_invite(
        session=session, token=issued.token, display_name="", password=NEW_PASSWORD
    )
    assert signed.staff.id == agent.id and signed.staff.display_name == "Back again"
    await staff_service.sign_in(session=session, email=agent.email, password=NEW_PASSWORD)


async def test_an_invite_for_an_account_made_meanwhile_is_refused(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    issued = await invite(session, owner)
    await staff_service.create_staff(session=session, email=issued.email, password=NEW_PASSWORD)
    with pytest.raises(ServiceError, match="already exists: sign in instead"):
        await invites.accept_invite(
            session=session, token=issued.token, display_name="", password="another password"
        )


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_two_simultaneous_accepts_make_one_account(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    issued = await invite(session, owner)

    async def accept() -> str:
        async with open_session() as own:
            try:
                await invites.accept_invite(
                    session=own, token=issued.token, display_name="", password=NEW_PASSWORD
                )
                return "ok"
            except (InviteUnusable, ServiceError):
                return "refused"

    assert sorted(await asyncio.gather(*(accept() for _ in range(5)))) == ["ok"] + ["refused"] * 4
    rows = (await session.exec(select(StaffUser).where(StaffUser.email == issued.email))).all()
    assert len(rows) == 1


async def test_without_smtp_the_link_is_logged_for_the_owner(
    session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await make_staff(session, role="owner")
    issued = await invite(session, owner)
    caplog.set_level(logging.INFO, logger="handoff_app.invites")
    link = invite_delivery.invite_link("http://localhost:3000", issued.token)
    delivery = await invite_delivery.deliver_invite(
        session=session, issued=issued, link=link, inviter="O"
    )
    assert not delivery.configured and not delivery.emailed
    assert link in caplog.text


async def test_a_delivery_failure_is_stored_and_the_invite_still_works(
    session: AsyncSession,
) -> None:
    owner = await make_staff(session, role="owner")
    await use_smtp(session, free_port())  # nothing listens there
    issued = await invite(session, owner)
    delivery = await invite_delivery.deliver_invite(
        session=session, issued=issued, link="http://x/invite/" + issued.token, inviter="O"
    )
    assert delivery.configured and not delivery.emailed and "failed via 127.0.0.1" in delivery.error
    [row] = await invites.list_pending_invites(session=session, actor=owner)
    assert row.delivery_error == delivery.error and row.sent_at == ""
    assert (await invites.look_up_invite(session=session, token=issued.token)).status == "valid"


async def test_smtp_falls_back_to_the_environment(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await make_staff(session, role="owner")
    with smtp_server() as (inbox, port):
        monkeypatch.setenv("HANDOFF_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("HANDOFF_SMTP_PORT", str(port))
        monkeypatch.setenv("HANDOFF_SMTP_SECURITY", "none")
        monkeypatch.setenv("HANDOFF_SMTP_FROM", "env@example.test")
        monkeypatch.setenv("HANDOFF_PUBLIC_URL", "https://help.example.test/")
        issued = await invite(session, owner, "envy@example.test")
        link = invite_delivery.invite_link(public_url("http://ignored"), issued.token)
        assert link.startswith("https://help.example.test/invite/")
        assert (
            await invite_delivery.deliver_invite(
                session=session, issued=issued, link=link, inviter="O"
            )
        ).emailed
        message = await asyncio.to_thread(inbox.wait_for_message, "envy@example.test")
    assert message["From"] == "env@example.test" and invite_link_in(message) == link


async def test_only_the_owner_manages_invites(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    agent = await make_staff(session)
    issued = await invite(session, owner)
    for call in (
        invites.create_invite(session=session, actor=agent, email=random_email(), display_name="X"),
        invites.list_pending_invites(session=session, actor=agent),
        invites.rotate_invite_token(session=session, actor=agent, invite_id=issued.invite_id),
        invites.revoke_invite(session=session, actor=None, invite_id=issued.invite_id),
    ):
        with pytest.raises(PermissionDenied):
            await call
    assert (await invites.look_up_invite(session=session, token=issued.token)).status == "valid"
