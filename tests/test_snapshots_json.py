"""The shape of every ``--json`` output (each key path and its value types): sync, sync --dry-run,
status, history, report, tariff, doctor, config show/get/keys and notify test. A renamed, removed or
retyped key fails here; test_json_shapes.py checks the documented meaning of the fields."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from conftest import CliResult, CliRunner
from receiverkit import Receiver
from sandboxkit import SandboxSite
from schedulekit import fake_scheduler
from snapkit import check_shape
from synckit import Synced

pytestmark = pytest.mark.usefixtures("pinned")  # the terminal of the snapshots


def shape(name: str, result: CliResult, code: int = 0, envelope: bool = True) -> dict[str, Any]:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    document = check_shape(name, result.stdout)
    assert isinstance(document, dict)
    if envelope:
        assert document["schema"] == 1
        assert document["command"] == name.removesuffix("_dry_run").replace("_", " ")
    return document


def test_sync_json(synced: Synced) -> None:
    dry = shape("sync_dry_run", synced.sync("--json", "--dry-run"))
    first = shape("sync", synced.sync("--json"))
    assert dry["sites"] and first["sites"]


def test_status_and_history_json(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.advance(5)
    assert synced.sync().code == 0
    now = synced.now.isoformat()
    status = shape("status", synced.run("status", "--json", "--now", now))
    history = shape("history", synced.run("history", "--json", "--now", now, "--since", "2h"))
    assert status["sites"] and history["sites"]


def test_report_json(synced: Synced) -> None:
    assert synced.sync().code == 0
    synced.at(synced.now + dt.timedelta(days=2))
    report = shape(
        "report", synced.run("report", "--json", "--days", "2", "--now", synced.now.isoformat())
    )
    assert report["sites"]


def test_tariff_json(synced: Synced) -> None:
    tariff = shape("tariff", synced.run("tariff", "--json", "--now", synced.now.isoformat()))
    assert isinstance(tariff["slots"], list) and len(tariff["slots"]) == 48


def test_doctor_json(
    synced: Synced, tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_scheduler(tmp_path, isolated, monkeypatch)
    synced.sandbox.clock.use_real_time()
    doctor = shape("doctor", synced.run("doctor", "--json"), ExitCode.CHECKS_FAILED)
    assert doctor["ok"] is False  # no scheduler on the fake host


def test_config_show_json(site: SandboxSite, cli: CliRunner) -> None:
    site.config.write_text(
        site.config.read_text() + '\n[notify]\nurls = ["json://127.0.0.1:1/x"]\n'
    )
    shown = shape("config_show", cli("config", "show", "--json"))
    assert shown["masked"] == ["notify.urls"]
    url = json.loads(cli("config", "get", "notify.urls", "--json").stdout)
    assert url["masked"] is True and "127.0.0.1:1" in url["value"][0]
    gap = shape("config_get", cli("config", "get", "tariff.max_gap_slots", "--json"))
    assert (gap["key"], gap["value"], gap["masked"]) == ("tariff.max_gap_slots", 4, False)
    keys = shape("config_keys", cli("config", "keys", "--json"))["keys"]
    assert {"key": "tariff.max_gap_slots", "default": "4"}.items() <= next(
        k for k in keys if k["key"] == "tariff.max_gap_slots"
    ).items()


def test_notify_test_json(synced: Synced, receiver: Receiver) -> None:
    synced.site.config.write_text(
        synced.site.config.read_text()
        + f'\n[notify]\nurls = ["{receiver.notify_url()}", "json://127.0.0.1:1/x"]\n'
    )
    result = synced.run("notify", "test", "--json")
    sent = shape("notify_test", result, ExitCode.NOTIFY)
    assert [r["ok"] for r in sent["results"]] == [True, False]
    assert sent["failed"] == 1
    assert len(receiver.messages()) == 1
