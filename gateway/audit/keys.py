"""The audit keys: secrets the metadata database never sees.

Each key generation has an id (a sortable UTC timestamp) and two parts: an HMAC-SHA256 key
that chains the rows, and an Ed25519 key pair that signs checkpoints of the chain head. A
database writer without these files can edit rows but cannot recompute their hashes, and
cannot forge a checkpoint. Rotation adds a generation; old ones stay for verification.

Layout of the key directory (mode 0700; every private file 0600)::

    <id>.hmac            32 random bytes, hex
    <id>.ed25519.pem     the signing key (PKCS#8)
    <id>.ed25519.pub     its public key (SubjectPublicKeyInfo PEM)

The newest id is the active one. A running gateway sees a generation that ``dataadgang audit
rotate-key`` adds from another process at its next audit write (one ``stat`` of the directory
per use), so no restart is needed and no process flags the new rows as foreign.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.errors import DataadgangError

_HMAC_SUFFIX = ".hmac"
_SIGNING_SUFFIX = ".ed25519.pem"
_PUBLIC_SUFFIX = ".ed25519.pub"


class AuditKeyError(DataadgangError):
    """The key directory is missing, unreadable or inconsistent; nothing can be audited."""


@dataclass(frozen=True, slots=True)
class KeyGeneration:
    id: str
    mac_key: bytes
    signing_key: Ed25519PrivateKey | None  # None when only the public half is present
    public_key: Ed25519PublicKey
    # keyed once; each row copies it (a third of the cost of keying anew: the audit write is a hot path)
    _keyed: crypto_hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keyed", crypto_hmac.HMAC(self.mac_key, hashes.SHA256()))

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under this generation's key, hex."""
        mac = self._keyed.copy()
        mac.update(data)
        return mac.finalize().hex()

    def sign(self, data: bytes) -> bytes:
        if self.signing_key is None:
            raise AuditKeyError(f"audit key {self.id}: the signing key is not present; only verification is possible")
        return self.signing_key.sign(data)

    def signature_valid(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class AuditKeys:
    """Every key generation in one directory, as on disk now; the newest is the one new rows and
    checkpoints use. Another process may add a generation at any time (rotation): each use checks
    the directory's modification time and reads what was added."""

    def __init__(self, directory: Path, generations: Mapping[str, KeyGeneration], *, stamp: int | None = None) -> None:
        if not generations:
            raise AuditKeyError(f"{directory}: no audit keys")
        self.directory = directory
        # one tuple, replaced whole: threads reading it never see generations and stamp apart
        self._state = _KeyState(MappingProxyType(dict(sorted(generations.items()))), stamp)

    @classmethod
    def open(cls, directory: Path, *, create: bool = True) -> AuditKeys:
        """Load the directory's keys; with ``create``, make the first generation if there is none."""
        directory = Path(directory)
        if create:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _locked(directory):
                if not _ids(directory):
                    _write_generation(directory)
        elif not directory.is_dir():
            raise AuditKeyError(f"{directory}: no audit key directory")
        with _reading(directory):  # a generation being written by another process is read whole or not at all
            stamp = directory.stat().st_mtime_ns
            generations = {key_id: _read_generation(directory, key_id) for key_id in _ids(directory)}
        return cls(directory, generations, stamp=stamp)

    @property
    def active(self) -> KeyGeneration:
        generations = self._fresh()
        return generations[max(generations)]

    def rotate(self) -> AuditKeys:
        """Add a new generation (it becomes active); return the reloaded key set."""
        with _locked(self.directory):
            _write_generation(self.directory)
        return AuditKeys.open(self.directory, create=False)

    def get(self, key_id: str) -> KeyGeneration:
        generations = self._state.generations
        if key_id not in generations:
            generations = self._fresh()  # added since: by a rotation in another process
        try:
            return generations[key_id]
        except KeyError:
            raise AuditKeyError(f"audit key {key_id!r} is not in {self.directory}") from None

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._fresh()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._fresh())

    def _fresh(self) -> Mapping[str, KeyGeneration]:
        """The generations, re-read when the directory changed since they were; generations
        already held are kept as they are (a key never changes once written)."""
        state = self._state
        try:
            stamp = self.directory.stat().st_mtime_ns
        except OSError:
            return state.generations  # gone or unreadable: keep what we hold; writing goes on
        if stamp == state.stamp:
            return state.generations
        with _reading(self.directory):
            stamp = self.directory.stat().st_mtime_ns
            generations = {
                key_id: state.generations.get(key_id) or _read_generation(self.directory, key_id)
                for key_id in _ids(self.directory)
            }
        if not generations:
            return state.generations
        fresh = _KeyState(MappingProxyType(dict(sorted(generations.items()))), stamp)
        self._state = fresh
        return fresh.generations


