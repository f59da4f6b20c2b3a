"""The run lock: one ``sync`` at a time (cron can start a run before the last one ended)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock

from amber_tesla_sync.errors import BusyError
from amber_tesla_sync.support.files import file_error


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` or fail at once with :class:`BusyError`."""
    lock = filelock.FileLock(path, mode=0o600)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock.acquire(blocking=False)
    except filelock.Timeout:
        raise BusyError(
            "another sync is still running (it holds the run lock)",
            "nothing to do: this run ends here and the next one will go ahead; if no sync is "
            f"running, check for a stuck process holding {path}",
        ) from None
    except OSError as exc:
        raise file_error(path, exc, "take the run lock") from exc
    try:
        yield
    finally:
        lock.release()
