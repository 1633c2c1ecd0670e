"""The download door: ``GET /datapakker``, ``GET /datapakker/<package>``, ``POST /export``,
and ``/graphql`` requests that ask for ``Accept: text/csv`` (or Parquet).

A thin translation of HTTP into the delivery service calls (:mod:`gateway.deliveries.service`,
:mod:`gateway.deliveries.export`) over the request's :class:`DataSession`, like the GraphQL
endpoint: identity from the middleware, access in the session, one audit event per request,
written before the answer leaves (no audit, no data: 503). The data is read and checked before
the event is written; only the rendering into CSV/zip is streamed after it.

A package of a database the caller may not read and a package that does not exist get the
same 404 with the same body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from gateway.api.context import RequestTrail
from gateway.api.request import GraphQLRequest, RequestRejected, read_bounded_body, read_graphql_request
from gateway.api.schema import GatewaySchema
from gateway.access import Action
from gateway.api.results import cube_query_from_input
from gateway.api.session import SessionFactory
from gateway.audit import AuditBroker, request_event
from gateway.deliveries import export, graphql_export, service
from gateway.audit.events import MAX_AUDITED_QUERY_CHARS
from gateway.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, AccessDeniedError, QueryTimeoutError, UserError, error_body
from gateway.identity.middleware import request_id_of
from gateway.identity.middleware import REVISION_SCOPE_KEY
from gateway.principal import Principal

logger = logging.getLogger("gateway.deliveries")

READ_METHODS = ("GET", "HEAD")
PACKAGE_CACHE_CONTROL = "private, no-cache"  # a client may keep it, but must revalidate (ETag)


@dataclass
class _Outcome:
    """What the handler decided, read once for the audit event and the response."""

    response: Callable[[dict[str, str]], Response]  # given the x-request-id header
    status: int = 200
    outcome: str = "served"
    reason: str | None = None
    cells: int = 0


class DeliveryDoor:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        audit: AuditBroker,
        schema: GatewaySchema,
        max_body_bytes: int,
        max_query_string_bytes: int,
        max_tokens: int,
        request_timeout_seconds: float,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._schema = schema
        self._max_tokens = max_tokens
        self._max_body_bytes = max_body_bytes
        self._max_query_string_bytes = max_query_string_bytes
        self._timeout = request_timeout_seconds
        self._clock = clock

    # -- routes ---------------------------------------------------------------------------
    async def packages(self, request: Request) -> Response:
        return await self._serve(request, "datapakker.list", self._list)

    async def package(self, request: Request) -> Response:
        return await self._serve(request, "datapakker.download", self._download)

    async def export(self, request: Request) -> Response:
        return await self._serve(request, "export", self._export, methods=("POST",))

    def graphql_or_file(self, graphql: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """``/graphql``: JSON by the GraphQL endpoint, unless the client prefers a CSV/Parquet file."""

        async def route(request: Request) -> Response:
            if graphql_export.wanted_file(request.headers.get("accept")) is None:
                return await graphql(request)
            return await self._serve(request, "export", self._graphql_file, methods=("GET", "POST"), graphql=True)

        return route

    # -- handlers (run in a worker thread: the session reads databases) --------------------
    def _list(self, request: Request, principal: Principal, trail: RequestTrail, body: bytes) -> _Outcome:
        session = self._session(request, principal, trail)
        offers = service.list_packages(session, principal.kommune_kode)
        document = {"packages": [_offer(version) for version in offers]}
        return _Outcome(response=lambda headers: _json(200, document, headers))

    def _download(self, request: Request, principal: Principal, trail: RequestTrail, body: bytes) -> _Outcome:
        wanted = request.path_params["package"]
        session = self._session(request, principal, trail)
        try:
            current = service.package_version(session, wanted, principal.kommune_kode, principal.login)
            if _not_modified(request, current):
                headers = {**_validators(current), "cache-control": PACKAGE_CACHE_CONTROL}
                return _Outcome(status=304, reason="not modified", response=lambda h: Response(status_code=304, headers={**h, **headers}))
            package = service.read_package(session, wanted, principal.kommune_kode, principal.login)
        except AccessDeniedError:
            reason = trail.denial_reason or f"{wanted}: no such data package"
            message = (f"Either the user, '{principal.login}', may not fetch the data package '{wanted[:100]}', "
                       "or the data package does not exist.")
            body_json = error_body(message, "ACCESS_DENIED")
            return _Outcome(status=404, outcome="denied", reason=reason, response=lambda h: _json(404, body_json, h))
        version = package.version
        headers = {
            **_validators(version),
            "content-disposition": f'attachment; filename="{version.file_name}"',
            "cache-control": PACKAGE_CACHE_CONTROL,
        }
        chunks = package.zip_chunks() if request.method == "GET" else iter(())
        return _Outcome(
            cells=package.cells,
            response=lambda h: StreamingResponse(chunks, media_type="application/zip", headers={**h, **headers}),
        )

    def _export(self, request: Request, principal: Principal, trail: RequestTrail, body: bytes) -> _Outcome:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise RequestRejected(400, "MALFORMED_JSON", "The request body is not valid JSON.") from None
        if not isinstance(document, dict) or not isinstance(document.get("catalog"), str):
            raise RequestRejected(400, "MALFORMED_REQUEST", "Send {\"catalog\": \"FLIS ...\", \"query\": {CubeQuery}}.")
        chosen = export.choose_format(request.query_params.get("format"), request.headers.get("accept"))
        return self._file(request, principal, trail, document["catalog"], document.get("query"), chosen)

    def _graphql_file(
        self, request: Request, principal: Principal, trail: RequestTrail, graphql_request: GraphQLRequest
    ) -> _Outcome:
        catalog, query = graphql_export.execute_arguments(self._schema, graphql_request, max_tokens=self._max_tokens)
        chosen = graphql_export.wanted_file(request.headers.get("accept")) or "csv"
        return self._file(request, principal, trail, catalog, query, chosen)

    def _file(self, request: Request, principal: Principal, trail: RequestTrail, catalog_name: str, query_json: object,
              chosen: str) -> _Outcome:
        """The cube query's result as a CSV or Parquet file, through the session."""
        session = self._session(request, principal, trail)
        catalog = session.open_catalog(catalog_name, Action.EXECUTE)  # access first: the denial beats any complaint
        wanted = export.query_input_from_json(query_json)
        query = cube_query_from_input(wanted)
        cellset = session.query_totals(catalog, query) if wanted.totals else session.query_catalog(catalog, query)
        stem = f"{catalog.ref.name} {cellset.cube}".replace("/", "-")
        headers = {"content-disposition": f'attachment; filename="{_ascii(stem)}.{chosen}"'}
        if chosen == "parquet":
            data = export.parquet_file(cellset)
            return _Outcome(cells=len(cellset.cells), response=lambda h: Response(
                data, media_type=export.FORMATS[chosen], headers={**h, **headers}))
        chunks = export.csv_file(cellset)
        return _Outcome(cells=len(cellset.cells), response=lambda h: StreamingResponse(
            chunks, media_type=export.FORMATS[chosen], headers={**h, **headers}))

    # -- the common path --------------------------------------------------------------------
    def _session(self, request: Request, principal: Principal, trail: RequestTrail) -> Any:
        return self._sessions(principal, trail, revision=request.scope.get(REVISION_SCOPE_KEY))

    async def _serve(
        self,
        request: Request,
        operation: str,
        handler: Callable[[Request, Principal, RequestTrail, Any], _Outcome],
        *,
        methods: tuple[str, ...] = READ_METHODS,
        graphql: bool = False,
    ) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request.scope)
        principal: Principal = request.scope["principal"]  # set by the identity middleware, or never here
        trail = RequestTrail(deadline=time.monotonic() + self._timeout)
        graphql_request: GraphQLRequest | None = None
        try:
            if request.method not in methods:
                raise RequestRejected(405, "METHOD_NOT_ALLOWED", f"Use {' or '.join(methods)} here.")
            if graphql:  # the GraphQL request as /graphql reads it (GET or POST, same limits and errors)
                graphql_request = await read_graphql_request(
                    request, max_body_bytes=self._max_body_bytes, max_query_string_bytes=self._max_query_string_bytes
                )
                payload: object = graphql_request
            else:
                payload = await self._body(request) if request.method == "POST" else b""
            result = await run_in_threadpool(handler, request, principal, trail, payload)
        except RequestRejected as rejected:
            result = _error(rejected.status, rejected.code, rejected.message, "failed")
        except ClientDisconnect:
            result = _error(400, "MALFORMED_REQUEST", "The request was not received in full.", "failed")
        except AccessDeniedError as denied:
            result = _error(404, denied.code, str(denied), "denied")
        except QueryTimeoutError as error:
            result = _error(504, "TIMEOUT", str(error), "failed")
        except UserError as error:
            result = _error(422 if error.code != "BAD_REQUEST" else 400, error.code, str(error), "failed")
        except Exception:  # noqa: BLE001 - ours to fix; still a JSON answer, still audited
            logger.exception("request %s failed in the download door", request_id)
            result = _error(500, "INTERNAL_SERVER_ERROR",
                            INTERNAL_MESSAGE.format(request_id=request_id), "failed")
            result.reason = "INTERNAL: failed in the download door"
        event = request_event(
            principal,
            client_address=request.client.host if request.client else None,
            operation=",".join([operation, *trail.operations]),
            database=",".join(trail.databases) or None,
            query=_audited_query(request, graphql_request),
            outcome=result.outcome,  # type: ignore[arg-type]
            reason=trail.denial_reason if result.outcome == "denied" and trail.denial_reason else result.reason,
            cells=result.cells,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=request_id,
            time=self._clock(),
        )
        try:
            await self._audit.record(event)
        except Exception:  # noqa: BLE001 - fail closed: no audit, no answer
            logger.exception("audit write failed; refusing request %s", request_id)
            body = error_body(UNAVAILABLE_MESSAGE, "SERVICE_UNAVAILABLE")
            return _json(503, body, {"x-request-id": request_id, "cache-control": "no-store"})
        return result.response({"x-request-id": request_id})

    async def _body(self, request: Request) -> bytes:
        received = await read_bounded_body(request, self._max_body_bytes)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestRejected(415, "UNSUPPORTED_MEDIA_TYPE", "Send the query as application/json.")
        return received


