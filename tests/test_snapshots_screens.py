"""What each everyday command prints, at a pinned width, against the sandbox at a fixed time:
sync, history, report, tariff, doctor, login, logout, config, completion, notify test and an
error screen (status has its own snapshots in test_status_history.py)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

import pytest

from amber_tesla_sync.errors import ExitCode
from conftest import CliRunner
from receiverkit import Receiver
from sandboxkit import SandboxSite
from schedulekit import fake_scheduler
from snapkit import check_text, ok
from synckit import Synced

pytestmark = pytest.mark.usefixtures("pinned")  # the terminal of the snapshots


def test_sync_first_dry_run_and_unchanged(synced: Synced) -> None:
    dry = ok(synced.sync("--dry-run"))
    check_text("sync_dry_run", dry, tmp=synced.site.config.parent.parent)
    first = ok(synced.sync())
    check_text("sync_first_push", first, tmp=synced.site.config.parent.parent)
    synced.advance(5)
    again = ok(synced.sync())
    check_text("sync_unchanged", again, tmp=synced.site.config.parent.parent)
    assert "verified" in first
    assert "unchanged" in again


def test_sync_not_logged_in(site: SandboxSite, cli: CliRunner) -> None:
    result = cli("sync", "--now", "2026-01-15T16:42:10+11:00")
    assert result.code == ExitCode.CONFIG, result.stderr
    check_text("sync_not_logged_in.stderr", result.stderr, tmp=site.config.parent.parent)


def test_history(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.advance(5)
    assert synced.sync().code == 0
    out = ok(synced.run("history", "--now", synced.now.isoformat(), "--since", "2h"))
    check_text("history", out)
    assert "2 runs, 1 pushes" in out


def test_report(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.at(synced.now + dt.timedelta(days=2))
    out = ok(synced.run("report", "--days", "2", "--now", synced.now.isoformat()))
    check_text("report", out)


def test_tariff_live_and_sample(synced: Synced) -> None:
    live = ok(synced.run("tariff", "--now", synced.now.isoformat()))
    check_text("tariff_live", live)
    sample = ok(synced.run("tariff", "--sample", "--now", "2026-01-15T16:42:00+11:00"))
    check_text("tariff_sample", sample)


def test_doctor(
    synced: Synced, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_scheduler(tmp_path, isolated, monkeypatch)
    synced.sandbox.clock.use_real_time()  # the clock check compares with this machine's
    result = synced.run("doctor")
    check_text("doctor", ok(result, result.code), tmp=tmp_path, durations=True)


def test_login_amber_and_teslemetry(
    site: SandboxSite, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Synced(site, cli, monkeypatch)
    harness.at(harness.now)
    amber = harness.login("amber")
    check_text("login_amber", ok(amber) + amber.stderr, tmp=tmp_of(site))
    tesla = harness.login("teslemetry")
    check_text("login_teslemetry", ok(tesla) + tesla.stderr, tmp=tmp_of(site))


def tmp_of(site: SandboxSite) -> Path:
    return site.config.parent.parent


def test_logout(synced: Synced) -> None:
    one = synced.run("logout", "teslemetry")
    check_text("logout_teslemetry", ok(one) + one.stderr, tmp=tmp_of(synced.site))
    every = synced.run("logout", "all")
    check_text("logout_all", ok(every) + every.stderr, tmp=tmp_of(synced.site))


def test_logout_without_a_terminal_asks_to_say_which(synced: Synced) -> None:
    result = synced.run("logout")
    assert result.code == ExitCode.USAGE
    check_text("logout_no_terminal.stderr", result.stdout + result.stderr)


def test_config_show_masks_notification_urls(site: SandboxSite, cli: CliRunner) -> None:
    secret = "s3cr3tTOKENabcdef0123456789"
    site.config.write_text(
        site.config.read_text() + f'\n[notify]\nurls = ["json://user:{secret}@127.0.0.1:1/x"]\n'
    )
    result = cli("config", "show")
    shown = check_text(
        "config_show_sandbox",
        ok(result) + result.stderr,
        tmp=tmp_of(site),
        ports=[urllib.parse.urlsplit(site.sandbox.credentials.redirect_uri).port or 0],
    )
    assert secret not in shown


def test_config_commands(cli: CliRunner, tmp_path: Path) -> None:
    screens = {
        "config_path_absent": cli("config", "path"),
        "config_show_defaults": cli("config", "show"),
        "config_keys": cli("config", "keys"),
        "config_get": cli("config", "get", "tariff.max_gap_slots"),
        "config_set": cli("config", "set", "tariff.max_gap_slots", "6"),
        "config_get_after_set": cli("config", "get", "tariff.max_gap_slots"),
        "config_unset": cli("config", "unset", "tariff.max_gap_slots"),
        "config_path": cli("config", "path"),
        "config_init": cli("config", "init", "--force"),
    }
    for name, result in screens.items():
        check_text(name, ok(result) + result.stderr, tmp=tmp_path)


def test_completion_scripts(cli: CliRunner) -> None:
    for shell in ("bash", "zsh", "fish"):
        check_text(f"completion_{shell}", ok(cli("completion", shell)))


def test_notify_test(synced: Synced, receiver: Receiver) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}", "json://127.0.0.1:1/x", "nope://"]\n'
    )
    result = synced.run("notify", "test")
    check_text("notify_test", ok(result, ExitCode.NOTIFY), tmp=tmp_of(synced.site))
    check_text("notify_test.stderr", result.stderr, tmp=tmp_of(synced.site))
    assert len(receiver.messages()) == 1


def test_error_screen_missing_config(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "nowhere.toml"), "status")
    assert result.code == ExitCode.CONFIG
    assert result.stdout == ""
    check_text("error_missing_config.stderr", result.stderr, tmp=tmp_path)


def test_error_screen_usage(cli: CliRunner) -> None:
    result = cli("history", "--since", "sometime")
    assert result.code == ExitCode.USAGE
    check_text("error_usage.stderr", result.stderr)
