"""`status`, `history` and `demo` against the sandbox; output snapshots at a pinned width."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from amber_tesla_sync.errors import ExitCode
from snapkit import check_text
from synckit import Synced


@pytest.mark.usefixtures("pinned")
def test_status_with_tesla(synced: Synced) -> None:
    assert synced.sync().code == 0
    result = synced.run("status", "--now", synced.now.isoformat())
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "Amber now  buy" in out
    assert "Powerwall" in out and "% charged" in out and "mode autonomous" in out
    assert "Last sync  Thu 16:42 (0 min ago): verified — first push for this site" in out
    assert "Pushed tariff, buy c/kWh (next 24 h)" in out
    check_text("status_with_tesla", out, tmp=synced.site.config.parent.parent)
    shown = json.loads(synced.run("status", "--json", "--now", synced.now.isoformat()).stdout)
    data = shown["sites"][0]
    assert data["last_sync"]["outcome"] == "verified"
    assert len(data["plan"]) == 48
    assert data["powerwall"]["site_info"]["default_real_mode"] == "autonomous"
    assert "tariff_content_v2" not in data["powerwall"]["site_info"]
    assert data["amber"]["buy"]["kind"] == "CurrentInterval"


def test_status_warnings(synced: Synced) -> None:
    synced.sandbox.set_energy_site(default_real_mode="self_consumption")
    path = f"/amber/v1/sites/{synced.sandbox.amber_site_id}/prices/current"
    synced.sandbox.add_fault(path, "status", status=500, count=3)
    assert synced.sync().code == ExitCode.SERVICE
    out = synced.run("status", "--now", synced.now.isoformat()).stdout
    assert "warning: the Powerwall is in self_consumption mode" in out
    assert "warning: the last sync failed" in out


@pytest.mark.usefixtures("pinned")
def test_status_without_tesla(synced: Synced) -> None:
    assert synced.run("logout", "teslemetry").code == 0
    result = synced.run("status", "--now", synced.now.isoformat())
    assert result.code == 0, result.stderr
    assert "Amber now  buy" in result.stdout
    assert "Powerwall  unavailable: not logged in to Tesla" in result.stdout
    assert "login teslemetry" in result.stdout
    assert "Plan: nothing pushed yet" in result.stdout
    check_text("status_without_tesla", result.stdout, tmp=synced.site.config.parent.parent)


def test_history_lists_runs_and_prices(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.advance(5)
    assert synced.sync().code == 0
    result = synced.run("history", "--now", synced.now.isoformat(), "--since", "1h")
    assert result.code == 0, result.stderr
    assert "2 runs, 1 pushes, 0 failed or refused" in result.stdout
    assert "Amber buy price seen, c/kWh" in result.stdout
    shown = json.loads(synced.run("history", "--json", "--now", synced.now.isoformat()).stdout)
    data = shown["sites"][0]
    assert [run["outcome"] for run in data["runs"]] == ["unchanged", "verified"]
    assert data["prices"]
    assert synced.run("history", "--since", "sometime").code == ExitCode.USAGE


def test_demo_in_a_clean_home(tmp_path: Path) -> None:
    home = tmp_path / "clean-home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AMBER_TESLA_SYNC", "XDG_"))
    }
    env |= {
        "HOME": str(home),
        "COLUMNS": "100",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "amber_tesla_sync", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified — first push for this site" in result.stdout
    assert "unchanged — no material change" in result.stdout
    assert "Tesla requests: 0 read, 0 write" in result.stdout
    assert "Powerwall" in result.stdout
    assert "2 runs, 1 pushes" in result.stdout
    assert list(home.rglob("*")) == []  # no trace in the user's home
