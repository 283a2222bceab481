"""Errors a use case reports to its caller; each text is fit to show the person who acted."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every refusal a service makes on purpose."""


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class ConversationClosed(ServiceError):
    pass


class LiveSupportUnavailable(ServiceError):
    """Live support is off, or the trigger mode does not allow this trigger."""


class AlreadyClaimed(ServiceError):
    """The claim lost: someone else holds the conversation."""

    def __init__(self, holder_label: str) -> None:
        super().__init__(f"{holder_label} has already claimed this conversation.")
        self.holder_label = holder_label
