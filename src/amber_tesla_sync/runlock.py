"""The run lock: one ``sync`` at a time (cron can start a run before the last one ended)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from amber_tesla_sync.errors import BusyError


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` or fail at once with :class:`BusyError`."""
    import fcntl  # POSIX only: imported where it is used

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                "another sync is still running (it holds the run lock)",
                "nothing to do: this run ends here and the next one will go ahead; if no sync is "
                f"running, check for a stuck process holding {path}",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
