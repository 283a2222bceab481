"""Staff accounts on a real database: throttling, sliding sessions, removal, roles, passwords."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.config import staff_session_days
from handoff_app.db import open_session
from handoff_app.models import SignInAttempt, StaffSession, StaffTab, StaffUser, utcnow
from handoff_app.security import hash_token
from handoff_app.services import staff as staff_service
from handoff_app.services import staff_admin, staff_tabs
from handoff_app.services.errors import PermissionDenied, ServiceError
from handoff_app.services.sign_in_throttle import MAX_FAILURES, WINDOW, SignInThrottled
from handoff_app.services.staff import InvalidCredentials
from handoff_app.services.staff_admin import LastOwner
from tests.conftest import make_staff

PASSWORD = "correct horse battery"
BOTH = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


async def fail(session: AsyncSession, email: str, ip: str, now=None) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as refused:
        await staff_service.sign_in(
            session=session, email=email, password="wrong password!", ip=ip, now=now
        )
    return str(refused.value)


@BOTH
async def test_five_failures_for_one_email_refuse_even_the_right_password(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    now = utcnow()
    for n in range(MAX_FAILURES):  # from different addresses: the email is what counts
        assert await fail(session, agent.email, f"10.0.0.{n}", now) == "Wrong email or password."
    with pytest.raises(SignInThrottled) as refused:
        await staff_service.sign_in(
            session=session, email=agent.email, password=PASSWORD, ip="10.9.9.9", now=now
        )
    assert str(refused.value) == "Too many failed sign-ins. Try again in 15 minutes."
    # the refused attempt was not checked, and another email from that IP still works
    other = await make_staff(session)
    signed = await staff_service.sign_in(
        session=session, email=other.email, password=PASSWORD, ip="10.9.9.9", now=now
    )
    assert signed.staff.id == other.id


@BOTH
async def test_five_failures_from_one_ip_refuse_every_email_from_it(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    now = utcnow()
    for n in range(MAX_FAILURES):
        await fail(session, f"nobody{n}@example.test", "192.0.2.7", now + timedelta(minutes=n))
    with pytest.raises(SignInThrottled, match="Try again in 11 minutes"):
        await staff_service.sign_in(
            session=session,
            email=agent.email,
            password=PASSWORD,
            ip="192.0.2.7",
            now=now + timedelta(minutes=4, seconds=30),
        )
    # another address is not affected
    await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, ip="192.0.2.8", now=now
    )


async def test_the_window_expires_and_attempts_are_allowed_again(session: AsyncSession) -> None:
    agent = await make_staff(session)
    start = utcnow()
    for _ in range(MAX_FAILURES):
        await fail(session, agent.email, "198.51.100.1", start)
    later = start + WINDOW - timedelta(seconds=1)
    with pytest.raises(SignInThrottled, match="Try again in 1 minute\\."):
        await staff_service.sign_in(
            session=session, email=agent.email, password=PASSWORD, ip="198.51.100.1", now=later
        )
    signed = await staff_service.sign_in(
        session=session,
        email=agent.email,
        password=PASSWORD,
        ip="198.51.100.1",
        now=start + WINDOW + timedelta(seconds=1),
    )
    assert signed.staff.id == agent.id


async def test_a_success_resets_the_count_for_that_email(session: AsyncSession) -> None:
    agent = await make_staff(session)
    now = utcnow()
    for n in range(MAX_FAILURES - 1):
        await fail(session, agent.email, f"10.1.0.{n}", now)
    await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, ip="10.1.1.1", now=now
    )
    assert await fail(session, agent.email, "10.1.2.1", now) == "Wrong email or password."


async def test_every_attempt_is_recorded_and_logged_without_the_password(
    session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await make_staff(session)
    caplog.set_level(logging.INFO, logger="handoff_app.auth")
    await fail(session, agent.email.upper(), "203.0.113.5")
    await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, ip="203.0.113.5"
    )
    rows = (await session.exec(select(SignInAttempt).order_by(SignInAttempt.id))).all()  # type: ignore[arg-type]
    assert [(r.email, r.ip, r.succeeded) for r in rows] == [
        (agent.email, "203.0.113.5", False),
        (agent.email, "203.0.113.5", True),
    ]
    auth_logs = [r for r in caplog.records if r.name == "handoff_app.auth"]
    assert [r.getMessage() for r in auth_logs] == [
        f"sign-in email={agent.email} ip=203.0.113.5 outcome=failure",
        f"sign-in email={agent.email} ip=203.0.113.5 outcome=success",
    ]
    assert "wrong password" not in caplog.text and PASSWORD not in caplog.text


async def test_a_throttled_attempt_is_logged(
    session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(MAX_FAILURES):
        await fail(session, "x@example.test", "203.0.113.9")
    caplog.set_level(logging.INFO, logger="handoff_app.auth")
    await fail(session, "x@example.test", "203.0.113.9")
    assert "sign-in email=x@example.test ip=203.0.113.9 outcome=throttled" in caplog.text


async def _session_row(session: AsyncSession, token: str) -> StaffSession:
    live = await staff_service.get_live_session(session=session, token=token)
    assert live is not None
    row = await session.get(StaffSession, live.session_id)
    assert row is not None
    await session.refresh(row)
    return row


async def test_sliding_renewal_writes_at_most_once_an_hour(session: AsyncSession) -> None:
    agent = await make_staff(session)
    start = utcnow()
    signed = await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, now=start
    )
    days = timedelta(days=staff_session_days())
    live = await staff_service.get_live_session(session=session, token=signed.token, now=start)
    assert live is not None and live.expires_at == start + days
    # 59 minutes later: not due, nothing written
    soon = start + timedelta(minutes=59)
    assert not staff_service.renewal_due(live, soon)
    assert not await staff_service.renew_session(session=session, live=live, now=soon)
    # two hours later: pushed to now + days, once
    later = start + timedelta(hours=2)
    assert staff_service.renewal_due(live, later)
    assert await staff_service.renew_session(session=session, live=live, now=later)
    assert (await _session_row(session, signed.token)).expires_at == later + days
    assert not await staff_service.renew_session(session=session, live=live, now=later)
    # a session used every day never expires; one left alone does
    used_daily = later
    for _ in range(staff_session_days() + 3):
        used_daily += timedelta(days=1)
        live = await staff_service.get_live_session(
            session=session, token=signed.token, now=used_daily
        )
        assert live is not None
        await staff_service.renew_session(session=session, live=live, now=used_daily)
    gone = used_daily + days + timedelta(seconds=1)
    assert (
        await staff_service.get_live_session(session=session, token=signed.token, now=gone) is None
    )


@BOTH
async def test_an_actions_staff_check_in_its_transaction_renews_when_due(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    two_hours_ago = utcnow() - timedelta(hours=2)
    signed = await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, now=two_hours_ago
    )
    days = timedelta(days=staff_session_days())
    assert (await _session_row(session, signed.token)).expires_at == two_hours_ago + days
    before = utcnow()
    staff = await staff_service.staff_in_transaction(session=session, token=signed.token)
    assert staff is not None and staff.id == agent.id
    assert (await _session_row(session, signed.token)).expires_at >= before + days  # renewed
    for bad in ("", "not-a-token", "x" * 500, None):
        assert await staff_service.staff_in_transaction(session=session, token=bad) is None


@BOTH
async def test_concurrent_renewals_of_one_session_write_once(session: AsyncSession) -> None:
    agent = await make_staff(session)
    start = utcnow()
    signed = await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, now=start
    )
    later = start + timedelta(hours=3)

    async def renew() -> bool:
        async with open_session() as own:
            live = await staff_service.get_live_session(session=own, token=signed.token, now=later)
            assert live is not None
            return await staff_service.renew_session(session=own, live=live, now=later)

    assert sorted(await asyncio.gather(*(renew() for _ in range(8)))) == [False] * 7 + [True]


async def test_removed_staff_cannot_sign_in_and_their_tokens_stop_working(
    session: AsyncSession,
) -> None:
    owner = await make_staff(session, role="owner")
    agent = await make_staff(session)
    signed = await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    live = await staff_service.get_live_session(session=session, token=signed.token)
    assert live is not None
    await staff_tabs.register_tab(session=session, session_id=live.session_id, client_token="tab-1")
    await staff_tabs.register_tab(session=session, session_id=live.session_id, client_token="tab-2")

    ended = await staff_admin.remove_staff(session=session, actor=owner, staff_id=agent.id)

    assert sorted(ended.client_tokens) == ["tab-1", "tab-2"]
    assert await staff_service.get_staff_by_token(session=session, token=signed.token) is None
    assert (await session.exec(select(StaffTab))).all() == []
    with pytest.raises(InvalidCredentials, match="removed"):
        await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    rows = await staff_admin.list_staff(session=session, actor=owner)
    assert [r.id for r in rows] == [owner.id]


async def test_a_removed_persons_old_session_is_refused_even_if_not_deleted(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    signed = await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    user = await session.get(StaffUser, agent.id)
    assert user is not None
    user.removed_at = utcnow()  # e.g. removed by hand in the database
    await session.commit()
    assert await staff_service.get_staff_by_token(session=session, token=signed.token) is None


@BOTH
async def test_the_last_owner_cannot_be_removed_or_demoted(session: AsyncSession) -> None:
    owner = await make_staff(session, role="owner")
    with pytest.raises(LastOwner, match="last owner"):
        await staff_admin.remove_staff(session=session, actor=owner, staff_id=owner.id)
    with pytest.raises(LastOwner, match="needs an owner"):
        await staff_admin.change_role(session=session, actor=owner, staff_id=owner.id, role="agent")
    second = await make_staff(session, role="agent")
    await staff_admin.change_role(session=session, actor=owner, staff_id=second.id, role="owner")
    await staff_admin.change_role(session=session, actor=owner, staff_id=owner.id, role="agent")
    users = {u.id: u.role for u in (await session.exec(select(StaffUser))).all()}
    assert users == {owner.id: "agent", second.id: "owner"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    session: AsyncSession,
) -> None:
    first = await make_staff(session, role="owner")
    second = await make_staff(session, role="owner")

    async def demote(actor, target) -> str:  # type: ignore[no-untyped-def]
        async with open_session() as own:
            try:
                await staff_admin.change_role(
                    session=own, actor=actor, staff_id=target.id, role="agent"
                )
                return "ok"
            except LastOwner:
                return "refused"

    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(outcomes) == ["ok", "refused"]
    owners = (await session.exec(select(StaffUser).where(StaffUser.role == "owner"))).all()
    assert len(owners) == 1


async def test_agents_cannot_use_the_owner_services(session: AsyncSession) -> None:
    agent = await make_staff(session)
    other = await make_staff(session)
    for call in (
        staff_admin.list_staff(session=session, actor=agent),
        staff_admin.remove_staff(session=session, actor=agent, staff_id=other.id),
        staff_admin.change_role(session=session, actor=agent, staff_id=agent.id, role="owner"),
        staff_admin.reset_password(
            session=session, actor=agent, staff_id=other.id, password="x" * 12
        ),
        staff_admin.list_staff(session=session, actor=None),
    ):
        with pytest.raises(PermissionDenied):
            await call
    assert {u.role for u in (await session.exec(select(StaffUser))).all()} == {"agent"}


async def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    here = await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    there = await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    there_live = await staff_service.get_live_session(session=session, token=there.token)
    assert there_live is not None
    await staff_tabs.register_tab(
        session=session, session_id=there_live.session_id, client_token="other-tab"
    )
    with pytest.raises(InvalidCredentials, match="current password is wrong"):
        await staff_service.change_password(
            session=session, token=here.token, current_password="nope", new_password="n" * 12
        )
    with pytest.raises(ServiceError, match="at least 10"):
        await staff_service.change_password(
            session=session, token=here.token, current_password=PASSWORD, new_password="short"
        )
    ended = await staff_service.change_password(
        session=session, token=here.token, current_password=PASSWORD, new_password="brand new pass"
    )
    assert ended == ["other-tab"]
    assert await staff_service.get_staff_by_token(session=session, token=here.token) is not None
    assert await staff_service.get_staff_by_token(session=session, token=there.token) is None
    with pytest.raises(InvalidCredentials):
        await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    await staff_service.sign_in(session=session, email=agent.email, password="brand new pass")


async def test_the_owner_resets_an_agents_password_and_their_sessions_end(
    session: AsyncSession,
) -> None:
    owner = await make_staff(session, role="owner")
    agent = await make_staff(session)
    signed = await staff_service.sign_in(session=session, email=agent.email, password=PASSWORD)
    with pytest.raises(ServiceError, match="at least 10"):
        await staff_admin.reset_password(
            session=session, actor=owner, staff_id=agent.id, password="123"
        )
    await staff_admin.reset_password(
        session=session, actor=owner, staff_id=agent.id, password="owner chose this"
    )
    assert await staff_service.get_staff_by_token(session=session, token=signed.token) is None
    await staff_service.sign_in(session=session, email=agent.email, password="owner chose this")


async def test_signing_in_deletes_the_users_expired_sessions_and_their_tabs(
    session: AsyncSession,
) -> None:
    agent = await make_staff(session)
    start = utcnow()
    old = await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, now=start
    )
    live = await staff_service.get_live_session(session=session, token=old.token, now=start)
    assert live is not None
    await staff_tabs.register_tab(session=session, session_id=live.session_id, client_token="t1")
    later = start + timedelta(days=staff_session_days(), minutes=1)
    new = await staff_service.sign_in(
        session=session, email=agent.email, password=PASSWORD, now=later
    )
    hashes = (await session.exec(select(StaffSession.token_hash))).all()
    assert hashes == [hash_token(new.token)]  # the expired one is gone
    assert (await session.exec(select(StaffTab))).all() == []


async def test_staff_online_counts_people_with_a_recent_heartbeat(session: AsyncSession) -> None:
    now = utcnow()
    ana = await make_staff(session, name="Ana")
    ben = await make_staff(session, name="Ben")
    tokens = {}
    for who in (ana, ben):
        signed = await staff_service.sign_in(
            session=session, email=who.email, password="correct horse battery", ip="127.0.0.1"
        )
        tokens[who.id] = signed.token
    rows = (await session.exec(select(StaffSession).order_by(col(StaffSession.id)))).all()
    for index, row in enumerate(rows):
        assert row.id is not None
        await staff_tabs.register_tab(
            session=session, session_id=row.id, client_token=f"tab-{index}"
        )
    assert await staff_tabs.count_staff_online(session=session) == 2
    # Ben's page went quiet two minutes ago; Ana's keeps beating
    await staff_tabs.touch_tab(
        session=session, client_token="tab-1", now=now - timedelta(minutes=2)
    )
    await staff_tabs.touch_tab(session=session, client_token="tab-0", now=now)
    assert await staff_tabs.count_staff_online(session=session) == 1
