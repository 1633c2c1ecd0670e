"""The identity step: verified client certificate → SHA-256 fingerprint → principal.

Modules: ``source`` (the IdentitySource contract the store implements), ``certificate``
(parse, fingerprint), ``verify`` (against the CA certificate only), ``crl`` (the CA's published
CRL, read when it changes), ``proxy`` (forwarded
headers, trusted proxies), ``extract`` (which certificate counts, per mode), ``resolver``
(per-process cache, revocation per request), ``middleware`` (pure ASGI), ``tls`` (uvicorn
handing the client certificate to the app). Test doubles live in ``tests/support``.
"""

from __future__ import annotations

from gateway.identity.extract import IdentityMode
from gateway.identity.middleware import IdentityMiddleware, OnRefused, identity_middleware
from gateway.identity.resolver import IdentityResolver
from gateway.identity.source import IdentitySource
from gateway.identity.verify import ClientCertificateVerifier

__all__ = [
    "ClientCertificateVerifier",
    "IdentityMiddleware",
    "IdentityMode",
    "IdentityResolver",
    "IdentitySource",
    "OnRefused",
    "identity_middleware",
]
