"""Web security of the portal in one place: response headers (a strict CSP without inline
script), the ``__Host-`` cookies, and the CSRF checks.

CSRF is the synchroniser-token pattern (OWASP's primary defence): each server-side session has
its own random token, every form carries it, every state change compares it in constant time.
Before login there is no session, so the login form uses OWASP's signed double-submit cookie:
a random value in a ``__Host-`` cookie and its HMAC under the server's secret in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.responses import Response

SESSION_COOKIE = "__Host-dataadgang-session"
LOGIN_COOKIE = "__Host-dataadgang-login"
CSRF_FIELD = "csrf_token"



def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """No inline script or style, nothing from elsewhere; forms post to the portal itself and,
    with OpenID Connect, may end at the provider (logout redirects there after the POST)."""
    form_action = " ".join(("'self'", *form_targets))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
        f"connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000"),
    (b"cache-control", b"no-store"),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class SecurityHeaders:
    """Pure ASGI: adds the headers to every response of the wrapped app (pages, files, errors).

    With ``under`` only to responses for paths below it: the server wraps the whole app so that
    answers given in front of the portal (the identity step refusing a revoked certificate at
    ``/admin/login``) carry them too, and the gateway's API answers stay as they are.
    """

    def __init__(self, app: ASGIApp, *, form_targets: tuple[str, ...] = (), under: str | None = None) -> None:
        self.app = app
        policy = (b"content-security-policy", content_security_policy(form_targets).encode())
        self.headers = (policy, *HEADERS)
        self.under = under

    def _applies(self, scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        if self.under is None:
            return True
        path = scope.get("root_path", "") + scope.get("path", "")
        return path == self.under or path.startswith(self.under + "/")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def set_cookie(response: Response, name: str, value: str) -> None:
    """``__Host-``: Secure, Path=/, no Domain, so no sibling host can set or read it.

    SameSite=Lax, not Strict: the OpenID Connect provider redirects back cross-site, and the
    CSRF token guards every state change anyway.
    """
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="lax")


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


def tokens_match(expected: str | None, given: object) -> bool:
    return isinstance(expected, str) and isinstance(given, str) and bool(expected) and hmac.compare_digest(expected, given)


class LoginGuard:
    """The signed double-submit cookie for forms shown before anyone is logged in."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self) -> tuple[str, str]:
        """(cookie value, form token)."""
        value = secrets.token_urlsafe(32)
        return value, self._sign(value)

    def form_token(self, cookie_value: str) -> str:
        return self._sign(cookie_value)

    def check(self, cookie_value: str | None, form_token: object) -> bool:
        if not cookie_value:
            return False
        return tokens_match(self._sign(cookie_value), form_token)

    def _sign(self, value: str) -> str:
        return hmac.new(self._secret, b"login-csrf\0" + value.encode(), hashlib.sha256).hexdigest()


def server_secret(directory: Path) -> bytes:
    """The portal's HMAC key, made once (0600) and shared by every worker through the file."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "secret"
    if path.exists():
        return path.read_bytes()
    draft = directory / f".secret.{secrets.token_hex(8)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    try:
        os.link(draft, path)  # atomic: the first worker's key wins, complete
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_bytes()
