import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from handoff_app.config import database_url

# One process without Redis: keep tab state in memory. Reflex's default ("disk") writes every
# tab's state to a file on each change, which dominated CPU under load; nothing is lost by
# not doing so, since identity lives in browser storage and rooms are rebuilt from the
# database on every (re)join. With REFLEX_REDIS_URL set, Reflex uses Redis instead.
_state_manager = {} if os.environ.get("REFLEX_REDIS_URL") else {"state_manager_mode": "memory"}

config = rx.Config(
    app_name="handoff_app",
    db_url=database_url(),
    **_state_manager,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="large"))],
)
