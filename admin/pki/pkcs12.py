"""PKCS#12 bundles that the Windows and macOS certificate importers accept.

Both still choke on (or silently reject) the PBES2/AES-256 bundles that OpenSSL 3 and
``cryptography`` make by default, so we use the legacy profile every importer knows:
PBES1 SHA-1 + 3-key 3DES for key and certificates, HMAC-SHA1 MAC, 2048 KDF rounds (what
Windows itself exports). OpenSSL 3 reads this without its legacy provider (only RC2 needs it).
The weak PBE is acceptable because the password is generated with ~100 bits of entropy.
"""

from __future__ import annotations

import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

KDF_ROUNDS = 2048
# no 0/O, 1/l/I: the password is read off a screen and typed into an import dialog
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_PASSWORD_GROUPS = 4
_PASSWORD_GROUP_LENGTH = 5


def generate_password() -> str:
    """A one-time import password: 4 groups of 5 characters, 100 bits from ``secrets``."""
    groups = (
        "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_GROUP_LENGTH))
        for _ in range(_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def export_pkcs12(
    certificate: x509.Certificate,
    private_key: pkcs12.PKCS12PrivateKeyTypes,
    ca_certificate: x509.Certificate,
    *,
    password: bytes,
    friendly_name: str,
) -> bytes:
    """Key + certificate + CA certificate, encrypted with 3DES/SHA-1 PBE, named ``friendly_name``."""
    if not password:
        raise ValueError("a PKCS#12 bundle needs a password")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password)
    )
    ca_entry = pkcs12.PKCS12Certificate(ca_certificate, b"dataadgang CA")
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"), private_key, certificate, [ca_entry], encryption
    )
