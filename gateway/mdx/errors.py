"""MDX errors: safe to show the client, each with a stable code the XMLA door reports."""

from __future__ import annotations

from gateway.errors import QueryError, UserError


class MdxSyntaxError(UserError):
    """The text is not MDX this gateway reads; the message says line and column."""

    code = "MDX_SYNTAX_ERROR"


class MdxUnsupportedError(QueryError):
    """Well-formed MDX using a construct this gateway does not implement; names the construct."""

    code = "MDX_UNSUPPORTED"

    def __init__(self, construct: str, detail: str = "") -> None:
        message = f"The MDX construct '{construct}' is not supported."
        super().__init__(message + (" " + detail if detail else ""))
        self.construct = construct
