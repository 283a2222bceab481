import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from handoff_app.config import database_url

config = rx.Config(
    app_name="handoff_app",
    db_url=database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="large"))],
)
