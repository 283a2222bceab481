"""Reflex states: thin handlers that check identity, call services and hold what pages show."""
