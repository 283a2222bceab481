"""Use cases: validate, write in one transaction, publish events after commit. No reflex here."""
