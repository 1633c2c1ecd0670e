"""What ``dataadgang serve`` runs: the gateway with the administration portal at ``/admin``,
both behind the one identity step (same CA, same principal lookup); or the portal alone.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from admin.portal import create_portal
from gateway.app import Gateway, build_gateway, create_app, load_ca_certificates
from gateway.identity.middleware import identity_middleware
from gateway.settings import Settings

PORTAL_PATH = "/admin"
logger = logging.getLogger("admin.server")


def create_server_app(settings: Settings, *, gateway: Gateway | None = None, **kw: Any) -> Any:
    """The gateway app with the portal mounted at ``/admin`` (one process, one port)."""
    gateway = gateway or build_gateway(settings)
    portal = create_portal(store=gateway.store, settings=settings, catalog=gateway.catalog, registry=gateway.registry)
    return create_app(settings, gateway=gateway, mounts=(Mount(PORTAL_PATH, app=portal),), **kw)


def create_portal_app(settings: Settings, *, gateway: Gateway | None = None, **kw: Any) -> Any:
    """The portal alone under ``/admin`` (its own port, for deployments that separate it)."""
    gateway = gateway or build_gateway(settings)
    portal = create_portal(store=gateway.store, settings=settings, catalog=gateway.catalog, registry=gateway.registry)
    app = Starlette(routes=[Mount(PORTAL_PATH, app=portal)])
    return identity_middleware(
        app,
        settings=settings,
        source=gateway.store.identity_source(),
        ca_certificates=kw.get("ca_certificates") or load_ca_certificates(settings),
        offload_lookups=gateway.store.database.dialect != "sqlite",
    )


def app_from_env() -> Any:
    """uvicorn factory for worker processes (``admin.server:app_from_env``)."""
    return create_server_app(Settings.from_env())


def portal_app_from_env() -> Any:
    return create_portal_app(Settings.from_env())
