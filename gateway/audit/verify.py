"""Verification of the whole trail: the keyed chain, and every signed checkpoint against it.

The chain walk (:func:`gateway.audit.chain.verify`) finds a row edited without the key, a
removed or reordered row, and a tail cut off together with the head row's count. The
checkpoints find what a writer holding only the database could still do: cut the tail *and*
rewind the head row (the trail then ends before a sealed ``seq``), or rebuild the chain
(a sealed ``seq`` no longer has its sealed hash). A checkpoint line that does not verify under
its key is itself reported: it was forged or damaged.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.audit.chain import ChainCheck, ChainLink
from gateway.audit.checkpoints import AuditSeal, Checkpoint
from gateway.store.tables import GENESIS_HASH


@dataclass(frozen=True, slots=True)
class CheckpointScan:
    """The checkpoint file read and its signatures checked (nothing compared with rows yet)."""

    valid: tuple[tuple[int, Checkpoint], ...]  # (line number, checkpoint)
    problem: str | None

    @property
    def seqs(self) -> frozenset[int]:
        return frozenset(checkpoint.seq for _, checkpoint in self.valid)


@dataclass(frozen=True, slots=True)
class TrailCheck:
    ok: bool
    checked: int  # rows whose hash was verified
    problem: str | None
    first_bad_seq: int | None
    head: ChainLink
    unkeyed: int  # rows from before keys were introduced
    checkpoints: int  # checkpoints verified against the rows
    last_checkpoint: Checkpoint | None
    last_verified: Checkpoint | None  # the last successful verification before this one


def verify_checkpoints_of(seal: AuditSeal) -> CheckpointScan:
    valid: list[tuple[int, Checkpoint]] = []
    for line in seal.checkpoints.lines():
        if line.checkpoint is None:
            return CheckpointScan(tuple(valid), f"checkpoint file {seal.checkpoints.path}: {line.problem}")
        checkpoint = line.checkpoint
        if checkpoint.key_id not in seal.keys:
            problem = f"checkpoint on line {line.number} names audit key {checkpoint.key_id!r}, which is not in the key directory"
            return CheckpointScan(tuple(valid), problem)
        try:
            signature = base64.b64decode(checkpoint.signature, validate=True)
        except (binascii.Error, ValueError):
            signature = b""
        if not seal.keys.get(checkpoint.key_id).signature_valid(signature, checkpoint.signed_bytes()):
            return CheckpointScan(tuple(valid), f"checkpoint on line {line.number} has an invalid signature (forged or altered)")
        valid.append((line.number, checkpoint))
    if not valid:
        return CheckpointScan((), f"no signed checkpoint in {seal.checkpoints.path}: the trail cannot be trusted as a whole")
    return CheckpointScan(tuple(valid), None)


def combine(rows: ChainCheck, scan: CheckpointScan) -> TrailCheck:
    """The verdict: the chain's first problem, else the checkpoints', else intact."""
    last_checkpoint = max((c for _, c in scan.valid), key=lambda c: c.seq, default=None)
    verified = [c for _, c in scan.valid if c.kind == "verified"]
    last_verified = verified[-1] if verified else None

    def verdict(ok: bool, problem: str | None, first_bad: int | None, checkpoints: int) -> TrailCheck:
        return TrailCheck(
            ok, rows.checked, problem, first_bad, rows.head, rows.unkeyed, checkpoints, last_checkpoint, last_verified
        )

    if not rows.ok:
        return verdict(False, rows.problem, rows.first_bad_seq, 0)
    if scan.problem is not None:
        return verdict(False, scan.problem, None, 0)
    # rows without a key id are only those the trail held when keys were adopted: any more is a
    # writer rehashing rows the unkeyed way to get past the key
    adopted = next((c.seq for _, c in scan.valid if c.kind == "adopted"), 0)
    if rows.unkeyed > adopted:
        problem = f"row {adopted + 1} was modified after it was written (rehashed without the audit key)"
        return verdict(False, problem, adopted + 1, 0)
    for number, checkpoint in scan.valid:
        when = checkpoint.time.strftime("%Y-%m-%d %H:%M:%S UTC")
        if checkpoint.seq > rows.head.seq:
            problem = (
                f"the trail ends at row {rows.head.seq} but the checkpoint of {when} (line {number}) sealed row "
                f"{checkpoint.seq}: rows were removed"
            )
            return verdict(False, problem, rows.head.seq + 1, 0)
        sealed = GENESIS_HASH if checkpoint.seq == 0 else rows.hashes.get(checkpoint.seq)
        if sealed != checkpoint.hash:
            problem = (
                f"row {checkpoint.seq} differs from the checkpoint of {when} (line {number}): "
                "the trail was rewritten up to there"
            )
            return verdict(False, problem, checkpoint.seq, 0)
    return verdict(True, None, None, len(scan.valid))
