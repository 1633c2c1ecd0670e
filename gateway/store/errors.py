"""Errors of the control plane. All are ``UserError``: the text is meant for the operator or officer."""

from __future__ import annotations

from gateway.errors import UserError


class ValidationError(UserError):
    """The request is malformed or breaks a rule (unknown kommune, bad login, bad validity window...)."""

    code = "INVALID"


class ConflictError(UserError):
    """The request collides with existing state (duplicate login, already revoked...)."""

    code = "CONFLICT"


class RecordNotFoundError(UserError):
    """No such user, grant or certificate (within what the actor may see)."""

    code = "NOT_FOUND"


class ForbiddenError(UserError):
    """The actor may not do this, e.g. a security officer acting on another kommune's user."""

    code = "FORBIDDEN"
