"""The history database's tables, and bringing a file written by an older version up to them
(every row kept)."""

from __future__ import annotations

import re
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
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
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (started_at);
CREATE TABLE IF NOT EXISTS prices (
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
);
CREATE TABLE IF NOT EXISTS fetched (
    source TEXT NOT NULL,
    site TEXT NOT NULL,
    day TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    final INTEGER NOT NULL,
    PRIMARY KEY (source, site, day)
);
"""

# What versions before the foreign_tariff column wrote as the reason of a run that found another
# app's tariff on the Powerwall ("… (its name)"): their rows get the column from it.
_OLD_FOREIGN_REASON = "the Powerwall runs a tariff that is not ours"
_NAMED = re.compile(re.escape(_OLD_FOREIGN_REASON) + r" \((?P<name>.*)\)")


def prepare(db: sqlite3.Connection) -> None:
    """Create what is missing; add the columns later versions read, filled from what older
    rows say."""
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "foreign_tariff" not in columns:
        with db:
            try:
                db.execute("ALTER TABLE runs ADD COLUMN foreign_tariff TEXT")
            except sqlite3.OperationalError:
                if "foreign_tariff" in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
                    return  # another process added it (and filled it) just now
                raise
            found = db.execute(
                "SELECT id, reason FROM runs WHERE instr(reason, ?) > 0", (_OLD_FOREIGN_REASON,)
            ).fetchall()
            for row_id, reason in found:
                named = _NAMED.search(reason)
                name = named.group("name") if named else "unnamed"
                db.execute("UPDATE runs SET foreign_tariff = ? WHERE id = ?", (name, row_id))
