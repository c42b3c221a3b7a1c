"""Domain exceptions, and their one mapping to HTTP / JSON responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a user can act on. `code` is stable, `message` is shown to people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class ValidationError(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """A concurrent change or a state that no longer allows the operation."""

    status = 409
    code = "conflict"


class ConcurrentChange(Conflict):
    """Someone else changed or created the same row first (a lost optimistic lock, a unique
    race): the page or data the request was based on is out of date. Never shown on a form: the
    whole request rolls back and answers 409."""


class AuthenticationFailed(DomainError):
    status = 401
    code = "unauthenticated"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class AttemptClosed(Conflict):
    """An exam attempt no longer accepts answers (submitted, timed out, terminated, or past its
    deadline + grace). Nothing was stored."""

    code = "attempt_closed"


class SessionReplaced(AuthenticationFailed):
    """A candidate's Bearer token was ended by a newer login (one live session per candidate)."""

    code = "session_replaced"


class UnsafeConfiguration(RuntimeError):
    """The app refuses to start: settings that would risk data or security in production."""
