"""verify_client_certificate: the gateway's second look at a proxy-forwarded certificate."""

from __future__ import annotations

import datetime as dt

import pytest

from admin.pki import CertificateAuthority, PKIError

NOW = dt.datetime.now(dt.UTC)


def test_own_client_certificate_passes(shared_ca: CertificateAuthority) -> None:
    issued = shared_ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    shared_ca.verify_client_certificate(issued.certificate)
    shared_ca.verify_client_certificate(issued.certificate, at=NOW + dt.timedelta(days=300))


def test_certificate_from_another_ca_with_the_same_name_is_refused(
    shared_ca: CertificateAuthority, stranger_ca: CertificateAuthority
) -> None:
    assert stranger_ca.certificate.subject == shared_ca.certificate.subject
    foreign = stranger_ca.issue_client_certificate(login="kl_pri", kommune_kode="101")
    with pytest.raises(PKIError, match="signature"):
        shared_ca.verify_client_certificate(foreign.certificate)


def test_server_certificate_is_refused_for_lack_of_client_auth(shared_ca: CertificateAuthority) -> None:
    server = shared_ca.issue_server_certificate(["localhost"])
    with pytest.raises(PKIError, match="clientAuth"):
        shared_ca.verify_client_certificate(server.certificate)


def test_the_ca_certificate_itself_is_refused(shared_ca: CertificateAuthority) -> None:
    with pytest.raises(PKIError):
        shared_ca.verify_client_certificate(shared_ca.certificate)


def test_expired_certificate_is_refused(shared_ca: CertificateAuthority) -> None:
    expired = shared_ca.issue_client_certificate(
        login="kl_pri", kommune_kode="101", valid_days=1, not_before=NOW - dt.timedelta(days=3)
    )
    with pytest.raises(PKIError, match="expired"):
        shared_ca.verify_client_certificate(expired.certificate)


def test_not_yet_valid_certificate_is_refused(shared_ca: CertificateAuthority) -> None:
    future = shared_ca.issue_client_certificate(
        login="kl_pri", kommune_kode="101", valid_days=30, not_before=NOW + dt.timedelta(days=1)
    )
    with pytest.raises(PKIError, match="not valid before"):
        shared_ca.verify_client_certificate(future.certificate)
    shared_ca.verify_client_certificate(future.certificate, at=NOW + dt.timedelta(days=2))


def test_a_valid_certificate_is_refused_at_a_time_after_its_expiry(shared_ca: CertificateAuthority) -> None:
    issued = shared_ca.issue_client_certificate(login="kl_pri", kommune_kode="101", valid_days=10)
    with pytest.raises(PKIError, match="expired"):
        shared_ca.verify_client_certificate(issued.certificate, at=NOW + dt.timedelta(days=11))
