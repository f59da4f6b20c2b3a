"""Schema versions of the tool's own files, and what every file's migration shares.

Each file the tool keeps between runs carries the version of its layout (its *schema*): the
state file a top-level ``"schema"`` field (:mod:`amber_tesla_sync.store.state_schema`), the
history database SQLite's ``PRAGMA user_version`` (:mod:`amber_tesla_sync.store.history_schema`).
A file without one was written before versions were recorded: it is version 1.

- A file of an **older** version is brought up to this one by an ordered list of steps (each
  :class:`Step` takes a file from its ``source`` version to the next), after a copy of it as it
  was is kept next to it (``state.json.v1.bak``, ``history.sqlite3.v1.bak``): nothing is reset.
- A file of a **newer** version is refused (:func:`newer_file`, exit 14) and left as it is: this
  version cannot know what the newer one keeps in it, and writing it would lose that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from amber_tesla_sync.errors import LocalFileError

T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[T]):
    """One migration: takes a file of version ``source`` to version ``source + 1``."""

    source: int
    what: str  # what the step changes, for the log
    apply: Callable[[T], None]


def latest(steps: Sequence[Step[T]]) -> int:
    """The version a file has after every step: 1 + the number of steps (checked in order)."""
    for number, step in enumerate(steps, start=1):
        if step.source != number:
            raise AssertionError(f"migration steps out of order: {step.source} at {number}")
    return len(steps) + 1


def pending(steps: Sequence[Step[T]], found: int) -> list[Step[T]]:
    """The steps a file of version ``found`` still needs, in order."""
    return [step for step in steps if step.source >= found]


def backup_path(path: Path, version: int) -> Path:
    """Where the copy of ``path`` as version ``version`` goes: ``<name>.v<version>.bak`` next to
    it, or ``<name>.v<version>-2.bak``, … when that exists (an earlier copy is never replaced)."""
    candidate = path.with_name(f"{path.name}.v{version}.bak")
    number = 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.v{version}-{number}.bak")
    return candidate


def newer_file(path: Path, what: str, found: int, known: int) -> LocalFileError:
    """The error for ``path`` written by a newer version of the tool (``found`` > ``known``)."""
    copy = path.with_name(f"{path.name}.v{known}.bak")
    return LocalFileError(
        f"the {what} {path} was written by a newer amber-tesla-sync (schema {found}, this "
        f"version knows up to {known}); it was left as it is",
        "upgrade amber-tesla-sync to the version that wrote it, or restore the backup kept "
        f"when it was upgraded ({copy}, if there is one: stop the timer, copy it over "
        f"{path.name}, then run `amber-tesla-sync doctor`)",
    )
