"""`dataadgang demo` can be run again: it reuses what is there and leaves no stray valid certificate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from admin.revocation import find_disagreements

from gateway.demo import DEMO_OPERATOR, DEMO_USERS, example_request, prepare_pki, prepare_users
from gateway.settings import Settings
from gateway.store.store import MetadataStore


def _valid(store: MetadataStore, login: str) -> list[str]:
    return [c.fingerprint for c in store.list_certificates(DEMO_OPERATOR, login) if c.status(store.now()) == "valid"]


def test_running_the_demo_again_reuses_users_and_certificates(settings: Settings) -> None:
    ca, cert, key = prepare_pki(settings)
    assert cert.exists() and key.exists()
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        first = prepare_users(settings, store, ca, say=lambda _: None)
        said: list[str] = []
        second = prepare_users(settings, store, ca, say=said.append)
        assert said == []  # nothing issued the second time
        assert first == second
        for demo in DEMO_USERS:
            assert len(_valid(store, demo.login)) == 1


def test_a_lost_certificate_file_is_replaced_and_the_old_certificate_revoked(settings: Settings) -> None:
    ca, _cert, _key = prepare_pki(settings)
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        credentials = prepare_users(settings, store, ca, say=lambda _: None)
        analyst = credentials["komb-fli-prod\\kl_pri"]
        (old,) = _valid(store, analyst.login)
        analyst.certificate.unlink()
        prepare_users(settings, store, ca, say=lambda _: None)
        (new,) = _valid(store, analyst.login)
        assert new != old
        assert analyst.certificate.exists() and analyst.password_file.exists()
        # revoked through the one revocation service: in the store, the CA index and the CRL alike
        assert find_disagreements(store, ca, DEMO_OPERATOR) == []
        (replaced,) = [c for c in store.list_certificates(DEMO_OPERATOR, analyst.login) if c.fingerprint == old]
        assert replaced.revocation_reason == "superseded"
        crl = x509.load_pem_x509_crl(ca.crl_path.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(replaced.serial) is not None


def test_the_demo_encrypts_the_server_key_with_the_tls_key_passphrase(settings: Settings) -> None:
    _ca, _cert, key = prepare_pki(replace(settings, tls_key_passphrase="demo secret"))
    data = key.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    serialization.load_pem_private_key(data, password=b"demo secret")


def test_the_example_request_names_existing_files(settings: Settings) -> None:
    ca, _cert, _key = prepare_pki(settings)
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        analyst = prepare_users(settings, store, ca, say=lambda _: None)["komb-fli-prod\\kl_pri"]
    command = example_request(settings, analyst)
    for path in (settings.ca_dir / "ca.crt.pem", analyst.certificate, analyst.key, analyst.password_file):
        assert str(path) in command and Path(path).exists()
    assert "https://127.0.0.1:8443/graphql" in command


def test_the_demo_home_gets_private_audit_keys_and_a_verifiable_trail(settings: Settings) -> None:
    import stat

    ca, _cert, _key = prepare_pki(settings)
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        prepare_users(settings, store, ca, say=lambda _: None)
        check = store.audit_log().verify()
        assert check.ok, check.problem
        assert check.checked > 0 and check.unkeyed == 0 and check.checkpoints >= 1
    keys = settings.resolved_audit_key_dir
    assert keys == settings.home / "audit" / "keys" and stat.S_IMODE(keys.stat().st_mode) == 0o700
    private = [p for p in keys.iterdir() if p.suffix in (".hmac", ".pem")]
    assert len(private) == 2 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in private)
    assert settings.resolved_audit_checkpoint_file.exists()
