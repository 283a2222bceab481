"""The staff queue page: links the tab to the live `staff-queue` room after checking identity."""

from __future__ import annotations

import reflex as rx

from handoff_app import routes
from handoff_app.realtime import STAFF_QUEUE_ROOM, StaffQueueRoom, fill_staff_queue
from handoff_app.states.staff_auth import require_staff


async def link_staff_queue(state: rx.State) -> None:
    """Join the live queue room and rebuild it from the database (rooms expire)."""
    room = await state.get_state(StaffQueueRoom)
    room = await room._link_to(STAFF_QUEUE_ROOM)
    await fill_staff_queue(room)


class AgentQueueState(rx.State):
    @rx.event
    async def load(self):  # type: ignore[no-untyped-def]
        if await require_staff(self) is None:
            return rx.redirect(routes.LOGIN, replace=True)
        await link_staff_queue(self)
