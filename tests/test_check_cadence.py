"""When `sync` checks the Powerwall's settings (and applies the `ensure_*` fixes): on every read
of site_info it makes anyway (a push's read-back included), at once with `sync --force`, and
otherwise every `sync.check_remote_every_minutes`; between checks it reads nothing."""

from __future__ import annotations

import datetime as dt

from synckit import Synced, shifted

NOW_SLOT = dt.datetime(2026, 1, 15, 5, 30, tzinfo=dt.UTC)


def add_sync_options(synced: Synced, *lines: str) -> None:
    text = synced.site.config.read_text() + "\n[sync]\n" + "\n".join(lines) + "\n"
    synced.site.config.write_text(text)


def mode(synced: Synced) -> str:
    value: str = synced.sandbox.energy_site_settings()["default_real_mode"]
    return value


def first_sync(synced: Synced) -> None:
    """A first run: pushes, reads back, finds nothing wrong."""
    first = synced.sync_json()["sites"][0]
    assert first["pushed"] and first["powerwall"] == [], first
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")  # the owner, in the app


def test_sync_force_checks_the_settings_again(synced: Synced) -> None:
    first_sync(synced)
    synced.advance(5)
    result = synced.sync("--force")
    assert result.code == 0, result.stderr
    assert "Time-Based Control" in result.stdout, result.stdout
    assert "(at the last check)" not in result.stdout  # a fresh finding, not the last one's


def test_sync_force_applies_a_fix_at_once(synced: Synced) -> None:
    add_sync_options(synced, "ensure_autonomous = true")
    first_sync(synced)
    synced.advance(5)
    forced = synced.sync_json("--force")["sites"][0]
    assert mode(synced) == "autonomous"
    assert any("autonomous" in action for action in forced["actions"]), forced


def test_a_push_checks_the_settings_it_reads_back(synced: Synced) -> None:
    add_sync_options(synced, "ensure_autonomous = true")
    first_sync(synced)
    synced.advance(15)
    later = NOW_SLOT + dt.timedelta(hours=1)  # a near-term slot moves: a push
    synced.serve_prices(shifted(synced.amber_prices(), "general", later, 10.0))
    moved = synced.sync_json()["sites"][0]
    assert moved["pushed"], moved
    assert mode(synced) == "autonomous"  # fixed in the run that read the settings back
    assert any("autonomous" in action for action in moved["actions"]), moved


def test_between_checks_nothing_is_read_and_the_check_comes_on_time(synced: Synced) -> None:
    add_sync_options(synced, "check_remote_every_minutes = 30")
    first_sync(synced)
    synced.advance(5)
    synced.sandbox.clear_requests()
    quiet = synced.sync()
    assert quiet.code == 0 and synced.tesla_requests() == []  # no material change: no request
    synced.advance(25)  # 30 minutes after the last read
    checked = synced.sync()
    assert "Time-Based Control" in checked.stdout and "(at the last check)" not in checked.stdout
