"""Login with OpenID Connect: authorization code flow with PKCE, through authlib.

The provider is found by discovery; the ID token's signature is checked against the provider's
published keys, and its issuer, audience, expiry and ``nonce`` by authlib's claim checks; the
``state`` comes back in a ``__Host-`` cookie signed with the portal's secret, so a forged or
replayed callback logs nobody in. The configured claim (``preferred_username`` by default) names
the user in the metadata store; the user needs a portal role, as with a certificate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.settings import Settings

STATE_COOKIE = "__Host-dataadgang-oidc"
STATE_LIFETIME_SECONDS = 600
DISCOVERY_TTL_SECONDS = 300
SIGNING_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]  # asymmetric only: never 'none' or a shared secret


class OIDCError(Exception):
    """The login did not prove who the user is; the text is for the log, never for the page."""


@dataclass(frozen=True)
class OIDCConfig:
    issuer: str
    client_id: str
    client_secret: str
    login_claim: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OIDCConfig | None:
        if not settings.oidc_issuer:
            return None
        return cls(settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_login_claim)


@dataclass(frozen=True)
class LoginStart:
    url: str
    cookie: str  # signed (state, nonce, code verifier) for the callback


class OIDCClient:
    def __init__(self, config: OIDCConfig, secret: bytes) -> None:
        self.config = config
        self._secret = secret
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: Any = None
        self._fetched = 0.0

    # -- discovery ------------------------------------------------------------------------------
    def metadata(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            if refresh or self._metadata is None or time.monotonic() - self._fetched > DISCOVERY_TTL_SECONDS:
                document = httpx.get(f"{self.config.issuer}/.well-known/openid-configuration", timeout=10).json()
                if document.get("issuer", "").rstrip("/") != self.config.issuer:
                    raise OIDCError("discovery document names another issuer")
                self._metadata = document
                self._keys = KeySet.import_key_set(httpx.get(document["jwks_uri"], timeout=10).json())
                self._fetched = time.monotonic()
            return self._metadata

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            redirect_uri=redirect_uri,
            scope="openid profile",
            code_challenge_method="S256",
            timeout=10,
        )

    # -- the two legs ---------------------------------------------------------------------------
    def start(self, redirect_uri: str) -> LoginStart:
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )
        return LoginStart(url=url, cookie=self._sign({"state": state, "nonce": nonce, "verifier": verifier, "at": time.time()}))

    def finish(self, redirect_uri: str, cookie: str | None, state: str | None, code: str | None) -> tuple[str, str]:
        """(login named by the configured claim, raw ID token), or :class:`OIDCError`."""
        pending = self._unsign(cookie)
        if not state or not secrets.compare_digest(str(pending["state"]), state):
            raise OIDCError("state does not match the login this browser started")
        if not code:
            raise OIDCError("no authorization code")
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    self.metadata()["token_endpoint"], code=code, code_verifier=pending["verifier"],
                    grant_type="authorization_code",
                )
            except Exception as error:  # noqa: BLE001 - any token endpoint failure is a failed login
                raise OIDCError(f"token endpoint refused the code: {error}") from error
        id_token = token.get("id_token")
        if not id_token:
            raise OIDCError("no ID token in the token response")
        claims = self.verify_id_token(id_token, nonce=str(pending["nonce"]))
        login = claims.get(self.config.login_claim)
        if not isinstance(login, str) or not login:
            raise OIDCError(f"the ID token has no '{self.config.login_claim}' claim")
        return login, id_token

    def verify_id_token(self, id_token: str, *, nonce: str, now: float | None = None) -> dict[str, Any]:
        """Signature (provider's keys), issuer, audience, expiry, issued-at and nonce."""
        self.metadata()
        checks = jwt.JWTClaimsRegistry(
            now=int(now) if now is not None else None,
            leeway=30,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            token = jwt.decode(id_token, self._keys, algorithms=SIGNING_ALGORITHMS)
            checks.validate(token.claims)
        except JoseError as error:
            raise OIDCError(f"ID token refused: {error}") from error
        except ValueError as error:
            raise OIDCError(f"ID token unreadable: {error}") from error
        return dict(token.claims)

    def logout_url(self, id_token: str | None, post_logout_uri: str) -> str | None:
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"post_logout_redirect_uri": post_logout_uri, "client_id": self.config.client_id}
        if id_token:
            query["id_token_hint"] = id_token
        return str(httpx.URL(endpoint, params=query))

    # -- the signed state cookie ------------------------------------------------------------------
    def _sign(self, data: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
        mac = hmac.new(self._secret, b"oidc-state\0" + body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def _unsign(self, cookie: str | None) -> dict[str, Any]:
        if not cookie or "." not in cookie:
            raise OIDCError("no login in progress in this browser")
        body, mac = cookie.rsplit(".", 1)
        expected = hmac.new(self._secret, b"oidc-state\0" + body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            raise OIDCError("login state cookie was altered")
        data = json.loads(base64.urlsafe_b64decode(body))
        if time.time() - float(data["at"]) > STATE_LIFETIME_SECONDS:
            raise OIDCError("login took too long; start again")
        return data  # type: ignore[no-any-return]
