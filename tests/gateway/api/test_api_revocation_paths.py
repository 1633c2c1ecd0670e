"""One revocation truth: every documented way of taking a certificate away refuses its very next
request on a kept-alive mTLS connection, and afterwards the store (`user cert list`), the CA
index and the CRL agree. Also the crash windows: revoked on one side only is still refused (the
gateway reads both), `pki check` names the disagreement and `--repair` ends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_world import OPERATOR, ApiUser, World
from click.testing import CliRunner, Result
from cryptography import x509

from admin.pki.index import format_serial
from gateway.cli import main
from gateway.errors import AuthenticationError
from test_api_revocation import EXECUTE, KeptAlive

REFUSED = {"errors": [{"message": str(AuthenticationError()), "extensions": {"code": "UNAUTHENTICATED"}}]}


def dataadgang(world: World, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(world.settings.home), *args], env={"DATAADGANG_METADATA_URL": ""})


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _store_status(world: World, user: ApiUser) -> str:
    """The STATUS column of `user cert list` for the user's certificate."""
    listing = _ok(dataadgang(world, "user", "cert", "list", user.login))
    row = next(line for line in listing.splitlines() if line.startswith(format_serial(user.serial)))
    return row.split()[1]


def _in_crl(world: World, serial: int) -> bool:
    crl = x509.load_pem_x509_crl(world.ca.crl_path.read_bytes())
    return crl.get_revoked_certificate_by_serial_number(serial) is not None


def _in_ca_index(world: World, serial: int) -> str:
    return world.ca.record(serial).status(world.store.now())


def _revoke_cli(world: World, user: ApiUser, tmp: Any) -> None:
    _ok(dataadgang(world, "user", "cert", "revoke", format_serial(user.serial), "--reason", "key-compromise"))


def _renew_cli(world: World, user: ApiUser, tmp: Any) -> None:
    output = _ok(dataadgang(world, "user", "cert", "renew", format_serial(user.serial), "--out", str(tmp)))
    assert "(superseded)" in output


def _service(world: World, user: ApiUser, tmp: Any) -> None:
    """What the portal calls."""
    from admin.revocation import revoke_certificate

    revoke_certificate(world.store, world.ca, OPERATOR, user.serial, "privilege-withdrawn")


