"""The portal as an ASGI app: who is logged in, which role may see which page, one CSRF check.

Every route is declared through :meth:`Portal.page` (reads) or :meth:`Portal.action` (state
changes). Those two wrappers are the only place that loads the session, checks the role, checks
the CSRF token and turns service errors into pages, so a new route cannot forget any of it.
Handlers are plain functions run in a worker thread (the store is synchronous).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import jinja2
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from admin.portal.i18n import Messages
from admin.portal.oidc import OIDCClient, OIDCConfig
from admin.portal.security import CSRF_FIELD, SESSION_COOKIE, LoginGuard, SecurityHeaders, server_secret, tokens_match
from admin.portal.session import PortalUser, load_portal_user
from gateway.errors import UserError
from gateway.model import Catalog, load_catalog
from gateway.principal import Role
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings
from gateway.store.errors import ConflictError, ForbiddenError, RecordNotFoundError
from gateway.store.store import MetadataStore

HERE = Path(__file__).resolve().parent
PORTAL_ROLES = frozenset({Role.SECURITY_OFFICER, Role.AUDITOR, Role.OPERATOR})
OFFICER = (Role.SECURITY_OFFICER, Role.OPERATOR)

PageHandler = Callable[..., Response]


@dataclass(frozen=True)
class PortalConfig:
    settings: Settings
    ca_dir: Path

    @property
    def idle(self) -> Any:
        import datetime as dt

        return dt.timedelta(minutes=self.settings.portal_idle_minutes)

    @property
    def absolute(self) -> Any:
        import datetime as dt

        return dt.timedelta(hours=self.settings.portal_absolute_hours)


class Portal:
    """The parts every handler needs; built once per app."""

    def __init__(
        self,
        *,
        store: MetadataStore,
        catalog: Catalog,
        settings: Settings,
        registry: DatabaseRegistry | None = None,
        messages: Messages | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.registry = registry
        self.config = PortalConfig(settings=settings, ca_dir=settings.ca_dir)
        self.t = messages or Messages()
        secret = server_secret(settings.home / "portal")
        self.login_guard = LoginGuard(secret)
        oidc_config = OIDCConfig.from_settings(settings)
        self.oidc = OIDCClient(oidc_config, secret) if oidc_config else None
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(t=self.t, Role=Role)
        self.templates.filters.update(dato=self.t.date, tid=self.t.datetime, tal=self.t.number)

    # -- rendering --------------------------------------------------------------------------
    def render(
        self, request: Request, user: PortalUser | None, template: str, *, http_status: int = 200, **values: Any
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            base=request.scope.get("root_path", ""),
            me=user,
            csrf_token=user.session.csrf_token if user else "",
            csrf_field=CSRF_FIELD,
            now=self.store.now(),
            **values,
        )
        return HTMLResponse(html, status_code=http_status)

    def error_page(self, request: Request, user: PortalUser | None, status: int, message: str) -> HTMLResponse:
        return self.render(request, user, "error.html", http_status=status, message=message)

    def not_found(self, request: Request, user: PortalUser | None) -> HTMLResponse:
        """One answer for 'missing' and 'another kommune's': the page names no object."""
        return self.error_page(request, user, 404, self.t("error.not_found"))

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303)

    def absolute_url(self, request: Request, path: str) -> str:
        """This portal's own URL for ``path`` (the provider checks it against what is registered)."""
        return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}{path}"

    # -- the two kinds of route ---------------------------------------------------------------
    def page(self, *roles: Role, audited: str | None = None) -> Callable[[PageHandler], Callable[[Request], Any]]:
        """A read: a live session with one of ``roles`` (any portal role when none given).

        ``audited`` names the ``admin.*`` operation of a read that consumes something (the
        one-time download): its refusals are recorded as for an action."""
        return functools.partial(self._wrap, roles=roles, changes_state=False, operation=audited)

    def action(self, *roles: Role, operation: str) -> Callable[[PageHandler], Callable[[Request], Any]]:
        """A state change (POST): as :meth:`page`, plus the session's CSRF token in the form; a
        refusal is recorded as one ``denied`` audit event of ``operation``."""
        return functools.partial(self._wrap, roles=roles, changes_state=True, operation=operation)

    def _wrap(
        self, handler: PageHandler, *, roles: Sequence[Role], changes_state: bool, operation: str | None
    ) -> Callable[[Request], Any]:
        wanted = frozenset(roles) or PORTAL_ROLES

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            form = await request.form() if changes_state else None
            try:
                return await anyio.to_thread.run_sync(self._run, handler, request, form, wanted, changes_state, operation)
            finally:
                if form is not None:
                    await form.close()

        return endpoint

    def _run(
        self,
        handler: PageHandler,
        request: Request,
        form: FormData | None,
        wanted: frozenset[Role],
        changes_state: bool,
        operation: str | None,
    ) -> Response:
        user = load_portal_user(self, request)
        if user is None:
            if changes_state:
                return self.error_page(request, None, 403, self.t("error.session_expired"))
            return self.redirect(request, "/login")
        refused = functools.partial(self._refused, request, user, operation)
        if changes_state and (form is None or not tokens_match(user.session.csrf_token, form.get(CSRF_FIELD))):
            return refused(403, self.t("error.csrf"), "CSRF: the form's token is missing or not this session's")
        if not user.roles & wanted:
            return refused(403, self.t("error.forbidden"), "FORBIDDEN: the route needs another role")
        try:
            return handler(self, request, user, form) if changes_state else handler(self, request, user)
        except RecordNotFoundError as error:
            return refused(404, self.t("error.not_found"), _reason(error))
        except ForbiddenError as error:
            return refused(403, self.t("error.refused", detail=self.t.error(error)), _reason(error))
        except ConflictError as error:
            return refused(409, self.t("error.refused", detail=self.t.error(error)), _reason(error))
        except UserError as error:
            return refused(400, self.t("error.refused", detail=self.t.error(error)), _reason(error))

    def _refused(
        self, request: Request, user: PortalUser, operation: str | None, status: int, message: str, reason: str
    ) -> HTMLResponse:
        """The error page; for an audited route also one ``denied`` event naming what was asked.

        The event names the request (method and path, so the object id as given) and the error
        class, nothing looked up: another kommune's object and a missing one leave the same trace.
        """
        if operation is not None:
            detail = f"refused {request.method} {request.url.path}"
            self.store.record_refused(user.actor, operation, detail=detail, reason=reason)
        return self.error_page(request, user, status, message)


