"""The one place where errors become what a client sees.

A :class:`gateway.errors.UserError` keeps its text and its stable code. GraphQL syntax and
validation errors are the client's own document, so their text is safe (suggestions are
switched off in :mod:`gateway.api.schema`). Anything else is internal: logged here with its
traceback and shown only as a stable code plus the request id to quote to support.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from gateway.errors import INTERNAL_MESSAGE, AccessDeniedError, UserError, error_entry

logger = logging.getLogger("gateway.api")



@dataclass(frozen=True, slots=True)
class FormattedErrors:
    errors: list[dict[str, Any]]
    denied: bool  # at least one uniform denial
    failed: bool  # at least one internal error
    document_error: bool  # syntax or validation: nothing was executed
    reason: str | None  # first error's message or code, for the audit trail


def format_errors(errors: list[GraphQLError], *, request_id: str) -> FormattedErrors:
    formatted: list[dict[str, Any]] = []
    denied = failed = document_error = False
    reason: str | None = None
    for error in errors:
        original = error.original_error
        if isinstance(original, UserError):
            message, code = str(original), original.code
            denied = denied or isinstance(original, AccessDeniedError)
        elif original is None or (isinstance(original, GraphQLError) and not error.path):
            # the client's own document or variables (graphql-core wraps a variable's coercion
            # error in another GraphQLError, outside any field path): safe to show, not ours
            message = error.message
            code = "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"
            document_error = document_error or error.path is None
        else:
            logger.error("request %s failed", request_id, exc_info=original)
            message, code = INTERNAL_MESSAGE.format(request_id=request_id), "INTERNAL_SERVER_ERROR"
            failed = True
        locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
        formatted.append(error_entry(message, code, locations=locations, path=list(error.path or ())))
        if reason is None:
            reason = f"{code}: {message}"[:500]
    return FormattedErrors(formatted, denied=denied, failed=failed, document_error=document_error, reason=reason)
