"""Each override is recorded in the history (start, end, when a sync ended it, what it changed),
`report` marks the days it touched (the day table and --json), and a history file of schema 2
gains the overrides table when it is upgraded."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.history_schema import HISTORY_SCHEMA
from overridekit import override
from synckit import T0, Synced


def test_an_override_is_recorded_and_its_day_marked_in_the_report(synced: Synced) -> None:
    synced.at(T0 - dt.timedelta(days=1))
    assert synced.sync().code == 0
    doc = override(synced, "charge", "--for", "1h", "--target", "80")
    assert doc["_code"] == 0, doc
    synced.advance(65)
    assert synced.sync().code == 0
    synced.at(T0)
    assert synced.sync().code == 0

    with sqlite3.connect(synced.site.state / "history.sqlite3") as db:
        rows = db.execute("SELECT id, kind, start, end_at, ended_at, changes FROM overrides")
        (row,) = rows.fetchall()
    assert row[:2] == ("1", "charge")
    assert dt.datetime.fromisoformat(row[2]) == T0 - dt.timedelta(days=1)
    assert dt.datetime.fromisoformat(row[4]) == T0 - dt.timedelta(days=1) + dt.timedelta(minutes=65)
    assert json.loads(row[5]) == ["backup reserve 20 % → 80 %"]

    result = synced.run("report", "--now", synced.now.isoformat(), "--json", "--days", "2")
    assert result.code == 0, result.stderr
    days = {day["date"]: day for day in json.loads(result.stdout)["sites"][0]["days"]}
    yesterday, before = days["2026-01-14"], days["2026-01-13"]
    assert [(o["id"], o["kind"]) for o in yesterday["overrides"]] == [("1", "charge")]
    assert yesterday["overrides"][0]["tariff_slots"][:2] == ["16:30", "17:00"]
    assert before["overrides"] == []
    text = synced.run("report", "--now", synced.now.isoformat(), "--days", "2")
    assert "Wed 14 Jan ⚑" in text.stdout or "Wed 14 Jan (est.) ⚑" in text.stdout
    assert "⚑ an override of yours" in text.stdout
    assert "override 1: charge Wed 16:42–Wed 17:47 (backup reserve 20 % → 80 %)" in text.stdout
    assert "Tue 13 Jan" in text.stdout
    assert "Tue 13 Jan ⚑" not in text.stdout


def test_a_history_of_schema_2_gains_the_overrides_table(synced: Synced) -> None:
    path = synced.site.state / "history.sqlite3"
    History(path).transact(lambda db: None)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE overrides")
        db.execute("PRAGMA user_version = 2")
    History(path).transact(lambda db: None)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (HISTORY_SCHEMA,) == (3,)
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "overrides" in names
    assert (synced.site.state / "history.sqlite3.v2.bak").exists()
