"""Outbound notifications (email, webhooks): no Reflex here."""
