"""The Reflex app: pages, routes, and the realtime listener. Nothing else lives here."""

from __future__ import annotations

import reflex as rx

from handoff_app import realtime, routes
from handoff_app.bot.local_provider import register_local_provider
from handoff_app.notifications import alerts, webhook
from handoff_app.pages.account import account_page
from handoff_app.pages.agent_conversation import agent_conversation_page
from handoff_app.pages.agent_queue import agent_queue_page
from handoff_app.pages.invite import invite_page
from handoff_app.pages.login import login_page
from handoff_app.pages.not_found import not_found_page
from handoff_app.pages.settings import settings_page
from handoff_app.pages.staff import staff_page
from handoff_app.pages.visitor import visitor_page, widget_page
from handoff_app.states import background_rounds
from handoff_app.states.account import AccountState
from handoff_app.states.agent_conversation import AgentConversationState
from handoff_app.states.agent_queue import AgentQueueState
from handoff_app.states.invite_accept import InviteAcceptState
from handoff_app.states.settings import SettingsState
from handoff_app.states.staff_admin import StaffPageState
from handoff_app.states.staff_auth import LoginState
from handoff_app.states.visitor import VisitorState
from handoff_app.sweeper import run_sweeper
from handoff_app.tcp_nodelay import send_frames_at_once
from handoff_app.worker_start import start_worker

realtime.install()
background_rounds.install()
webhook.install()
alerts.install()
register_local_provider()

app = rx.App(
    stylesheets=["/app.css"],
    # first in <head>: storage that works inside a third-party iframe (the embedded widget),
    # then the browser's time zone into that storage, read when the page hydrates
    head_components=[
        rx.el.script(src="/storage-fallback.js"),
        rx.el.script(src="/visitor-clock.js"),
    ],
)
app.register_lifespan_task(send_frames_at_once)
app.register_lifespan_task(run_sweeper)
app.register_lifespan_task(start_worker)
app.add_page(visitor_page, route=routes.VISITOR, title="Support chat", on_load=VisitorState.load)
app.add_page(widget_page, route=routes.WIDGET, title="Chat", on_load=VisitorState.load)
app.add_page(login_page, route=routes.LOGIN, title="Sign in · Handoff", on_load=LoginState.load)
app.add_page(
    agent_queue_page,
    route=routes.AGENT_QUEUE,
    title="Queue · Handoff",
    on_load=AgentQueueState.load,
)
app.add_page(
    agent_conversation_page,
    route=routes.AGENT_CONVERSATION,
    title="Conversation · Handoff",
    on_load=AgentConversationState.load,
)
app.add_page(
    settings_page, route=routes.SETTINGS, title="Settings · Handoff", on_load=SettingsState.load
)
app.add_page(not_found_page, route="404", title="Not found")
app.add_page(staff_page, route=routes.STAFF, title="Staff · Handoff", on_load=StaffPageState.load)
app.add_page(
    account_page, route=routes.ACCOUNT, title="Account · Handoff", on_load=AccountState.load
)
app.add_page(
    invite_page, route=routes.INVITE, title="Join · Handoff", on_load=InviteAcceptState.load
)
