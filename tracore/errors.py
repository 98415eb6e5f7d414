"""Typed domain errors. Each carries the SPEC error code and HTTP status it maps to.

Messages are written for the user and never contain key material.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidKey(DomainError):
    """The provider rejected the key."""

    code = "invalid_key"
    status = 400


class ProviderUnavailable(DomainError):
    """The provider could not be reached or answered unexpectedly; nothing changed."""

    code = "provider_unavailable"
    status = 502


class NotFound(DomainError):
    """Absent, or owned by someone else: the two are indistinguishable on purpose."""

    code = "not_found"
    status = 404


class ValidationError(DomainError):
    """Input the domain refuses; ``field`` names the offending input."""

    code = "validation_error"
    status = 422


class RateLimited(DomainError):
    """Too many provider tests; ``retry_after`` is in whole seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many tests — try again in {retry_after} s")
        self.retry_after = retry_after


class KeyUnreadable(DomainError):
    """The stored key cannot be opened with this server's master key."""

    code = "key_unreadable"
    status = 409


class QueueUnavailable(DomainError):
    """The run could not be handed to the queue; it was marked failed."""

    code = "queue_unavailable"
    status = 503
