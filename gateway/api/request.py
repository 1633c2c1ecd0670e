"""GraphQL over HTTP: turn an HTTP request into a GraphQL request, or a clear 4xx.

POST with ``application/json`` (``query``, ``variables``, ``operationName``) or GET with
the same as query parameters (queries only). Everything a client can get wrong here is a
:class:`RequestRejected` with a status and a stable code, never an exception that reaches
the client as a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

_JSON_TYPES = ("application/json", "application/graphql-response+json")


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    method: str = "POST"


class RequestRejected(Exception):
    """The HTTP request itself is unusable; ``status`` and ``code`` go to the client as is."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def read_bounded_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refused (413) before it is read when the declared length is over the limit
    and as soon as the streamed bytes pass it: what every door reads its request with."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestRejected(413, "PAYLOAD_TOO_LARGE", f"The request body exceeds {max_bytes} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise RequestRejected(413, "PAYLOAD_TOO_LARGE", f"The request body exceeds {max_bytes} bytes.")
    return bytes(body)


async def read_graphql_request(request: Request, *, max_body_bytes: int, max_query_string_bytes: int) -> GraphQLRequest:
    """Parse the request, refusing oversized bodies before reading them whole and oversized
    query strings before decoding them."""
    if request.method == "GET":
        if len(request.scope.get("query_string", b"")) > max_query_string_bytes:
            raise RequestRejected(414, "URI_TOO_LONG", f"The query string exceeds {max_query_string_bytes} bytes; use POST.")
        params = request.query_params
        return _build(
            query=params.get("query"),
            variables=_decode_variables(params.get("variables")),
            operation_name=params.get("operationName"),
            method="GET",
        )
    if request.method != "POST":
        raise RequestRejected(405, "METHOD_NOT_ALLOWED", "Use POST (or GET for queries).")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES:
        raise RequestRejected(415, "UNSUPPORTED_MEDIA_TYPE", "Send the GraphQL request as application/json.")
    body = await read_bounded_body(request, max_body_bytes)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RequestRejected(400, "MALFORMED_JSON", "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise RequestRejected(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRejected(400, "MALFORMED_REQUEST", "'variables' must be a JSON object.")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRejected(400, "MALFORMED_REQUEST", "'operationName' must be a string.")
    return _build(
        query=payload.get("query"), variables=variables or {}, operation_name=operation_name, method="POST"
    )


def _decode_variables(raw: str | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    try:
        variables = json.loads(raw)
    except (ValueError, RecursionError):
        raise RequestRejected(400, "MALFORMED_REQUEST", "'variables' is not valid JSON.") from None
    if not isinstance(variables, dict):
        raise RequestRejected(400, "MALFORMED_REQUEST", "'variables' must be a JSON object.")
    return variables


def _build(query: object, variables: dict[str, Any], operation_name: str | None, method: str) -> GraphQLRequest:
    if not isinstance(query, str) or not query.strip():
        raise RequestRejected(400, "MALFORMED_REQUEST", "The request has no GraphQL 'query' string.")
    return GraphQLRequest(query=query, variables=variables, operation_name=operation_name, method=method)
