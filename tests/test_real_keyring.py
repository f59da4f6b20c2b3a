"""The default secret store for real: login → sync → status → logout through the OS keyring
(the Secret Service, as most Linux desktops run it), not a stand-in.

Collected only when ``AMBER_TESLA_SYNC_TEST_KEYRING=1`` (see conftest.py). ``.ci/run`` sets it in
one step, under ``dbus-run-session`` with an unlocked ``gnome-keyring-daemon``; with the variable
set and no reachable keyring these tests fail, they never pass by default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService

from amber_tesla_sync.store.secrets import AMBER_TOKEN, SERVICE, TESLEMETRY_TOKEN
from sandboxkit import SandboxSite

ENV = "AMBER_TESLA_SYNC_TEST_KEYRING"


@pytest.fixture
def keyring_site(site: SandboxSite) -> SandboxSite:
    """The sandbox site with the default secret store (the OS keyring) instead of the file."""
    text = site.config.read_text().replace('store = "file"', 'store = "keyring"')
    assert 'store = "keyring"' in text
    site.config.write_text(text)
    for variable in ("PYTHON_KEYRING_BACKEND", "AMBER_TOKEN", "TESLEMETRY_TOKEN"):
        site.env.pop(variable, None)
    return site


def _run(
    site: SandboxSite, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=site.env,
        timeout=120,
        check=False,
    )


def test_the_secret_service_is_reachable() -> None:
    assert os.environ.get(ENV) == "1"
    assert "PYTHON_KEYRING_BACKEND" not in os.environ
    backend = keyring.get_keyring()
    assert isinstance(backend, SecretService.Keyring), (
        f"the default keyring backend is {backend!r}, not the Secret Service: "
        "run under dbus-run-session with gnome-keyring-daemon unlocked"
    )
    backend.set_password(SERVICE + "-probe", "probe", "reachable")
    assert backend.get_password(SERVICE + "-probe", "probe") == "reachable"
    backend.delete_password(SERVICE + "-probe", "probe")


def test_login_sync_status_logout_through_the_os_keyring(keyring_site: SandboxSite) -> None:
    site, credentials = keyring_site, keyring_site.sandbox.credentials
    ring = keyring.get_keyring()
    assert isinstance(ring, SecretService.Keyring)
    amber = _run(
        site,
        "login", "amber", "--token-stdin", "--site", site.sandbox.amber_site_id,
        stdin=credentials.amber_token + "\n",
    )  # fmt: skip
    assert amber.returncode == 0, amber.stderr
    assert "OS keyring (keyring.backends.SecretService.Keyring)" in amber.stderr
    tesla = _run(site, "login", "teslemetry", "--token-stdin", stdin=credentials.teslemetry_token)
    assert tesla.returncode == 0, tesla.stderr
    assert ring.get_password(SERVICE, AMBER_TOKEN) == credentials.amber_token
    assert ring.get_password(SERVICE, TESLEMETRY_TOKEN) == credentials.teslemetry_token
    assert not (Path(site.config).parent / "secrets.json").exists()

    sync = _run(site, "sync", "--json")
    assert sync.returncode == 0, sync.stderr
    assert json.loads(sync.stdout)["sites"][0]["outcome"] == "verified"
    status = _run(site, "status", "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)["sites"][0]
    assert shown["last_sync"]["outcome"] == "verified"
    assert shown["powerwall"]["error"] is None
    for secret in (credentials.amber_token, credentials.teslemetry_token):
        assert secret not in sync.stdout + sync.stderr + status.stdout + status.stderr

    logout = _run(site, "logout", "all")
    assert logout.returncode == 0, logout.stderr
    assert ring.get_password(SERVICE, AMBER_TOKEN) is None
    assert ring.get_password(SERVICE, TESLEMETRY_TOKEN) is None
    after = _run(site, "sync")
    assert after.returncode == 6, after.stderr  # not logged in any more
