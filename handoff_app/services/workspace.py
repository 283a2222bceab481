"""The one-row workspace settings."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import WorkspaceSettings

SETTINGS_ID = 1


async def get_workspace_settings(*, session: AsyncSession) -> WorkspaceSettings:
    """The settings row; the defaults (not saved) while it does not exist yet.

    Never writes: it runs inside other use cases' transactions.
    """
    settings = await session.get(WorkspaceSettings, SETTINGS_ID)
    return settings if settings is not None else WorkspaceSettings(id=SETTINGS_ID)


async def ensure_workspace_settings(*, session: AsyncSession) -> None:
    """Create the settings row with its defaults if it is missing (`migrate` calls this)."""
    if await session.get(WorkspaceSettings, SETTINGS_ID) is not None:
        return
    session.add(WorkspaceSettings(id=SETTINGS_ID))
    try:
        await session.commit()
    except IntegrityError:  # another process created it first
        await session.rollback()
