"""What the gateway needs to know of a GraphQL document before it runs: which operation to run
(and whether that choice is valid), and the canonical text the audit trail keeps.

The GraphQL spec (6.1, GetOperation): with no ``operationName`` the document must hold exactly
one operation; with one it must name an operation of the document. Both are the client's
mistake, so both are a 400 with a stable code and an audit event, never a guess (running the
first operation) and never a 500.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse, print_ast

from gateway.api.request import RequestRejected

MAX_PARSE_TOKENS = 5000  # above the schema's token limit: that limit reports, this one only bounds the work


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    canonical: str  # the document printed canonically (what the audit trail records)
    operations: tuple[str | None, ...]  # operation names in order; None for an anonymous one


@functools.lru_cache(maxsize=1024)  # clients repeat the same few documents; parsing one costs ~1 ms
def summarise(query: str) -> DocumentSummary | None:
    """The document's summary, or None when it does not parse (the schema then reports why).

    Only the small summary is cached, never the syntax tree, so the cache stays small.
    """
    try:
        document = parse(query, no_location=True, max_tokens=MAX_PARSE_TOKENS)
    except (GraphQLSyntaxError, RecursionError):
        return None
    operations = tuple(
        definition.name.value if definition.name else None
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )
    return DocumentSummary(canonical=print_ast(document), operations=operations)


def select_operation(query: str, operation_name: str | None) -> None:
    """Raise :class:`RequestRejected` unless ``operation_name`` picks exactly one operation."""
    summary = summarise(query)
    if summary is None:
        return
    if operation_name is None:
        if len(summary.operations) > 1:
            raise RequestRejected(
                400,
                "OPERATION_NAME_REQUIRED",
                f"The document holds {len(summary.operations)} operations; name the one to run in 'operationName'.",
            )
        return
    if operation_name not in summary.operations:
        shown = operation_name[:100]
        raise RequestRejected(400, "OPERATION_NOT_FOUND", f"The document has no operation named '{shown}'.")
