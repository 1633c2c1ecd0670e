"""What ``dataadgang serve`` runs: the gateway with the administration portal at ``/admin``,
both behind the one identity step (same CA, same principal lookup); or the portal alone.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from admin.portal import create_portal
from admin.portal.app import form_targets
from admin.portal.security import SecurityHeaders
from gateway.app import Gateway, build_gateway, create_app, load_ca_certificates
from gateway.identity.middleware import identity_middleware
from gateway.settings import Settings

PORTAL_PATH = "/admin"
logger = logging.getLogger("admin.server")


def create_server_app(settings: Settings, *, gateway: Gateway | None = None, **kw: Any) -> Any:
    """The gateway app with the portal mounted at ``/admin`` (one process, one port)."""
    gateway = gateway or build_gateway(settings)
    portal = create_portal(store=gateway.store, settings=settings, catalog=gateway.catalog, registry=gateway.registry)
    app = create_app(settings, gateway=gateway, mounts=(Mount(PORTAL_PATH, app=portal),), **kw)
    return portal_headers(app, settings)


def portal_headers(app: Any, settings: Settings) -> Any:
    """The portal's security headers on every answer under ``/admin``, also those the identity
    step in front of the portal gives (a revoked certificate refused at the login page)."""
    return SecurityHeaders(app, form_targets=form_targets(settings), under=PORTAL_PATH)


def create_portal_app(settings: Settings, *, gateway: Gateway | None = None, **kw: Any) -> Any:
    """The portal alone under ``/admin`` (its own port, for deployments that separate it).

    Served with the client certificate optional (as the gateway is): a browser
    that presents one goes through the gateway's identity step exactly as at the gateway (and
    is refused there if the certificate is revoked); one that presents none reaches the portal
    without a principal and can log in only with OpenID Connect.
    """
    gateway = gateway or build_gateway(settings)
    portal = create_portal(store=gateway.store, settings=settings, catalog=gateway.catalog, registry=gateway.registry)
    app = Starlette(routes=[Mount(PORTAL_PATH, app=portal)])
    with_identity = identity_middleware(
        app,
        settings=settings,
        source=gateway.store.identity_source(),
        ca_certificates=kw.get("ca_certificates") or load_ca_certificates(settings),
        offload_lookups=gateway.store.database.dialect != "sqlite",
    )
    return portal_headers(CertificateOptional(with_identity, without=app), settings)


class CertificateOptional:
    """Pure ASGI: requests with a client certificate take the identity step, others skip it.

    In proxy mode the proxy decides what it forwards, so every request takes the identity step.
    """

    def __init__(self, with_identity: Any, *, without: Any) -> None:
        self.with_identity = with_identity
        self.without = without

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        tls = (scope.get("extensions") or {}).get("tls")
        presented = bool(tls.get("client_cert_chain")) if isinstance(tls, dict) else True
        await (self.with_identity if presented else self.without)(scope, receive, send)


def app_from_env() -> Any:
    """uvicorn factory for worker processes (``admin.server:app_from_env``)."""
    return create_server_app(Settings.from_env())


def portal_app_from_env() -> Any:
    return create_portal_app(Settings.from_env())
