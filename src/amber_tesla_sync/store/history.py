"""The run history and the prices seen, in SQLite in the state directory.

Every ``sync`` records one row per site (time, outcome, pushed or not, why, the tariff's
fingerprint, the error if any). Prices are kept once per interval and channel (the latest seen,
an actual replacing a forecast), which is also the local history the persistence estimate can
use. Runs and prices older than ``keep_days`` (``history.keep_days``, given by ``sync``) are
pruned as new ones are recorded. The file's tables and schema version are in
:mod:`amber_tesla_sync.store.history_schema` (older files upgraded, newer ones refused).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from amber_tesla_sync.amber.models import Interval, parse_intervals
from amber_tesla_sync.errors import AppError, LocalFileError
from amber_tesla_sync.store.history_schema import prepare, refuse_newer
from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.store.state import move_aside
from amber_tesla_sync.support.files import file_error
from amber_tesla_sync.support.redact import clean

log = logging.getLogger(__name__)
T = TypeVar("T")

FETCH_KEEP_DAYS = 100  # report's saved answers: Amber serves usage for 90 days
# an interval's end as Amber writes it (NULL for a damaged row)
_END = "strftime('%Y-%m-%dT%H:%M:%SZ', start, '+' || duration || ' minutes')"
_KIND_RANK = {"ForecastInterval": 0, "CurrentInterval": 1, "ActualInterval": 2}


@dataclass(frozen=True)
class RunRecord:
    started_at: dt.datetime
    site: str
    outcome: str  # verified | unverified | unchanged | refused | failed | dry-run
    pushed: bool
    reason: str
    fingerprint: str | None
    error: str | None
    exit_code: int
    rates: dict[str, tuple[float, float]] | None = None
    foreign: str | None = None  # another app's tariff this run found on the Powerwall (its name)


def history_path() -> Path:
    return state_dir() / "history.sqlite3"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is dt.UTC:  # as written here (``…Z``): nothing to convert
        return moment
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no offset")
    return moment.astimezone(dt.UTC)


# SQLite's primary result codes (https://sqlite.org/rescode.html)
_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB: the file is damaged or not a database
_FULL = 13  # SQLITE_FULL


class History:
    """The history database. A damaged file is moved aside with a warning and a new one started;
    a full disk or an unwritable directory is an error naming the file (never a traceback), and
    so is a file of a newer version (left as it is). ``keep_days``: how long recorded runs and
    prices are kept (None or 0: for ever)."""

    def __init__(self, path: Path | None = None, keep_days: int | None = None) -> None:
        self.path = path or history_path()
        self.keep_days = keep_days
        self._ready = False  # the file has its tables (set up once per run, not per query)

    @classmethod
    def checked(cls, path: Path | None = None, keep_days: int | None = None) -> History:
        """The history for a run that records into it: a file of a newer version is refused
        here, before the run changes anything (other problems show, and are worked around, when
        it is used)."""
        history = cls(path, keep_days)
        found = history.newer(writable=True)
        if found is not None:
            raise found
        return history

    def newer(self, writable: bool = False) -> LocalFileError | None:
        """The error for a file written by a newer version, else None (also when absent or
        damaged). It only reads (``writable``: through a read-write connection, else read-only)."""
        uri = self.path.resolve().as_uri() + ("?mode=rw" if writable else "?mode=ro")
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
                refuse_newer(connection, self.path)
        except LocalFileError as error:
            return error
        except sqlite3.DatabaseError:
            pass  # damaged: said where it is used
        return None

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():  # SQLite gives its WAL files the database file's mode
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                self._ready = False
        except OSError as exc:
            raise file_error(self.path, exc, "open the history database") from exc
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            if not self._ready:
                prepare(connection, self.path)  # refuses a newer file before any write
                connection.execute("PRAGMA journal_mode=WAL")  # kept by the file itself
                self._ready = True
        except BaseException:
            connection.close()
            raise
        return connection

    def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        for attempt in range(2):
            try:
                connection = self._connect()
                try:
                    with connection:
                        return operation(connection)
                finally:
                    connection.close()
            except sqlite3.DatabaseError as exc:
                if _code(exc) in _CORRUPT and attempt == 0:
                    self._move_aside(exc)
                    continue
                raise self._error(exc) from exc
        raise AssertionError("unreachable")

    transact = _run  # for the record modules beside this one (store/override_history.py)

    def _move_aside(self, exc: sqlite3.DatabaseError) -> None:
        self._ready = False  # the new file needs its tables
        aside = move_aside(self.path)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                side = self.path.with_name(self.path.name + suffix)
                try:
                    side.replace(aside.with_name(aside.name + suffix))
                except OSError as error:
                    if isinstance(error, FileNotFoundError):
                        raise
                    raise file_error(side, error, "move aside the damaged file") from error
        log.warning(
            "the history database %s was damaged (%s); moved it to %s and started a new one",
            self.path,
            exc,
            aside,
        )

    def _error(self, exc: sqlite3.DatabaseError) -> AppError:
        if _code(exc) == _FULL:
            return file_error(self.path, OSError(errno.ENOSPC, str(exc)), "write")
        if _code(exc) in _CORRUPT:
            return LocalFileError(
                f"the history database {self.path} is damaged ({exc}) and could not be rebuilt",
                f"move {self.path} away; a new one is started on the next run",
            )
        return file_error(self.path, OSError(errno.EACCES, str(exc)), "use the history database")

    def check(self) -> str | None:
        """What is wrong with the file (for ``doctor``), or None when it is sound or absent."""
        if not self.path.exists():
            return None
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=5)
            try:
                rows = connection.execute("PRAGMA quick_check").fetchall()
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        problems = [str(row[0]) for row in rows if row and row[0] != "ok"]
        return "; ".join(problems[:3]) if problems else None

    def record_run(self, run: RunRecord) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO runs (started_at, site, outcome, pushed, reason, fingerprint, error,"
                " exit_code, rates, foreign_tariff) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _iso(run.started_at),
                    run.site,
                    run.outcome,
                    int(run.pushed),
                    clean(run.reason),
                    run.fingerprint,
                    clean(run.error) if run.error is not None else None,
                    run.exit_code,
                    json.dumps(run.rates) if run.rates is not None else None,
                    clean(run.foreign) if run.foreign is not None else None,
                ),
            )
            if self.keep_days:
                cutoff = _iso(run.started_at - dt.timedelta(days=self.keep_days))
                db.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,))

        self._run(write)

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

        def write(db: sqlite3.Connection) -> None:
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
            if self.keep_days:
                cutoff = _iso(seen_at - dt.timedelta(days=self.keep_days))
                db.execute("DELETE FROM prices WHERE start < ?", (cutoff,))

        self._run(write)

    def actual_spans(
        self, site: str, since: dt.datetime
    ) -> list[tuple[str, dt.datetime, dt.datetime]]:
        """(channel, start, end) of the actual prices recorded for ``site`` that end after
        ``since``, in time order: what the record covers (a damaged row is left out)."""
        if not self.path.exists():
            return []
        rows = self._run(
            lambda db: db.execute(
                f"SELECT channel, start, {_END} AS finish"
                " FROM prices WHERE site = ? AND start >= ? AND kind = 'ActualInterval'"
                " AND finish > ? ORDER BY start",
                (site, _iso(since - dt.timedelta(days=1)), _iso(since)),
            ).fetchall()
        )
        spans = []
        for channel, start, end in rows:
            with contextlib.suppress(TypeError, ValueError):
                spans.append((channel, _utc(start), _utc(end)))
        return spans

    def actual_intervals(self, site: str, since: dt.datetime) -> list[Interval]:
        """Past prices of ``site`` since ``since``, as Amber intervals (for the estimate)."""
        if not self.path.exists():
            return []
        rows = self._run(
            lambda db: db.execute(
                f"SELECT channel, {_END}, duration, kind, per_kwh, spike FROM prices"
                " WHERE site = ? AND start >= ? AND kind = 'ActualInterval' ORDER BY start",
                (site, _iso(since)),
            ).fetchall()
        )
        return parse_intervals([_interval_json(*row) for row in rows], "the local price history")

    def runs(
        self, since: dt.datetime, site: str | None = None, limit: int | None = 500
    ) -> list[RunRecord]:
        query = (
            "SELECT started_at, site, outcome, pushed, reason, fingerprint, error, exit_code,"
            " rates, foreign_tariff FROM runs WHERE started_at >= ?"
        )
        params: list[Any] = [_iso(since)]
        if site is not None:
            query += " AND site = ?"
            params.append(site)
        query += " ORDER BY started_at DESC, id DESC LIMIT ?"
        params.append(-1 if limit is None else limit)  # -1: no limit
        if not self.path.exists():
            return []
        rows = self._run(lambda db: db.execute(query, params).fetchall())
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
                foreign=row[9],
            )
            for row in rows
        ]

    def prices(
        self, site: str, since: dt.datetime, channel: str = "general"
    ) -> list[tuple[dt.datetime, int, str, float]]:
        """(start, duration, kind, perKwh) of ``channel`` since ``since``, in time order."""
        if not self.path.exists():
            return []
        rows = self._run(
            lambda db: db.execute(
                "SELECT start, duration, kind, per_kwh FROM prices WHERE site = ? AND channel = ?"
                " AND start >= ? ORDER BY start",
                (site, channel, _iso(since)),
            ).fetchall()
        )
        return [(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]


def _code(exc: sqlite3.DatabaseError) -> int:
    """SQLite's primary result code of ``exc`` (-1 when unknown)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


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
        row = self.history._run(
            lambda db: db.execute(
                "SELECT body, fetched_at, final FROM fetched WHERE source = ? AND site = ?"
                " AND day = ?",
                (source, site, day.isoformat()),
            ).fetchone()
        )
        if row is None:
            return None
        return Fetched(json.loads(row[0]), dt.datetime.fromisoformat(row[1]), bool(row[2]))

    def put(
        self, source: str, site: str, day: dt.date, body: Any, at: dt.datetime, final: bool
    ) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO fetched (source, site, day, body, fetched_at, final)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (source, site, day.isoformat(), json.dumps(body), _iso(at), int(final)),
            )
            oldest = (at - dt.timedelta(days=FETCH_KEEP_DAYS)).date().isoformat()
            db.execute("DELETE FROM fetched WHERE day < ?", (oldest,))

        self.history._run(write)


def _interval_json(
    channel: str, end: str, duration: int, kind: str, per_kwh: float, spike: str
) -> dict[str, Any]:
    return {
        "type": kind,
        "duration": duration,
        "endTime": end,
        "perKwh": per_kwh,
        "channelType": channel,
        "spikeStatus": spike,
    }
