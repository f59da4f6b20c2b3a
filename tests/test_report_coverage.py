"""How much of a day the tool's tariff ran, from the sync history, against times worked out by
hand."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from amber_tesla_sync.errors import UsageError
from amber_tesla_sync.report.coverage import tariff_share
from amber_tesla_sync.report.days import choose_days
from amber_tesla_sync.store.history import FetchCache, History, RunRecord

START = dt.datetime(2026, 11, 19, 14, 0, tzinfo=dt.UTC)  # 00:00 in Brisbane
END = START + dt.timedelta(days=1)


def run(hours: float, outcome: str, reason: str = "", foreign: str | None = None) -> RunRecord:
    return RunRecord(
        started_at=START + dt.timedelta(hours=hours),
        site="home",
        outcome=outcome,
        pushed=outcome in ("pushed", "verified", "unverified"),
        reason=reason,
        fingerprint=None,
        error=None,
        exit_code=0,
        foreign=foreign,
    )


def test_ours_kept_foreign_and_unknown_add_up() -> None:
    runs = [
        run(-1, "pushed"),  # before the day: the day starts on our tariff
        run(3, "unchanged"),
        run(6, "refused"),  # 06:00-08:00 the last good tariff is kept
        run(7, "failed"),
        run(8, "verified"),
        run(11.5, "unchanged"),
        run(12, "unverified", "another app's tariff was replaced", "OTHER"),  # 11:30-12:00
    ]
    share = tariff_share(runs, START, END, END + dt.timedelta(hours=1))
    assert share.span == 86400
    assert share.kept == pytest.approx(2 * 3600)
    assert share.foreign == pytest.approx(0.5 * 3600)
    assert share.unknown == 0
    assert share.ours == pytest.approx(86400 - 2.5 * 3600)
    assert share.tool_fraction == pytest.approx(1 - 0.5 / 24)


def test_before_the_first_run_it_is_unknown_and_a_day_in_progress_stops_at_now() -> None:
    share = tariff_share([run(6, "pushed")], START, END, START + dt.timedelta(hours=9))
    assert (share.unknown, share.ours, share.span) == (6 * 3600, 3 * 3600, 9 * 3600)
    assert share.tool_fraction == pytest.approx(1 / 3)


def test_a_refusal_with_no_tariff_of_ours_keeps_nothing() -> None:
    share = tariff_share([run(2, "refused")], START, END, END)
    assert share.kept == 0 and share.unknown == 86400


def test_days_chosen() -> None:
    today = dt.date(2026, 11, 30)
    assert choose_days(None, None, today)[0] == dt.date(2026, 11, 23)
    assert choose_days(2, None, today) == [dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
    assert choose_days(None, dt.date(2026, 11, 29), today) == [
        dt.date(2026, 11, 29),
        today,
    ]
    for days, since in ((0, None), (91, None), (None, dt.date(2026, 12, 1)), (1, today)):
        with pytest.raises(UsageError):
            choose_days(days, since, today)


def test_the_fetch_cache_keeps_what_it_was_given(tmp_path: Path) -> None:
    cache = FetchCache(History(tmp_path / "history.sqlite3"))
    day = dt.date(2026, 11, 20)
    assert cache.get("tesla-energy", "1", day) is None
    cache.put("tesla-energy", "1", day, {"time_series": [1, 2]}, END, final=False)
    cache.put("tesla-energy", "1", day, {"time_series": [3]}, END, final=True)
    got = cache.get("tesla-energy", "1", day)
    assert got is not None and got.final and got.body == {"time_series": [3]}
    assert cache.get("tesla-energy", "2", day) is None
    later = END + dt.timedelta(days=200)  # saving much later forgets what Amber no longer has
    cache.put("amber-usage", "s", later.date(), [], later, final=True)
    assert cache.get("tesla-energy", "1", day) is None


def test_a_history_from_before_the_foreign_column_keeps_its_foreign_runs(tmp_path: Path) -> None:
    """An older file: its runs table has no foreign_tariff column; what its reasons said is kept."""
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,"
            " site TEXT NOT NULL, outcome TEXT NOT NULL, pushed INTEGER NOT NULL,"
            " reason TEXT NOT NULL, fingerprint TEXT, error TEXT, exit_code INTEGER NOT NULL,"
            " rates TEXT)"
        )
        rows = [
            ("2026-11-20T01:00:00Z", "verified", "first push for this site"),
            (
                "2026-11-20T02:00:00Z",
                "verified",
                "the Powerwall runs a tariff that is not ours (X)",
            ),
            ("2026-11-20T03:00:00Z", "dry-run", "the Powerwall runs a tariff that is not ours"),
        ]
        db.executemany(
            "INSERT INTO runs (started_at, site, outcome, pushed, reason, exit_code)"
            " VALUES (?, 'home', ?, 1, ?, 0)",
            rows,
        )
    db.close()
    found = History(path).runs(START - dt.timedelta(days=1), "home")
    assert [(r.reason, r.foreign) for r in reversed(found)] == [
        ("first push for this site", None),
        ("the Powerwall runs a tariff that is not ours (X)", "X"),
        ("the Powerwall runs a tariff that is not ours", "unnamed"),
    ]
    History(path).record_run(run(30, "verified", "forced (--force)", "Y"))
    assert History(path).runs(START, "home")[0].foreign == "Y"