def _reason(error: UserError) -> str:
    return f"{error.code}: {error}"


def create_portal(
    *,
    store: MetadataStore,
    settings: Settings,
    catalog: Catalog | None = None,
    registry: DatabaseRegistry | None = None,
) -> Any:
    """The portal app; mount it at ``/admin`` (``admin.server``) or serve it on its own port."""
    from admin.portal.views import routes

    portal = Portal(store=store, catalog=catalog or load_catalog(settings.schema_dir), settings=settings, registry=registry)
    all_routes: list[BaseRoute] = [
        *routes(portal),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def not_found(request: Request, _exc: Exception) -> Response:
        user = await anyio.to_thread.run_sync(load_portal_user, portal, request)
        return portal.not_found(request, user)

    app = Starlette(routes=all_routes, exception_handlers={404: not_found})
    app.state.portal = portal
    return SecurityHeaders(app, form_targets=form_targets(settings))


def form_targets(settings: Settings) -> tuple[str, ...]:
    """Where the portal's forms may end besides itself: the OpenID Connect provider, if any."""
    issuer = httpx.URL(settings.oidc_issuer) if settings.oidc_issuer else None
    return (f"{issuer.scheme}://{issuer.netloc.decode()}",) if issuer else ()


__all__ = ["OFFICER", "PORTAL_ROLES", "Portal", "create_portal", "Route", "SESSION_COOKIE"]
