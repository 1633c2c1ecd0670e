"""Certificates forwarded by a TLS-terminating proxy, and who may forward them.

Two header formats are understood:

* nginx: ``X-SSL-Client-Cert: $ssl_client_escaped_cert`` (the URL-escaped PEM leaf);
* Envoy: ``x-forwarded-client-cert`` (XFCC) with one element holding ``Cert="<url-escaped PEM>"``,
  as Envoy writes it with ``forward_client_cert_details: SANITIZE_SET``.

A forwarded certificate is believed only when the TCP peer is a configured trusted proxy;
from anyone else its mere presence is an authentication failure (a forgery attempt), not
something to ignore.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NGINX_HEADER = "x-ssl-client-cert"
XFCC_HEADER = "x-forwarded-client-cert"


class HeaderFormatError(ValueError):
    """A forwarded-certificate header that does not parse; the request is refused."""


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose TCP connections may carry a forwarded client certificate."""

    networks: tuple[IPNetwork, ...] = ()
    # memo of answers per peer address (parsing an address costs more than the rest of the step)
    _answers: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, cidrs: Iterable[str]) -> TrustedProxies:
        """``("127.0.0.1/32", "10.0.0.0/8", "::1")``; a bad entry is a configuration error."""
        networks: list[IPNetwork] = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=True))
            except ValueError as error:
                raise ValueError(f"DATAADGANG_TRUSTED_PROXIES: {cidr!r} is not a network: {error}") from None
        return cls(tuple(networks))

    def trusts(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        answer = self._answers.get(host)
        if answer is None:
            answer = self._decide(host)
            if len(self._answers) >= 4096:
                self._answers.clear()
            self._answers[host] = answer
        return answer

    def _decide(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # e.g. a unix socket path: not a network peer we can vouch for
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def parse_escaped_pem(value: bytes) -> bytes:
    """nginx ``$ssl_client_escaped_cert``: URL-escaped PEM. Empty means no certificate."""
    if not value.strip():
        raise HeaderFormatError("empty certificate header")
    try:
        value.decode("ascii")
    except UnicodeDecodeError:
        raise HeaderFormatError("certificate header is not ASCII") from None
    return unquote_to_bytes(value)


@dataclass(frozen=True)
class XfccElement:
    pem: bytes
    sha256: str | None  # Envoy's ``Hash``: lowercase hex SHA-256 of the DER leaf, when sent


def parse_xfcc(value: bytes) -> XfccElement:
    """Exactly one XFCC element with a ``Cert`` key; several elements are refused.

    With SANITIZE_SET the edge proxy writes one element describing its own client, which is
    the only one we can trust; more than one means a chain of forwarders we did not plan for.
    """
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise HeaderFormatError("XFCC header is not ASCII") from None
    elements = _split(text, ",")
    if len(elements) != 1:
        raise HeaderFormatError(f"XFCC header has {len(elements)} elements, expected 1")
    pairs: dict[str, str] = {}
    for pair in _split(elements[0], ";"):
        key, sep, raw = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise HeaderFormatError("XFCC pair without key=value")
        if key in ("cert", "hash") and key in pairs:
            raise HeaderFormatError(f"XFCC key {key!r} repeated")
        pairs[key] = _unquote(raw.strip())
    cert = pairs.get("cert")
    if not cert:
        raise HeaderFormatError("XFCC element has no Cert")
    digest = pairs.get("hash")
    return XfccElement(pem=unquote_to_bytes(cert), sha256=digest.lower() if digest else None)


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double quotes (XFCC quotes values holding , ; =)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise HeaderFormatError("XFCC header has an unterminated quote")
    parts.append("".join(current))
    return [part for part in (p.strip() for p in parts) if part] if text.strip() else []


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return raw
