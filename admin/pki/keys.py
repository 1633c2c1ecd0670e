"""Key material: generating RSA keys and keeping the CA key safe at rest.

RSA 3072 for the CA and every leaf: RSA is what every PKCS#12 importer (Windows CryptoAPI,
macOS Keychain), TLS stack and BI tool handles, and 3072 bits stays adequate past 2030.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from admin.pki.errors import PKIError

PASSPHRASE_ENV = "DATAADGANG_CA_PASSPHRASE"
KEY_BITS = 3072


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def passphrase_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    """DATAADGANG_CA_PASSPHRASE as bytes; unset or empty means "key not encrypted"."""
    value = (os.environ if env is None else env).get(PASSPHRASE_ENV, "")
    return value.encode("utf-8") if value else None


def encode_ca_key(key: rsa.RSAPrivateKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available PBE when there is a passphrase."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_ca_key(path: Path, passphrase: bytes | None, certificate: x509.Certificate) -> rsa.RSAPrivateKey:
    """Load the CA key for one operation, refusing it if others can read it (as ssh does)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except FileNotFoundError:
        raise PKIError(f"CA key {path} is missing") from None
    except PermissionError:
        raise PKIError(f"cannot read CA key {path}: permission denied") from None
    if mode & 0o077:
        raise PKIError(f"CA key {path} is accessible by other users (mode {mode:04o}); run chmod 600 on it")
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if encrypted and not passphrase:
        raise PKIError(f"the CA key is encrypted: set {PASSPHRASE_ENV}")
    try:
        # Skipping OpenSSL's RSA consistency check (~0.1 s per load) is safe here: the key is one
        # we generated, in a 0600 file in a 0700 directory, and must match the CA certificate below;
        # whoever can replace it owns the CA anyway. Never do this for keys users hand us.
        key = serialization.load_pem_private_key(
            data, password=passphrase if encrypted else None, unsafe_skip_rsa_key_validation=True
        )
    except ValueError:
        raise PKIError(f"cannot decrypt the CA key: wrong {PASSPHRASE_ENV}?") from None
    ca_public_key = certificate.public_key()
    if (
        not isinstance(key, rsa.RSAPrivateKey)
        or not isinstance(ca_public_key, rsa.RSAPublicKey)
        or key.public_key().public_numbers() != ca_public_key.public_numbers()
    ):
        raise PKIError("the CA key does not belong to the CA certificate")
    return key
