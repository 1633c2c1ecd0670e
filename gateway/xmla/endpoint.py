"""The XMLA door: SOAP Discover/Execute over HTTP, as Excel, Power BI and other XMLA clients speak it.

identity (the middleware: ``scope["principal"]``) → read and parse the SOAP request → the XMLA
session header → Discover or Execute through the DataSession (access, plan, engine) → one
SOAP writer → one audit event, written before the answer leaves (none written: a 503 and no
data). The door decides no access and writes no SQL.

Status codes: an XMLA error the client should show (the uniform denial, an unknown name, bad
MDX, a limit) is a SOAP fault in a 200, as SSAS answers, so every client reads its text; a
request that is not XMLA at all is a 4xx with a SOAP fault; only our own failures are a 500.
Every response says ``X-Transport-Caps-Negotiation-Flags: 1,0,0,0,0``: negotiation done, plain
XML both ways, so MSOLAP never sends binary XML or compression.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.api.context import RequestTrail
from gateway.api.request import RequestRejected, read_bounded_body
from gateway.api.session import SessionFactory
from gateway.audit import AuditBroker, AuditEvent, request_event
from gateway.audit.events import MAX_AUDITED_QUERY_CHARS
from gateway.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, AccessDeniedError, LimitExceededError, NotFoundError, UserError
from gateway.identity.middleware import request_id_of
from gateway.identity.middleware import REVISION_SCOPE_KEY
from gateway.principal import Principal
from gateway.store.xmla_sessions import XmlaSessions
from gateway.xmla import writer
from gateway.xmla.execute import execute
from gateway.xmla.discover import DiscoverContext, discover
from gateway.xmla.soap import XmlaClientError, XmlaRequest, parse_request

logger = logging.getLogger("gateway.xmla")

NEGOTIATION_HEADER = "X-Transport-Caps-Negotiation-Flags"
PLAIN_XML = "1,0,0,0,0"  # negotiated; request binary, request compressed, response binary, response compressed: no
XML_CONTENT_TYPES = ("text/xml", "application/xml", "application/soap+xml")

# ErrorCode in the fault's detail: one per kind, so a client can tell them apart
_ERROR_CODES = {"denied": 0xC10A0004, "not_found": 0xC10A0005, "client": 0xC10A0001, "limit": 0xC10A0006,
                "session": 0xC10A0007, "internal": 0xC10A0000, "unavailable": 0xC10A0008}


@dataclass(frozen=True)
class XmlaConfig:
    max_body_bytes: int
    request_timeout_seconds: float


@dataclass
class _Outcome:
    """What the request came to, for the response and its audit event."""

    status: int = 200
    body: bytes = b""
    outcome: str = "served"
    reason: str | None = None
    operation: str = "xmla"
    query: str | None = None


class XmlaEndpoint:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        xmla_sessions: XmlaSessions,
        audit: AuditBroker,
        config: XmlaConfig,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._sessions = sessions
        self._xmla_sessions = xmla_sessions
        self._audit = audit
        self._config = config
        self._clock = clock

    @staticmethod
    def is_xmla(request: Request) -> bool:
        """A POST with an XML body: what an XMLA client sends to the bare server URL."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return request.method == "POST" and content_type in XML_CONTENT_TYPES

    @staticmethod
    def render_refusal(scope: Any, status: int, message: str, code: str) -> tuple[bytes, bytes] | None:
        """The identity step's refusal (no, revoked or unknown certificate; store down) as a SOAP
        fault, for a request to this door: Excel and Power BI show a fault's text, not a JSON
        body. Same status and words as every other door; None for any other request."""
        path = scope.get("path")
        if path != "/xmla" and not (path == "/" and XmlaEndpoint.is_xmla(Request(scope))):
            return None
        kind = "unavailable" if status == 503 else "denied"
        fault_code = "Server" if status == 503 else "Client"
        return b"text/xml; charset=utf-8", writer.fault(fault_code, message, error_code=_ERROR_CODES[kind])

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request.scope)
        principal: Principal = request.scope["principal"]  # set by the identity middleware, or never here
        trail = RequestTrail(deadline=time.monotonic() + self._config.request_timeout_seconds)
        result = _Outcome()
        try:
            await self._serve(request, principal, trail, request_id, result)
        except ClientDisconnect:
            self._fail(result, 400, "client", "The request was not received in full.", "CLIENT_DISCONNECTED")
        except Exception:  # noqa: BLE001 - ours to fix; still a SOAP answer, still audited
            logger.exception("XMLA request %s failed in the endpoint", request_id)
            self._internal(result, request_id)
        try:
            await self._audit.record(self._audit_event(request, principal, trail, result, started, request_id))
        except Exception:  # noqa: BLE001 - fail closed: no audit, no answer
            logger.exception("audit write failed; refusing XMLA request %s", request_id)
            body = writer.fault("Server", UNAVAILABLE_MESSAGE, error_code=_ERROR_CODES["unavailable"])
            return _response(503, body, request_id)
        return _response(result.status, result.body, request_id)

    async def _serve(self, request: Request, principal: Principal, trail: RequestTrail, request_id: str,
                     result: _Outcome) -> None:
        try:
            xmla_request = parse_request(await self._read_body(request))
        except RequestRejected as refusal:
            self._fail(result, refusal.status, "client", refusal.message, refusal.code)
            return
        except XmlaClientError as error:
            self._fail(result, 400, "client", str(error), f"MALFORMED_REQUEST: {error}", fault_code=error.code)
            return
        result.operation = f"xmla.{xmla_request.method.lower()}"
        result.query = _audited_query(xmla_request)
        try:
            session_id = await run_in_threadpool(self._session_step, xmla_request, principal)
            revision = request.scope.get(REVISION_SCOPE_KEY)
            data_session = self._sessions(principal, trail, revision=revision)
            context = DiscoverContext(
                session=data_session,
                restrictions=xmla_request.restrictions,
                properties=xmla_request.properties,
                server_url=str(request.base_url).rstrip("/") + "/xmla",
            )
            content = await asyncio.wait_for(
                run_in_threadpool(_dispatch, xmla_request, context), timeout=self._config.request_timeout_seconds
            )
        except AccessDeniedError as error:
            self._fail(result, 200, "denied", str(error), trail.denial_reason or "ACCESS_DENIED", outcome="denied")
        except _SessionNotFound as error:
            self._fail(result, 200, "session", str(error), "SESSION_NOT_FOUND")
        except NotFoundError as error:
            self._fail(result, 200, "not_found", str(error), f"{error.code}: {error}")
        except LimitExceededError as error:
            self._fail(result, 200, "limit", str(error), f"{error.code}: {error}")
        except (UserError, XmlaClientError) as error:
            audited_as = error.code if isinstance(error, UserError) else "XMLA_CLIENT_ERROR"  # the audit reason only
            self._fail(result, 200, "client", str(error), f"{audited_as}: {error}",
                       fault_code=error.code if isinstance(error, XmlaClientError) else "Client")
        except TimeoutError:
            message = f"The request took longer than {self._config.request_timeout_seconds:g} seconds and was stopped."
            self._fail(result, 200, "limit", message, "TIMEOUT", fault_code="Server")
        else:
            result.body = writer.envelope(content, session_id=session_id)
            result.outcome = "served"

    async def _read_body(self, request: Request) -> bytes:
        if request.method != "POST":
            raise RequestRejected(405, "METHOD_NOT_ALLOWED", "XMLA requests are SOAP messages sent with POST.")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in XML_CONTENT_TYPES:
            raise RequestRejected(415, "UNSUPPORTED_MEDIA_TYPE",
                               "Send the XMLA request as text/xml (binary XML and compression are not offered).")
        return await read_bounded_body(request, self._config.max_body_bytes)

    def _session_step(self, xmla_request: XmlaRequest, principal: Principal) -> str | None:
        """The session the response names: a new one, the continued one, or none (ended/absent)."""
        header = xmla_request.session
        fingerprint = principal.cert_fingerprint
        if header.end_id is not None:
            if not self._xmla_sessions.end(header.end_id, fingerprint):
                raise _SessionNotFound(header.end_id)
            return None
        if header.session_id is not None:
            if not self._xmla_sessions.use(header.session_id, fingerprint):
                raise _SessionNotFound(header.session_id)
            return header.session_id
        if header.begin:
            return self._xmla_sessions.begin(fingerprint)
        return None

    def _fail(self, result: _Outcome, status: int, kind: str, message: str, reason: str, *,
              outcome: str = "failed", fault_code: str = "Client") -> None:
        result.status = status
        result.body = writer.fault(fault_code, message, error_code=_ERROR_CODES[kind])
        result.outcome = outcome
        result.reason = reason

    def _internal(self, result: _Outcome, request_id: str) -> None:
        message = INTERNAL_MESSAGE.format(request_id=request_id)
        self._fail(result, 500, "internal", message, "INTERNAL: failed in the XMLA endpoint", fault_code="Server")

    # -- audit: the door's one place that shapes its events --------------------------------------
    def _audit_event(self, request: Request, principal: Principal, trail: RequestTrail, result: _Outcome,
                     started: float, request_id: str) -> AuditEvent:
        return request_event(
            principal,
            client_address=request.client.host if request.client else None,
            operation=result.operation,
            database=",".join(trail.databases) or None,
            query=result.query,
            outcome=result.outcome,  # type: ignore[arg-type]
            reason=trail.denial_reason if result.outcome == "denied" else result.reason,
            cells=trail.cells,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=request_id,
            time=self._clock(),
        )

