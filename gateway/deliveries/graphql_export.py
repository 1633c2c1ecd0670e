"""``Accept: text/csv`` (or Parquet) on ``/graphql``: an ``execute`` request answered as a file.

The client sends the same GraphQL request it sends for JSON (one ``execute`` field, any
selection); the document is parsed, validated against the gateway's schema and its arguments
coerced by graphql-core, exactly as for a JSON answer, and the cube query then runs through
the same session call as ``POST /export``. So an analyst's pivot query becomes a spreadsheet
by changing one header.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse, validate
from graphql.execution.values import get_argument_values, get_variable_values

from gateway.api.request import GraphQLRequest, RequestRejected
from gateway.api.schema import GatewaySchema

_FILE_TYPES = {"text/csv": "csv", "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet"}
_JSON_TYPES = {"application/json", "application/graphql-response+json", "text/html", "*/*", "application/*"}


def wanted_file(accept: str | None) -> str | None:
    """'csv' or 'parquet' when the client prefers one of them to JSON (by q-value, then order)."""
    choices: list[tuple[float, int, str | None]] = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = (piece.strip().lower() for piece in part.split(";"))
        if media not in _FILE_TYPES and media not in _JSON_TYPES:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            choices.append((quality, -position, _FILE_TYPES.get(media)))
    return max(choices)[2] if choices else None


def execute_arguments(schema: GatewaySchema, request: GraphQLRequest, *, max_tokens: int) -> tuple[Any, Any]:
    """(catalog, query) of the document's one ``execute`` field, coerced as GraphQL would."""
    try:
        document = parse(request.query, no_location=True, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        raise RequestRejected(400, "GRAPHQL_PARSE_FAILED", error.message) from None
    graphql_schema = schema._schema
    errors = validate(graphql_schema, document)
    if errors:
        raise RequestRejected(400, "GRAPHQL_VALIDATION_FAILED", errors[0].message)
    operation = get_operation_ast(document, request.operation_name)
    if operation is None:
        raise RequestRejected(400, "GRAPHQL_VALIDATION_FAILED", "Name the operation to run ('operationName').")
    if operation.operation is not OperationType.QUERY:
        raise RequestRejected(405, "OPERATION_NOT_ALLOWED", "Only queries are offered.")
    fields = operation.selection_set.selections
    if len(fields) != 1 or not isinstance(fields[0], FieldNode) or fields[0].name.value != "execute":
        raise RequestRejected(406, "NOT_ACCEPTABLE",
                              "A file (CSV or Parquet) is offered for a query with exactly one 'execute' field; "
                              "ask for application/json otherwise.")
    values = get_variable_values(graphql_schema, operation.variable_definitions or (), request.variables or {})
    if isinstance(values, list):
        raise RequestRejected(400, "GRAPHQL_VALIDATION_FAILED", values[0].message)
    query_type = graphql_schema.query_type
    if query_type is None:
        raise RequestRejected(500, "INTERNAL_SERVER_ERROR", "The schema has no query type.")
    try:
        arguments = get_argument_values(query_type.fields["execute"], fields[0], values)
    except GraphQLError as error:
        raise RequestRejected(400, "GRAPHQL_VALIDATION_FAILED", error.message) from None
    return arguments["catalog"], arguments["query"]
