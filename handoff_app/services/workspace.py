"""The one-row workspace settings."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.lifecycle import TriggerType
from handoff_app.domain.triggers import trigger_allowed
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


def escalation_allowed(settings: WorkspaceSettings, trigger: TriggerType) -> bool:
    return trigger_allowed(
        live_support_enabled=settings.live_support_enabled,
        trigger_mode=settings.trigger_mode,
        trigger=trigger,
    )


def talk_button_shown(settings: WorkspaceSettings) -> bool:
    """The visitor's "Talk to a human" button: hidden while live support is off and in `auto`."""
    return escalation_allowed(settings, TriggerType.BUTTON)


async def set_live_support(*, session: AsyncSession, enabled: bool) -> None:
    """Switch live support on or off (the CLI's `live-support on|off`; the settings page)."""
    await ensure_workspace_settings(session=session)
    settings = await session.get(WorkspaceSettings, SETTINGS_ID)
    assert settings is not None
    settings.live_support_enabled = enabled
    await session.commit()
