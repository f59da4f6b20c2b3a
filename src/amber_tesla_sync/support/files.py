"""Atomic file writes (temp file in the same directory, fsync, rename), and what a failing file
operation means for the user (a full disk, a read-only or unreadable directory)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from amber_tesla_sync.errors import AppError, DiskFullError, LocalFileError

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def file_error(path: Path, exc: OSError, action: str) -> AppError:
    """The user-facing error for an ``OSError`` met while trying to ``action`` ``path``."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in DISK_FULL:
        return DiskFullError(
            f"cannot {action} {path}: no space left on the device ({reason})",
            f"free some space on the file system holding {path.parent} (`df -h {path.parent}`); "
            "the run stopped before anything else changed",
        )
    return LocalFileError(
        f"cannot {action} {path}: {reason}",
        f"make {path.parent} readable and writable by the user that runs amber-tesla-sync "
        f"(`ls -ld {path.parent}`), or point AMBER_TESLA_SYNC_STATE_DIR / --config elsewhere",
    )


def _write_all(handle: BinaryIO, data: bytes) -> None:
    """Write and flush ``data`` (the one place every atomic write puts bytes on disk)."""
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with permissions ``mode``.

    The file is created with ``mode`` from the start (never briefly world-readable), flushed to
    disk, then renamed over ``path``; the directory is fsynced so the rename survives a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, data)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)