def _audited_query(request: Request, graphql_request: GraphQLRequest | None) -> str:
    """The request line, the conditional headers, and for a GraphQL file request its document."""
    text = f"{request.method} {request.url.path}"[:1000] + _conditions(request)
    if graphql_request is not None:
        variables = json.dumps(graphql_request.variables, ensure_ascii=False, sort_keys=True, default=str)
        text += f"\n{graphql_request.query}\n# variables: {variables}"
    return text[:MAX_AUDITED_QUERY_CHARS]


def _error(status: int, code: str, message: str, outcome: str) -> _Outcome:
    body = error_body(message, code)
    return _Outcome(status=status, outcome=outcome, reason=f"{code}: {message}"[:500],
                    response=lambda h: _json(status, body, h))


def _offer(version: service.PackageVersion) -> dict[str, Any]:
    package = version.package
    return {
        "id": package.id,
        "number": package.number,
        "title": package.title,
        "database": package.database,
        "file": version.file_name,
        "dataAsOf": version.data_as_of.isoformat() if version.data_as_of else None,
        "lastModified": version.last_modified.isoformat() if version.last_modified else None,
        "etag": version.etag,
        "href": f"/datapakker/{package.id}",
    }


def _validators(version: service.PackageVersion) -> dict[str, str]:
    headers = {"etag": version.etag}
    if version.last_modified is not None:
        headers["last-modified"] = email.utils.format_datetime(version.last_modified, usegmt=True)
    return headers


def _not_modified(request: Request, version: service.PackageVersion) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since (seconds)."""
    none_match = request.headers.get("if-none-match")
    if none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in none_match.split(",")}
        return "*" in tags or version.etag in tags
    since = request.headers.get("if-modified-since")
    if since is None or version.last_modified is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return version.last_modified <= when


def _conditions(request: Request) -> str:
    parts = [f"{name}: {request.headers[name][:200]}" for name in ("if-none-match", "if-modified-since") if name in request.headers]
    return ("\n# " + "; ".join(parts)) if parts else ""


def _ascii(text: str) -> str:
    """A file name every browser and curl accepts in Content-Disposition."""
    import unicodedata

    folded = text.translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"}))
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() or c in " -_." else "_" for c in plain).strip() or "export"


def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return Response(content, status_code=status, media_type="application/json",
                    headers={"cache-control": "no-store", **headers})
