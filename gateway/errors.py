"""Two error families, as Cubes has them.

``UserError`` and its subclasses carry text that is safe to show the client: it names only
what the client itself sent. Everything else is internal and never leaves the server; the
API layer maps it to a stable code and a generic message.
"""

from __future__ import annotations

from typing import Any


class DataadgangError(Exception):
    """Base of every error this package raises on purpose."""


class UserError(DataadgangError):
    """A client mistake; ``str(error)`` is safe to send back. ``code`` is stable API."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotFoundError(UserError):
    """An unknown name inside something the client may read (cube, level, member, measure)."""

    code = "NOT_FOUND"


class QueryError(UserError):
    """A query that is well formed but cannot be answered as asked."""

    code = "INVALID_QUERY"


class LimitExceededError(UserError):
    """A query refused before it runs because it would exceed a configured limit."""

    code = "LIMIT_EXCEEDED"


class AccessDeniedError(UserError):
    """The one uniform denial: same text for a forbidden and a missing database."""

    code = "ACCESS_DENIED"

    def __init__(self, login: str, database: str) -> None:
        super().__init__(
            f"Either the user, '{login}', does not have access to the '{database}' database, "
            "or the database does not exist."
        )
        self.login = login
        self.database = database


class AuthenticationError(UserError):
    """No usable client identity. The text never says which check failed."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "A valid client certificate issued by dataadgang is required.") -> None:
        super().__init__(message)


class ModelError(DataadgangError):
    """A cube model file is invalid; raised at load time, names file, path and problem."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        super().__init__(f"{file}: {path}: {problem}")
        self.file = file
        self.path = path
        self.problem = problem


class LoadError(DataadgangError):
    """A source file cannot be loaded; names file, row and column where known."""

    def __init__(self, file: str, problem: str, *, row: int | None = None, column: str | None = None) -> None:
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")
        self.file = file
        self.row = row
        self.column = column
        self.problem = problem


class InternalError(DataadgangError):
    """A fault on our side. Logged with detail; the client sees only a stable code."""


class QueryTimeoutError(LimitExceededError):
    """A query stopped because it ran longer than the configured query timeout."""

    code = "QUERY_TIMEOUT"


# The words every door and the identity step answer these with, in one place.
INTERNAL_MESSAGE = "Internal server error. Quote request id {request_id} to support."
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable."


def error_entry(
    message: str, code: str, *, locations: list[dict[str, int]] | None = None, path: list[str | int] | None = None
) -> dict[str, Any]:
    """One error as every client sees it: GraphQL's error shape with the stable code in ``extensions``."""
    entry: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if locations:
        entry["locations"] = locations
    if path:
        entry["path"] = path
    return entry


def error_body(message: str, code: str) -> dict[str, Any]:
    """The whole body of an answer that is one error (HTTP-level refusals, identity, 5xx).

    The one builder of error JSON: every door and the identity step answer through it.
    """
    return {"errors": [error_entry(message, code)]}
