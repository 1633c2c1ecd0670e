"""Find the client certificate of a request: the TLS extension or a trusted proxy's header.

The mode is configured, never guessed from the request: in ``tls`` mode only the verified
leaf uvicorn put into ``scope["extensions"]["tls"]`` counts; in ``proxy`` mode only the header
of a trusted proxy does. In both modes a forwarded-certificate header from a peer that is not
a trusted proxy is refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gateway.identity.proxy import (
    NGINX_HEADER,
    XFCC_HEADER,
    HeaderFormatError,
    TrustedProxies,
    parse_escaped_pem,
    parse_xfcc,
)
from gateway.identity.refusal import IdentityRefused, RefusalReason


class IdentityMode(str, Enum):
    TLS = "tls"  # uvicorn terminates mTLS (gateway.identity.tls)
    PROXY = "proxy"  # nginx/Envoy terminate mTLS and forward the leaf in a header


class CertificateEncoding(str, Enum):
    PEM = "pem"  # the TLS extension's client_cert_chain[0]
    ESCAPED_PEM = "escaped_pem"  # nginx $ssl_client_escaped_cert
    XFCC = "xfcc"  # Envoy x-forwarded-client-cert


@dataclass(frozen=True, slots=True)
class PresentedCertificate:
    """The leaf exactly as presented. ``raw`` is the cache key: it is decoded, parsed and
    verified only the first time a process sees it, so a kept-alive client costs a dict lookup."""

    raw: str | bytes
    encoding: CertificateEncoding

    def decode(self) -> tuple[str | bytes, str | None]:
        """(PEM, claimed SHA-256 or None); a header that does not parse is refused."""
        try:
            if self.encoding is CertificateEncoding.XFCC:
                element = parse_xfcc(_as_bytes(self.raw))
                return element.pem, element.sha256
            if self.encoding is CertificateEncoding.ESCAPED_PEM:
                return parse_escaped_pem(_as_bytes(self.raw)), None
        except HeaderFormatError as error:
            raise IdentityRefused(RefusalReason.MALFORMED_HEADER, str(error)) from None
        return self.raw, None


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


@dataclass(frozen=True)
class CertificateExtractor:
    mode: IdentityMode
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    header: str = NGINX_HEADER  # the header our proxy writes; ``x-forwarded-client-cert`` means XFCC
    _watched: frozenset[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode is IdentityMode.PROXY and not self.trusted_proxies.networks:
            raise ValueError("identity mode 'proxy' needs DATAADGANG_TRUSTED_PROXIES (the proxy's address)")
        object.__setattr__(self, "header", self.header.lower())
        watched = {self.header.encode("latin-1"), NGINX_HEADER.encode(), XFCC_HEADER.encode()}
        object.__setattr__(self, "_watched", frozenset(watched))

    def extract(self, scope: dict[str, Any]) -> PresentedCertificate:
        forwarded = any(name.lower() in self._watched for name, _ in scope.get("headers", ()))
        if self.mode is IdentityMode.TLS and not forwarded:
            return self._from_tls(scope)
        client = scope.get("client")
        peer = client[0] if client else None
        peer_trusted = self.trusted_proxies.trusts(peer)
        if forwarded and not peer_trusted:
            raise IdentityRefused(RefusalReason.UNTRUSTED_FORWARDER, f"peer {peer or '?'}")
        if self.mode is IdentityMode.TLS:
            return self._from_tls(scope)  # a trusted proxy's header is not our identity source here
        if not peer_trusted:
            raise IdentityRefused(RefusalReason.NOT_VIA_PROXY, f"peer {peer or '?'}")
        return self._from_header(scope)

    @staticmethod
    def _from_tls(scope: dict[str, Any]) -> PresentedCertificate:
        tls = (scope.get("extensions") or {}).get("tls")
        chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
        if not chain:
            raise IdentityRefused(RefusalReason.NO_CERTIFICATE)
        return PresentedCertificate(raw=chain[0], encoding=CertificateEncoding.PEM)

    def _from_header(self, scope: dict[str, Any]) -> PresentedCertificate:
        name = self.header.encode("latin-1")
        values = [value for key, value in scope.get("headers", ()) if key.lower() == name]
        if not values:
            raise IdentityRefused(RefusalReason.NO_CERTIFICATE, f"no {self.header} header")
        if len(values) > 1:
            raise IdentityRefused(RefusalReason.MALFORMED_HEADER, f"{self.header} repeated")
        encoding = CertificateEncoding.XFCC if self.header == XFCC_HEADER else CertificateEncoding.ESCAPED_PEM
        return PresentedCertificate(raw=values[0], encoding=encoding)
