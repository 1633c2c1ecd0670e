"""Files written safely: atomic replacement, exclusive creation, one cross-process lock.

Everything is written as temp file + fsync + ``os.replace`` so that a crash or a concurrent
reader never sees half a file; the lock is ``fcntl.flock`` on a separate file so that readers
of the replaced files need no lock at all.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and force mode 0700 whatever the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = PRIVATE_FILE_MODE) -> None:
    """Replace ``path`` with ``data`` in one step; the file never exists with wider permissions."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_new(path: Path, data: bytes, *, mode: int = PRIVATE_FILE_MODE) -> None:
    """Create ``path`` exclusively with ``mode``; refuses (FileExistsError) to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            fd = -1
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    finally:
        if fd != -1:
            os.close(fd)


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created 0600) for the ``with`` block.

    ``flock`` belongs to the open file description, so threads and processes exclude each other
    alike, and the kernel releases it if the holder dies.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class LockBusyError(OSError):
    """Someone else holds the lock (``try_exclusive_lock``)."""


@contextmanager
def try_exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Like :func:`exclusive_lock`, but raise :class:`LockBusyError` at once instead of waiting."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusyError(f"{lock_path} is held by another process") from None
        yield
    finally:
        os.close(fd)
