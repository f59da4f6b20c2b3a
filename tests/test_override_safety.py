"""Overrides are safe: a refused fold changes nothing, an overlap is refused naming the override
in force, `clear` ends one at once, `list --json` carries them, windows across midnight and a
daylight-saving change cover the right slots, and one past its end with no sync since shows as
"ended, not yet restored"."""

from __future__ import annotations

import datetime as dt

import pytest

from amber_tesla_sync.errors import ExitCode
from overridekit import override, posts, powerwall, sync_state
from synckit import Synced

# Sat 3 Oct 2026 23:00 in Sydney (AEST): daylight saving starts at 02:00 (→ 03:00) on Sunday
BEFORE_DST = dt.datetime(2026, 10, 3, 13, 0, tzinfo=dt.UTC)


def test_a_refused_fold_changes_nothing(synced: Synced) -> None:
    before = powerwall(synced)
    body = synced.amber_prices()
    synced.serve_prices([item for item in body if item["type"] == "CurrentInterval"])
    doc = override(synced, "charge", "--for", "1h")
    assert doc["_code"] == ExitCode.REFUSED
    assert doc["started"] is False
    assert doc["sites"][0]["outcome"] == "refused"
    assert posts(synced) == []
    assert powerwall(synced) == before
    assert sync_state(synced)["manual"] == []
    text = synced.run("override", "list", "--now", synced.now.isoformat())
    assert "no overrides" in text.stdout


def test_an_overlapping_override_is_refused_naming_the_one_in_force(synced: Synced) -> None:
    assert override(synced, "charge", "--for", "90m")["_code"] == 0
    synced.advance(5)
    synced.sandbox.clear_requests()
    refused = synced.run("override", "hold", "--for", "1h", "--now", synced.now.isoformat())
    assert refused.code == ExitCode.USAGE
    assert "has an override already: 1 (charge to 100 % until Thu 18:12)" in refused.stderr
    assert "override clear 1" in refused.stderr
    assert posts(synced) == []
    assert [o["kind"] for o in sync_state(synced)["manual"]] == ["charge"]


def test_clear_ends_it_at_once_and_restores(synced: Synced) -> None:
    assert override(synced, "charge", "--for", "3h", "--target", "80")["_code"] == 0
    assert powerwall(synced)["backup_reserve"] == 80
    synced.advance(20)
    cleared = override(synced, "clear", "1")
    assert cleared["_code"] == 0, cleared
    assert cleared["cleared"] == ["1"]
    assert powerwall(synced)["backup_reserve"] == 20
    assert all(rate > 0 for rate in synced.stored_rates().values())
    listed = override(synced, "list")
    assert [(o["id"], o["state"]) for o in listed["overrides"]] == [("1", "cleared")]
    again = synced.run("override", "clear", "--all", "--now", synced.now.isoformat())
    assert again.code == ExitCode.USAGE
    assert "no override to clear" in again.stderr


def test_list_json_carries_the_overrides_in_the_one_convention(synced: Synced) -> None:
    empty = override(synced, "list")
    assert (empty["schema"], empty["command"], empty["overrides"]) == (1, "override list", [])
    assert override(synced, "hold", "--floor", "50", "--until", "18:00")["_code"] == 0
    listed = override(synced, "list")
    (item,) = listed["overrides"]
    assert item["kind"] == "hold"
    assert item["state"] == "in force"
    assert item["end"] == "2026-01-15T07:00:00+00:00"
    assert item["changes"] == ["backup reserve 20 % → 50 %"]
    assert item["owner_values"] == {"backup_reserve": "20"}
    status = synced.run("status", "--json", "--now", synced.now.isoformat())
    assert '"kind": "hold"' in status.stdout


def test_past_its_end_with_no_sync_it_shows_as_ended_not_yet_restored(synced: Synced) -> None:
    assert override(synced, "charge", "--for", "1h")["_code"] == 0
    synced.advance(180)  # the timer stopped: no sync ran
    listed = override(synced, "list")
    assert listed["overrides"][0]["state"] == "ended, not yet restored"
    status = synced.run("status", "--now", synced.now.isoformat())
    assert "ended 2 h 0 min ago, not yet restored" in status.stdout
    assert powerwall(synced)["backup_reserve"] == 100  # the Powerwall keeps the override's
    assert synced.sync().code == 0
    assert powerwall(synced)["backup_reserve"] == 20


def test_a_window_across_midnight_covers_the_slots_of_both_days(synced: Synced) -> None:
    doc = override(synced, "charge", "--until", "01:00")
    assert doc["_code"] == 0, doc
    slots = doc["override"]["tariff_slots"]
    assert slots[0] == "16:30"
    assert slots[-3:] == ["23:30", "00:00", "00:30"]
    assert len(slots) == 17
    assert doc["override"]["end"] == "2026-01-15T14:00:00+00:00"  # 01:00 AEDT


def test_a_window_across_the_start_of_daylight_saving(synced: Synced) -> None:
    synced.at(BEFORE_DST)
    doc = override(synced, "charge", "--until", "04:00")
    assert doc["_code"] == 0, doc
    assert doc["override"]["end"] == "2026-10-03T17:00:00+00:00"  # 04:00 AEDT: 4 hours on
    slots = doc["override"]["tariff_slots"]
    # 02:00 and 02:30 do not occur that night: their labels stand for 01:30 and 03:00 (the fold's
    # rule), which the window holds
    assert slots == [
        *("23:00", "23:30", "00:00", "00:30", "01:00", "01:30", "02:00"),
        *("02:30", "03:00", "03:30"),
    ]
    assert (synced.now + dt.timedelta(hours=4)).isoformat() == doc["override"]["end"]
    rates = synced.stored_rates()
    assert all(rates["PERIOD_" + label.replace(":", "_")] == 0.0 for label in slots)
    synced.advance(4 * 60 + 1)
    after = synced.sync_json()
    assert after["_code"] == 0, after
    assert powerwall(synced)["backup_reserve"] == 20


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("charge", "--for", "1h", "--until", "18:00"), "exactly one of --for and --until"),
        (("charge",), "exactly one of --for and --until"),
        (("pause", "--for", "25h"), "at most 24 hours"),
        (("charge", "--for", "soon"), "is not a duration"),
        (("charge", "--for", "1h", "--target", "90"), "takes a backup reserve of 81-99 % as 80"),
        (("hold", "--until", "tomorrow"), "neither HH:MM nor an ISO 8601 date-time"),
        (("clear",), "an ID or --all"),
    ],
)
def test_usage_errors_say_what_to_do_and_change_nothing(
    synced: Synced, args: tuple[str, ...], said: str
) -> None:
    result = synced.run("override", *args, "--now", synced.now.isoformat())
    assert result.code == ExitCode.USAGE
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert posts(synced) == []
