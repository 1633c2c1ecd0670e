"""The seal outside the database: a writer with full access to the metadata store, but not to
the audit keys or the checkpoint file, cannot make an altered trail verify."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import AuditBroker, AuditEvent, AuditLog, AuditSeal, request_event
from gateway.audit.chain import FIELDS, canonical_json, chain_hash, row_fields
from gateway.audit.keys import AuditKeys, KeyGeneration
from gateway.store import MetadataStore
from gateway.store.tables import AuditChainHeadRow, AuditEventRow

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def event(n: int) -> AuditEvent:
    return request_event(
        None, client_address="10.0.0.7", operation="execute", outcome="served", database="FLIS Ukraine-101",
        query=f"q{n}", reason="ok", cells=n, duration_ms=1.0, request_id=f"r{n}", time=T0 + dt.timedelta(seconds=n),
    )


@pytest.fixture
def store(metadata_url: str, audit_seal: AuditSeal) -> Iterator[MetadataStore]:
    with MetadataStore(metadata_url, seal=audit_seal) as metadata:
        metadata.migrate()
        yield metadata


@pytest.fixture
def log(store: MetadataStore) -> AuditLog:
    for n in range(1, 6):
        store.audit_log().record(event(n))
    return store.audit_log()


def _rewrite(store: MetadataStore, start: int, key: KeyGeneration | None, *, key_id: str | None = None) -> None:
    """What a database writer can do: change row ``start`` and rehash the chain from it to the head."""
    with store.database.write() as session:
        rows = session.scalars(sa.select(AuditEventRow).where(AuditEventRow.seq >= start).order_by(AuditEventRow.seq)).all()
        prev = rows[0].prev_hash
        for row in rows:
            if row.seq == start:
                row.cells = 999
                row.outcome = "served"
            row.key_id = key.id if key is not None else key_id
            row.prev_hash = prev
            row.hash = chain_hash(prev, row.seq, row_fields(row), key)
            prev = row.hash
        head = session.get(AuditChainHeadRow, 1)
        assert head is not None
        head.hash = prev


def test_an_untouched_trail_verifies_with_its_checkpoints(log: AuditLog) -> None:
    log.checkpoint()
    check = log.verify()
    assert check.ok, check.problem
    assert check.checked == 5 and check.checkpoints == 2  # adopted at migration + the manual one
    assert check.unkeyed == 0


def test_rows_name_the_key_that_made_their_hash(store: MetadataStore, log: AuditLog) -> None:
    with store.database.read() as session:
        key_ids = set(session.scalars(sa.select(AuditEventRow.key_id)))
    assert key_ids == {store.seal.keys.active.id}


def test_an_edited_row_rehashed_without_the_key_is_detected(store: MetadataStore, log: AuditLog) -> None:
    impostor = KeyGeneration(id=store.seal.keys.active.id, mac_key=b"k" * 32, signing_key=None,
                             public_key=Ed25519PrivateKey.generate().public_key())
    _rewrite(store, 3, impostor)  # the right key id, a guessed key
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 3
    assert "row 3 was modified" in (check.problem or "")


def test_a_chain_rehashed_the_old_unkeyed_way_is_detected(store: MetadataStore, log: AuditLog) -> None:
    _rewrite(store, 1, None)  # every row unkeyed: plain SHA-256, as before audit keys
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 1
    assert "rehashed without the audit key" in (check.problem or "")


def test_a_later_row_rehashed_unkeyed_is_detected(store: MetadataStore, log: AuditLog) -> None:
    _rewrite(store, 4, None)
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 4
    assert "key id was removed" in (check.problem or "")


def test_a_chain_rehashed_under_an_invented_key_id_is_detected(store: MetadataStore, log: AuditLog) -> None:
    invented = KeyGeneration(id="29990101T000000000000Z", mac_key=b"x" * 32, signing_key=None,
                             public_key=Ed25519PrivateKey.generate().public_key())
    _rewrite(store, 2, invented)
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 2
    assert "not in the key directory" in (check.problem or "")


def test_a_truncated_trail_with_its_head_rewound_is_detected_by_the_checkpoint(store: MetadataStore, log: AuditLog) -> None:
    log.checkpoint()  # seals row 5
    with store.database.write() as session:
        session.execute(sa.delete(AuditEventRow).where(AuditEventRow.seq > 3))
        row3 = session.get(AuditEventRow, 3)
        head = session.get(AuditChainHeadRow, 1)
        assert row3 is not None and head is not None
        head.seq, head.hash = 3, row3.hash
    check = log.verify()
    assert not check.ok
    assert "ends at row 3" in (check.problem or "") and "sealed row 5" in (check.problem or "")


def test_a_trail_rebuilt_with_the_key_is_still_caught_by_an_earlier_checkpoint(store: MetadataStore, log: AuditLog) -> None:
    """Even someone who stole the HMAC key cannot move what was signed before."""
    log.checkpoint()
    _rewrite(store, 2, store.seal.keys.active)
    check = log.verify()
    assert not check.ok and check.first_bad_seq == 5
    assert "row 5 differs from the checkpoint" in (check.problem or "")


def _lines(seal: AuditSeal) -> list[dict[str, object]]:
    return [json.loads(line) for line in seal.checkpoints.path.read_text(encoding="utf-8").splitlines()]


def _append(seal: AuditSeal, document: dict[str, object]) -> None:
    with open(seal.checkpoints.path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(document) + "\n")


def test_a_checkpoint_with_an_altered_field_is_detected(store: MetadataStore, log: AuditLog) -> None:
    log.checkpoint()
    forged = _lines(store.seal)[-1]
    forged["seq"] = 2  # a signature copied from another checkpoint
    _append(store.seal, forged)
    check = log.verify()
    assert not check.ok and "invalid signature" in (check.problem or "")


def test_a_checkpoint_signed_with_a_key_of_ones_own_is_detected(store: MetadataStore, log: AuditLog) -> None:
    head = log.head()
    fake = Ed25519PrivateKey.generate()
    document = {"hash": head.hash, "key_id": store.seal.keys.active.id, "kind": "manual", "seq": head.seq,
                "time": T0.isoformat(timespec="microseconds")}
    signed = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    _append(store.seal, {**document, "signature": base64.b64encode(fake.sign(signed)).decode()})
    check = log.verify()
    assert not check.ok and "invalid signature" in (check.problem or "")


def test_a_line_that_is_not_a_checkpoint_is_reported(store: MetadataStore, log: AuditLog) -> None:
    with open(store.seal.checkpoints.path, "a", encoding="utf-8") as handle:
        handle.write("garbage\n")
    check = log.verify()
    assert not check.ok and "is not a checkpoint" in (check.problem or "")


def test_a_deleted_checkpoint_file_is_reported(store: MetadataStore, log: AuditLog) -> None:
    store.seal.checkpoints.path.unlink()
    check = log.verify()
    assert not check.ok and "no signed checkpoint" in (check.problem or "")


def test_key_rotation_keeps_old_rows_verifiable(store: MetadataStore, log: AuditLog) -> None:
    first = store.seal.keys.active.id
    store.rotate_audit_key()
    second = store.seal.keys.active.id
    assert second > first
    store.audit_log().record(event(6))
    check = store.audit_log().verify()
    assert check.ok, check.problem
    with store.database.read() as session:
        key_ids = list(session.scalars(sa.select(AuditEventRow.key_id).order_by(AuditEventRow.seq)))
    assert key_ids == [first] * 5 + [second]
    # a fresh load of the directory (another process, a restart) uses the newest generation
    assert AuditKeys.open(store.seal.keys.directory).active.id == second


def test_a_running_gateway_writes_under_a_key_rotated_by_another_process(store: MetadataStore, log: AuditLog,
                                                                         tmp_path: Path) -> None:
    """``audit rotate-key`` runs in its own process: the server's loaded keys see the new
    generation at their next use, write under it, and verify rows another process wrote under it
    (no false alarm in the portal's chain status, no restart)."""
    running = store.seal.keys  # what a serving worker loaded at start
    first = running.active.id
    cli = MetadataStore(store.database.url, seal=AuditSeal(AuditKeys.open(running.directory), store.seal.checkpoints))
    with cli:
        cli.rotate_audit_key()  # another process: its own AuditKeys on the same directory
        second = cli.seal.keys.active.id
        cli.audit_log().record(event(6))  # a CLI change, written under the new key
    assert second > first and running.active.id == second and second in running.ids
    store.audit_log().record(event(7))  # the server's next write
    with store.database.read() as session:
        key_ids = list(session.scalars(sa.select(AuditEventRow.key_id).order_by(AuditEventRow.seq)))
    assert key_ids == [first] * 5 + [second, second]
    check = store.audit_log().verify()  # with the server's own, long-loaded keys
    assert check.ok, check.problem


def test_a_key_directory_where_no_lock_can_be_taken_still_loads(tmp_path: Path) -> None:
    """An auditor verifying with a read-only copy of the keys: the lock file cannot be opened
    (here it is a directory, which even root cannot open for writing), so it is read unlocked."""
    keys = AuditKeys.open(tmp_path / "keys")
    (tmp_path / "keys" / ".lock").unlink()
    (tmp_path / "keys" / ".lock").mkdir()
    copy = AuditKeys.open(tmp_path / "keys", create=False)
    assert copy.active.id == keys.active.id and copy.ids == keys.ids


def test_without_an_old_key_its_rows_cannot_be_verified(store: MetadataStore, log: AuditLog) -> None:
    first = store.seal.keys.active.id
    store.rotate_audit_key()
    (store.seal.keys.directory / f"{first}.hmac").unlink()
    reopened = AuditLog(store.database, AuditSeal(AuditKeys.open(store.seal.keys.directory), store.seal.checkpoints))
    check = reopened.verify()
    assert not check.ok and check.first_bad_seq == 1 and "not in the key directory" in (check.problem or "")


def test_keys_are_private_files_created_on_first_use(tmp_path: Path) -> None:
    keys = AuditKeys.open(tmp_path / "keys")
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    files = sorted(p.name for p in (tmp_path / "keys").iterdir() if not p.name.startswith("."))
    assert len(files) == 3 and all(name.startswith(keys.active.id) for name in files)
    for name in files:
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600
    assert AuditKeys.open(tmp_path / "keys").active.id == keys.active.id  # loaded, not made anew


def test_rows_from_before_audit_keys_are_sealed_by_the_first_checkpoint(metadata_url: str, tmp_path: Path) -> None:
    """A trail written before this release: rows without a key id, plain SHA-256."""
    with MetadataStore(metadata_url, seal=AuditSeal.in_directory(tmp_path / "old")) as store:
        store.migrate()
        with store.database.write() as session:
            prev = session.get(AuditChainHeadRow, 1).hash  # type: ignore[union-attr]
            for n in range(1, 4):
                fields = {name: getattr(event(n), name) for name in FIELDS}
                digest = hashlib.sha256((prev + canonical_json(n, fields)).encode()).hexdigest()
                session.add(AuditEventRow(seq=n, prev_hash=prev, hash=digest, key_id=None, **fields))
                prev = digest
            session.get(AuditChainHeadRow, 1).seq, session.get(AuditChainHeadRow, 1).hash = 3, prev  # type: ignore[union-attr]
    upgraded = AuditSeal.in_directory(tmp_path / "new")  # keys introduced now: the first checkpoint adopts rows 1-3
    with MetadataStore(metadata_url, seal=upgraded) as store:
        store.migrate()
        store.audit_log().record(event(4))
        check = store.audit_log().verify()
        assert check.ok, check.problem
        assert check.unkeyed == 3 and check.checked == 4


def test_the_broker_signs_the_head_periodically(store: MetadataStore) -> None:
    broker = AuditBroker(store.audit_log(), checkpoint_seconds=1e-9)

    async def main() -> None:
        for n in range(3):
            await broker.record(event(n))
        await asyncio.sleep(0.2)  # the checkpoint is written off the request's path

    asyncio.run(main())
    periodic = [line for line in _lines(store.seal) if line["kind"] == "periodic"]
    assert periodic and max(int(line["seq"]) for line in periodic) >= 1  # type: ignore[call-overload]
    assert store.audit_log().verify().ok


def test_verify_can_record_itself_and_report_the_last_time(log: AuditLog) -> None:
    first = log.verify(record_success=True)
    assert first.ok and first.last_verified is None
    second = log.verify(record_success=True)
    assert second.ok and second.last_verified is not None and second.last_verified.seq == 5


def test_the_constructors_refuse_a_malformed_event() -> None:
    with pytest.raises(ValueError, match="admin"):
        from gateway.audit import admin_event

        admin_event("x", operation="execute", kommune_kode=None, detail="d", time=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(event(1), time=T0.replace(tzinfo=None))


def test_closing_the_broker_seals_its_tail(store: MetadataStore) -> None:
    broker = AuditBroker(store.audit_log(), checkpoint_seconds=3600)  # no periodic checkpoint comes due

    async def main() -> None:
        for n in range(3):
            await broker.record(event(n))
        await broker.close()

    asyncio.run(main())
    last = _lines(store.seal)[-1]
    assert last["kind"] == "periodic" and last["seq"] == store.audit_log().head().seq == 3


def test_a_trail_from_before_the_key_id_migration_upgrades_and_verifies(metadata_url: str, tmp_path: Path) -> None:
    """Schema 0001 with rows hashed the old way; migrating to 0002_audit_key_id keeps them verifiable,
    and any row rewritten afterwards is caught."""
    from alembic import command

    from gateway.store.store import alembic_config

    engine = sa.create_engine(metadata_url)
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.commit()
        prev = "0" * 64
        for n in range(1, 4):
            fields = {name: getattr(event(n), name) for name in FIELDS}
            digest = hashlib.sha256((prev + canonical_json(n, fields)).encode()).hexdigest()
            connection.execute(sa.text(
                "insert into audit_events (seq, time, login, cert_fingerprint, kommune_kode, client_address, operation,"
                " database, query, outcome, reason, cells, duration_ms, request_id, prev_hash, hash) values (:seq, :time,"
                " :login, :cert_fingerprint, :kommune_kode, :client_address, :operation, :database, :query, :outcome,"
                " :reason, :cells, :duration_ms, :request_id, :prev_hash, :hash)"
            ), {**fields, "time": fields["time"].replace(tzinfo=None), "seq": n, "prev_hash": prev, "hash": digest})
            prev = digest
        connection.execute(sa.text("update audit_chain_head set seq = 3, hash = :h where id = 1"), {"h": prev})
        connection.commit()
    engine.dispose()
    with MetadataStore(metadata_url, seal=AuditSeal.in_directory(tmp_path / "seal")) as store:
        store.migrate()
        store.audit_log().record(event(4))
        check = store.audit_log().verify()
        assert check.ok, check.problem
        assert (check.checked, check.unkeyed) == (4, 3)
        with store.database.write() as session:
            session.execute(sa.update(AuditEventRow).where(AuditEventRow.seq == 2).values(cells=0))
        broken = store.audit_log().verify()
        assert not broken.ok and broken.first_bad_seq == 2
