"""The run lock: one ``sync`` at a time (cron can start a run before the last one ended).

On POSIX the lock is an exclusive :func:`fcntl.flock` on the lock file, taken without waiting: a
run that finds it held ends at once. The file stays in place when the run ends (a waiting run
shares its inode), and the kernel lets go of the lock when the process ends, however it ends.
``filelock`` (whose POSIX lock is the same ``flock``, so the two exclude each other) takes it
where ``fcntl`` is missing (Windows) or where the file system refuses ``flock`` (it then falls
back to a lock of its own); an idle run imports neither it nor its dozen modules.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from amber_tesla_sync.errors import BusyError
from amber_tesla_sync.support.files import file_error

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# what flock() raises when another process holds the lock
HELD = (errno.EWOULDBLOCK, errno.EAGAIN)


def _busy(path: Path) -> BusyError:
    return BusyError(
        "another sync is still running (it holds the run lock)",
        "nothing to do: this run ends here and the next one will go ahead; if no sync is "
        f"running, check for a stuck process holding {path}",
    )


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` or fail at once with :class:`BusyError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = _flocked(path) if fcntl is not None else None
    except OSError as exc:
        raise file_error(path, exc, "take the run lock") from exc
    if fd is None:  # no flock here
        with _filelocked(path):
            yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _flocked(path: Path) -> int | None:
    """The open lock file, locked; None where this file system has no ``flock``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in HELD:
            raise _busy(path) from None
        if exc.errno in (errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOLCK):
            return None
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def _filelocked(path: Path) -> Iterator[None]:
    import filelock

    lock = filelock.FileLock(path, mode=0o600)
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        raise _busy(path) from None
    except OSError as exc:
        raise file_error(path, exc, "take the run lock") from exc
    try:
        yield
    finally:
        lock.release()
