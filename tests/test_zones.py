"""The one rule for a site's time zone (sync/zones.py), and that every command follows it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from amber_tesla_sync.errors import ConfigError, ServiceError, TimeZoneError
from amber_tesla_sync.store.state import EnergySiteState, State
from amber_tesla_sync.sync import zones


def remembering(site_id: int, zone: str) -> State:
    state = State()
    state.energy_sites[str(site_id)] = EnergySiteState(time_zone=zone)
    return state


def unread() -> State:
    raise AssertionError("the state was read although a zone is configured")


def test_a_configured_zone_comes_first_and_the_state_is_not_read() -> None:
    assert zones.shown_zone([("Australia/Perth", 7)], unread) == ZoneInfo("Australia/Perth")


def test_then_the_remembered_powerwall_zone() -> None:
    state = remembering(7, "Australia/Adelaide")
    assert zones.shown_zone([(None, 7)], lambda: state) == ZoneInfo("Australia/Adelaide")
    # the first configured zone of any site beats any remembered one
    both = [(None, 7), ("Australia/Brisbane", 8)]
    assert zones.shown_zone(both, lambda: state) == ZoneInfo("Australia/Brisbane")


def test_then_this_computers_zone_for_showing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zones, "local_zone", lambda: ZoneInfo("Pacific/Auckland"))
    assert zones.shown_zone([(None, 7)], State) == ZoneInfo("Pacific/Auckland")
    assert zones.shown_zone([(None, None)], unread) == ZoneInfo("Pacific/Auckland")
    # a remembered name this machine does not know is passed over, not an error
    state = remembering(7, "Mars/Olympus")
    assert zones.shown_zone([(None, 7)], lambda: state) == ZoneInfo("Pacific/Auckland")


def test_a_tariff_reads_the_powerwall_once_then_remembers() -> None:
    state, asked = State(), []

    def powerwall_zone() -> str:
        asked.append(1)
        return "Australia/Hobart"

    assert zones.site_zone(state, None, 7, powerwall_zone) == ZoneInfo("Australia/Hobart")
    assert zones.site_zone(state, None, 7, powerwall_zone) == ZoneInfo("Australia/Hobart")
    assert len(asked) == 1
    assert zones.remembered_zone(state, 7) == "Australia/Hobart"
    # and a configured zone wins without asking
    assert zones.site_zone(state, "Australia/Darwin", 7, powerwall_zone) == ZoneInfo(
        "Australia/Darwin"
    )
    assert len(asked) == 1


def test_a_tariff_without_any_zone_is_an_error_that_says_how() -> None:
    with pytest.raises(ConfigError, match="time zone is unknown") as raised:
        zones.site_zone(State(), None, None, lambda: None)
    assert "site.timezone" in (raised.value.hint or "")
    with pytest.raises(ServiceError, match="did not report its time zone"):
        zones.site_zone(State(), None, 7, lambda: None)
    with pytest.raises(TimeZoneError, match="not a time zone known here"):
        zones.site_zone(State(), None, 7, lambda: "Mars/Olympus")


def test_status_history_and_now_agree_on_a_remembered_zone(tmp_path, monkeypatch) -> None:
    """A time without an offset (--now, --since) and the times shown use the same zone."""
    from amber_tesla_sync.cli.app import State as CliState
    from amber_tesla_sync.status.history import site_histories
    from amber_tesla_sync.store.history import History
    from amber_tesla_sync.sync.targets import Target

    config = tmp_path / "config.toml"
    config.write_text('[amber]\nsite_id = "S1"\n[tesla]\nenergy_site_id = 7\n', encoding="utf-8")
    monkeypatch.setenv("AMBER_TESLA_SYNC_STATE_DIR", str(tmp_path / "state"))
    from amber_tesla_sync.store.state import save_state

    save_state(remembering(7, "Australia/Adelaide"))
    cli = CliState(config, verbose=0)
    assert cli.zone() == ZoneInfo("Australia/Adelaide")
    moment = cli.now("2026-01-15T12:00")
    assert moment == dt.datetime(2026, 1, 15, 1, 30, tzinfo=dt.UTC)
    from amber_tesla_sync.store.state import load_state

    shown = site_histories(History(), load_state(), [Target("S1", "S1", 7, None)], moment)
    assert shown[0].zone == ZoneInfo("Australia/Adelaide")
