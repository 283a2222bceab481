"""The one-row workspace settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handoff_app.domain.lifecycle import TriggerType
from handoff_app.domain.settings_form import (
    SECRET_FIELDS,
    mask_secret,
    parse_settings,
    settings_to_form,
)
from handoff_app.domain.triggers import trigger_allowed
from handoff_app.models import WorkspaceSettings
from handoff_app.prebuilt_sql import Prebuilt
from handoff_app.services.errors import ServiceError

SETTINGS_ID = 1
log = logging.getLogger(__name__)


async def get_workspace_settings(*, session: AsyncSession) -> WorkspaceSettings:
    """The settings row; the defaults (not saved) while it does not exist yet.

    Never writes: it runs inside other use cases' transactions.
    """
    settings = await session.get(WorkspaceSettings, SETTINGS_ID)
    return settings if settings is not None else WorkspaceSettings(id=SETTINGS_ID)


_AGENT_LABEL = Prebuilt(
    sa.select(WorkspaceSettings.__table__.c.agent_label).where(  # type: ignore[attr-defined]
        WorkspaceSettings.__table__.c.id == SETTINGS_ID  # type: ignore[attr-defined]
    )
)


async def get_agent_label(*, session: AsyncSession) -> str:
    """The name agents go by for visitors ("" = each agent's own): the one setting an agent's
    reply needs, read alone (every reply reads it; the whole row is dozens of columns)."""
    label = await _AGENT_LABEL.scalar(session)
    return label if isinstance(label, str) else WorkspaceSettings().agent_label


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


async def update_settings(*, session: AsyncSession, **values: object) -> None:
    """Set a few settings directly (the CLI: `live-support on|off`, the demo seed)."""
    await ensure_workspace_settings(session=session)
    settings = await session.get(WorkspaceSettings, SETTINGS_ID, with_for_update=True)
    assert settings is not None
    for name, value in values.items():
        if name not in WorkspaceSettings.model_fields:
            raise ValueError(f"no setting {name!r}")
        setattr(settings, name, value)
    await session.commit()


class SettingsInvalid(ServiceError):
    """One message per bad field; nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"{len(errors)} field(s) need attention: nothing was saved.")
        self.errors = errors


@dataclass(frozen=True)
class SettingsView:
    """What the settings page shows: every field as text, secrets only masked."""

    form: dict[str, str]
    masked_secrets: dict[str, str]


def settings_view(settings: WorkspaceSettings) -> SettingsView:
    values = settings.model_dump()
    return SettingsView(
        form=settings_to_form(values),
        masked_secrets={name: mask_secret(str(values.get(name) or "")) for name in SECRET_FIELDS},
    )


async def save_settings(*, session: AsyncSession, form: Mapping[str, object]) -> SettingsView:
    """Validate the whole form, then write every field in one transaction, or nothing.

    Every worker reads the row per use, so a change applies at once everywhere.
    """
    parsed = parse_settings(form)
    if not parsed.ok:
        raise SettingsInvalid(parsed.errors)
    await ensure_workspace_settings(session=session)
    settings = await session.get(WorkspaceSettings, SETTINGS_ID, with_for_update=True)
    assert settings is not None
    for name, value in parsed.values.items():
        setattr(settings, name, value)
    await session.commit()
    await session.refresh(settings)
    log.info("workspace settings saved (%s)", ", ".join(sorted(parsed.values)))
    return settings_view(settings)
