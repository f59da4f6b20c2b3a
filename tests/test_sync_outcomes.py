"""Outcomes are true: a push that was accepted but not (yet) read back as sent is "unverified"
(not "failed", not "nothing was changed") in the output, --json, the history and status, and the
next run reads it back before deciding anything instead of sending it again blindly."""

from __future__ import annotations

import datetime as dt
import json
import time

from amber_tesla_sync.errors import ExitCode
from synckit import Synced, shifted


def _fast(synced: Synced) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text().replace("timeout_seconds = 2.0", "timeout_seconds = 0.4")
        + "\n[sync]\nverify_seconds = 0\n"
    )


def _site_info_path(synced: Synced) -> str:
    return f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/site_info"


def _changed_prices(synced: Synced) -> None:
    """From now on Amber serves prices that differ materially from those first pushed."""
    body = synced.amber_prices()
    near = dt.datetime(2026, 1, 15, 6, 30, tzinfo=dt.UTC)
    synced.sandbox.clear_faults()
    synced.serve_prices(shifted(body, "general", near, 4.0), count=50)


def test_an_accepted_push_whose_read_back_timed_out_is_unverified(synced: Synced) -> None:
    _fast(synced)
    assert synced.sync_json()["sites"][0]["outcome"] == "verified"
    _changed_prices(synced)
    synced.sandbox.add_fault(_site_info_path(synced), "delay", delay_seconds=1.5, count=3)
    synced.advance(1)
    summary = synced.sync_json()
    site = summary["sites"][0]
    assert summary["_code"] == ExitCode.VERIFY
    assert site["outcome"] == "unverified"
    assert site["pushed"] is True
    assert site["verified"] is False
    assert "pushed and accepted, but reading it back failed" in site["error"]
    assert "nothing more was changed" not in site["error"]
    assert len(synced.sandbox.tariff_posts()) == 2  # the second push did reach the Powerwall

    history = json.loads(synced.run("history", "--json", "--now", synced.now.isoformat()).stdout)
    latest = history["sites"][0]["runs"][0]
    assert (latest["outcome"], latest["pushed"]) == ("unverified", True)
    status = synced.run("status", "--json", "--now", synced.now.isoformat())
    shown = json.loads(status.stdout)["sites"][0]
    assert shown["last_sync"]["outcome"] == "unverified"
    assert any("not yet read back as sent" in warning for warning in shown["warnings"])

    # the next run reads the tariff back (it is in effect) instead of pushing it again
    synced.advance(1)
    time.sleep(1.6)  # the delayed answers the client gave up on are logged when they end
    synced.sandbox.clear_requests()
    again = synced.sync_json()
    site = again["sites"][0]
    assert again["_code"] == 0, again
    assert site["outcome"] == "verified"
    assert site["pushed"] is False, site["reason"]
    assert "read back as sent" in site["reason"]
    assert len(synced.sandbox.tariff_posts()) == 2
    reads = [r for r in synced.tesla_requests() if r["path"] == _site_info_path(synced)]
    assert len(reads) == 1
    # and then it is plainly unchanged, without another read
    synced.advance(1)
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"


def test_a_read_back_that_does_not_match_yet_is_unverified_then_verified(synced: Synced) -> None:
    _fast(synced)
    synced.sandbox.set_switches(tariff_apply_delay=120)
    first = synced.sync()
    assert first.code == ExitCode.VERIFY
    assert "unverified" in first.stdout
    assert "does not match the one pushed" in first.stdout
    assert len(synced.sandbox.tariff_posts()) == 1
    synced.advance(5)  # the Powerwall has applied it now
    second = synced.sync_json()["sites"][0]
    assert second["outcome"] == "verified"
    assert len(synced.sandbox.tariff_posts()) == 1


def test_a_failed_push_is_failed_and_sent_again_next_time(synced: Synced) -> None:
    _fast(synced)
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/time_of_use_settings"
    synced.sandbox.add_fault(path, "status", status=500, count=3, body={"error": "boom"})
    failed = synced.sync_json()["sites"][0]
    assert (failed["outcome"], failed["pushed"], failed["verified"]) == ("failed", False, None)
    synced.advance(1)
    assert synced.sync_json()["sites"][0]["outcome"] == "verified"
