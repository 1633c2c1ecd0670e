"""The GraphQL endpoint: the data path of one request, top to bottom.

identity (done by the middleware: ``scope["principal"]``) → parse the HTTP request → execute
the GraphQL document (resolvers: access → plan → engine, through the DataSession) → audit →
response. The audit event is written before the response is sent; if it cannot be written the
client gets a 503 and no data (fail closed).

A repeated request may be answered whole from :class:`gateway.api.response_cache.ResponseCache`,
after identity and after the access decision for every database the answer read, and audited
like any other (see that module for what is checked).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.api.context import RequestContext, RequestTrail
from gateway.api.errors import format_errors
from gateway.api.operation import select_operation, summarise
from gateway.api.request import GraphQLRequest, RequestRejected, read_graphql_request
from gateway.api.response_cache import ResponseCache
from gateway.api.schema import GatewaySchema
from gateway.api.session import DataSession, SessionFactory
from gateway.audit import AuditBroker, Outcome, request_event
from gateway.audit.events import MAX_AUDITED_QUERY_CHARS
from gateway.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, error_body
from gateway.identity.middleware import REVISION_SCOPE_KEY, request_id_of
from gateway.principal import Principal

logger = logging.getLogger("gateway.api")

_NO_STORE = {"cache-control": "no-store"}


@dataclass(frozen=True)
class EndpointConfig:
    max_body_bytes: int
    max_query_string_bytes: int
    request_timeout_seconds: float


class GraphQLEndpoint:
    """An ASGI app serving GraphQL over HTTP, with every request audited."""

    def __init__(
        self,
        *,
        schema: GatewaySchema,
        sessions: SessionFactory,
        audit: AuditBroker,
        config: EndpointConfig,
        response_cache: ResponseCache | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._schema = schema
        self._sessions = sessions
        self._audit = audit
        self._config = config
        self._cache = response_cache if response_cache is not None and response_cache.enabled else None
        self._clock = clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def not_found(self, request: Request) -> Response:
        """Any path but the API's: a 404, audited like every request, so a probe leaves a trace."""
        message = f"Nothing is served at {request.url.path[:200]}; the API is at /graphql."
        return await self.handle(request, rejected=RequestRejected(404, "NOT_FOUND", message))

    async def handle(self, request: Request, *, rejected: RequestRejected | None = None) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request.scope)
        principal: Principal = request.scope["principal"]  # set by the identity middleware, or never here
        trail = RequestTrail(deadline=time.monotonic() + self._config.request_timeout_seconds)
        graphql_request: GraphQLRequest | None = None
        try:
            if rejected is not None:
                raise rejected
            graphql_request = await read_graphql_request(
                request, max_body_bytes=self._config.max_body_bytes, max_query_string_bytes=self._config.max_query_string_bytes
            )
            select_operation(graphql_request.query, graphql_request.operation_name)
            answer = await self._answer(graphql_request, principal, trail, request_id, request.scope.get(REVISION_SCOPE_KEY))
        except RequestRejected as refusal:
            answer = _Answer.error(refusal.status, refusal.code, refusal.message, reason=f"{refusal.code}: {refusal.message}")
        except ClientDisconnect:
            reason = "CLIENT_DISCONNECTED: the client went away mid-request"
            answer = _Answer.error(400, "MALFORMED_REQUEST", "The request was not received in full.", reason=reason)
        except Exception:  # noqa: BLE001 - ours to fix; still a JSON answer, still audited
            logger.exception("request %s failed in the endpoint", request_id)
            message = INTERNAL_MESSAGE.format(request_id=request_id)
            answer = _Answer.error(500, "INTERNAL_SERVER_ERROR", message, reason="INTERNAL: failed in the endpoint")
        event = request_event(
            principal,
            client_address=request.client.host if request.client else None,
            operation=",".join(trail.operations) or "graphql",
            outcome=answer.outcome,
            database=",".join(trail.databases) or None,
            query=_normalise(graphql_request),
            reason=trail.denial_reason or answer.reason,
            cells=trail.cells,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=request_id,
            time=self._clock(),
        )
        try:
            await self._audit.record(event)
        except Exception:  # noqa: BLE001 - fail closed: no audit, no answer
            logger.exception("audit write failed; refusing request %s", request_id)
            return _json(503, error_body(UNAVAILABLE_MESSAGE, "SERVICE_UNAVAILABLE"), request_id)
        if answer.keep is not None:
            answer.keep()  # on record: only now may the answer be served again
        return _response(answer.status, answer.content or _encode(answer.body), request_id)

    async def _answer(
        self,
        graphql_request: GraphQLRequest,
        principal: Principal,
        trail: RequestTrail,
        request_id: str,
        revision: int | None,
    ) -> _Answer:
        """The answer from the response cache when it still holds (checked on a scratch trail, so a
        miss leaves ``trail`` as it was), else executed, and marked for keeping when served."""
        cache = self._cache
        keyed = None if cache is None else cache.key(principal, graphql_request)
        if cache is not None and keyed is not None:
            checking = self._sessions(principal, RequestTrail(deadline=trail.deadline), revision=revision)
            content = cache.answer(keyed[0], checking, trail)
            if content is not None:
                return _Answer(200, {}, "served", None, content=content)
        session = self._sessions(principal, trail, revision=revision)
        answer = await self._execute(graphql_request, principal, session, trail, request_id)
        if cache is None or keyed is None or answer.status != 200 or answer.outcome != "served" or "errors" in answer.body:
            return answer
        key, key_size = keyed
        content = _encode(answer.body)
        keep = lambda: cache.keep(key, key_size, content, session, trail)  # noqa: E731
        return _Answer(answer.status, answer.body, answer.outcome, answer.reason, content=content, keep=keep)

    async def _execute(
        self,
        graphql_request: GraphQLRequest,
        principal: Principal,
        session: DataSession,
        trail: RequestTrail,
        request_id: str,
    ) -> _Answer:
        context = RequestContext(principal=principal, session=session, trail=trail, request_id=request_id)
        allowed = (OperationType.QUERY,)
        try:
            result = await asyncio.wait_for(
                self._schema.execute(
                    graphql_request.query,
                    variable_values=graphql_request.variables,
                    context_value=context,
                    operation_name=graphql_request.operation_name,
                    allowed_operation_types=allowed,
                ),
                timeout=self._config.request_timeout_seconds,
            )
        except TimeoutError:
            message = f"The request took longer than {self._config.request_timeout_seconds:g} seconds and was stopped."
            return _Answer.error(504, "TIMEOUT", message, reason="TIMEOUT")
        except InvalidOperationTypeError:
            message = "Only queries are offered: this API reads data and never changes it."
            return _Answer.error(405, "OPERATION_NOT_ALLOWED", message, reason="OPERATION_NOT_ALLOWED")
        body: dict[str, Any] = {"data": result.data}
        if not result.errors:
            return _Answer(200, body, "served", None)
        formatted = format_errors(result.errors, request_id=request_id)
        body["errors"] = formatted.errors
        if result.data is None and formatted.document_error:
            return _Answer(400, {"errors": formatted.errors}, "failed", formatted.reason)
        # data that left the server makes the request 'served' for the auditor, whatever else
        # failed beside it; the errors stay in the reason
        returned = _returned_any(result.data)
        if returned:
            outcome: Outcome = "served"
        else:
            outcome = "failed" if formatted.failed or not formatted.denied else "denied"
        return _Answer(200, body, outcome, formatted.reason)


