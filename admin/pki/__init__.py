"""Our own certificate authority: issue, renew, revoke, publish CRLs.

The public API lives in :mod:`admin.pki.ca`; it is re-exported here.
"""

from __future__ import annotations

from admin.pki.ca import (
    CertificateAuthority,
    CertificateRecord,
    IssuedCertificate,
    PKIError,
    fingerprint,
    generate_password,
)
from admin.pki.profiles import client_identity

__all__ = [
    "CertificateAuthority",
    "CertificateRecord",
    "IssuedCertificate",
    "PKIError",
    "client_identity",
    "fingerprint",
    "generate_password",
]
