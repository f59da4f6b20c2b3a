"""The run lock: flock on POSIX, filelock where there is no flock; either way a second holder is
turned away at once, and the lock is free again once the run ends."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import SimpleNamespace

import filelock
import pytest

from amber_tesla_sync.errors import BusyError, LocalFileError
from amber_tesla_sync.store import runlock
from amber_tesla_sync.store.runlock import run_lock


def test_a_held_lock_turns_a_second_run_away_and_is_free_after(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sync.lock"
    with run_lock(path):
        assert path.exists()
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
        with pytest.raises(BusyError, match="another sync is still running"), run_lock(path):
            pass
    with run_lock(path):  # released: the next run takes it
        pass
    assert path.exists()  # left in place for the next run


def test_the_lock_excludes_filelock_and_filelock_excludes_it(tmp_path: Path) -> None:
    path = tmp_path / "sync.lock"
    with filelock.FileLock(path), pytest.raises(BusyError), run_lock(path):
        pass
    with run_lock(path):
        other = filelock.FileLock(path)
        with pytest.raises(filelock.Timeout):
            other.acquire(blocking=False)


def test_a_lock_held_by_another_descriptor_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "sync.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BusyError), run_lock(path):
            pass
    finally:
        os.close(fd)
    with run_lock(path):
        pass


def test_without_fcntl_filelock_takes_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runlock, "fcntl", None)
    path = tmp_path / "sync.lock"
    with run_lock(path):
        with pytest.raises(BusyError), run_lock(path):
            pass
        with pytest.raises(filelock.Timeout):  # filelock's own lock, seen by any other
            filelock.FileLock(path).acquire(blocking=False)
    with run_lock(path):
        pass


def test_a_file_system_without_flock_falls_back_to_filelock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[int] = []

    def no_flock(fd: int, operation: int) -> None:
        refused.append(fd)
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(runlock, "fcntl", SimpleNamespace(**{**vars(fcntl), "flock": no_flock}))
    path = tmp_path / "sync.lock"
    with filelock.FileLock(path), pytest.raises(BusyError), run_lock(path):
        pass
    with run_lock(path):
        pass
    assert refused  # flock was tried first


def test_a_lock_that_cannot_be_made_is_a_file_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(LocalFileError, match="take the run lock"), run_lock(blocker / "sync.lock"):
        pass
