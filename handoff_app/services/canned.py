"""Canned responses: short named replies any staff member manages and inserts."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.canned import clean_canned_body, clean_canned_name
from handoff_app.models import CannedPublic, CannedResponse, StaffPublic, utcnow
from handoff_app.services.errors import NotFound, ServiceError


class DuplicateName(ServiceError):
    pass


def to_public(row: CannedResponse) -> CannedPublic:
    assert row.id is not None
    return CannedPublic(id=row.id, name=row.name, body=row.body)


async def list_canned(*, session: AsyncSession) -> list[CannedPublic]:
    """Every canned response, by name."""
    rows = await session.exec(select(CannedResponse).order_by(col(CannedResponse.name)))
    return [to_public(r) for r in rows.all()]


async def save_canned(
    *,
    session: AsyncSession,
    staff: StaffPublic,
    name: object,
    body: object,
    canned_id: int | None = None,
) -> CannedPublic:
    """Create a canned response, or replace the name and text of `canned_id`."""
    clean_name, clean_body = clean_canned_name(name), clean_canned_body(body)
    if canned_id is None:
        row = CannedResponse(name=clean_name, body=clean_body, created_by_id=staff.id)
    else:
        found = await session.get(CannedResponse, canned_id)
        if found is None:
            raise NotFound("This canned response no longer exists.")
        row = found
        row.name, row.body, row.updated_at = clean_name, clean_body, utcnow()
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise DuplicateName(f'A canned response named "/{clean_name}" already exists.') from None
    return to_public(row)


async def delete_canned(*, session: AsyncSession, canned_id: object) -> None:
    if not isinstance(canned_id, int) or isinstance(canned_id, bool):
        raise NotFound("This canned response no longer exists.")
    row = await session.get(CannedResponse, canned_id)
    if row is not None:
        await session.delete(row)
        await session.commit()
