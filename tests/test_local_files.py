"""Every local file has a defined answer to damage and to an imperfect machine: rebuildable files
(state, history) are moved aside with a warning and rebuilt; a history problem never blocks or
repeats a push; environment problems get a documented exit code and a message, never exit 1."""

from __future__ import annotations

import datetime as dt
import errno
import shutil
import sqlite3
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from amber_tesla_sync.errors import DiskFullError, ExitCode, SecretsError
from amber_tesla_sync.settings.load import load_config
from amber_tesla_sync.store.history import History
from amber_tesla_sync.store.secrets import TESLEMETRY_TOKEN
from amber_tesla_sync.sync.context import AppContext
from synckit import Synced


def _posts(synced: Synced) -> int:
    return len(synced.sandbox.tariff_posts())


def _aside(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.damaged-*"))


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff\xfe garbage \x80", b'{"sync": {"site": {"last_push": ', b"[1, 2]", b'{"sync": 5}'],
    ids=["binary", "truncated", "list", "wrong-shape"],
)
def test_a_damaged_state_file_is_moved_aside_and_rebuilt(synced: Synced, content: bytes) -> None:
    state = synced.site.state / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(content)
    result = synced.sync()
    assert result.code == 0, result.stdout + result.stderr
    assert "state file" in result.stderr and "moved it to" in result.stderr
    (aside,) = _aside(synced.site.state, "state.json")
    assert aside.read_bytes() == content
    assert '"last_push"' in state.read_text()  # rebuilt


@pytest.mark.parametrize(
    "content",
    [b"garbage" * 300, b"SQLite format 3\x00" + b"\x10\x00"],
    ids=["garbage", "truncated"],
)
def test_a_damaged_history_is_moved_aside_and_rebuilt(synced: Synced, content: bytes) -> None:
    history = synced.site.state / "history.sqlite3"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_bytes(content)
    result = synced.sync()
    assert result.code == 0, result.stdout + result.stderr
    assert "history database" in result.stderr and "moved it to" in result.stderr
    assert _aside(synced.site.state, "history.sqlite3")
    for command in ("status", "history"):
        shown = synced.run(command, "--now", synced.now.isoformat())
        assert shown.code == 0, shown.stdout + shown.stderr
    runs = History(history).runs(synced.now - dt.timedelta(hours=1))
    assert [run.outcome for run in runs] == ["verified"]


def _damage_pages(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096:] = b"\x5a" * (len(data) - 4096)  # every page after the first
    path.write_bytes(bytes(data))


def test_a_history_with_damaged_pages_neither_blocks_nor_repeats_a_push(synced: Synced) -> None:
    assert synced.sync().code == 0
    assert _posts(synced) == 1
    history = synced.site.state / "history.sqlite3"
    _damage_pages(history)
    assert History(history).check() is not None
    for _ in range(3):
        synced.advance(5)
        result = synced.sync_json()
        assert result["_code"] == 0, result
        assert result["sites"][0]["outcome"] == "unchanged"
    assert _posts(synced) == 1  # never re-pushed (and re-billed)
    assert History(history).check() is None


