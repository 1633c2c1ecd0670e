"""Database versions on disk: ``<data_dir>/<slug>/v0003.duckdb``, built beside the current one.

A load writes ``vNNNN.duckdb.partial``, renames it into place when complete, and only then
publishes it in the registry (the atomically replaced pointer). The current and the previous
version are kept, so a query that started before the swap finishes on the old file; older
versions are deleted at the next load (on POSIX an open file survives its unlink anyway).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.files import exclusive_lock, write_atomic, write_new
from gateway.key_file import load_or_create

_VERSION = re.compile(r"v([0-9]{4,})\.duckdb")
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})
KEEP = 2  # current + previous


def slug(name: str) -> str:
    """'FLIS Voksne Handicappede-101' -> 'flis-voksne-handicappede-101' (safe as a file name)."""
    text = unicodedata.normalize("NFKD", name.translate(_FOLD)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not text:
        raise ValueError(f"database name {name!r} has no usable characters")
    return text


def schema_name(name: str, version: int, deployment: str) -> str:
    """PostgreSQL schema for one version of one deployment: 'd1a2b3c4_flis_ukraine_101_v0003'.

    The deployment id keeps two homes loading into one PostgreSQL database (staging and
    production, two test runs) from replacing or pruning each other's schemas. At most 63
    characters, PostgreSQL's limit."""
    base = slug(name).replace("-", "_")[:44]
    return f"d{deployment}_{base}_v{version:04d}"


def deployment_id(data_dir: Path) -> str:
    """This home's id (8 hex digits), made once on first use and kept in ``data_dir``."""
    path = data_dir / "deployment-id"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        write_new(path, secrets.token_hex(4).encode("ascii"), mode=0o644)
    except FileExistsError:
        pass  # another loader made it first: use theirs
    return path.read_text(encoding="ascii").strip()


def pseudonym_key(data_dir: Path) -> str:
    """The home's secret for benchmark pseudonyms (hex), made once and kept in ``data_dir``.

    Stable across loads, so a person's pseudonym, and with it their record key for disclosure
    control, does not change with each version (docs/disclosure-control.md)."""
    return load_or_create(data_dir / "pseudonym.key").hex()


def database_dir(data_dir: Path, name: str) -> Path:
    return data_dir / slug(name)


def version_file(directory: Path, version: int) -> Path:
    return directory / f"v{version:04d}.duckdb"


def versions_on_disk(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    found = (_VERSION.fullmatch(p.name) for p in directory.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def next_version(directory: Path, registered: int | None) -> int:
    return max([0, registered or 0, *versions_on_disk(directory)]) + 1


def prune(directory: Path, keep: set[int]) -> list[Path]:
    """Delete version files not in ``keep``; returns what was removed."""
    removed = []
    for version in versions_on_disk(directory):
        if version in keep:
            continue
        path = version_file(directory, version)
        for candidate in (path, path.with_name(path.name + ".wal")):
            if candidate.exists():
                candidate.unlink()
        removed.append(path)
    for partial in directory.glob("*.partial*"):
        partial.unlink(missing_ok=True)
    return removed


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (one load per database; one registry writer) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(path):
        yield


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` in one step (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=mode)
