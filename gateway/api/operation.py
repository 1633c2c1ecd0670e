"""Which operation of a GraphQL document to run, decided before anything runs.

The GraphQL spec (6.1, GetOperation): with no ``operationName`` the document must hold exactly
one operation; with one it must name an operation of the document. Both are the client's
mistake, so both are a 400 with a stable code and an audit event, never a guess (running the
first operation) and never a 500.
"""

from __future__ import annotations

import functools

from graphql import DocumentNode, GraphQLSyntaxError, OperationDefinitionNode, parse

from gateway.api.request import RequestRejected

MAX_PARSE_TOKENS = 5000  # above the schema's token limit: that limit reports, this one only bounds the work


@functools.lru_cache(maxsize=1024)  # clients repeat the same few documents
def parse_document(query: str) -> DocumentNode | None:
    """The parsed document, or None when it does not parse (the schema then reports the syntax error)."""
    try:
        return parse(query, no_location=True, max_tokens=MAX_PARSE_TOKENS)
    except (GraphQLSyntaxError, RecursionError):
        return None


def select_operation(query: str, operation_name: str | None) -> None:
    """Raise :class:`RequestRejected` unless ``operation_name`` picks exactly one operation."""
    document = parse_document(query)
    if document is None:
        return
    names = [
        definition.name.value if definition.name else None
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if operation_name is None:
        if len(names) > 1:
            raise RequestRejected(
                400,
                "OPERATION_NAME_REQUIRED",
                f"The document holds {len(names)} operations; name the one to run in 'operationName'.",
            )
        return
    if operation_name not in names:
        shown = operation_name[:100]
        raise RequestRejected(400, "OPERATION_NOT_FOUND", f"The document has no operation named '{shown}'.")