@dataclass(frozen=True, slots=True)
class _KeyState:
    generations: Mapping[str, KeyGeneration]
    stamp: int | None  # the directory's st_mtime_ns when they were read; None: not read from it


def _ids(directory: Path) -> list[str]:
    return sorted(path.name[: -len(_HMAC_SUFFIX)] for path in directory.glob(f"*{_HMAC_SUFFIX}"))


class _locked:
    """An exclusive lock on the directory, so two processes starting at once make one generation."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".lock"

    def __enter__(self) -> None:
        self._handle = open(self._path, "a")  # noqa: SIM115 - closed in __exit__
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


class _reading:
    """A shared lock on the directory while reading it, so a generation another process is writing
    (under the exclusive lock) is read whole or not at all. A directory this process may only read
    (an auditor's copy) is read without it: nobody writes there."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / ".lock"
        self._handle: IO[str] | None = None

    def __enter__(self) -> None:
        try:
            self._handle = open(self._path, "a")  # noqa: SIM115 - closed in __exit__
        except OSError:
            return
        fcntl.flock(self._handle, fcntl.LOCK_SH)

    def __exit__(self, *_exc: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


def _new_id(directory: Path) -> str:
    key_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    while (directory / f"{key_id}{_HMAC_SUFFIX}").exists():  # two rotations in one microsecond
        key_id += "x"
    return key_id


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_generation(directory: Path) -> str:
    key_id = _new_id(directory)
    signing = Ed25519PrivateKey.generate()
    private_pem = signing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_private(directory / f"{key_id}{_SIGNING_SUFFIX}", private_pem)
    _write_private(directory / f"{key_id}{_PUBLIC_SUFFIX}", public_pem)
    # the HMAC file last: its presence is what makes the generation exist
    _write_private(directory / f"{key_id}{_HMAC_SUFFIX}", secrets.token_hex(32).encode("ascii") + b"\n")
    return key_id


def _read_generation(directory: Path, key_id: str) -> KeyGeneration:
    try:
        mac_key = bytes.fromhex((directory / f"{key_id}{_HMAC_SUFFIX}").read_text(encoding="ascii").strip())
        public = serialization.load_pem_public_key((directory / f"{key_id}{_PUBLIC_SUFFIX}").read_bytes())
        signing_path = directory / f"{key_id}{_SIGNING_SUFFIX}"
        signing = (
            serialization.load_pem_private_key(signing_path.read_bytes(), password=None) if signing_path.exists() else None
        )
    except (OSError, ValueError) as error:
        raise AuditKeyError(f"{directory}: audit key {key_id} cannot be read: {error}") from None
    if len(mac_key) < 32 or not isinstance(public, Ed25519PublicKey):
        raise AuditKeyError(f"{directory}: audit key {key_id} is not a 256-bit HMAC key with an Ed25519 key pair")
    if signing is not None and not isinstance(signing, Ed25519PrivateKey):
        raise AuditKeyError(f"{directory}: audit key {key_id}: the signing key is not Ed25519")
    return KeyGeneration(id=key_id, mac_key=mac_key, signing_key=signing, public_key=public)
