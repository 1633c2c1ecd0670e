"""The identity step as pure ASGI middleware: certificate → fingerprint → principal on scope.

Pure ASGI (not ``BaseHTTPMiddleware``) so contextvars and streaming pass through untouched.
Every request gets its id here (``scope["dataadgang.request_id"]``, the ``x-request-id`` header
of every answer, refusals included). Every refused certificate looks the same to the client (one
generic 401); a request with no certificate at all is told that one is required (the client
knows that already, so it reveals nothing). The precise reason goes to ``on_refused`` for the
audit trail. Fail closed: an identity source or CRL that fails refuses the request (503).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import anyio.to_thread
from cryptography import x509

from gateway.errors import UNAVAILABLE_MESSAGE, AuthenticationError, error_body
from gateway.identity.certificate import CertificateFormatError, ClientCertificate, parse_pem
from gateway.identity.crl import CertificateRevocationList
from gateway.identity.extract import CertificateExtractor, IdentityMode, PresentedCertificate
from gateway.identity.proxy import TrustedProxies
from gateway.identity.refusal import IdentityRefused, RefusalReason
from gateway.identity.resolver import IdentityResolver
from gateway.identity.source import IdentitySource
from gateway.identity.verify import ClientCertificateVerifier
from gateway.principal import Principal
from gateway.settings import Settings

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
OnRefused = Callable[[Scope, str, "str | None"], Awaitable[None]]

logger = logging.getLogger(__name__)

# the metadata revision the identity step checked: users, certificates and grants as of then
REVISION_SCOPE_KEY = "dataadgang.revision"
# the request's id: in the x-request-id header of the answer and in its audit event
REQUEST_ID_SCOPE_KEY = "dataadgang.request_id"


def request_id_of(scope: Any) -> str:
    """The request's id: the one the identity step gave it (and put on the 401 if it refused),
    so the response header and the audit event always name the same id, whichever door."""
    return scope.get(REQUEST_ID_SCOPE_KEY) or os.urandom(16).hex()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _body(message: str, code: str) -> bytes:
    return json.dumps(error_body(message, code)).encode()


NO_CERTIFICATE_MESSAGE = (
    "A client certificate is required: connect with the certificate dataadgang issued to you "
    "(e.g. curl --cert user.crt.pem --key user.key.pem)."
)
_UNAVAILABLE_TEXT = (UNAVAILABLE_MESSAGE, "SERVICE_UNAVAILABLE")

# How a door words the identity step's refusal in its own protocol: (scope, status, message,
# code) -> (content type, body), or None for the JSON error body every other door uses.
RefusalRenderer = Callable[[Scope, int, str, str], "tuple[bytes, bytes] | None"]


class IdentityMiddleware:
    """Sets ``scope["principal"]`` (:class:`gateway.principal.Principal`) or refuses the request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        extractor: CertificateExtractor,
        verifier: ClientCertificateVerifier,
        resolver: IdentityResolver,
        crl: CertificateRevocationList | None = None,
        on_refused: OnRefused | None = None,
        render_refusal: RefusalRenderer | None = None,
        offload_lookups: bool = False,
        clock: Callable[[], dt.datetime] = _utcnow,
        max_cached_certificates: int = 4096,
    ) -> None:
        self.app = app
        self._render_refusal = render_refusal
        self._extractor = extractor
        self._verifier = verifier
        self._resolver = resolver
        self._crl = crl
        self._on_refused = on_refused
        self._offload = offload_lookups  # True when the source does blocking I/O (a database)
        self._clock = clock
        self._max_cached = max_cached_certificates
        # Parsed, CA-verified leaves by their presented form: the signature is checked once per
        # certificate per process; validity and revocation are checked on every request.
        self._verified: dict[str | bytes, ClientCertificate] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan and future scope types pass through
            return
        scope[REQUEST_ID_SCOPE_KEY] = os.urandom(16).hex()  # 32 hex digits, like a uuid4 without its cost
        try:
            principal = await self.identify(scope)
        except IdentityRefused as refusal:
            await self._report(scope, refusal)
            await self._refuse(scope, send, refusal.reason)
            return
        scope["principal"] = principal
        scope[REVISION_SCOPE_KEY] = self._resolver.revision
        await self.app(scope, receive, send)

    async def identify(self, scope: Scope) -> Principal:
        """The whole identity step for one request; raises :class:`IdentityRefused`."""
        presented = self._extractor.extract(scope)  # type: ignore[arg-type]
        now = self._clock()
        client = self._certificate(presented, now)
        if self._crl is not None:
            self._crl.check(client, now)
        try:
            if self._offload:
                principal = await anyio.to_thread.run_sync(self._resolver.resolve, client.fingerprint)
            else:
                principal = self._resolver.resolve(client.fingerprint)
        except IdentityRefused:
            raise
        except Exception as error:  # noqa: BLE001 - any source failure fails closed
            logger.exception("identity source failed")
            raise IdentityRefused(
                RefusalReason.SOURCE_UNAVAILABLE, type(error).__name__, fingerprint=client.fingerprint
            ) from error
        if principal.cert_fingerprint != client.fingerprint:
            raise IdentityRefused(
                RefusalReason.UNKNOWN_OR_INACTIVE, "source answered for another certificate", fingerprint=client.fingerprint
            )
        return principal

    def _certificate(self, presented: PresentedCertificate, now: dt.datetime) -> ClientCertificate:
        client = self._verified.get(presented.raw)
        if client is not None:
            self._verifier.verify_validity(client, now)
            return client
        pem, claimed_sha256 = presented.decode()
        try:
            client = parse_pem(pem)
        except (CertificateFormatError, UnicodeEncodeError) as error:
            raise IdentityRefused(RefusalReason.MALFORMED_HEADER, str(error)) from None
        if claimed_sha256 is not None and claimed_sha256 != client.fingerprint:
            raise IdentityRefused(RefusalReason.MALFORMED_HEADER, "XFCC Hash differs from Cert", fingerprint=client.fingerprint)
        self._verifier.verify(client, at=now)
        if len(self._verified) >= self._max_cached:
            self._verified.clear()
        self._verified[presented.raw] = client
        return client

    async def _report(self, scope: Scope, refusal: IdentityRefused) -> None:
        if self._on_refused is None:
            logger.info("identity refused: %s", refusal.description)
            return
        try:
            await self._on_refused(scope, refusal.description, refusal.fingerprint)
        except Exception:  # noqa: BLE001 - the request is refused either way; keep the cause in the log
            logger.exception("on_refused callback failed for: %s", refusal.description)

    async def _refuse(self, scope: Scope, send: Send, reason: RefusalReason) -> None:
        unavailable = reason is RefusalReason.SOURCE_UNAVAILABLE
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008 if not unavailable else 1011})
            return
        status = 503 if unavailable else 401
        if unavailable:
            message, code = _UNAVAILABLE_TEXT
        else:
            message = NO_CERTIFICATE_MESSAGE if reason is RefusalReason.NO_CERTIFICATE else str(AuthenticationError())
            code = AuthenticationError.code
        rendered = self._render_refusal(scope, status, message, code) if self._render_refusal is not None else None
        content_type, body = rendered if rendered is not None else (b"application/json", _body(message, code))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-request-id", scope[REQUEST_ID_SCOPE_KEY].encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def identity_middleware(
    app: ASGIApp,
    *,
    settings: Settings,
    source: IdentitySource,
    ca_certificates: Sequence[x509.Certificate],
    on_refused: OnRefused | None = None,
    render_refusal: RefusalRenderer | None = None,
    offload_lookups: bool = False,
) -> IdentityMiddleware:
    """Wire the identity step from settings (mode, trusted proxies, header, check interval, CRL)."""
    extractor = CertificateExtractor(
        mode=IdentityMode(settings.identity_mode),
        trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
        header=settings.client_cert_header,
    )
    resolver = IdentityResolver(source, min_check_interval=settings.identity_check_interval_seconds)
    return IdentityMiddleware(
        app,
        extractor=extractor,
        verifier=ClientCertificateVerifier(ca_certificates),
        resolver=resolver,
        crl=CertificateRevocationList(settings.resolved_crl_file, ca_certificates),
        on_refused=on_refused,
        render_refusal=render_refusal,
        offload_lookups=offload_lookups,
    )
