"""Errors that name the problem; the web layer maps each kind to one HTTP status."""

from __future__ import annotations


class AirlockError(Exception):
    """Base of every error Airlock raises on purpose; the message is safe to show the caller."""

    status_code = 400


class InvalidInput(AirlockError):
    """The caller sent something that breaks a rule; the message names where and which rule."""

    status_code = 422

    def __init__(self, message: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class InvalidTransition(AirlockError):
    """A state machine was asked for a move it does not allow."""

    status_code = 409


class Conflict(AirlockError):
    """The request clashes with the current state (a duplicate, a stale version)."""

    status_code = 409


class NotFound(AirlockError):
    """The object does not exist or the caller may not know that it does."""

    status_code = 404


class Forbidden(AirlockError):
    """The caller is known and may see the object, but may not do this to it."""

    status_code = 403


class Unauthenticated(AirlockError):
    """No valid session or token came with the request."""

    status_code = 401


class TooManyRequests(AirlockError):
    """The caller must slow down (for example too many failed sign-ins)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(AirlockError):
    """The body or file is over a configured limit."""

    status_code = 413
