"""admin.revocation: the one revocation service, on SQLite and PostgreSQL stores.

Who may revoke what, what happens when the CA cannot be used (the store step still cuts the
user off, and says so), a failing publish hook, and reconcile after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from admin.certificates import issue_user_certificate
from admin.pki import CertificateAuthority
from admin.pki.hook import PublishHookError
from admin.revocation import PartialRevocationError, RevocationError, find_disagreements, reconcile, revoke_certificate
from gateway.principal import Role
from gateway.store.errors import ConflictError, ForbiddenError, RecordNotFoundError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor

OPERATOR = Actor.operator("revocation-tests")
LOGIN = "komb-fli-prod\\k101_anna"
OFFICER_101 = Actor(login="komb-fli-prod\\k101_so", roles=frozenset({Role.SECURITY_OFFICER}), kommune_kode="101")
OFFICER_147 = Actor(login="komb-fli-prod\\k147_so", roles=frozenset({Role.SECURITY_OFFICER}), kommune_kode="147")


@pytest.fixture
def store(metadata_url: str, audit_seal) -> Iterator[MetadataStore]:
    with MetadataStore(metadata_url, seal=audit_seal) as store:
        store.migrate()
        store.onboard_kommune(OPERATOR, "101")
        store.add_user(OPERATOR, kommune_kode="101", login=LOGIN)
        yield store


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CertificateAuthority:
    monkeypatch.setenv("DATAADGANG_CA_PASSPHRASE", "ca secret")  # encrypted CA key, as in production
    return CertificateAuthority.create(tmp_path / "ca")


def _issue(store: MetadataStore, ca: CertificateAuthority, tmp_path: Path) -> int:
    return issue_user_certificate(store, ca, OPERATOR, LOGIN, tmp_path / "out", bundle_name="anna").issued.serial


def _revoked_in_store(store: MetadataStore, serial: int) -> bool:
    return store.get_certificate(OPERATOR, serial).revoked_at is not None


def test_an_officer_revokes_in_their_own_kommune_only(store: MetadataStore, ca: CertificateAuthority, tmp_path: Path) -> None:
    serial = _issue(store, ca, tmp_path)
    with pytest.raises(RecordNotFoundError):  # another kommune's certificate does not exist for them
        revoke_certificate(store, ca, OFFICER_147, serial, "key-compromise")
    assert not _revoked_in_store(store, serial) and ca.record(serial).revoked_at is None
    done = revoke_certificate(store, ca, OFFICER_101, serial, "key-compromise")
    assert done.login == LOGIN and done.crl_path == ca.crl_path
    assert _revoked_in_store(store, serial) and ca.record(serial).revoked_at is not None
    with pytest.raises(ForbiddenError):  # comparing the store with the CA needs every kommune's view
        find_disagreements(store, ca, OFFICER_101)
    with pytest.raises(ConflictError, match="already revoked"):
        revoke_certificate(store, ca, OPERATOR, serial, "key-compromise")


def test_unknown_reasons_and_the_ca_itself_are_refused(store: MetadataStore, ca: CertificateAuthority, tmp_path: Path) -> None:
    serial = _issue(store, ca, tmp_path)
    with pytest.raises(RevocationError, match="unknown revocation reason"):
        revoke_certificate(store, ca, OPERATOR, serial, "lost it")
    with pytest.raises(RevocationError, match="cannot revoke itself"):
        revoke_certificate(store, ca, OPERATOR, ca.certificate.serial_number, "superseded")
    assert not _revoked_in_store(store, serial)


def test_without_the_ca_passphrase_the_store_step_is_done_and_reported(
    store: MetadataStore, ca: CertificateAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _issue(store, ca, tmp_path)
    monkeypatch.delenv("DATAADGANG_CA_PASSPHRASE")
    with pytest.raises(PartialRevocationError, match=r"in the store \(refused from the next request\), but not in the CA's CRL"):
        revoke_certificate(store, ca.ca_dir, OPERATOR, serial, "key-compromise")
    assert _revoked_in_store(store, serial)  # the user is cut off all the same
    assert ca.record(serial).revoked_at is None
    (problem,) = [d for d in find_disagreements(store, ca, OPERATOR) if d.serial == serial]
    assert "revoked in the store" in problem.problem
    monkeypatch.setenv("DATAADGANG_CA_PASSPHRASE", "ca secret")
    reconcile(store, CertificateAuthority.open(ca.ca_dir), OPERATOR)
    assert ca.record(serial).revoked_at is not None
    assert find_disagreements(store, ca, OPERATOR) == []


def test_with_no_ca_at_all_a_user_certificate_is_still_cut_off(store: MetadataStore, ca: CertificateAuthority,
                                                               tmp_path: Path) -> None:
    serial = _issue(store, ca, tmp_path)
    with pytest.raises(PartialRevocationError, match="pki init"):
        revoke_certificate(store, tmp_path / "no-ca-here", OPERATOR, serial, "superseded")
    assert _revoked_in_store(store, serial)


def test_a_failing_publish_hook_is_reported_after_both_steps(
    store: MetadataStore, ca: CertificateAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _issue(store, ca, tmp_path)
    monkeypatch.setenv("DATAADGANG_CRL_PUBLISH_HOOK", "false")
    with pytest.raises(PublishHookError, match="exited with 1"):
        revoke_certificate(store, ca.ca_dir, OPERATOR, serial, "key-compromise")
    assert _revoked_in_store(store, serial) and ca.record(serial).revoked_at is not None


def test_a_server_certificate_is_revoked_in_the_ca_by_an_operator_only(store: MetadataStore, ca: CertificateAuthority) -> None:
    server = ca.issue_server_certificate(["localhost"])
    with pytest.raises(RecordNotFoundError):
        revoke_certificate(store, ca, OFFICER_101, server.serial, "superseded")
    done = revoke_certificate(store, ca, OPERATOR, server.serial, "superseded")
    assert done.login is None and ca.record(server.serial).revoked_at is not None
