"""``doctor``'s look at the tool's own files: the config file (when it holds notification URLs),
the secrets file, the state directory, the state file, the history database and the run lock.
Each is reported as sound, damaged or too open; modes are tightened only when asked
(``doctor --fix``). Nothing here moves or rewrites a file: ``sync`` moves a damaged state file
or history aside itself.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import filelock

from amber_tesla_sync.errors import AppError
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.secrets import FileBackend
from amber_tesla_sync.store.state import parse_state

FIX = "run `amber-tesla-sync doctor --fix` to tighten it"


@dataclass(frozen=True)
class FileCheck:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _tighten(name: str, path: Path, private: int, fix: bool, what: str) -> FileCheck | None:
    """A check for a file (or directory) whose mode lets others in; None when it is private."""
    mode = _mode(path)
    if mode is None or not mode & 0o077:
        return None
    if not fix:
        return FileCheck(
            name, False, f"{path} is mode {mode:04o}: {what}", f"{FIX} (chmod {private:o} {path})"
        )
    try:
        path.chmod(private)
    except OSError as exc:
        return FileCheck(name, False, f"cannot chmod {path}: {exc.strerror}", "check its owner")
    return FileCheck(name, True, f"{path} was mode {mode:04o}; now {private:04o}")


def config_file(path: Path, holds_urls: bool, fix: bool) -> list[FileCheck]:
    """A config file holding notification URLs (their tokens) must be private; one without them
    may be readable by others (it holds no secret), so it is not checked."""
    if not holds_urls or not path.exists():
        return []
    name = "config file"
    what = "other users can read the notification URLs (and their tokens) in it"
    loose = _tighten(name, path, 0o600, fix, what)
    if loose is not None:
        return [loose]
    mode = _mode(path) or 0
    detail = f"{path} holds notification URLs and is private (mode {mode:04o})"
    return [FileCheck(name, True, detail)]


def secrets_file(path: Path, fix: bool) -> list[FileCheck]:
    name = "secrets file"
    if not path.exists():
        return [FileCheck(name, True, f"{path} does not exist yet (log in to create it)")]
    checks = []
    loose = _tighten(name, path, 0o600, fix, "other users can read the secrets in it")
    if loose is not None:
        checks.append(loose)
    try:
        FileBackend(path).get("")  # reads and checks the whole file
    except AppError as error:
        return [*checks, FileCheck(name, False, error.message, error.hint)]
    if not os.access(path.parent, os.W_OK):
        return [
            *checks,
            FileCheck(
                name,
                False,
                f"{path.parent} is not writable, so rotated Fleet tokens cannot be saved",
                f"make {path.parent} writable by the user that runs amber-tesla-sync",
            ),
        ]
    if not checks:
        mode = _mode(path) or 0
        checks.append(FileCheck(name, True, f"{path} is sound and private (mode {mode:04o})"))
    return checks


def state_files(folder: Path, fix: bool) -> list[FileCheck]:
    """The state directory and what is in it."""
    name = "state directory"
    if not folder.exists():
        return [FileCheck(name, True, f"{folder} does not exist yet (the first sync creates it)")]
    if not folder.is_dir():
        return [
            FileCheck(
                name, False, f"{folder} is not a directory", "remove it or choose another path"
            )
        ]
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return [
            FileCheck(
                name,
                False,
                f"{folder} is not readable and writable by this user",
                f"fix its owner or mode (`ls -ld {folder}`)",
            )
        ]
    checks = [
        _tighten(name, folder, 0o700, fix, "other users can look into it")
        or FileCheck(name, True, f"{folder} is writable and private")
    ]
    checks.append(_state_file(folder / "state.json", fix))
    checks.append(_history(folder / "history.sqlite3", fix))
    checks.append(_run_lock(folder / "sync.lock"))
    return checks


def _state_file(path: Path, fix: bool) -> FileCheck:
    name = "state file"
    if not path.exists():
        return FileCheck(name, True, f"{path} does not exist yet")
    try:
        parse_state(path.read_bytes(), path)
    except AppError as error:  # written by a newer version: left as it is
        return FileCheck(name, False, error.message, error.hint)
    except OSError as exc:
        return FileCheck(name, False, f"cannot read {path}: {exc.strerror}", "check its owner")
    except ValueError:  # JSON, UTF-8 and validation errors alike
        return FileCheck(
            name,
            False,
            f"{path} is damaged (not readable as the tool's state)",
            "nothing to do: the next sync moves it aside and starts afresh (it only caches "
            "facts that are read again)",
        )
    return _tighten(name, path, 0o600, fix, "it should be private") or FileCheck(
        name, True, f"{path} is sound"
    )


def _history(path: Path, fix: bool) -> FileCheck:
    name = "history database"
    if not path.exists():
        return FileCheck(name, True, f"{path} does not exist yet")
    newer = History(path).newer()
    if newer is not None:
        return FileCheck(name, False, newer.message, newer.hint)
    problem = History(path).check()
    if problem is not None:
        return FileCheck(
            name,
            False,
            f"{path} is damaged ({problem})",
            "nothing to do: the next sync moves it aside and starts a new one (the run history "
            "and the prices seen so far stay in the moved file)",
        )
    # SQLite gives the -wal and -shm files the database's mode when it makes them: a database
    # that was too open leaves them too open as well, and they hold the same rows
    files = [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]
    loose = [
        check
        for check in (_tighten(name, file, 0o600, fix, "it should be private") for file in files)
        if check is not None
    ]
    failed = [check for check in loose if not check.ok]
    if failed:
        return failed[0]
    if loose:
        return FileCheck(name, True, "; ".join(check.detail for check in loose))
    return FileCheck(name, True, f"{path} is sound")


def _run_lock(path: Path) -> FileCheck:
    name = "run lock"
    lock = filelock.FileLock(path, mode=0o600)
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        return FileCheck(name, True, f"{path} is held by a sync running now")
    except OSError as exc:
        return FileCheck(
            name, False, f"cannot take {path}: {exc.strerror}", "check the state directory"
        )
    lock.release()
    return FileCheck(name, True, f"{path} can be taken")
