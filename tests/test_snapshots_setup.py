"""What the set-up commands print, at a pinned width: login fleet (a browser that approves at
once), keygen (key material replaced), register against the sandbox, schedule install/remove on a
fake host, and demo at a frozen time."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import threading
import types
import urllib.parse
from pathlib import Path

import httpx
import pytest

from amber_tesla_sync import demo as demo_module
from amber_tesla_sync.accounts import fleet as fleet_flow
from amber_tesla_sync.sandbox import clock as sandbox_clock
from conftest import CliResult, CliRunner
from e2ekit import E2E
from schedulekit import fake_scheduler
from snapkit import check_text, ok
from synckit import T0

DOMAIN = "amber-tesla-sync.example"
RANDOM_OAUTH = {r"\b(state|code_challenge)=[A-Za-z0-9_\-]+": r"\1=<random>"}


pytestmark = pytest.mark.usefixtures("pinned")  # the terminal of the snapshots


def screen(e2e: E2E, result: CliResult) -> str:
    """What the terminal showed (standard output, then standard error), checked for secrets at
    the end of the test by the ``e2e`` fixture."""
    e2e.record(result.stdout, result.stderr)
    return result.stdout + result.stderr


def approving_browser(url: str) -> bool:
    """A browser whose user approves at once: the authorize page redirects to the CLI's loopback
    listener, which it then opens (in a thread, as a browser would, while the CLI waits)."""

    def visit() -> None:
        approved = httpx.get(url, follow_redirects=False, timeout=10)
        httpx.get(approved.headers["location"], timeout=10)

    threading.Thread(target=visit, daemon=True).start()
    return True


def test_login_fleet(
    e2e: E2E, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fleet_flow.webbrowser, "open", approving_browser)
    monkeypatch.setattr("sys.stdin", io.StringIO(e2e.credentials.client_secret + "\n"))
    result = cli(
        "login", "fleet", "--client-id", e2e.credentials.client_id, "--client-secret-stdin"
    )
    ok(result)
    check_text(
        "login_fleet",
        screen(e2e, result),
        tmp=tmp_path,
        ports=[urllib.parse.urlsplit(e2e.credentials.redirect_uri).port or 0],
        patterns=RANDOM_OAUTH,
    )
    assert e2e.fleet_tokens().access_token


def test_keygen_and_register(e2e: E2E, cli: CliRunner, tmp_path: Path) -> None:
    e2e.seed_fleet()
    made = cli("keygen")
    ok(made)
    check_text("keygen", screen(e2e, made), tmp=tmp_path)
    public = (e2e.site.config.parent / "com.tesla.3p.public-key.pem").read_text()
    assert public in made.stdout
    again = cli("keygen")
    assert again.code == 2
    check_text("keygen_exists.stderr", screen(e2e, again), tmp=tmp_path)

    e2e.sandbox.unregister_partner("na")
    e2e.sandbox.host_public_key(DOMAIN, public)
    registered = cli("register", "--domain", DOMAIN)
    ok(registered)
    check_text("register", screen(e2e, registered), tmp=tmp_path)
    assert "the public key Tesla reports matches ours" in registered.stderr


def test_schedule_install_dry_runs_and_remove(
    cli: CliRunner, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_scheduler(tmp_path, isolated, monkeypatch)
    user = cli("schedule", "install", "--user", "--dry-run")
    check_text("schedule_install_user_dry_run", ok(user) + user.stderr, tmp=tmp_path)
    cron = cli("schedule", "install", "--cron", "--dry-run")
    check_text("schedule_install_cron_dry_run", ok(cron) + cron.stderr, tmp=tmp_path)
    assert not calls.exists()  # a dry run runs nothing
    installed = cli("schedule", "install", "--user")
    check_text("schedule_install_user", ok(installed) + installed.stderr, tmp=tmp_path)
    removed = cli("schedule", "remove", "--user")
    check_text("schedule_remove_user", ok(removed) + removed.stderr, tmp=tmp_path)
    cron_installed = cli("schedule", "install", "--cron")
    check_text("schedule_install_cron", ok(cron_installed) + cron_installed.stderr, tmp=tmp_path)
    cron_removed = cli("schedule", "remove", "--cron")
    check_text("schedule_remove_cron", ok(cron_removed) + cron_removed.stderr, tmp=tmp_path)


class FrozenDatetime(dt.datetime):
    """``datetime`` whose ``now()`` is :data:`synckit.T0`."""

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> FrozenDatetime:  # type: ignore[override]
        moment = T0 if tz is None else T0.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)


def test_demo(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    # the demo runs at the real time against a sandbox at the real time: both are frozen at T0
    monkeypatch.setattr(sandbox_clock, "_real_now", lambda: T0)
    monkeypatch.setattr(
        demo_module,
        "dt",
        types.SimpleNamespace(datetime=FrozenDatetime, UTC=dt.UTC, timedelta=dt.timedelta),
    )
    # its throwaway directory is named in a wrapped paragraph: the same length everywhere
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    result = cli("demo")
    out = ok(result)
    check_text(
        "demo", out + result.stderr, patterns={r"/tmp/amber-tesla-sync-demo-\w+": "<demo-dir>"}
    )
    assert "verified — first push for this site" in out
    assert list(isolated.rglob("*")) == []  # no trace in the user's home
