"""A host whose scheduler is fake, for the scheduling tests and the screens that show a schedule.

Nothing reaches the real system: `systemctl`, `crontab` and `logger` are fake programs first (and
alone) on PATH that record their arguments (one JSON list a line), the system unit and lingering
directories are temporary, and the service account always exists.

The fake `systemctl` is steered by the environment:

* ``FAKE_SYSTEMCTL_FAIL``: a word (``enable``, ``daemon-reload``) whose call fails, printing
  ``FAKE_SYSTEMCTL_ERROR`` (default ``Failed.``);
* ``FAKE_TIMER_STATE``: what ``is-active`` answers (default ``active``; anything else exits 3).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from amber_tesla_sync import schedule
from amber_tesla_sync.schedule import Host, timer_paths
from amber_tesla_sync.schedule import host as schedule_host

FAKE_SYSTEMCTL = """
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["systemctl", *args]) + "\\n")
fail = os.environ.get("FAKE_SYSTEMCTL_FAIL")
if fail and fail in args:
    sys.stderr.write(os.environ.get("FAKE_SYSTEMCTL_ERROR", "Failed.") + "\\n")
    sys.exit(1)
if "is-active" in args:
    state = os.environ.get("FAKE_TIMER_STATE", "active")
    print(state)
    sys.exit(0 if state == "active" else 3)
if "enable" in args:
    sys.stderr.write("Created symlink (fake).\\n")
"""

FAKE_CRONTAB = """
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["crontab", *args]) + "\\n")
path = os.environ["FAKE_CRONTAB"]
if args == ["-l"]:
    if not os.path.exists(path):
        sys.stderr.write("no crontab for tester\\n")
        sys.exit(1)
    sys.stdout.write(open(path).read())
elif args == ["-"]:
    open(path, "w").write(sys.stdin.read())
else:
    sys.exit(2)
"""

INSTALLED_PROGRAM = "/usr/local/bin/amber-tesla-sync"  # what fake_scheduler says `sync` runs


def fake_program(path: Path) -> Path:
    """An executable at ``path`` that does nothing (exit 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@dataclass
class Fakes:
    bin: Path
    log: Path
    crontab: Path
    system_dir: Path
    user_dir: Path
    linger_dir: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def host(self) -> Host:
        return Host(self.system_dir, self.user_dir, self.linger_dir, "tester", lambda _: True)


def fake_host(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    """The fake host, under ``tmp_path`` (the user units under ``home``), for user ``tester``."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name, source in (("systemctl", FAKE_SYSTEMCTL), ("crontab", FAKE_CRONTAB), ("logger", "")):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{source}")
        script.chmod(0o755)
    found = Fakes(
        bin=bin_dir,
        log=tmp_path / "calls.jsonl",
        crontab=tmp_path / "crontab.txt",
        system_dir=tmp_path / "etc" / "systemd" / "system",
        user_dir=home / ".config" / "systemd" / "user",
        linger_dir=tmp_path / "linger",
    )
    found.system_dir.mkdir(parents=True)
    found.linger_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_LOG", str(found.log))
    monkeypatch.setenv("FAKE_CRONTAB", str(found.crontab))
    monkeypatch.setenv("LOGNAME", "tester")
    monkeypatch.setenv("USER", "tester")
    monkeypatch.setattr(schedule_host, "SYSTEM_UNIT_DIR", found.system_dir)
    monkeypatch.setattr(schedule_host, "LINGER_DIR", found.linger_dir)
    monkeypatch.setattr(schedule_host, "_account_exists", lambda name: name == "amber-tesla-sync")
    # this test run's Python may live in a home directory (pyenv) or /tmp (CI's copy)
    monkeypatch.setattr(timer_paths, "python_paths", lambda: [("Python", Path("/usr/bin/python3"))])
    return found


def fake_scheduler(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake host as a screen shows it: no timer is active and the program that `sync` runs
    is :data:`INSTALLED_PROGRAM` (not this test run's). Returns the file of recorded calls."""
    assert home.is_dir()
    found = fake_host(tmp_path, home, monkeypatch)
    monkeypatch.setenv("FAKE_TIMER_STATE", "inactive")
    monkeypatch.setattr(schedule, "running_program", lambda: [INSTALLED_PROGRAM])
    return found.log
