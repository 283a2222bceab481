"""The one-row workspace settings."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.models import WorkspaceSettings

SETTINGS_ID = 1


async def get_workspace_settings(*, session: AsyncSession) -> WorkspaceSettings:
    """Return the settings row, creating it with defaults on first use."""
    settings = await session.get(WorkspaceSettings, SETTINGS_ID)
    if settings is not None:
        return settings
    settings = WorkspaceSettings(id=SETTINGS_ID)
    session.add(settings)
    try:
        await session.commit()
    except IntegrityError:  # another worker created it first
        await session.rollback()
        found = await session.get(WorkspaceSettings, SETTINGS_ID)
        assert found is not None
        return found
    return settings