def test_a_history_that_cannot_be_written_does_not_repeat_the_push(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        raise DiskFullError("cannot write history.sqlite3: no space left on the device", "free")

    monkeypatch.setattr(History, "record_run", full)
    monkeypatch.setattr(History, "record_prices", full)
    first = synced.sync_json()
    site = first["sites"][0]
    assert (first["_code"], site["outcome"]) == (0, "verified")
    assert any("history was not used" in warning for warning in site["warnings"])
    synced.advance(5)
    assert synced.sync_json()["sites"][0]["outcome"] == "unchanged"
    assert _posts(synced) == 1


def _failing_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def fail(handle: BinaryIO, data: bytes) -> None:
        raise OSError(code, "simulated")

    monkeypatch.setattr("amber_tesla_sync.support.files._write_all", fail)


def test_a_full_disk_is_exit_15_with_a_message(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_writes(monkeypatch, errno.ENOSPC)
    result = synced.sync()
    assert result.code == ExitCode.DISK_FULL, result.stdout + result.stderr
    assert "no space left" in result.stderr and "state.json" in result.stderr
    assert "what to do: free some space" in result.stderr
    assert "bug" not in result.stderr


def test_a_read_only_state_directory_is_exit_14(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_writes(monkeypatch, errno.EROFS)
    result = synced.sync()
    assert result.code == ExitCode.LOCAL_FILES, result.stdout + result.stderr
    assert "cannot save the state file" in result.stderr
    assert "bug" not in result.stderr


def test_a_state_directory_that_is_not_a_directory_is_exit_14(synced: Synced) -> None:
    shutil.rmtree(synced.site.state)
    synced.site.state.write_text("not a directory")
    for command in ("sync", "status"):
        result = synced.run(command, "--now", synced.now.isoformat())
        assert result.code == ExitCode.LOCAL_FILES, (command, result.stdout + result.stderr)
        assert str(synced.site.state) in result.stderr
        assert "what to do:" in result.stderr
    assert synced.sandbox.tariff_posts() == []


def test_a_colon_in_the_state_directory_is_part_of_its_name(
    synced: Synced, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    odd = tmp_path / "state:with:colons"
    monkeypatch.setenv("AMBER_TESLA_SYNC_STATE_DIR", str(odd))
    assert synced.sync().code == 0
    assert (odd / "state.json").exists() and (odd / "history.sqlite3").exists()
    assert not (tmp_path / "state" / "history.sqlite3").exists()  # not split at the colon


def test_now_in_year_one_is_a_usage_error(synced: Synced) -> None:
    for moment in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"):
        result = synced.run("sync", "--now", moment)
        assert result.code == ExitCode.USAGE, result.stderr
        assert "out of range" in result.stderr
    result = synced.run("history", "--since", "99999999999d")
    assert result.code == ExitCode.USAGE, result.stderr


def test_an_unknown_zone_from_the_powerwall_is_exit_16(synced: Synced) -> None:
    c = synced.sandbox.credentials
    path = f"/teslemetry/api/1/energy_sites/{synced.sandbox.energy_site_id}/site_info"
    info = httpx.get(
        synced.sandbox.base_url + path, headers={"Authorization": f"Bearer {c.teslemetry_token}"}
    ).json()
    info["response"]["installation_time_zone"] = "Mars/Olympus_Mons"
    synced.sandbox.add_fault(path, "status", status=200, body=info, count=1)
    (synced.site.state / "state.json").unlink()  # forget the zone learnt at login
    result = synced.sync()
    assert result.code == ExitCode.TIME_ZONE, result.stdout + result.stderr
    assert "Mars/Olympus_Mons" in result.stdout + result.stderr
    assert synced.sandbox.tariff_posts() == []
    assert synced.sync().code == 0  # the bad zone was not remembered


def test_a_zone_off_the_half_hour_grid_is_exit_16(synced: Synced) -> None:
    synced.run("config", "set", "site.timezone", "Australia/Eucla")
    result = synced.sync()
    assert result.code == ExitCode.TIME_ZONE, result.stdout + result.stderr
    assert "half-hour" in result.stdout
    assert synced.sandbox.tariff_posts() == []


def test_prices_near_the_float_limit_are_refused_not_a_crash(synced: Synced) -> None:
    body = synced.amber_prices()
    for item in body:
        item["perKwh"] = 1.7e308
        if item.get("advancedPrice"):
            item["advancedPrice"] = {"low": 1.7e308, "predicted": 1.7e308, "high": 1.7e308}
    synced.serve_prices(body, count=5)
    result = synced.sync()
    assert result.code not in (0, ExitCode.INTERNAL), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert synced.sandbox.tariff_posts() == []


def test_a_full_disk_leaves_the_secrets_file_and_the_config_as_they_were(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = synced.site.secrets_file.read_bytes()
    config = synced.site.config.read_bytes()
    _failing_writes(monkeypatch, errno.ENOSPC)
    login = synced.run(
        "login", "teslemetry", "--token-stdin", stdin=synced.sandbox.credentials.teslemetry_token
    )
    # the first write that fails ends the login: the state (the Powerwall's zone) or the token
    assert login.code in (ExitCode.SECRETS, ExitCode.DISK_FULL), login.stderr
    assert "no space left" in login.stderr.lower() and "what to do:" in login.stderr
    synced.site.state.joinpath("state.json").unlink()
    with pytest.raises(SecretsError, match="disk is full"):
        AppContext(load_config(synced.site.config)).store.set(TESLEMETRY_TOKEN, "x" * 20)
    changed = synced.run("config", "set", "tariff.max_gap_slots", "6")
    assert changed.code == ExitCode.CONFIG, changed.stderr
    assert str(synced.site.config) in changed.stderr and "no space left" in changed.stderr
    assert synced.site.secrets_file.read_bytes() == secrets
    assert synced.site.config.read_bytes() == config
