"""Logging in (the client certificate the browser presented, or OpenID Connect), and out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import functools
import logging

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from admin.portal.oidc import STATE_COOKIE, OIDCError
from admin.portal.security import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, delete_cookie, set_cookie
from admin.portal.session import PortalUser, load_portal_user, request_principal

logger = logging.getLogger("admin.portal.login")
CALLBACK = "/login/oidc/callback"

if TYPE_CHECKING:
    from admin.portal.app import Portal
    from gateway.store.views import UserView


def routes(portal: Portal) -> list[BaseRoute]:
    async def login_page(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_page, portal, request)

    async def login_certificate(request: Request) -> Response:
        form = await request.form()
        try:
            return await anyio.to_thread.run_sync(_login_certificate, portal, request, form)
        finally:
            await form.close()

    async def login_oidc(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_oidc, portal, request)

    async def login_oidc_callback(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_login_oidc_callback, portal, request)

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login/certifikat", login_certificate, methods=["POST"]),
        Route("/login/oidc", login_oidc, methods=["GET"]),
        Route(CALLBACK, login_oidc_callback, methods=["GET"]),
        Route("/logout", portal.action(operation="admin.session.logout")(_logout), methods=["POST"]),
    ]


def _login_page(portal: Portal, request: Request) -> Response:
    if load_portal_user(portal, request) is not None:
        return portal.redirect(request, "/")
    cookie, token = portal.login_guard.issue()
    principal = request_principal(request)
    response = portal.render(
        request, None, "login.html", login_token=token, certificate_login=principal, oidc=portal.oidc is not None
    )
    set_cookie(response, LOGIN_COOKIE, cookie)
    return response


def _login_certificate(portal: Portal, request: Request, form: FormData) -> Response:
    principal = request_principal(request)
    login, kommune = (principal.login, principal.kommune_kode) if principal else (None, None)
    refuse = functools.partial(_refused_login, portal, request, login=login, kommune=kommune, method="certificate")
    if not portal.login_guard.check(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return refuse(403, portal.t("error.csrf"), "CSRF: the login form's token is missing or not this browser's")
    if principal is None:
        return refuse(401, portal.t("login.no_certificate"), "NO_CERTIFICATE: no valid client certificate")
    user = portal.store.user_by_id(principal.user_id)
    refusal = _login_refusal(portal, user)
    if refusal is not None:
        return refuse(403, portal.t("login.no_role"), refusal)
    assert user is not None
    client = request.client.host if request.client else None
    token, _session = portal.store.start_portal_session(
        user, method="certificate", cert_fingerprint=principal.cert_fingerprint, client_address=client
    )
    response = portal.redirect(request, "/")
    set_cookie(response, SESSION_COOKIE, token)
    delete_cookie(response, LOGIN_COOKIE)
    return response


def _start_session(portal: Portal, request: Request, user_login: str, **session: str | None) -> Response:
    user = portal.store.user_by_login(user_login)
    refusal = _login_refusal(portal, user)
    if refusal is not None:
        return _refused_login(portal, request, 403, portal.t("login.no_role"), refusal, login=user_login,
                              kommune=user.kommune_kode if user else None, method=str(session.get("method")))
    assert user is not None
    client = request.client.host if request.client else None
    token, _session = portal.store.start_portal_session(user, client_address=client, **session)  # type: ignore[arg-type]
    response = portal.redirect(request, "/")
    set_cookie(response, SESSION_COOKIE, token)
    delete_cookie(response, LOGIN_COOKIE)
    delete_cookie(response, STATE_COOKIE)
    return response


def _refused_login(
    portal: Portal, request: Request, status: int, message: str, reason: str, *,
    login: str | None, kommune: str | None, method: str,
) -> Response:
    """The error page for a refused login, and its ``denied`` audit event: every door, the
    portal's included, leaves a trace of who tried and why it was refused."""
    client = request.client.host if request.client else None
    portal.store.record_refused_login(login, kommune, method=method, reason=reason, client_address=client)
    return portal.error_page(request, None, status, message)


def _login_refusal(portal: Portal, user: UserView | None) -> str | None:
    """Why this user may not log in to the portal (the audit reason), or None when they may."""
    from admin.portal.app import PORTAL_ROLES

    if user is None:
        return "UNKNOWN_USER: no such user in the store"
    if user.status != "active":
        return f"USER_{user.status.upper()}: the user is {user.status}"
    if not user.roles & PORTAL_ROLES:
        return "NO_PORTAL_ROLE: the user holds none of the portal's roles"
    if not portal.store.kommune_onboarded(user.kommune_kode):
        return "KOMMUNE_OFFBOARDED: the user's kommune is not onboarded"
    return None


def _login_oidc(portal: Portal, request: Request) -> Response:
    if portal.oidc is None:
        return portal.not_found(request, None)
    try:
        started = portal.oidc.start(portal.absolute_url(request, CALLBACK))
    except (OIDCError, OSError, KeyError, ValueError) as error:
        logger.warning("OpenID Connect login could not start: %s", error)
        return portal.error_page(request, None, 503, portal.t("login.oidc_unavailable"))
    response = Response(status_code=303, headers={"location": started.url})
    set_cookie(response, STATE_COOKIE, started.cookie)
    return response


def _login_oidc_callback(portal: Portal, request: Request) -> Response:
    if portal.oidc is None:
        return portal.not_found(request, None)
    params = request.query_params
    try:
        login, id_token = portal.oidc.finish(
            portal.absolute_url(request, CALLBACK), request.cookies.get(STATE_COOKIE), params.get("state"), params.get("code")
        )
    except (OIDCError, OSError, KeyError, ValueError) as error:
        logger.warning("OpenID Connect login refused: %s", error)
        response = _refused_login(portal, request, 403, portal.t("login.oidc_failed"), f"OIDC: {error}",
                                  login=None, kommune=None, method="oidc")
        delete_cookie(response, STATE_COOKIE)
        return response
    return _start_session(portal, request, login, method="oidc", oidc_id_token=id_token)


def _logout(portal: Portal, request: Request, user: PortalUser, form: FormData) -> Response:
    portal.store.end_portal_session(user.actor, user.session.id)
    response = portal.redirect(request, "/login")
    if user.session.method == "oidc" and portal.oidc is not None:
        try:  # end the provider's session too (RP-initiated logout)
            url = portal.oidc.logout_url(user.session.oidc_id_token, portal.absolute_url(request, "/login"))
        except (OIDCError, OSError, KeyError, ValueError) as error:
            logger.warning("OpenID Connect logout not passed on: %s", error)
            url = None
        if url:
            response = Response(status_code=303, headers={"location": url})
    delete_cookie(response, SESSION_COOKIE)
    return response
