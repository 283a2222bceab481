"""Telling people outside the dashboard: webhooks and email (no reflex imports here)."""
