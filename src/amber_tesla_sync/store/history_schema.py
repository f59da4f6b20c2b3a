"""The history database's tables, its schema version, and bringing a file written by an older
version up to them (every row kept).

Versions (SQLite's ``PRAGMA user_version``; 0, never set, is version 1):

1. ``runs``, ``prices`` and ``fetched`` as every version before schema versions wrote them;
2. ``runs.foreign_tariff``: the name of another app's tariff a run found on the Powerwall
   (filled, for older rows, from what their reason said);
3. ``overrides``: the owner's overrides (``amber-tesla-sync override``), each with its window,
   when a sync ended it and what it changed (older files had none: the table starts empty).

An older file is upgraded when it is first opened, in one transaction under SQLite's write lock
(``BEGIN IMMEDIATE``), after a copy of it is kept with SQLite's backup API
(``history.sqlite3.v1.bak``); a newer one is refused before anything is written to it.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from pathlib import Path

from amber_tesla_sync.store.migrate import Step, backup_path, latest, newer_file, pending

log = logging.getLogger(__name__)

OVERRIDES = """CREATE TABLE IF NOT EXISTS overrides (
    site TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    start TEXT NOT NULL,
    end_at TEXT NOT NULL,
    ended_at TEXT,
    cleared INTEGER NOT NULL,
    changes TEXT NOT NULL,
    slots TEXT NOT NULL,
    PRIMARY KEY (site, id, start)
)"""

TABLES = (
    """CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    site TEXT NOT NULL,
    outcome TEXT NOT NULL,
    pushed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    fingerprint TEXT,
    error TEXT,
    exit_code INTEGER NOT NULL,
    rates TEXT,
    foreign_tariff TEXT
)""",
    "CREATE INDEX IF NOT EXISTS runs_by_time ON runs (started_at)",
    """CREATE TABLE IF NOT EXISTS prices (
    site TEXT NOT NULL,
    channel TEXT NOT NULL,
    start TEXT NOT NULL,
    duration INTEGER NOT NULL,
    kind TEXT NOT NULL,
    per_kwh REAL NOT NULL,
    predicted REAL,
    spike TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (site, channel, start, duration)
)""",
    OVERRIDES,
    """CREATE TABLE IF NOT EXISTS fetched (
    source TEXT NOT NULL,
    site TEXT NOT NULL,
    day TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    final INTEGER NOT NULL,
    PRIMARY KEY (source, site, day)
)""",
)

# What versions before the foreign_tariff column wrote as the reason of a run that found another
# app's tariff on the Powerwall ("… (its name)"): their rows get the column from it.
_OLD_FOREIGN_REASON = "the Powerwall runs a tariff that is not ours"
_NAMED = re.compile(re.escape(_OLD_FOREIGN_REASON) + r" \((?P<name>.*)\)")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _foreign_tariff(db: sqlite3.Connection) -> None:
    """1 → 2: the runs' ``foreign_tariff`` column, filled from the reasons older rows give."""
    if "foreign_tariff" in _columns(db, "runs"):
        return  # written by a version that had the column but did not record the schema
    db.execute("ALTER TABLE runs ADD COLUMN foreign_tariff TEXT")
    found = db.execute(
        "SELECT id, reason FROM runs WHERE instr(reason, ?) > 0", (_OLD_FOREIGN_REASON,)
    ).fetchall()
    for row_id, reason in found:
        named = _NAMED.search(reason)
        name = named.group("name") if named else "unnamed"
        db.execute("UPDATE runs SET foreign_tariff = ? WHERE id = ?", (name, row_id))


def _overrides(db: sqlite3.Connection) -> None:
    """2 → 3: the ``overrides`` table (empty: older versions had no overrides)."""
    db.execute(OVERRIDES)


STEPS: tuple[Step[sqlite3.Connection], ...] = (
    Step(1, "the runs' foreign_tariff column", _foreign_tariff),
    Step(2, "the overrides table", _overrides),
)
HISTORY_SCHEMA = latest(STEPS)


def found_version(db: sqlite3.Connection) -> int:
    """The file's schema version: 0 for a new (empty) file, else its ``user_version`` (1 when
    never set)."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version:
        return version
    known = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
    return 1 if known else 0


def refuse_newer(db: sqlite3.Connection, path: Path) -> int:
    """The file's version; a file of a newer version is refused (:class:`LocalFileError`)."""
    found = found_version(db)
    if found > HISTORY_SCHEMA:
        raise newer_file(path, "history database", found, HISTORY_SCHEMA)
    return found


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Make ``db`` (the file at ``path``) this version's: create a new file's tables, upgrade an
    older file's (a copy kept first), refuse a newer one. Only reads when it is current."""
    if refuse_newer(db, path) == HISTORY_SCHEMA:
        return
    db.execute("BEGIN IMMEDIATE")  # no other process writes until this is done
    try:
        found = refuse_newer(db, path)  # again: another process may have done it meanwhile
        if found and found < HISTORY_SCHEMA:
            kept = _keep_copy(path, found)
            for step in pending(STEPS, found):
                log.info(
                    "history %s: schema %d → %d: %s", path, step.source, step.source + 1, step.what
                )
                step.apply(db)
            log.info(
                "upgraded the history database %s to schema %d (kept %s)",
                path,
                HISTORY_SCHEMA,
                kept,
            )
        for statement in TABLES:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {HISTORY_SCHEMA}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _keep_copy(path: Path, version: int) -> Path:
    """A consistent copy of the file at ``path`` (version ``version``) next to it, made with
    SQLite's backup API through a second connection (the caller holds the write lock, so the
    copy is the file as it was), written to a temporary name and renamed: a copy that exists is
    whole."""
    copy = backup_path(path, version)
    partial = copy.with_name(f".{copy.name}.partial")
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    try:
        copy_database(path, partial)
        partial.replace(copy)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return copy


def copy_database(path: Path, target_path: Path) -> None:
    """Copy the database at ``path`` into ``target_path`` (an existing empty file) with SQLite's
    online backup API: a consistent copy even while other processes write, as one self-contained
    file (no write-ahead log beside it)."""
    source = sqlite3.connect(path, timeout=30)
    try:
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
