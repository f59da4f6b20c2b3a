"""The run history and the prices seen, in SQLite in the state directory.

Every ``sync`` records one row per site (time, outcome, pushed or not, why, the tariff's
fingerprint, the error if any). Prices are kept once per interval (the latest seen, an actual
replacing a forecast), which is also the local history the persistence estimate can use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber_tesla_sync.amber.models import Interval, parse_intervals
from amber_tesla_sync.paths import state_dir

KEEP_DAYS = 60
FETCH_KEEP_DAYS = 100  # report's saved answers: Amber serves usage for 90 days
_KIND_RANK = {"ForecastInterval": 0, "CurrentInterval": 1, "ActualInterval": 2}

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
    rates TEXT
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


@dataclass(frozen=True)
class RunRecord:
    started_at: dt.datetime
    site: str
    outcome: str  # pushed | unchanged | refused | failed | dry-run
    pushed: bool
    reason: str
    fingerprint: str | None
    error: str | None
    exit_code: int
    rates: dict[str, tuple[float, float]] | None = None


def history_path() -> Path:
    return state_dir() / "history.sqlite3"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class History:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():  # SQLite gives its WAL files the database file's mode
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()

    def record_run(self, run: RunRecord) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO runs (started_at, site, outcome, pushed, reason, fingerprint, error,"
                " exit_code, rates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _iso(run.started_at),
                    run.site,
                    run.outcome,
                    int(run.pushed),
                    run.reason,
                    run.fingerprint,
                    run.error,
                    run.exit_code,
                    json.dumps(run.rates) if run.rates is not None else None,
                ),
            )
            cutoff = _iso(run.started_at - dt.timedelta(days=KEEP_DAYS))
            db.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,))

    def record_prices(self, site: str, intervals: Sequence[Interval], seen_at: dt.datetime) -> None:
        rows = [
            (
                site,
                item.channel_type,
                _iso(item.start),
                item.duration,
                item.type,
                item.per_kwh,
                item.advanced_price.predicted if item.advanced_price else None,
                item.spike_status,
                _iso(seen_at),
                _KIND_RANK.get(item.type, -1),
            )
            for item in intervals
            if item.type in _KIND_RANK
        ]
        with self._db() as db:
            db.executemany(
                "INSERT INTO prices (site, channel, start, duration, kind, per_kwh, predicted,"
                " spike, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (site, channel, start, duration) DO UPDATE SET"
                " kind = excluded.kind, per_kwh = excluded.per_kwh,"
                " predicted = excluded.predicted, spike = excluded.spike,"
                " seen_at = excluded.seen_at"
                " WHERE ?10 >= CASE prices.kind WHEN 'ActualInterval' THEN 2"
                " WHEN 'CurrentInterval' THEN 1 ELSE 0 END",
                rows,
            )
            cutoff = _iso(seen_at - dt.timedelta(days=KEEP_DAYS))
            db.execute("DELETE FROM prices WHERE start < ?", (cutoff,))

    def actual_intervals(self, site: str, since: dt.datetime) -> list[Interval]:
        """Past prices of ``site`` since ``since``, as Amber intervals (for the estimate)."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT channel, start, duration, kind, per_kwh, spike FROM prices"
                " WHERE site = ? AND start >= ? AND kind = 'ActualInterval' ORDER BY start",
                (site, _iso(since)),
            ).fetchall()
        return parse_intervals([_interval_json(*row) for row in rows], "the local price history")

    def runs(
        self, since: dt.datetime, site: str | None = None, limit: int = 500
    ) -> list[RunRecord]:
        query = (
            "SELECT started_at, site, outcome, pushed, reason, fingerprint, error, exit_code,"
            " rates FROM runs WHERE started_at >= ?"
        )
        params: list[Any] = [_iso(since)]
        if site is not None:
            query += " AND site = ?"
            params.append(site)
        query += " ORDER BY started_at DESC, id DESC LIMIT ?"
        params.append(limit)
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(query, params).fetchall()
        return [
            RunRecord(
                started_at=dt.datetime.fromisoformat(row[0]),
                site=row[1],
                outcome=row[2],
                pushed=bool(row[3]),
                reason=row[4],
                fingerprint=row[5],
                error=row[6],
                exit_code=row[7],
                rates={k: (v[0], v[1]) for k, v in json.loads(row[8]).items()} if row[8] else None,
            )
            for row in rows
        ]

    def prices(
        self, site: str, since: dt.datetime, channel: str = "general"
    ) -> list[tuple[dt.datetime, int, str, float]]:
        """(start, duration, kind, perKwh) of ``channel`` since ``since``, in time order."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT start, duration, kind, per_kwh FROM prices WHERE site = ? AND channel = ?"
                " AND start >= ? ORDER BY start",
                (site, channel, _iso(since)),
            ).fetchall()
        return [(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class Fetched:
    """A saved answer for one day (``report``'s cache): final answers are never asked again."""

    body: Any
    fetched_at: dt.datetime
    final: bool


class FetchCache:
    """Answers fetched for ``report``, one per source, site and day, in the history database."""

    def __init__(self, history: History) -> None:
        self.history = history

    def get(self, source: str, site: str, day: dt.date) -> Fetched | None:
        if not self.history.path.exists():
            return None
        with self.history._db() as db:
            row = db.execute(
                "SELECT body, fetched_at, final FROM fetched WHERE source = ? AND site = ?"
                " AND day = ?",
                (source, site, day.isoformat()),
            ).fetchone()
        if row is None:
            return None
        return Fetched(json.loads(row[0]), dt.datetime.fromisoformat(row[1]), bool(row[2]))

    def put(
        self, source: str, site: str, day: dt.date, body: Any, at: dt.datetime, final: bool
    ) -> None:
        with self.history._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO fetched (source, site, day, body, fetched_at, final)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (source, site, day.isoformat(), json.dumps(body), _iso(at), int(final)),
            )
            oldest = (at - dt.timedelta(days=FETCH_KEEP_DAYS)).date().isoformat()
            db.execute("DELETE FROM fetched WHERE day < ?", (oldest,))


def _interval_json(
    channel: str, start: str, duration: int, kind: str, per_kwh: float, spike: str
) -> dict[str, Any]:
    begin = dt.datetime.fromisoformat(start)
    end = begin + dt.timedelta(minutes=duration)
    return {
        "type": kind,
        "duration": duration,
        "endTime": _iso(end),
        "perKwh": per_kwh,
        "channelType": channel,
        "spikeStatus": spike,
    }
