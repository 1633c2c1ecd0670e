"""The CA-local index: every certificate the CA signed and every revocation.

One JSON file (``index.json`` in the CA directory), replaced atomically; changes run under an
exclusive ``flock`` so concurrent CLI invocations and portal workers serialise. ``pki list`` and
the CRL are built from it. Serials are stored as hex strings (JSON numbers lose precision above
2**53 in most readers).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from cryptography import x509

from admin.pki.errors import PKIError
from gateway.files import PRIVATE_FILE_MODE, exclusive_lock, write_atomic
from admin.pki.profiles import Kind

FORMAT_VERSION = 1
R = TypeVar("R")


def format_serial(serial: int) -> str:
    """Uppercase hex, as ``openssl x509 -serial`` prints it."""
    return f"{serial:X}"


def parse_serial(text: str) -> int:
    """Accept hex as printed by ``pki list`` or OpenSSL: optional ``0x``, colons or spaces."""
    cleaned = text.strip().replace(":", "").replace(" ", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise ValueError(f"not a hexadecimal serial number: {text!r}") from None
    if value <= 0:
        raise ValueError(f"not a valid serial number: {text!r}")
    return value


@dataclass(frozen=True)
class CertificateRecord:
    """One line of the index. Times are timezone-aware UTC."""

    serial: int
    fingerprint: str
    subject: str
    kind: Kind
    login: str | None
    kommune_kode: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: x509.ReasonFlags | None = None
    hostnames: tuple[str, ...] = ()
    renewed_from: int | None = None

    def status(self, at: dt.datetime) -> str:
        """'revoked', 'expired', 'not yet valid' or 'valid' at ``at``."""
        if self.revoked_at is not None:
            return "revoked"
        if at > self.not_after:
            return "expired"
        if at < self.not_before:
            return "not yet valid"
        return "valid"

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": format_serial(self.serial),
            "fingerprint": self.fingerprint,
            "subject": self.subject,
            "kind": self.kind,
            "login": self.login,
            "kommune_kode": self.kommune_kode,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revocation_reason": self.revocation_reason.value if self.revocation_reason else None,
            "hostnames": list(self.hostnames),
            "renewed_from": format_serial(self.renewed_from) if self.renewed_from else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CertificateRecord:
        revoked_at = data.get("revoked_at")
        reason = data.get("revocation_reason")
        renewed_from = data.get("renewed_from")
        return cls(
            serial=int(data["serial"], 16),
            fingerprint=data["fingerprint"],
            subject=data["subject"],
            kind=cast(Kind, data["kind"]),
            login=data.get("login"),
            kommune_kode=data.get("kommune_kode"),
            not_before=dt.datetime.fromisoformat(data["not_before"]),
            not_after=dt.datetime.fromisoformat(data["not_after"]),
            revoked_at=dt.datetime.fromisoformat(revoked_at) if revoked_at else None,
            revocation_reason=x509.ReasonFlags(reason) if reason else None,
            hostnames=tuple(data.get("hostnames", ())),
            renewed_from=int(renewed_from, 16) if renewed_from else None,
        )


@dataclass(frozen=True)
class IndexState:
    """A snapshot of the index; changes make a new snapshot."""

    records: tuple[CertificateRecord, ...] = ()
    crl_number: int = 0

    def find(self, serial: int) -> CertificateRecord | None:
        return next((record for record in self.records if record.serial == serial), None)

    def get(self, serial: int) -> CertificateRecord:
        record = self.find(serial)
        if record is None:
            raise PKIError(f"no certificate with serial {format_serial(serial)} in this CA's index")
        return record

    def added(self, record: CertificateRecord) -> IndexState:
        if self.find(record.serial) is not None:
            raise PKIError(f"serial {format_serial(record.serial)} is already in the index")
        return replace(self, records=(*self.records, record))

    def replaced(self, record: CertificateRecord) -> IndexState:
        self.get(record.serial)
        records = tuple(record if old.serial == record.serial else old for old in self.records)
        return replace(self, records=records)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "crl_number": self.crl_number,
            "certificates": [record.to_json() for record in self.records],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexState:
        if data.get("format") != FORMAT_VERSION:
            raise PKIError(f"unsupported CA index format {data.get('format')!r}")
        records = tuple(CertificateRecord.from_json(item) for item in data["certificates"])
        return cls(records=records, crl_number=int(data["crl_number"]))


@dataclass(frozen=True)
class CertificateIndex:
    """The index file and its lock, both inside the CA directory."""

    path: Path
    lock_path: Path

    @classmethod
    def in_dir(cls, ca_dir: Path) -> CertificateIndex:
        return cls(ca_dir / "index.json", ca_dir / ".index.lock")

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> IndexState:
        """The last committed snapshot; needs no lock because writers replace the file atomically."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return IndexState.from_json(data)
        except FileNotFoundError:
            raise PKIError(f"CA index {self.path} is missing") from None
        except (ValueError, KeyError, TypeError) as error:
            raise PKIError(f"CA index {self.path} is corrupt: {error}") from None

    def initialise(self, state: IndexState) -> None:
        """Write the first snapshot (the caller holds the lock and has checked nothing exists)."""
        self._write(state)

    def update(self, change: Callable[[IndexState], tuple[IndexState, R]]) -> R:
        """Read, apply ``change`` and write back under the lock; returns ``change``'s result.

        ``change`` runs inside the lock, so it may sign with a serial it has just checked
        is unused; if it raises, nothing is written.
        """
        with exclusive_lock(self.lock_path):
            before = self.read()
            after, result = change(before)
            if after != before:
                self._write(after)
            return result

    def _write(self, state: IndexState) -> None:
        text = json.dumps(state.to_json(), indent=1, ensure_ascii=False) + "\n"
        write_atomic(self.path, text.encode("utf-8"), mode=PRIVATE_FILE_MODE)
