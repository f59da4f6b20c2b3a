"""A sync asks Amber for the past day only as far back as the recorded prices do not reach."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

from amber_tesla_sync.amber.client import intervals_to_request
from amber_tesla_sync.store.history import history_path
from amber_tesla_sync.sync.sources import covered_until
from synckit import Synced

NOW = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(hours=24)


def actuals(
    channel: str, start: dt.datetime, count: int, minutes: int = 5
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    step = dt.timedelta(minutes=minutes)
    return [(channel, start + step * i, start + step * (i + 1)) for i in range(count)]


def amber_asked(synced: Synced) -> list[dict[str, Any]]:
    return [
        r["params"]
        for r in synced.sandbox.requests()
        if r["path"].endswith("/prices/current") and r["service"] == "amber"
    ]


# -- the pure parts ------------------------------------------------------------------------------


def test_without_a_record_the_whole_past_day_is_asked_for() -> None:
    assert intervals_to_request(5) == (300, 288)
    assert intervals_to_request(30) == (50, 48)
    assert intervals_to_request(5, NOW, None) == (300, 288)


def test_with_a_record_only_the_missing_part_and_an_hour_more_is_asked_for() -> None:
    assert intervals_to_request(5, NOW, NOW - dt.timedelta(minutes=20)) == (300, 4 + 12)
    assert intervals_to_request(5, NOW, NOW - dt.timedelta(minutes=21)) == (300, 5 + 12)
    assert intervals_to_request(30, NOW, NOW - dt.timedelta(minutes=20)) == (50, 1 + 2)
    # a record from the future (the clock went back) asks for the last hour only
    assert intervals_to_request(5, NOW, NOW + dt.timedelta(hours=3)) == (300, 12)
    # a record older than a day asks for no more than a day
    assert intervals_to_request(5, NOW, NOW - dt.timedelta(days=2)) == (300, 288)


def test_the_record_counts_from_the_start_of_the_day_without_a_gap() -> None:
    day = actuals("general", SINCE - dt.timedelta(minutes=5), 288) + actuals(
        "feedIn", SINCE - dt.timedelta(minutes=5), 288
    )
    end = SINCE + dt.timedelta(minutes=5 * 287)
    assert covered_until(day, ["general", "feedIn"], SINCE) == end
    # the shorter channel decides
    shorter = [i for i in day if not (i[0] == "feedIn" and i[2] > end - dt.timedelta(hours=1))]
    assert covered_until(shorter, ["general", "feedIn"], SINCE) == end - dt.timedelta(hours=1)
    # a gap: only what comes before it counts
    gap_start = SINCE + dt.timedelta(hours=3)
    holed = [i for i in day if not (i[0] == "general" and i[1] == gap_start)]
    assert covered_until(holed, ["general", "feedIn"], SINCE) == gap_start


def test_a_record_that_misses_the_start_or_a_channel_counts_for_nothing() -> None:
    late = actuals("general", SINCE + dt.timedelta(minutes=5), 100)
    assert covered_until(late, ["general"], SINCE) is None
    general_only = actuals("general", SINCE - dt.timedelta(minutes=5), 288)
    assert covered_until(general_only, ["general", "feedIn"], SINCE) is None
    assert covered_until(general_only, [], SINCE) is None
    assert covered_until([], ["general"], SINCE) is None


# -- through sync, against the sandbox -----------------------------------------------------------


def test_a_sync_after_a_sync_asks_only_for_what_is_not_recorded(synced: Synced) -> None:
    first = synced.sync_json()
    assert first["_code"] == 0, first["_stderr"]
    synced.advance(15)
    second = synced.sync_json()
    assert second["_code"] == 0, second["_stderr"]
    asked = amber_asked(synced)
    assert [int(a["previous"]) for a in asked] == [288, 12 + 4]  # 05:40 → 05:57:10: 4 intervals
    assert {a["next"] for a in asked} == {"300"}


def test_the_tariff_is_the_same_whether_the_past_day_comes_from_the_record_or_amber(
    synced: Synced,
) -> None:
    for _ in range(6):  # a sync every 4 hours, up to 11:42 in Sydney the next day
        assert synced.sync().code == 0
        synced.advance(4 * 60)
    synced.advance(-4 * 60 + 5)
    # before 12:30 Amber's forecasts end at 04:00: later slots are estimated from the day before
    shown = synced.sync("--dry-run").stdout
    estimated = re.search(r"(\d+) of 48 slots estimated", shown)
    assert estimated is not None and int(estimated[1]) > 8, shown
    partial = synced.sync_json("--dry-run")
    history_path().unlink()
    whole = synced.sync_json("--dry-run")
    asked = [int(a["previous"]) for a in amber_asked(synced)]
    # 01:40 → 01:47:10 UTC: 2 intervals, and the hour before
    assert asked[-3:] == [2 + 12, 2 + 12, 288]
    assert partial["sites"][0]["fingerprint"] == whole["sites"][0]["fingerprint"]
    assert partial["sites"][0]["rates"] == whole["sites"][0]["rates"]
    assert partial["sites"][0]["fingerprint"] is not None


def test_a_lost_record_asks_for_the_whole_day_again(synced: Synced) -> None:
    assert synced.sync().code == 0
    history_path().write_bytes(b"not a database")
    synced.advance(5)
    assert synced.sync().code == 0
    assert [int(a["previous"]) for a in amber_asked(synced)] == [288, 288]


def test_a_damaged_price_row_in_the_record_is_left_out_and_then_a_warning(
    synced: Synced,
) -> None:
    assert synced.sync().code == 0
    with sqlite3.connect(history_path()) as db:
        db.execute(
            "INSERT INTO prices (site, channel, start, duration, kind, per_kwh, predicted, spike,"
            " seen_at) VALUES (?, 'general', 'not a time', 5, 'ActualInterval', 20.0, NULL,"
            " 'none', '2026-01-15T05:42:10Z')",
            (synced.sandbox.amber_site_id,),
        )
    synced.advance(5)
    first = synced.sync_json()
    assert first["_code"] == 0, first["_stderr"]
    assert first["sites"][0]["warnings"] == []  # the rest of the record still counts
    # the next morning the estimate reads the record, and cannot use it
    synced.advance(20 * 60)
    second = synced.sync_json()
    assert second["_code"] == 0, second["_stderr"]
    (warning,) = second["sites"][0]["warnings"]
    assert "the history was not used (read past prices" in warning
    # 05:40 → 05:47:10 UTC: 2 intervals; then 05:45 → 01:47:10 the next day: 241
    assert [int(a["previous"]) for a in amber_asked(synced)] == [288, 2 + 12, 241 + 12]
