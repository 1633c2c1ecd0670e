"""uvicorn terminating mTLS and handing the verified client certificate to the app.

No ASGI server fills in the ASGI TLS extension (https://asgi.readthedocs.io/en/latest/specs/tls.html),
so these subclasses of uvicorn's protocols (uvicorn is pinned in pyproject.toml) do it. The
hook is small: after uvicorn's own ``connection_made`` (the TLS handshake is complete by then),
the verified leaf is read from the SSL object once per connection, and the protocol's ``app``
is wrapped so that every request scope on that connection — kept-alive, pipelined or upgraded
to a WebSocket — carries ``scope["extensions"]["tls"]``. No uvicorn method body is copied.

The client certificate is *optional* at the handshake: a client without one gets an HTTP 401 that
says a certificate is required (and an audit event), instead of a connection reset that explains
nothing. A certificate that is presented must still verify against our CA, or OpenSSL ends the
handshake; those refusals are logged with OpenSSL's reason (``gateway.identity.tls`` logger).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn
from cryptography import x509
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

logger = logging.getLogger(__name__)


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension for a connection, or None when it is not TLS."""
    ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        chain.append(ssl.DER_cert_to_PEM_cert(der))
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    return {
        "server_cert": None,  # optional in the spec; the app has no use for it
        # Python <3.13 exposes only the leaf; that is all the identity step needs.
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,  # a presented certificate that did not verify never gets here
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,  # Python's ssl module does not expose the IANA number
    }


class _WithTLSExtension:
    """Per-connection ASGI wrapper adding the connection's TLS facts to each scope."""

    def __init__(self, app: Callable[..., Any], tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tls = dict(self.tls, client_cert_chain=list(self.tls["client_cert_chain"]))  # an app cannot taint the next request
        scope["extensions"] = {**(scope.get("extensions") or {}), "tls": tls}
        await self.app(scope, receive, send)


class _ClientCertificateMixin:
    app: Callable[..., Any]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        tls = tls_extension(transport)
        if tls is not None:
            self.app = _WithTLSExtension(self.app, tls)


class H11TLSProtocol(_ClientCertificateMixin, H11Protocol):
    """uvicorn's h11 HTTP/1.1 protocol, plus the ASGI TLS extension."""


class HttpToolsTLSProtocol(_ClientCertificateMixin, HttpToolsProtocol):
    """uvicorn's httptools HTTP/1.1 protocol, plus the ASGI TLS extension."""


class WebSocketsTLSProtocol(_ClientCertificateMixin, WebSocketsSansIOProtocol):
    """uvicorn's websockets (sans-I/O) protocol, plus the ASGI TLS extension."""


HTTP_PROTOCOLS: dict[str, type[asyncio.Protocol]] = {"h11": H11TLSProtocol, "httptools": HttpToolsTLSProtocol}


class HandshakeLoggingSSLObject(ssl.SSLObject):
    """Logs why OpenSSL refused a handshake; asyncio and uvloop drop the reason silently.

    Installed through ``SSLContext.sslobject_class`` (the documented hook); both event loops
    create their TLS objects with ``wrap_bio`` and call ``do_handshake`` on them.
    """

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLCertVerificationError as error:
            logger.warning(
                "TLS handshake refused: client certificate did not verify: %s (OpenSSL verify code %s)",
                error.verify_message,
                error.verify_code,
            )
            raise
        except ssl.SSLError as error:
            logger.info("TLS handshake failed: %s", error.reason or error)
            raise


class ClientAuthContextFactory:
    """TLS >= 1.2, a client certificate from our CA asked for (optional), no legacy renegotiation.

    A class rather than a closure so that uvicorn can hand it to worker processes (pickled).
    """

    def __init__(self, ca_file: str) -> None:
        self.ca_file = ca_file

    def __call__(self, config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        context = default()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # Optional: the app answers a missing certificate with a 401 that says so. A presented
        # certificate must verify here all the same; the identity step then checks everything again.
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cafile=self.ca_file)
        context.options |= ssl.OP_NO_RENEGOTIATION
        context.sslobject_class = HandshakeLoggingSSLObject
        return context


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    certfile: str,
    keyfile: str,
    ca_file: str,
    keyfile_password: str | None = None,
    http: str = "httptools",
    **kw: Any,
) -> uvicorn.Config:
    """A uvicorn config that asks for a client certificate from our CA and passes it to the app.

    ``proxy_headers`` is forced off: uvicorn would otherwise rewrite ``scope["client"]`` from
    ``X-Forwarded-For``, and the identity step must see the real TCP peer.
    """
    _refuse_proxy_headers(kw)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=HTTP_PROTOCOLS[http],
        ws=WebSocketsTLSProtocol,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        ssl_keyfile_password=keyfile_password,
        ssl_ca_certs=ca_file,
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
        ssl_context_factory=ClientAuthContextFactory(ca_file),
        proxy_headers=False,
        **kw,
    )


def uvicorn_config_behind_proxy(app: Any, *, host: str, port: int, **kw: Any) -> uvicorn.Config:
    """Plain HTTP on the address the TLS-terminating proxy forwards to (keep it on loopback)."""
    _refuse_proxy_headers(kw)
    return uvicorn.Config(app, host=host, port=port, proxy_headers=False, **kw)


def _refuse_proxy_headers(kw: dict[str, Any]) -> None:
    if kw.pop("proxy_headers", False):
        raise ValueError("proxy_headers would let X-Forwarded-For replace the TCP peer the identity step trusts")
