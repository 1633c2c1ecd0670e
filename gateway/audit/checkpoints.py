"""Signed checkpoints of the chain head, in a file only the gateway appends to.

A checkpoint is ``(seq, hash, time, kind)`` signed with the active Ed25519 key. It lives
outside the metadata database, so whoever can rewrite the database cannot move it: a trail
whose row ``seq`` no longer has that hash, or that ends before ``seq``, fails verification.

The file holds one JSON document per line and is only ever appended to (one ``write`` on a
descriptor opened with ``O_APPEND``, then ``fsync``), so several workers can share it.
Kinds: ``periodic`` (the gateway, every ``DATAADGANG_AUDIT_CHECKPOINT_SECONDS``), ``manual``
(``dataadgang audit checkpoint``), ``adopted`` (the first one, sealing what the trail held
when keys were introduced) and ``verified`` (written by a successful ``audit verify``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.keys import AuditKeys

KINDS = ("periodic", "manual", "adopted", "verified")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    time: dt.datetime
    kind: str
    key_id: str
    signature: str  # base64 Ed25519 signature over :meth:`signed_bytes`

    def signed_bytes(self) -> bytes:
        document = {
            "hash": self.hash,
            "key_id": self.key_id,
            "kind": self.kind,
            "seq": self.seq,
            "time": self.time.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def line(self) -> str:
        document = json.loads(self.signed_bytes())
        document["signature"] = self.signature
        return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass(frozen=True, slots=True)
class CheckpointLine:
    """One line of the file: a parsed checkpoint, or why it could not be parsed."""

    number: int  # 1-based line number
    checkpoint: Checkpoint | None
    problem: str | None = None


class CheckpointLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def publish(self, keys: AuditKeys, seq: int, hash: str, *, kind: str, now: dt.datetime | None = None) -> Checkpoint:
        """Sign ``(seq, hash)`` with the active key and append it; return the checkpoint."""
        if kind not in KINDS:
            raise ValueError(f"unknown checkpoint kind {kind!r}")
        generation = keys.active
        unsigned = Checkpoint(
            seq=seq, hash=hash, time=now or dt.datetime.now(dt.UTC), kind=kind, key_id=generation.id, signature=""
        )
        signature = base64.b64encode(generation.sign(unsigned.signed_bytes())).decode("ascii")
        checkpoint = Checkpoint(
            seq=unsigned.seq, hash=unsigned.hash, time=unsigned.time, kind=kind, key_id=unsigned.key_id, signature=signature
        )
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, checkpoint.line().encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return checkpoint

    def lines(self) -> Iterator[CheckpointLine]:
        """Every line, parsed; a line that is not a checkpoint is reported, not skipped."""
        try:
            handle = open(self.path, encoding="utf-8")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        with handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    document = json.loads(text)
                    yield CheckpointLine(
                        number,
                        Checkpoint(
                            seq=int(document["seq"]),
                            hash=str(document["hash"]),
                            time=dt.datetime.fromisoformat(document["time"]),
                            kind=str(document["kind"]),
                            key_id=str(document["key_id"]),
                            signature=str(document["signature"]),
                        ),
                    )
                except (ValueError, KeyError, TypeError) as error:
                    yield CheckpointLine(number, None, f"line {number} is not a checkpoint ({type(error).__name__})")

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0


@dataclass(frozen=True, slots=True)
class AuditSeal:
    """Everything outside the metadata database that makes the trail tamper-evident."""

    keys: AuditKeys
    checkpoints: CheckpointLog

    @classmethod
    def open(cls, key_dir: Path, checkpoint_file: Path, *, create: bool = True) -> AuditSeal:
        return cls(AuditKeys.open(key_dir, create=create), CheckpointLog(checkpoint_file))

    @classmethod
    def in_directory(cls, directory: Path) -> AuditSeal:
        """Keys in ``directory/keys`` and checkpoints in ``directory/checkpoints.jsonl`` (the default layout)."""
        return cls.open(Path(directory) / "keys", Path(directory) / "checkpoints.jsonl")

    def rotated(self) -> AuditSeal:
        return AuditSeal(self.keys.rotate(), self.checkpoints)
