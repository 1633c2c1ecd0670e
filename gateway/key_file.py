"""Secret keys kept in files of their own: made once, then the same for every process, never in a database.

Two use it: the disclosure key (``<home>/disclosure.key``), which the noise of disclosure control
is drawn with: every worker must share it, or repeating a query on another worker would give
another answer, and nobody who can read a cube database or the metadata store may learn it, or
they could recompute the noise; and the pseudonym key (``<data_dir>/pseudonym.key``), which the
loader salts benchmark pseudonyms with, so a person keeps one pseudonym (and one record key)
across loads. Each is a file of mode 0600, created atomically on first use (written to a private
temporary file, then hard-linked into place, so nobody ever reads a half-written key); a process
that races another reads the winner's.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def load_or_create(path: Path) -> bytes:
    """The key in ``path`` (hex), creating the file with a new random key when there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            os.link(draft, path)  # atomic, and refuses to replace a key another process made
        except FileExistsError:
            pass
    finally:
        draft.unlink()
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path}: the key must be hexadecimal") from None
    if len(key) < 16:
        raise ValueError(f"{path}: the key must hold at least 16 bytes (32 hex digits)")
    return key
