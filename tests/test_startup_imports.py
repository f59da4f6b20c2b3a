"""An idle ``sync`` (nothing to do) loads only what it uses.

A real process, started as the installed script starts it, syncs against the sandbox over plain
HTTP once (the first run pushes), then again with nothing to do; the second run writes the
modules it imported, and how often a CA bundle was loaded, when it exits. What it must not load
was measured (``bench/startup.py``): the publishing, reporting and chart modules when nothing is
configured for them, Apprise and the other notification libraries with nobody to tell, Tesla's
clients and the secret stores' crypto when no Tesla request is made, the settings editor, the
retry machinery, filelock (the run lock is a plain flock on POSIX, and the secret store's lock is
taken only to write), the terminal's rich output, and any CA bundle for ``http://`` URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.cli.commands import MODULES
from amber_tesla_sync.sandbox import Sandbox

NOW = dt.datetime(2026, 1, 15, 5, 42, 30, tzinfo=dt.UTC)
# runs the console script's entry point; at exit writes what the process imported
WRAPPER = """
import atexit, json, ssl, sys
loaded = []
real = ssl.SSLContext.load_verify_locations
def counting(self, *args, **kwargs):
    loaded.append(1)
    return real(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = counting
path = sys.argv[1]
def dump():
    modules = sorted(name for name, module in sys.modules.items() if module is not None)
    with open(path, "w") as out:
        json.dump({"modules": modules, "ca_loaded": len(loaded)}, out)
atexit.register(dump)
sys.argv = ["amber-tesla-sync", *sys.argv[2:]]
from amber_tesla_sync.entry import main
main()
"""
# packages (and their submodules) an idle sync must not import
NOT_IMPORTED = (
    "amber_tesla_sync.publish",
    "amber_tesla_sync.report",
    "amber_tesla_sync.render.chart",
    "amber_tesla_sync.render.status_view",
    "amber_tesla_sync.render.override_view",
    "amber_tesla_sync.notify.send",
    "amber_tesla_sync.sandbox",
    "amber_tesla_sync.demo",
    "amber_tesla_sync.doctor",
    "amber_tesla_sync.schedule",
    "amber_tesla_sync.settings.edit",
    "amber_tesla_sync.tesla.api",
    "amber_tesla_sync.tesla.connection",
    "amber_tesla_sync.tesla.oauth",
    "amber_tesla_sync.tesla.tokens",
    "apprise",
    "paho",
    "cryptography",
    "keyring",
    "tomlkit",
    "tenacity",
    "filelock",
    "platformdirs",
    "rich",
    "click",
    "pygments",
    "httpx._main",
    "importlib.metadata",
    "statistics",
    "concurrent.futures.thread",
    "queue",
)
# and what it does import (the dump is of the sync that ran)
IMPORTED = ("amber_tesla_sync.sync.run", "amber_tesla_sync.store.history", "sqlite3", "httpx")


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What a second ``sync`` in a row imported (the first pushed; the second has nothing to do),
    and the Tesla requests it made."""
    sandbox = Sandbox(seed=3)
    with sandbox:
        sandbox.set_time(NOW)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[amber]\nbase_url = "{sandbox.amber_base_url}"\n'
            f'[tesla]\nteslemetry_url = "{sandbox.teslemetry_base_url}"\n'
            f'fleet_api_url = "{sandbox.fleet_na_base_url}"\n'
            '[secrets]\nstore = "file"\n'
        )
        env = {
            **os.environ,
            "HOME": str(tmp_path),
            "AMBER_TESLA_SYNC_CONFIG": str(config),
            "AMBER_TESLA_SYNC_STATE_DIR": str(tmp_path / "state"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        env.pop("PYDANTIC_DISABLE_PLUGINS", None)
        dump = tmp_path / "imported.json"
        c = sandbox.credentials
        runs: list[tuple[list[str], str]] = [
            (["login", "amber", "--token-stdin", "--site", sandbox.amber_site_id], c.amber_token),
            (["login", "teslemetry", "--token-stdin"], c.teslemetry_token),
            (["sync", "--now", NOW.isoformat()], ""),
        ]

        def run(args: list[str], secret: str = "") -> str:
            done = subprocess.run(
                [sys.executable, "-c", WRAPPER, str(dump), *args],
                input=secret + "\n",
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        for args, secret in runs:
            run(args, secret)
        sandbox.clear_requests()
        idle_output = run(["sync", "--now", NOW.isoformat()])
        assert "unchanged" in idle_output
        found: dict[str, Any] = json.loads(dump.read_text())
        found["tesla"] = [
            r for r in sandbox.requests() if r.get("service") in ("fleet", "teslemetry")
        ]
        yield found


def test_an_idle_sync_imports_nothing_it_does_not_use(idle: dict[str, Any]) -> None:
    assert idle["tesla"] == []  # the run was idle
    modules: list[str] = idle["modules"]
    unwanted = [
        name
        for name in modules
        if any(name == banned or name.startswith(banned + ".") for banned in NOT_IMPORTED)
    ]
    assert unwanted == []
    assert [name for name in IMPORTED if name not in modules] == []


def test_an_idle_sync_over_plain_http_loads_no_ca_bundle(idle: dict[str, Any]) -> None:
    assert idle["ca_loaded"] == 0


def test_an_idle_sync_imports_no_other_command(idle: dict[str, Any]) -> None:
    modules = set(idle["modules"])
    sync = f"amber_tesla_sync.cli.{MODULES['sync']}"
    others = {f"amber_tesla_sync.cli.{module}" for module in MODULES.values()} - {sync}
    assert sorted(others & modules) == []
    assert sync in modules
