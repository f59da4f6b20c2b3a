"""``backup``: a copy of the history database and the state file, taken while syncs run.

The history is copied with SQLite's online backup API (a consistent copy of every committed row,
even while a ``sync`` writes), the state file as it is on disk (``sync`` replaces it atomically,
so a read sees one whole version). Both copies are private (0600), written under a temporary
name and renamed, so a copy that exists is whole. The secrets and the settings file are not
copied (the caller says so).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from amber_tesla_sync.errors import LocalFileError, UsageError
from amber_tesla_sync.store.history_schema import copy_database
from amber_tesla_sync.support.files import atomic_write_bytes, file_error

HISTORY, STATE = "history.sqlite3", "state.json"


@dataclass(frozen=True)
class Copied:
    what: str
    source: Path
    copy: Path | None  # None: there was nothing to copy


def back_up(folder: Path, destination: Path, replace: bool = False) -> list[Copied]:
    """Copy the history database and the state file in ``folder`` (the state directory) into
    ``destination`` (a directory, made if missing). Copies there already are replaced only when
    ``replace``."""
    if destination.resolve() == folder.resolve():
        raise UsageError(f"{destination} is the state directory itself", "choose another directory")
    pairs = [
        ("history database", folder / HISTORY, destination / HISTORY),
        ("state file", folder / STATE, destination / STATE),
    ]
    there = [copy for _, source, copy in pairs if source.exists() and copy.exists()]
    if there and not replace:
        raise UsageError(
            f"{there[0]} exists already", "choose an empty directory, or add --force to replace it"
        )
    try:
        destination.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise file_error(destination, exc, "make the backup directory") from exc
    done = []
    for what, source, copy in pairs:
        if not source.exists():
            done.append(Copied(what, source, None))
            continue
        if source.name == HISTORY:
            _copy_history(source, copy)
        else:
            _copy_state(source, copy)
        done.append(Copied(what, source, copy))
    return done


def _copy_history(source: Path, copy: Path) -> None:
    partial = copy.with_name(f".{copy.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        partial.touch(mode=0o600)
        copy_database(source, partial)
        partial.replace(copy)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise file_error(copy, exc, "write the copy") from exc
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise LocalFileError(
            f"cannot copy the history database {source}: {exc}",
            "run `amber-tesla-sync doctor` to check it; a damaged file is moved aside by the "
            "next sync (its rows stay in the moved file)",
        ) from exc


def _copy_state(source: Path, copy: Path) -> None:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise file_error(source, exc, "read the state file") from exc
    try:
        atomic_write_bytes(copy, data)
    except OSError as exc:
        raise file_error(copy, exc, "write the copy") from exc
