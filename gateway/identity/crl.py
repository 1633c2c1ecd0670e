"""The CA's published CRL, consulted by the gateway on every request (defence in depth).

The metadata store is the gateway's first word on revocation; the CRL is the second, so a
certificate revoked on either side is refused even if the two were ever to disagree (see
``admin.revocation``). The file is re-read only when it changes: each request costs one
``os.stat`` and a set lookup. A CRL that is missing, not signed by one of our CA certificates
or past its nextUpdate fails closed (every request is refused as the service being unavailable),
as nginx does with ``ssl_crl``.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from gateway.identity.certificate import ClientCertificate
from gateway.identity.refusal import IdentityRefused, RefusalReason


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: tuple[int, int, int]  # (inode, size, mtime ns): a replaced or rewritten file differs
    # Serials only: the CRL is signed by one of our CAs, and our serials are random 159-bit
    # numbers, so two of our CAs never share one; a clash could only refuse, never admit.
    revoked: frozenset[int]
    next_update: dt.datetime


class CertificateRevocationList:
    """``check(client, now)`` raises :class:`IdentityRefused` for a certificate the CRL lists."""

    def __init__(self, path: Path, ca_certificates: Sequence[x509.Certificate]) -> None:
        self.path = Path(path)
        self._path = str(self.path)  # os.stat on a str skips the Path conversion, on every request
        self._cas = tuple(ca_certificates)
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def check(self, client: ClientCertificate, now: dt.datetime) -> None:
        loaded = self._current()
        if now > loaded.next_update:
            raise IdentityRefused(
                RefusalReason.SOURCE_UNAVAILABLE, f"CRL {self.path} expired at {loaded.next_update:%Y-%m-%d %H:%M} UTC"
            )
        if client.serial in loaded.revoked:
            raise IdentityRefused(RefusalReason.REVOKED, "listed in the CRL", fingerprint=client.fingerprint)

    def _current(self) -> _Loaded:
        try:
            info = os.stat(self._path)
        except OSError as error:
            raise IdentityRefused(RefusalReason.SOURCE_UNAVAILABLE, f"CRL {self.path}: {error.strerror}") from None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        loaded = self._loaded
        if loaded is not None and loaded.stamp == stamp:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.stamp != stamp:
                loaded = self._load(stamp)
                self._loaded = loaded
            return loaded

    def _load(self, stamp: tuple[int, int, int]) -> _Loaded:
        try:
            crl = x509.load_pem_x509_crl(self.path.read_bytes())
        except (OSError, ValueError) as error:
            raise IdentityRefused(RefusalReason.SOURCE_UNAVAILABLE, f"CRL {self.path} unreadable: {error}") from None
        issuer = next((ca for ca in self._cas if ca.subject == crl.issuer and _signed(crl, ca)), None)
        if issuer is None:
            raise IdentityRefused(RefusalReason.SOURCE_UNAVAILABLE, f"CRL {self.path} is not signed by our CA")
        if crl.next_update_utc is None:
            raise IdentityRefused(RefusalReason.SOURCE_UNAVAILABLE, f"CRL {self.path} has no nextUpdate")
        revoked = frozenset(entry.serial_number for entry in crl)
        return _Loaded(stamp=stamp, revoked=revoked, next_update=crl.next_update_utc)


def _signed(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
