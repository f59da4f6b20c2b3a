"""Rule 11 through `sync` against the sandbox: thin, implausible, partial or stale answers and a
wrong clock are refused before anything is written to Tesla; the Powerwall keeps its last good
tariff, and the refusal is visible in the output, `--json`, the history and `status`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from amber_tesla_sync.errors import ExitCode
from synckit import Synced


def untouched(synced: Synced, before: Any) -> None:
    """Nothing was written to Tesla, and the last tariff is still there."""
    assert len(synced.sandbox.tariff_posts()) == 1
    assert not [r for r in synced.tesla_requests() if r.get("method") == "POST"]
    assert synced.sandbox.stored_tariff() == before


def test_only_the_current_interval_is_refused_and_reported(pushed: Synced) -> None:
    before = pushed.sandbox.stored_tariff()
    body = pushed.amber_prices()
    pushed.serve_prices([item for item in body if item["type"] == "CurrentInterval"], count=3)
    summary = pushed.sync_json()
    site = summary["sites"][0]
    assert summary["_code"] == ExitCode.REFUSED
    assert site["outcome"] == "refused"
    assert site["pushed"] is False
    assert any("prices reach only" in reason for reason in site["refusal"])
    untouched(pushed, before)
    # the plain output says it too
    pushed.advance(5)
    text = pushed.sync()
    assert text.code == ExitCode.REFUSED
    assert "refused to build a tariff" in text.stdout
    assert "keeps its last tariff" in text.stdout
    # the history records it, status shows since when the last good tariff runs
    history = pushed.run("history", "--json", "--since", "2026-01-01T00:00:00+00:00")
    runs = sorted(json.loads(history.stdout)["sites"][0]["runs"], key=lambda run: run["at"])
    assert [run["outcome"] for run in runs] == ["verified", "refused", "refused"]
    assert "prices reach only" in runs[-1]["error"]
    assert runs[-1]["exit_code"] == ExitCode.REFUSED
    status = json.loads(pushed.run("status", "--json").stdout)
    tariff = status["sites"][0]["tariff"]
    assert tariff["refusal"]["since"] == (pushed.now - dt.timedelta(minutes=5)).isoformat()
    assert "prices reach only" in tariff["refusal"]["reason"]
    assert tariff["pushed_at"] == (pushed.now - dt.timedelta(minutes=10)).isoformat()
    screen = pushed.run("status").stdout
    assert "refusing since" in screen
    assert "last good tariff" in screen
    # a good answer again: pushed or unchanged, and the refusal is over
    pushed.advance(5)
    assert pushed.sync().code == 0
    status = json.loads(pushed.run("status", "--json").stdout)
    tariff = status["sites"][0]["tariff"]
    assert tariff["refusal"] is None


def test_a_vanished_feed_in_channel_is_refused(pushed: Synced) -> None:
    before = pushed.sandbox.stored_tariff()
    body = pushed.amber_prices()
    pushed.serve_prices([item for item in body if item["channelType"] != "feedIn"], count=3)
    summary = pushed.sync_json()
    assert summary["_code"] == ExitCode.REFUSED
    assert "no feed-in (sell) prices" in summary["sites"][0]["refusal"][0]
    assert "tariff.expect_feed_in" in summary["sites"][0]["error"]
    untouched(pushed, before)


def test_an_absurd_price_is_bad_data(pushed: Synced) -> None:
    before = pushed.sandbox.stored_tariff()
    body = pushed.amber_prices()
    forecast = next(item for item in body if item["type"] == "ForecastInterval")
    forecast["perKwh"] = 1e6
    pushed.serve_prices(body, count=3)  # asked three times, the same every time
    result = pushed.sync()
    assert result.code == ExitCode.BAD_DATA
    assert "outside the plausible range" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    untouched(pushed, before)


def test_a_wrong_clock_is_refused_with_its_own_exit_code(pushed: Synced) -> None:
    before = pushed.sandbox.stored_tariff()
    # the machine's clock is 3 hours ahead of the servers' (Amber's Date header)
    result = pushed.run("sync", "--json", "--now", (pushed.now + dt.timedelta(hours=3)).isoformat())
    assert result.code == ExitCode.CLOCK
    site = json.loads(result.stdout)["sites"][0]
    assert site["outcome"] == "refused"
    assert "the system clock is 180 min ahead" in site["error"]
    assert "is time synchronised?" in site["error"]
    untouched(pushed, before)
    behind = pushed.run("sync", "--now", (pushed.now - dt.timedelta(minutes=20)).isoformat())
    assert behind.code == ExitCode.CLOCK
    assert "20 min behind" in behind.stdout
    assert "timedatectl" in behind.stdout
    untouched(pushed, before)


def test_stale_data_with_a_right_clock_is_refused(pushed: Synced) -> None:
    before = pushed.sandbox.stored_tariff()
    stale = pushed.amber_prices()  # the answer as it was ...
    pushed.advance(180)  # ... three hours ago (a stale cache)
    pushed.serve_prices(stale, count=3)
    summary = pushed.sync_json()
    assert summary["_code"] == ExitCode.REFUSED
    assert "does not contain now" in " ".join(summary["sites"][0]["refusal"])
    untouched(pushed, before)


def test_the_system_unit_waits_for_the_clock() -> None:
    from pathlib import Path

    unit = (Path(__file__).parents[1] / "systemd/system/amber-tesla-sync.service").read_text()
    after = [line for line in unit.splitlines() if line.startswith("After=")]
    assert after and "time-sync.target" in after[0].split("=", 1)[1].split()