PATHS: dict[str, Callable[[World, ApiUser, Any], None]] = {
    "user cert revoke": _revoke_cli,
    "user cert renew": _renew_cli,
    "admin.revocation.revoke_certificate": _service,
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_revocation_path_refuses_the_next_request_and_leaves_store_ca_and_crl_agreeing(
    world: World, path: str, tmp_path: Any
) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    connection = KeptAlive(world, user)
    try:
        status, _ = connection.post(EXECUTE)
        assert status == 200
        PATHS[path](world, user, tmp_path)
        status, body = connection.post(EXECUTE)
        assert (status, body) == (401, REFUSED)
        assert connection.sockets[0] is connection.sockets[1]  # the same TLS connection, kept alive
    finally:
        connection.close()
    with world.client(user) as fresh:  # a new connection fares no better
        assert fresh.post("/graphql", json={"query": "{ me { login } }"}).status_code == 401
    assert _store_status(world, user) == "revoked"
    assert _in_ca_index(world, user.serial) == "revoked"
    assert _in_crl(world, user.serial)
    assert _ok(dataadgang(world, "pki", "check")).strip() == "store, CA index and CRL agree"


def test_suspending_the_user_refuses_the_next_request(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    connection = KeptAlive(world, user)
    try:
        assert connection.post(EXECUTE)[0] == 200
        _ok(dataadgang(world, "user", "suspend", user.login))
        assert connection.post(EXECUTE) == (401, REFUSED)
    finally:
        connection.close()


def test_revoked_in_the_ca_only_is_refused_by_the_crl_and_check_repairs_the_store(world: World) -> None:
    """As after `pki revoke` of old, or a CA restored from backup: the CRL alone already refuses it."""
    user = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    connection = KeptAlive(world, user)
    try:
        assert connection.post(EXECUTE)[0] == 200
        world.ca.revoke(user.serial, x509.ReasonFlags.key_compromise)
        assert connection.post(EXECUTE) == (401, REFUSED)
    finally:
        connection.close()
    refused = [r.event for r in world.gateway.audit.query(outcome="refused") if r.event.cert_fingerprint == user.fingerprint]
    assert refused[-1].reason == "revoked: listed in the CRL"
    assert _store_status(world, user) == "valid"
    check = dataadgang(world, "pki", "check")
    assert check.exit_code == 1
    assert f"certificate {format_serial(user.serial)}: revoked in the CA but not in the store" in check.output
    assert "repaired" in _ok(dataadgang(world, "pki", "check", "--repair"))
    assert _store_status(world, user) == "revoked"
    assert _ok(dataadgang(world, "pki", "check")).strip() == "store, CA index and CRL agree"


def test_a_crash_after_the_store_step_is_refused_and_finished_by_repair_or_by_revoking_again(world: World) -> None:
    first = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    second = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    for user in (first, second):  # the store step done, the CA step never ran
        world.store.revoke_certificate(OPERATOR, user.serial, reason="key-compromise")
        with world.client(user) as client:
            assert client.post("/graphql", json={"query": "{ me { login } }"}).status_code == 401
        assert not _in_crl(world, user.serial)
    check = dataadgang(world, "pki", "check")
    assert check.exit_code == 1 and "revoked in the store (key-compromise) but not in the CA" in check.output
    # revoking again finishes the job instead of saying "already revoked"
    again = _ok(dataadgang(world, "user", "cert", "revoke", format_serial(second.serial), "--reason", "key-compromise"))
    assert "finished an earlier revocation" in again
    assert _in_crl(world, second.serial) and not _in_crl(world, first.serial)
    # and `pki crl` (run daily) repairs the rest before it publishes
    assert "repaired" in _ok(dataadgang(world, "pki", "crl"))
    assert _in_crl(world, first.serial) and _in_ca_index(world, first.serial) == "revoked"
    assert _ok(dataadgang(world, "pki", "check")).strip() == "store, CA index and CRL agree"


def test_an_issue_interrupted_before_the_store_recorded_it_is_revoked_by_repair(world: World) -> None:
    """Signed by the CA, never recorded (the process died): refused by the gateway, revoked by repair."""
    import datetime as dt

    from admin.revocation import ISSUE_GRACE

    old = dt.datetime.now(dt.UTC) - ISSUE_GRACE - dt.timedelta(minutes=10)
    orphan = world.ca.issue_client_certificate(login="komb-fli-prod\\ghost", kommune_kode="101", not_before=old)
    check = dataadgang(world, "pki", "check", "--repair")
    assert f"certificate {format_serial(orphan.serial)}: a valid client certificate the store never recorded" in check.output
    assert _in_ca_index(world, orphan.serial) == "revoked" and _in_crl(world, orphan.serial)


def test_a_refusal_carries_a_request_id_and_its_audit_event_the_same_id(world: World) -> None:
    user = world.new_user("101", (("ukraine", "aggregated"),), prefix="rp")
    _ok(dataadgang(world, "user", "cert", "revoke", format_serial(user.serial), "--reason", "superseded"))
    with world.client(user) as client:
        response = client.post("/graphql", json={"query": "{ me { login } }"})
    assert response.status_code == 401 and response.json() == REFUSED
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in world.gateway.audit.query(outcome="refused") if r.event.request_id == request_id]
    assert record.event.cert_fingerprint == user.fingerprint and (record.event.reason or "").startswith("revoked")


def test_the_demo_replacing_a_lost_certificate_refuses_the_old_one_on_the_next_request(world: World) -> None:
    """`dataadgang demo` run again after a user's files went missing: the old certificate is superseded."""
    from gateway.demo import DEMO_OPERATOR, prepare_users

    credentials = prepare_users(world.settings, world.store, world.ca, say=lambda _: None)["komb-fli-prod\\k751_analytiker"]
    (old,) = [c for c in world.store.list_certificates(DEMO_OPERATOR, credentials.login) if c.revoked_at is None]
    password = credentials.password_file.read_text(encoding="utf-8").strip()
    demo_user = ApiUser(name="k751_analytiker", login=credentials.login, kommune="751", serial=old.serial,
                        fingerprint=old.fingerprint, cert_path=credentials.certificate, key_path=credentials.key,
                        password=password)
    connection = KeptAlive(world, demo_user)
    try:
        status, body = connection.post("{ me { login } }")
        assert status == 200 and body["data"]["me"]["login"] == credentials.login
        credentials.certificate.unlink()  # lost: the demo must not leave the old one valid
        prepare_users(world.settings, world.store, world.ca, say=lambda _: None)
        assert connection.post("{ me { login } }") == (401, REFUSED)
    finally:
        connection.close()
    assert _store_status(world, demo_user) == "revoked"
    assert _in_ca_index(world, old.serial) == "revoked" and _in_crl(world, old.serial)