def _dispatch(xmla_request: XmlaRequest, context: DiscoverContext) -> str:
    if xmla_request.method == "Discover":
        assert xmla_request.request_type is not None
        rowset, rows = discover(context, xmla_request.request_type)
        return writer.discover_response(rowset.columns, rows)
    return writer.execute_response(execute(context, xmla_request.statement or ""))


def _audited_query(xmla_request: XmlaRequest) -> str:
    """Discover: the request type and its restrictions; Execute: the statement, whitespace collapsed."""
    if xmla_request.method == "Discover":
        restrictions = " ".join(
            f"{name}={'|'.join(values)}" for name, values in sorted(xmla_request.restrictions.items())
        )
        text = f"{xmla_request.request_type} {restrictions}".strip()
    else:
        text = " ".join((xmla_request.statement or "").split()) or "(empty statement)"
    catalog = xmla_request.properties.get("Catalog")
    if catalog:  # first, on its own line: statement text (a comment, say) cannot pose as it
        text = f"# Catalog: {' '.join(catalog.split())}\n{text}"
    return text[:MAX_AUDITED_QUERY_CHARS]


class _SessionNotFound(Exception):
    """An unknown, ended or expired session, or one another certificate opened: the same answer."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"The session '{session_id[:64]}' was not found: it has ended or expired. Connect again to start a new one."
        )


def _response(status: int, body: bytes, request_id: str) -> Response:
    headers = {NEGOTIATION_HEADER: PLAIN_XML, "x-request-id": request_id, "cache-control": "no-store"}
    return Response(body, status_code=status, media_type="text/xml; charset=utf-8", headers=headers)
