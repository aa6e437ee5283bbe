"""Failures a use-case reports, independent of how they reach the client."""

from __future__ import annotations

RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist "
    "or you don't have permission to perform this action"
)


class PublicError(Exception):
    """An error whose message is meant for the client, as a top-level GraphQL error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotAvailable(PublicError):
    """The object does not exist or the actor may not see or change it."""

    def __init__(self, message: str = RESOURCE_NOT_AVAILABLE) -> None:
        super().__init__(message)


class FeatureDisabled(PublicError):
    def __init__(self) -> None:
        super().__init__("Feature disabled")


class ReadOnlyToken(PublicError):
    """Anonymous callers and read_api tokens may not change anything."""

    def __init__(self) -> None:
        super().__init__(RESOURCE_NOT_AVAILABLE)


class InvalidArgument(PublicError):
    """An argument the schema accepted but the operation cannot use (bad cursor, ...)."""
