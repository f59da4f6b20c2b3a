"""The owner's overrides in the history database (its ``overrides`` table, schema 3): each one's
window, when a sync ended it and what it changed; ``report`` marks the days they touched."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.overrides import Override
from amber_tesla_sync.support.redact import clean


@dataclass(frozen=True)
class OverrideRecord:
    site: str
    id: str
    kind: str
    start: dt.datetime
    end: dt.datetime
    ended_at: dt.datetime | None
    cleared: bool
    changes: tuple[str, ...]
    slots: tuple[str, ...]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def record_overrides(history: History, site: str, overrides: Iterable[Override]) -> None:
    """Write (or bring up to date) the rows of ``overrides``."""
    rows = [
        (
            site,
            item.id,
            item.kind,
            _iso(item.start),
            _iso(item.end),
            _iso(item.ended_at) if item.ended_at is not None else None,
            int(item.cleared),
            json.dumps([clean(change) for change in item.changes], ensure_ascii=False),
            json.dumps(item.slots),
        )
        for item in overrides
    ]
    if not rows:
        return

    def write(db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO overrides (site, id, kind, start, end_at, ended_at, cleared,"
            " changes, slots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    history.transact(write)


def overrides_between(
    history: History, site: str, start: dt.datetime, end: dt.datetime
) -> list[OverrideRecord]:
    """The overrides of ``site`` whose window meets ``start``-``end``, in time order."""
    if not history.path.exists():
        return []
    rows = history.transact(
        lambda db: db.execute(
            "SELECT site, id, kind, start, end_at, ended_at, cleared, changes, slots FROM"
            " overrides WHERE site = ? AND start < ? AND end_at > ? ORDER BY start",
            (site, _iso(end), _iso(start)),
        ).fetchall()
    )
    return [
        OverrideRecord(
            site=row[0],
            id=row[1],
            kind=row[2],
            start=dt.datetime.fromisoformat(row[3]),
            end=dt.datetime.fromisoformat(row[4]),
            ended_at=dt.datetime.fromisoformat(row[5]) if row[5] else None,
            cleared=bool(row[6]),
            changes=tuple(json.loads(row[7])),
            slots=tuple(json.loads(row[8])),
        )
        for row in rows
    ]
