"""What each kind of certificate says: subject, SAN, key usage, extended key usage, maximum life.

Kept apart from signing so that issuing and renewing build the very same certificate shape,
and the gateway can read a user's identity back out of the SAN with the same rules.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Kind = Literal["ca", "server", "client"]

ORGANIZATION = "dataadgang"
USER_URN_PREFIX = "urn:dataadgang:user:"
MAX_CLIENT_DAYS = 365  # at most one year: a user certificate outliving its grant review is a risk
MAX_SERVER_DAYS = 397  # the CA/Browser Forum limit that browsers and OSes enforce
MAX_CA_DAYS = 20 * 365

_KOMMUNE_KODE = re.compile(r"^[0-9]{3}$")
_DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})*$")


@dataclass(frozen=True)
class Profile:
    """Everything about a certificate except its key, serial, validity and issuer."""

    kind: Kind
    subject: x509.Name
    extensions: tuple[tuple[x509.ExtensionType, bool], ...]  # (extension, critical)
    max_days: int
    login: str | None = None
    kommune_kode: str | None = None
    hostnames: tuple[str, ...] = ()


def validate_kommune_kode(kommune_kode: str) -> str:
    if not _KOMMUNE_KODE.match(kommune_kode):
        raise ValueError(f"kommune code must be three digits (e.g. '101'), got {kommune_kode!r}")
    return kommune_kode


def validate_login(login: str) -> str:
    if not login or login != login.strip():
        raise ValueError("login must be non-empty without leading or trailing spaces")
    if len(login) > 64:
        raise ValueError("login must be at most 64 characters (the X.509 common name limit)")
    if any(not char.isprintable() for char in login):
        raise ValueError("login must not contain control characters")
    return login


def user_urn(login: str, kommune_kode: str) -> str:
    """The SAN URI naming a user; the login is percent-encoded (logins hold a backslash)."""
    return f"{USER_URN_PREFIX}{kommune_kode}:{quote(login, safe='-._~')}"


def parse_user_urn(uri: str) -> tuple[str, str] | None:
    """``(login, kommune_kode)`` from a SAN URI made by :func:`user_urn`, else None."""
    if not uri.startswith(USER_URN_PREFIX):
        return None
    kommune_kode, separator, quoted_login = uri[len(USER_URN_PREFIX) :].partition(":")
    if not separator or not _KOMMUNE_KODE.match(kommune_kode) or not quoted_login:
        return None
    return unquote(quoted_login), kommune_kode


def client_identity(certificate: x509.Certificate) -> tuple[str, str] | None:
    """The ``(login, kommune_kode)`` a client certificate was issued for, from its SAN."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        identity = parse_user_urn(uri)
        if identity is not None:
            return identity
    return None


def ca_profile(common_name: str) -> Profile:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return Profile("ca", subject, ((x509.BasicConstraints(ca=True, path_length=0), True), (usage, True)), MAX_CA_DAYS)


def client_profile(login: str, kommune_kode: str) -> Profile:
    """clientAuth only, digitalSignature only: the certificate can do nothing but log in."""
    validate_login(login)
    validate_kommune_kode(kommune_kode)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"kommune {kommune_kode}"),
            x509.NameAttribute(NameOID.COMMON_NAME, login),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(user_urn(login, kommune_kode))])
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (san, False),
    )
    return Profile("client", subject, extensions, MAX_CLIENT_DAYS, login=login, kommune_kode=kommune_kode)


def _general_name(hostname: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        pass
    name = hostname.lower().rstrip(".")
    if len(name) > 253 or not _DNS_NAME.match(name):
        raise ValueError(f"not a DNS name or IP address: {hostname!r}")
    return x509.DNSName(name)


def server_profile(hostnames: Sequence[str]) -> Profile:
    """serverAuth for the given DNS names and IP addresses (the first one is the CN)."""
    if not hostnames:
        raise ValueError("a server certificate needs at least one host name")
    names = [_general_name(hostname) for hostname in hostnames]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, str(names[0].value)),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,  # TLS 1.2 RSA key exchange
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(names), False),
    )
    return Profile("server", subject, extensions, MAX_SERVER_DAYS, hostnames=tuple(str(n.value) for n in names))
