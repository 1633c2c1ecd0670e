"""The gateway reads the CA's CRL on every request: a listed certificate is refused, a new CRL is
picked up without a restart, and a CRL that cannot be trusted refuses everyone (fail closed)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from admin.pki.crl import build_crl
from admin.pki.keys import load_ca_key
from gateway.identity.certificate import ClientCertificate, parse_pem
from gateway.identity.crl import CertificateRevocationList
from gateway.identity.refusal import IdentityRefused, RefusalReason

NOW = dt.datetime.now(dt.UTC)


def _client(pki: Any, name: str) -> ClientCertificate:
    return parse_pem(pki.clients[name].pem())


def _write_crl(pki: Any, path: Path, *, revoke: tuple[str, ...] = (), ca: Any = None, validity: dt.timedelta | None = None,
               now: dt.datetime = NOW) -> None:
    """A CRL signed by ``ca`` (default ours) listing the named clients."""
    ca = ca or pki.ca
    key = load_ca_key(ca.ca_key_path, None, ca.certificate)
    records = [replace(ca.record(pki.clients[name].issued.serial), revoked_at=now) for name in revoke]
    extra = {"validity": validity} if validity is not None else {}
    crl = build_crl(ca.certificate, key, records, number=1, now=now, **extra)
    temp = path.with_suffix(".tmp")
    temp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    temp.replace(path)  # as the CA publishes: atomic replacement


def _reason(crl: CertificateRevocationList, client: ClientCertificate, now: dt.datetime = NOW) -> RefusalReason | None:
    try:
        crl.check(client, now)
    except IdentityRefused as refusal:
        return refusal.reason
    return None


def test_a_listed_certificate_is_refused_and_others_pass(pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "crl.pem"
    _write_crl(pki, path, revoke=("alice",))
    crl = CertificateRevocationList(path, [pki.ca.certificate])
    assert _reason(crl, _client(pki, "alice")) is RefusalReason.REVOKED
    assert _reason(crl, _client(pki, "carol")) is None


def test_a_newly_published_crl_is_read_on_the_next_check_without_a_restart(pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "crl.pem"
    _write_crl(pki, path)
    crl = CertificateRevocationList(path, [pki.ca.certificate])
    carol = _client(pki, "carol")
    assert _reason(crl, carol) is None
    _write_crl(pki, path, revoke=("carol",))
    assert _reason(crl, carol) is RefusalReason.REVOKED
    _write_crl(pki, path)  # and a CRL without it again (a CA restored from backup) is believed too
    assert _reason(crl, carol) is None


def test_the_ca_s_own_published_crl_is_understood(pki: Any) -> None:
    """The session CA revoked 'revoked' through CertificateAuthority.revoke, which published crl.pem."""
    crl = CertificateRevocationList(pki.ca.crl_path, [pki.ca.certificate])
    assert _reason(crl, _client(pki, "revoked")) is RefusalReason.REVOKED
    assert _reason(crl, _client(pki, "alice")) is None


@pytest.mark.parametrize("problem", ["missing", "garbage", "other CA", "expired"])
def test_a_crl_that_cannot_be_trusted_refuses_everyone(pki: Any, tmp_path: Path, problem: str) -> None:
    path = tmp_path / "crl.pem"
    if problem == "garbage":
        path.write_text("not a CRL")
    elif problem == "other CA":
        _write_crl(pki, path, ca=pki.other_ca)  # same subject name, another key
    elif problem == "expired":
        _write_crl(pki, path, now=NOW - dt.timedelta(days=8))
    crl = CertificateRevocationList(path, [pki.ca.certificate])
    assert _reason(crl, _client(pki, "alice")) is RefusalReason.SOURCE_UNAVAILABLE


def test_a_broken_crl_replacing_a_good_one_refuses_until_a_good_one_returns(pki: Any, tmp_path: Path) -> None:
    path = tmp_path / "crl.pem"
    _write_crl(pki, path)
    crl = CertificateRevocationList(path, [pki.ca.certificate])
    alice = _client(pki, "alice")
    assert _reason(crl, alice) is None
    shutil.copy(pki.other_ca.crl_path, path)
    assert _reason(crl, alice) is RefusalReason.SOURCE_UNAVAILABLE
    _write_crl(pki, path)
    assert _reason(crl, alice) is None
