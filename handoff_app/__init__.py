"""handoff_app: AI chat with a live human handoff."""