@dataclass(frozen=True, slots=True)
class _Answer:
    """What the request comes to: the HTTP answer, and how the audit trail files it."""

    status: int
    body: dict[str, Any]
    outcome: Outcome
    reason: str | None
    content: bytes | None = None  # the body already serialised (a cached answer, or one to keep)
    keep: Callable[[], object] | None = None  # keeps the answer once its event is on record

    @classmethod
    def error(cls, status: int, code: str, message: str, *, reason: str) -> _Answer:
        """A request that comes to one error: the body from the one builder, filed as failed."""
        return cls(status, error_body(message, code), "failed", reason)


def _normalise(graphql_request: GraphQLRequest | None) -> str | None:
    """The query as the audit trail keeps it: canonical GraphQL when it parses (else the raw
    text), then the variables as a ``# variables:`` comment line, since they can carry the whole
    cube query; capped in length."""
    if graphql_request is None:
        return None
    text = _canonical(graphql_request.query)
    if graphql_request.variables:
        try:
            variables = json.dumps(graphql_request.variables, ensure_ascii=False, sort_keys=True, default=str)
        except (RecursionError, ValueError):
            variables = "(too deeply nested to record)"
        text = f"{text}\n# variables: {variables[:MAX_AUDITED_QUERY_CHARS]}"
    if graphql_request.operation_name:
        text = f"{text}\n# operation: {graphql_request.operation_name}"
    return text[:MAX_AUDITED_QUERY_CHARS]


def _canonical(query: str) -> str:
    summary = summarise(query)
    return query if summary is None else summary.canonical


def _returned_any(data: object) -> bool:
    """True when any top-level field of the answer carries data (not null)."""
    return isinstance(data, dict) and any(value is not None for value in data.values())


# datetimes and dataclasses go through ``str`` as they always did; everything else orjson writes
# itself (UTF-8, compact), in a fraction of json.dumps' time on the event loop
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, default=str, option=_ORJSON_OPTIONS)


def _json(status: int, body: dict[str, Any], request_id: str) -> Response:
    return _response(status, _encode(body), request_id)


def _response(status: int, content: bytes, request_id: str) -> Response:
    headers = {**_NO_STORE, "x-request-id": request_id}
    return Response(content, status_code=status, media_type="application/json", headers=headers)
