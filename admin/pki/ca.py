"""The certificate authority: one directory holding its key, certificate, index and CRL.

Layout of the CA directory (mode 0700)::

    ca.key.pem    CA private key, 0600; PKCS#8, encrypted when DATAADGANG_CA_PASSPHRASE is set
    ca.crt.pem    CA certificate (public; give it to nginx and to clients that verify the server)
    index.json    every certificate issued and every revocation (see admin.pki.index)
    crl.pem       the last published CRL
    .index.lock   flock target that serialises changes across processes

Keys are RSA 3072 (see admin.pki.keys). The CA key is read only when signing, so processes
that merely verify (the gateway) need neither the key nor its passphrase.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from admin.pki.crl import REFRESH_MARGIN, build_crl, crl_is_stale, load_crl
from admin.pki.hook import publish_hook_from_env, run_publish_hook
from admin.pki.errors import PKIError
from gateway.files import (
    PUBLIC_FILE_MODE,
    ensure_private_dir,
    exclusive_lock,
    write_atomic,
    write_new,
)
from admin.pki.index import CertificateIndex, CertificateRecord, IndexState, format_serial
from admin.pki.issued import IssuedCertificate, fingerprint
from admin.pki.keys import encode_ca_key, load_ca_key, new_key, passphrase_from_env
from admin.pki.pkcs12 import generate_password
from admin.pki.profiles import (
    MAX_CLIENT_DAYS,
    MAX_SERVER_DAYS,
    Profile,
    ca_profile,
    client_profile,
    server_profile,
)
from admin.pki.verify import verify_client_certificate as _verify_client_certificate

__all__ = [
    "CertificateAuthority",
    "CertificateRecord",
    "IssuedCertificate",
    "PKIError",
    "fingerprint",
    "generate_password",
]

CA_KEY_FILE = "ca.key.pem"
CA_CERT_FILE = "ca.crt.pem"
CRL_FILE = "crl.pem"
CLOCK_SKEW = dt.timedelta(minutes=5)  # backdate notBefore so a client with a slow clock still accepts


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _record(certificate: x509.Certificate, profile: Profile, renewed_from: int | None = None) -> CertificateRecord:
    return CertificateRecord(
        serial=certificate.serial_number,
        fingerprint=fingerprint(certificate),
        subject=certificate.subject.rfc4514_string(),
        kind=profile.kind,
        login=profile.login,
        kommune_kode=profile.kommune_kode,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        hostnames=profile.hostnames,
        renewed_from=renewed_from,
    )


def _check_days(profile: Profile, valid_days: int) -> None:
    if valid_days < 1:
        raise ValueError("validity must be at least one day")
    if valid_days > profile.max_days:
        raise ValueError(
            f"a {profile.kind} certificate may be valid for at most {profile.max_days} days, not {valid_days}"
        )


@dataclass(frozen=True)
class CertificateAuthority:
    """An opened CA directory. Immutable: every change goes to the files under the index lock."""

    ca_dir: Path
    certificate: x509.Certificate
    passphrase: bytes | None = field(default=None, repr=False)
    publish_hook: tuple[str, ...] = ()  # run after every CRL publish (DATAADGANG_CRL_PUBLISH_HOOK)

    # -- where things are -------------------------------------------------------------
    @property
    def ca_cert_path(self) -> Path:
        return self.ca_dir / CA_CERT_FILE

    @property
    def ca_key_path(self) -> Path:
        return self.ca_dir / CA_KEY_FILE

    @property
    def crl_path(self) -> Path:
        return self.ca_dir / CRL_FILE

    @property
    def index(self) -> CertificateIndex:
        return CertificateIndex.in_dir(self.ca_dir)

    # -- creating and opening -----------------------------------------------------------
    @classmethod
    def create(
        cls,
        ca_dir: Path,
        *,
        common_name: str = "dataadgang CA",
        valid_days: int = 3650,
        passphrase: bytes | None = None,
    ) -> CertificateAuthority:
        """Make a new CA in ``ca_dir``; refuses if one (or part of one) is already there.

        ``passphrase`` (default: env DATAADGANG_CA_PASSPHRASE) encrypts the key at rest.
        """
        ca_dir = Path(ca_dir)
        passphrase = passphrase if passphrase is not None else passphrase_from_env()
        profile = ca_profile(common_name)
        _check_days(profile, valid_days)
        ensure_private_dir(ca_dir)
        index = CertificateIndex.in_dir(ca_dir)
        with exclusive_lock(index.lock_path):
            present = [name for name in (CA_KEY_FILE, CA_CERT_FILE, index.path.name) if (ca_dir / name).exists()]
            if present:
                raise PKIError(f"{ca_dir} already holds a CA ({', '.join(present)}); refusing to overwrite it")
            key = new_key()
            now = _now()
            builder = (
                x509.CertificateBuilder()
                .subject_name(profile.subject)
                .issuer_name(profile.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - CLOCK_SKEW)
                .not_valid_after(now + dt.timedelta(days=valid_days))
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            )
            for extension, critical in profile.extensions:
                builder = builder.add_extension(extension, critical=critical)
            certificate = builder.sign(key, hashes.SHA256())
            write_new(ca_dir / CA_KEY_FILE, encode_ca_key(key, passphrase))
            index.initialise(IndexState(records=(_record(certificate, profile),)))
            # the certificate last: its presence is what makes the directory "a CA"
            certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
            write_new(ca_dir / CA_CERT_FILE, certificate_pem, mode=PUBLIC_FILE_MODE)
        authority = cls(ca_dir, certificate, passphrase, publish_hook_from_env())
        authority.publish_crl()
        return authority

    @classmethod
    def open(cls, ca_dir: Path, *, passphrase: bytes | None = None) -> CertificateAuthority:
        """Open an existing CA; PKIError if it is missing or its files are unreadable."""
        ca_dir = Path(ca_dir)
        cert_path = ca_dir / CA_CERT_FILE
        try:
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except FileNotFoundError:
            raise PKIError(f"no CA in {ca_dir}: run `dataadgang pki init` first") from None
        except PermissionError:
            raise PKIError(f"cannot read {cert_path}: permission denied") from None
        except ValueError:
            raise PKIError(f"{cert_path} is not a PEM certificate") from None
        if not (ca_dir / CA_KEY_FILE).exists():
            raise PKIError(f"{ca_dir} has a CA certificate but no {CA_KEY_FILE}")
        CertificateIndex.in_dir(ca_dir).read()  # fails early with a clear message when missing or corrupt
        return cls(
            ca_dir, certificate, passphrase if passphrase is not None else passphrase_from_env(), publish_hook_from_env()
        )

    @classmethod
    def open_or_create(cls, ca_dir: Path, **kw: Any) -> CertificateAuthority:
        """Open the CA in ``ca_dir``, creating it (with ``kw`` for :meth:`create`) if there is none."""
        if (Path(ca_dir) / CA_CERT_FILE).exists():
            return cls.open(ca_dir, passphrase=kw.get("passphrase"))
        try:
            return cls.create(ca_dir, **kw)
        except PKIError:
            if (Path(ca_dir) / CA_CERT_FILE).exists():  # another process created it meanwhile
                return cls.open(ca_dir, passphrase=kw.get("passphrase"))
            raise

    # -- the signing key ---------------------------------------------------------------
    def _signing_key(self) -> rsa.RSAPrivateKey:
        return load_ca_key(self.ca_key_path, self.passphrase, self.certificate)

    # -- issuing ---------------------------------------------------------------------------
    def _issue(
        self,
        profile: Profile,
        *,
        valid_days: int,
        not_before: dt.datetime | None = None,
        renewing: int | None = None,
    ) -> IssuedCertificate:
        _check_days(profile, valid_days)
        if not_before is not None and not_before.tzinfo is None:
            raise ValueError("not_before must be timezone-aware")
        start = not_before if not_before is not None else _now() - CLOCK_SKEW
        end = start + dt.timedelta(days=valid_days)
        if end > self.certificate.not_valid_after_utc:
            raise PKIError(
                f"the certificate would outlive the CA (valid until {self.certificate.not_valid_after_utc:%Y-%m-%d})"
            )
        ca_key = self._signing_key()
        key = new_key()

        def change(state: IndexState) -> tuple[IndexState, x509.Certificate]:
            if renewing is not None:
                _check_renewable(state.get(renewing))
            serial = x509.random_serial_number()
            while state.find(serial) is not None:
                serial = x509.random_serial_number()
            builder = (
                x509.CertificateBuilder()
                .subject_name(profile.subject)
                .issuer_name(self.certificate.subject)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(start)
                .not_valid_after(end)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
                )
            )
            for extension, critical in profile.extensions:
                builder = builder.add_extension(extension, critical=critical)
            certificate = builder.sign(ca_key, hashes.SHA256())
            return state.added(_record(certificate, profile, renewing)), certificate

        return IssuedCertificate.of(self.index.update(change), key)

    def issue_server_certificate(
        self,
        hostnames: Sequence[str],
        *,
        valid_days: int = MAX_SERVER_DAYS,
        out_dir: Path | None = None,
        key_passphrase: str | None = None,
    ) -> IssuedCertificate:
        """serverAuth for DNS names / IPs; with ``out_dir`` also writes server.crt (chain) and server.key (0600)."""
        issued = self._issue(server_profile(hostnames), valid_days=valid_days)
        if out_dir is not None:
            self.write_server_files(issued, Path(out_dir), key_passphrase=key_passphrase)
        return issued

    def write_server_files(
        self, issued: IssuedCertificate, out_dir: Path, *, key_passphrase: str | None = None
    ) -> tuple[Path, Path]:
        """server.crt = leaf + CA (what nginx/uvicorn want as chain), server.key 0600.

        The key is encrypted (PKCS#8) with ``key_passphrase`` when one is given
        (DATAADGANG_TLS_KEY_PASSPHRASE, read by ``serve``); otherwise unencrypted.
        """
        out_dir.mkdir(parents=True, exist_ok=True)
        chain = issued.certificate_pem() + self.certificate.public_bytes(serialization.Encoding.PEM)
        cert_path, key_path = out_dir / "server.crt", out_dir / "server.key"
        write_atomic(key_path, issued.private_key_pem(key_passphrase.encode("utf-8") if key_passphrase else None))
        write_atomic(cert_path, chain, mode=PUBLIC_FILE_MODE)
        return cert_path, key_path

    def issue_client_certificate(
        self,
        *,
        login: str,
        kommune_kode: str,
        valid_days: int = MAX_CLIENT_DAYS,
        not_before: dt.datetime | None = None,
    ) -> IssuedCertificate:
        """clientAuth only, SAN ``urn:dataadgang:user:<kommune>:<login>``, at most 365 days (ValueError)."""
        return self._issue(client_profile(login, kommune_kode), valid_days=valid_days, not_before=not_before)

    def renew(self, serial: int, *, valid_days: int = MAX_CLIENT_DAYS) -> IssuedCertificate:
        """New key and serial, same subject and SAN; the old certificate stays valid until revoked or expired."""
        old = self.index.read().get(serial)
        _check_renewable(old)
        if old.kind == "client" and old.login is not None and old.kommune_kode is not None:
            profile = client_profile(old.login, old.kommune_kode)
        elif old.kind == "server":
            profile = server_profile(old.hostnames)
        else:
            raise PKIError(f"certificate {format_serial(serial)} has no profile to renew from")
        return self._issue(profile, valid_days=valid_days, renewing=serial)

    # -- revocation ----------------------------------------------------------------------------
    def revoke(self, serial: int, reason: x509.ReasonFlags = x509.ReasonFlags.unspecified) -> None:
        """Mark ``serial`` revoked and publish the new CRL, in one step under the index lock."""
        if reason is x509.ReasonFlags.remove_from_crl:
            raise ValueError("removeFromCRL is not a revocation reason")
        now = _now()

        def change(state: IndexState) -> tuple[IndexState, None]:
            record = state.get(serial)
            if record.kind == "ca":
                raise PKIError("the CA certificate cannot revoke itself; make a new CA instead")
            if record.revoked_at is not None:
                when = f"{record.revoked_at:%Y-%m-%d %H:%M} UTC"
                raise PKIError(f"certificate {format_serial(serial)} was already revoked at {when}")
            state, crl = self._next_crl(state.replaced(replace(record, revoked_at=now, revocation_reason=reason)))
            self._write_crl(crl)
            return state, None

        self.index.update(change)
        run_publish_hook(self.publish_hook, self.crl_path)

    def _next_crl(self, state: IndexState) -> tuple[IndexState, x509.CertificateRevocationList]:
        number = state.crl_number + 1
        crl = build_crl(self.certificate, self._signing_key(), state.records, number=number, now=_now())
        return replace(state, crl_number=number), crl

    def _write_crl(self, crl: x509.CertificateRevocationList) -> None:
        write_atomic(self.crl_path, crl.public_bytes(serialization.Encoding.PEM), mode=PUBLIC_FILE_MODE)

    def publish_crl(self) -> Path:
        """Sign a new CRL and replace crl.pem atomically (inside the lock, so numbers never go back)."""

        def change(state: IndexState) -> tuple[IndexState, Path]:
            state, crl = self._next_crl(state)
            self._write_crl(crl)
            return state, self.crl_path

        path = self.index.update(change)
        run_publish_hook(self.publish_hook, path)
        return path

    def publish_crl_if_stale(self, *, margin: dt.timedelta = REFRESH_MARGIN) -> Path | None:
        """Republish when crl.pem is missing, within ``margin`` of nextUpdate or behind the index."""

        def change(state: IndexState) -> tuple[IndexState, Path | None]:
            if not crl_is_stale(load_crl(self.crl_path), self.certificate, state.records, now=_now(), margin=margin):
                return state, None
            state, crl = self._next_crl(state)
            self._write_crl(crl)
            return state, self.crl_path

        path = self.index.update(change)
        if path is not None:
            run_publish_hook(self.publish_hook, path)
        return path

    # -- reading ---------------------------------------------------------------------------------
    def list_certificates(self) -> list[CertificateRecord]:
        """Every certificate this CA signed (the CA's own first), in issue order."""
        return list(self.index.read().records)

    def record(self, serial: int) -> CertificateRecord:
        """The index entry for ``serial``; PKIError when unknown."""
        return self.index.read().get(serial)

    def verify_client_certificate(self, cert: x509.Certificate, *, at: dt.datetime | None = None) -> None:
        """Signature by this CA, validity window at ``at``, clientAuth EKU; PKIError(reason) otherwise.

        Revocation is not checked here: the metadata store's IdentitySource answers that per request.
        """
        _verify_client_certificate(self.certificate, cert, at=at)


def _check_renewable(record: CertificateRecord) -> None:
    if record.revoked_at is not None:
        raise PKIError(f"certificate {format_serial(record.serial)} is revoked; issue a new one instead of renewing")
    if record.kind == "ca":
        raise PKIError("the CA certificate cannot be renewed; make a new CA instead")
