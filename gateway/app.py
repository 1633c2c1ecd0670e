"""Build the gateway's ASGI app from settings: every dependency made here and passed down.

``create_app`` is the only place that wires the parts together (model, registry, metadata
store, identity, audit, GraphQL). Tests build a fresh app each, with their own home.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.http.ides import get_graphql_ide_html

from gateway.api.endpoint import EndpointConfig, GraphQLEndpoint
from gateway.api.response_cache import ResponseCache
from gateway.api.schema import build_schema
from gateway.api.session import SessionFactory
from gateway.key_file import load_or_create
from gateway.audit import AuditBroker, AuditLog, request_event
from gateway.deliveries.door import DeliveryDoor
from gateway.engine.cache import EngineCache
from gateway.identity.middleware import REQUEST_ID_SCOPE_KEY, identity_middleware
from gateway.model import Catalog, load_catalog
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings
from gateway.store.store import MetadataStore
from gateway.xmla.endpoint import XmlaConfig, XmlaEndpoint

logger = logging.getLogger("gateway")

CA_CERT_FILE = "ca.crt.pem"
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class Gateway:
    """The parts one running gateway is made of."""

    settings: Settings
    catalog: Catalog
    registry: DatabaseRegistry
    store: MetadataStore
    audit: AuditLog
    sessions: SessionFactory
    responses: ResponseCache  # whole GraphQL answers; sits above the result cache, so off with it


def build_gateway(settings: Settings, *, store: MetadataStore | None = None) -> Gateway:
    catalog = load_catalog(settings.schema_dir)
    registry = DatabaseRegistry.from_settings(settings)
    if store is None:
        store = MetadataStore.from_settings(settings)
        store.migrate()
    audit = store.audit_log()
    cache = EngineCache(result_cells=settings.result_cache_cells)
    sessions = SessionFactory(
        settings=settings,
        catalog=catalog,
        registry=registry,
        store=store,
        cache=cache,
        disclosure_key=load_or_create(settings.resolved_disclosure_key_file),
    )
    responses = ResponseCache(settings.response_cache_bytes if settings.result_cache_cells > 0 else 0)
    return Gateway(
        settings=settings, catalog=catalog, registry=registry, store=store, audit=audit, sessions=sessions, responses=responses
    )


def load_ca_certificates(settings: Settings) -> list[x509.Certificate]:
    """The CA certificate(s) client certificates must chain to; the gateway never needs the CA key."""
    path = settings.ca_cert_file or settings.ca_dir / CA_CERT_FILE
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except FileNotFoundError:
        raise SystemExit(f"No CA certificate at {path}: run 'dataadgang pki init' (or set DATAADGANG_CA_CERT).") from None


def create_app(
    settings: Settings,
    *,
    gateway: Gateway | None = None,
    ca_certificates: list[x509.Certificate] | None = None,
    mounts: tuple[BaseRoute, ...] = (),
) -> Any:
    """The ASGI app: identity middleware around a small Starlette app serving ``/graphql``,
    ``/xmla`` (also ``POST /`` with an XML body, the bare server URL Excel and Power BI are given),
    ``/datapakker`` and ``/export``.

    ``mounts`` adds other apps behind the same identity step (``admin.server`` mounts the
    portal at ``/admin`` this way; the gateway itself never imports the control plane).
    """
    gateway = gateway or build_gateway(settings)
    schema = build_schema(
        max_depth=settings.max_query_depth, max_aliases=settings.max_aliases, max_tokens=settings.max_tokens
    )
    # group commit; each request still waits for its own event; the head is signed periodically
    audit = AuditBroker(gateway.audit, checkpoint_seconds=settings.audit_checkpoint_seconds)
    endpoint = GraphQLEndpoint(
        schema=schema,
        sessions=gateway.sessions,
        audit=audit,
        config=EndpointConfig(
            max_body_bytes=settings.max_body_bytes,
            max_query_string_bytes=settings.max_query_string_bytes,
            request_timeout_seconds=settings.query_timeout_seconds + 5,
        ),
        response_cache=gateway.responses,
    )

    downloads = DeliveryDoor(
        sessions=gateway.sessions,
        audit=audit,
        schema=schema,
        max_body_bytes=settings.max_body_bytes,
        max_query_string_bytes=settings.max_query_string_bytes,
        max_tokens=settings.max_tokens,
        request_timeout_seconds=settings.query_timeout_seconds + 5,
    )

    xmla = XmlaEndpoint(
        sessions=gateway.sessions,
        xmla_sessions=gateway.store.xmla_sessions(),
        audit=audit,
        config=XmlaConfig(
            max_body_bytes=settings.max_body_bytes, request_timeout_seconds=settings.query_timeout_seconds + 5
        ),
    )

    async def server_root(request: Request) -> Response:
        """The bare server URL: XMLA clients (Excel, Power BI) POST their SOAP here."""
        if XmlaEndpoint.is_xmla(request):
            return await xmla.handle(request)
        return await endpoint.not_found(request)

    async def graphiql(request: Request) -> Response:
        if request.method == "GET" and "text/html" in request.headers.get("accept", "") and "query" not in request.query_params:
            return HTMLResponse(get_graphql_ide_html("graphiql"))
        return await endpoint.handle(request)

    async def healthz(request: Request) -> Response:
        # reveals nothing, so it needs no audit event; carries its request id like every answer
        return JSONResponse({"status": "ok"}, headers={"x-request-id": request.scope[REQUEST_ID_SCOPE_KEY]})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await audit.close()  # seals the tail this worker wrote since its last checkpoint
        gateway.registry.close()

    routes = [
        # every method reaches the endpoint, so a wrong one is answered (405) and audited like any request
        Route("/graphql", downloads.graphql_or_file(graphiql if settings.graphiql else endpoint.handle), methods=ALL_METHODS),
        Route("/datapakker", downloads.packages, methods=ALL_METHODS),
        Route("/datapakker/{package}", downloads.package, methods=ALL_METHODS),
        Route("/export", downloads.export, methods=ALL_METHODS),
        Route("/xmla", xmla.handle, methods=ALL_METHODS),
        Route("/", server_root, methods=ALL_METHODS),
        Route("/healthz", healthz, methods=["GET"]),
        *mounts,
        Route("/{path:path}", endpoint.not_found, methods=ALL_METHODS),  # last: anything else, audited
    ]
    app = Starlette(routes=routes, lifespan=lifespan)

    identity_source = gateway.store.identity_source()

    async def on_refused(scope: Any, reason: str, fingerprint: str | None) -> None:
        client = scope.get("client")
        owner = None if fingerprint is None else await run_in_threadpool(identity_source.owner_of, fingerprint)
        event = request_event(
            None,
            client_address=client[0] if client else None,
            operation="identity",
            outcome="refused",
            reason=reason,
            cert_fingerprint=fingerprint,
            owner=owner,  # a revoked or suspended user's attempts show in their kommune's trail
            request_id=scope.get(REQUEST_ID_SCOPE_KEY),
        )
        await audit.record(event)

    return identity_middleware(
        app,
        settings=settings,
        source=identity_source,
        ca_certificates=ca_certificates if ca_certificates is not None else load_ca_certificates(settings),
        on_refused=on_refused,
        render_refusal=XmlaEndpoint.render_refusal,  # the XMLA door refuses in SOAP
        # SQLite: a one-row revision read (~20 µs) costs less than a hop to the thread pool and
        # back; a networked store must not stall the event loop, so its lookups go to threads
        offload_lookups=gateway.store.database.dialect != "sqlite",
    )


def app_from_env() -> Any:
    """The gateway alone as a uvicorn factory (``gateway.app:app_from_env``); ``dataadgang serve``
    runs ``admin.server:app_from_env``, the gateway with the portal mounted."""
    return create_app(Settings.from_env())
