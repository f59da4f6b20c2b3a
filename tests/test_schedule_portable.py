"""Schedules where there is no systemd: the cron line under BusyBox's and macOS's `logger` (no
``--prio-prefix``) and plain ``sh``; a launchd agent on macOS; ``install --user`` where no systemd
user manager can be reached (refused before anything is written).

The cron line is run as cron would run it (``/bin/sh -c``, ``\\%`` made ``%``), with fake
``sleep`` and ``logger`` programs first on PATH: each ``logger`` follows its system's options
(BusyBox and macOS reject long options such as ``--prio-prefix``) and records the messages it
was given, with their priority.
"""

from __future__ import annotations

import dataclasses
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.schedule import (
    CRON_MARKER,
    LABEL,
    TIMER,
    Host,
    cron_line,
    repository_units,
    schedule_status,
    sync_command,
)
from amber_tesla_sync.schedule.cron import TO_SYSLOG
from amber_tesla_sync.store.paths import state_dir
from conftest import CliRunner
from sandboxkit import SandboxSite
from schedulekit import Fakes, fake_host

SHELLS = {name: shutil.which(name) for name in ("sh", "bash")}  # before a test replaces PATH

# a logger of each kind: the short options it takes (getopt), and whether long ones are taken
LOGGERS = {
    "busybox": ("st:p:", False),  # logger [-s] [-t TAG] [-p PRIO] [MESSAGE]
    "macos": ("f:ip:st:", False),  # logger [-is] [-f file] [-p pri] [-t tag] [message ...]
    "util-linux": ("ist:p:f:", True),
}

FAKE_LOGGER = """
import getopt, json, os, sys
short, long_ok = {short!r}, {long_ok!r}
args = sys.argv[1:]
try:
    if long_ok:
        options, words = getopt.gnu_getopt(args, short, ["prio-prefix", "id=", "tag="])
    else:
        options, words = getopt.getopt(args, short)
except getopt.GetoptError as error:
    sys.stderr.write("logger: " + str(error) + "\\nUsage: logger [OPTIONS] [MESSAGE]\\n")
    sys.exit(1)
given = dict(options)
messages = [" ".join(words)] if words else sys.stdin.read().splitlines()
with open(os.environ["FAKE_SYSLOG"], "a") as log:
    for message in messages:
        record = {{"tag": given.get("-t"), "priority": given.get("-p", "user.notice"),
                   "message": message, "prio_prefix": "--prio-prefix" in given}}
        log.write(json.dumps(record) + "\\n")
"""

# what `sync` writes with AMBER_TESLA_SYNC_LOG_PREFIX=1: its log lines prefixed, its summary not
FAKE_SYNC = """
import os, sys
prefix = os.environ.get("AMBER_TESLA_SYNC_LOG_PREFIX") == "1"
sys.stderr.write(("<4>" if prefix else "") + "WARNING amber: Amber answered slowly\\n")
sys.stderr.flush()
print("home: unchanged (100% the same tariff)")
sys.stdout.flush()
sys.stderr.write(("<3>" if prefix else "") + "amber-tesla-sync: error: no price data\\n")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def executable(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{source}")
    path.chmod(0o755)
    return path


def fake_bin(tmp_path: Path, flavour: str) -> Path:
    """``logger`` of ``flavour`` and a ``sleep`` that does not wait, in a directory of their own."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    short, long_ok = LOGGERS[flavour]
    executable(bin_dir / "logger", FAKE_LOGGER.format(short=short, long_ok=long_ok))
    executable(bin_dir / "sleep", "import sys; assert sys.argv[1:] == ['30']")
    return bin_dir


def as_cron_runs_it(line: str) -> str:
    """The command of a crontab line as cron hands it to the shell."""
    assert line.endswith(f"  {CRON_MARKER}")
    fields = line.split(" ", 5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    return fields[5].replace("\\%", "%")


def run_line(
    line: str, shell: str, bin_dir: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = shell_path(shell)
    return subprocess.run(
        [path, *(["--posix"] if shell == "bash" else []), "-c", as_cron_runs_it(line)],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "FAKE_SYSLOG": str(log), "HOME": "/nonexistent", **(env or {})},
        timeout=120,
        check=False,
    )


def shell_path(shell: str) -> str:
    path = SHELLS[shell]
    assert path is not None, f"{shell} is not installed"
    return path


def syslog(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("shell", ["sh", "bash"])  # bash --posix: macOS's /bin/sh
@pytest.mark.parametrize("flavour", sorted(LOGGERS))
@pytest.mark.parametrize("code", [0, 4])
def test_the_cron_line_logs_each_line_with_its_priority(
    tmp_path: Path, flavour: str, shell: str, code: int
) -> None:
    bin_dir = fake_bin(tmp_path, flavour)
    program = executable(tmp_path / "odd 100% dir" / "amber-tesla-sync", FAKE_SYNC)
    line = cron_line([str(program), "sync"])
    log = tmp_path / "syslog.jsonl"
    done = run_line(line, shell, bin_dir, log, {"FAKE_EXIT": str(code)})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # every logger call was taken
    expected = [
        ("user.warning", "WARNING amber: Amber answered slowly"),
        ("user.info", "home: unchanged (100% the same tariff)"),
        ("user.err", "amber-tesla-sync: error: no price data"),
    ]
    if code:
        expected.append(("user.err", f"amber-tesla-sync exited with code {code}"))
    records = syslog(log)
    assert [(r["priority"], r["message"]) for r in records] == expected
    assert {r["tag"] for r in records} == {"amber-tesla-sync"}
    assert not any(r["prio_prefix"] for r in records)


def test_the_old_line_lost_everything_under_busybox(tmp_path: Path) -> None:
    """The check can fail: ``logger --prio-prefix`` is refused by BusyBox, and nothing is logged."""
    bin_dir = fake_bin(tmp_path, "busybox")
    program = executable(tmp_path / "amber-tesla-sync", FAKE_SYNC)
    old = cron_line([str(program), "sync"]).replace(
        f"| {TO_SYSLOG}", "| logger -t amber-tesla-sync --prio-prefix"
    )
    assert "--prio-prefix" in old
    log = tmp_path / "syslog.jsonl"
    done = run_line(old, "sh", bin_dir, log)
    assert "option --prio-prefix not recognized" in done.stderr
    assert syslog(log) == []


def test_a_last_line_without_its_newline_and_blank_lines(tmp_path: Path) -> None:
    bin_dir = fake_bin(tmp_path, "busybox")
    program = tmp_path / "amber-tesla-sync"
    program.write_text("#!/bin/sh\nprintf 'first\\n\\n<7>detail\\n-n looks like an option'\n")
    program.chmod(0o755)
    log = tmp_path / "syslog.jsonl"
    done = run_line(cron_line([str(program), "sync"]), "sh", bin_dir, log)
    assert done.returncode == 0, done.stderr
    assert [(r["priority"], r["message"]) for r in syslog(log)] == [
        ("user.info", "first"),
        ("user.debug", "detail"),
        ("user.info", "-n looks like an option"),
    ]


def test_a_real_sync_reaches_the_logger(site: SandboxSite, tmp_path: Path) -> None:
    """The tool itself, run by the cron line against the sandbox: its summary and its log lines
    reach the system log, the log lines with their priority and without the prefix."""
    assert site.login_amber().returncode == 0
    assert site.login_teslemetry().returncode == 0
    bin_dir = fake_bin(tmp_path, "busybox")
    line = cron_line([sys.executable, "-m", "amber_tesla_sync", "-v", "sync"])
    log = tmp_path / "syslog.jsonl"
    env = {k: v for k, v in site.env.items() if k != "PATH"}
    done = run_line(line, "sh", bin_dir, log, env)
    assert done.returncode == 0, done.stderr
    records = syslog(log)
    assert records, done.stderr
    messages = [r["message"] for r in records]
    assert not any(message.startswith("<") for message in messages)
    info = [r["message"] for r in records if r["priority"] == "user.info"]
    assert any(message.startswith("INFO ") for message in info)  # a -v log line, its prefix read
    assert any("verified" in message or "unchanged" in message for message in info)  # summary
    assert not any("exited with code" in message for message in messages)


def test_readme_shows_the_portable_cron_line() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = cron_line(["/path/to/amber-tesla-sync", "sync"]).removesuffix(f"  {CRON_MARKER}")
    assert documented in readme
    assert "--prio-prefix" not in readme.split("### Cron", 1)[1].split("\n### Logs", 1)[0]


# ---------------------------------------------------------------------------------------------
# macOS: the launchd agent

FAKE_LAUNCHCTL = """
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["launchctl", *args]) + "\\n")
if args and args[0] == os.environ.get("FAKE_LAUNCHCTL_FAIL"):
    sys.stderr.write("Bootstrap failed: 5: Input/output error\\n")
    sys.exit(5)
if args and args[0] in ("print", "bootout") and os.environ.get("FAKE_LAUNCHCTL_LOADED") != "1":
    sys.stderr.write("Could not find service in domain for port\\n")
    sys.exit(113)
"""
UID = os.getuid()
SERVICE_TARGET = f"gui/{UID}/{LABEL}"


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Fakes:
    found = fake_host(tmp_path, isolated, monkeypatch)
    executable(found.bin / "launchctl", FAKE_LAUNCHCTL)
    return found


def agent_file(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host.detect() says darwin: the platform is all that tells macOS apart."""
    detect = Host.detect.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Host, "detect", classmethod(lambda cls: dataclasses.replace(detect(cls), platform="darwin"))
    )


def test_the_agents_plist_field_by_field(cli: CliRunner, fakes: Fakes, isolated: Path) -> None:
    result = cli("schedule", "install", "--launchd")
    assert result.code == 0, result.stderr
    path = agent_file(isolated)
    agent = plistlib.loads(path.read_bytes())
    command = sync_command(None)
    assert Path(command[0]).is_absolute() and Path(command[0]).exists()
    log = state_dir() / "sync.log"
    assert str(log).startswith(str(isolated))  # the tool's state directory
    assert agent == {
        "Label": LABEL,
        "ProgramArguments": ["/bin/sh", "-c", 'sleep 30 && exec "$0" "$@"', *command],
        "StartCalendarInterval": [{"Minute": minute} for minute in range(0, 60, 5)],
        "RunAtLoad": True,
        "StandardOutPath": str(log),
        "StandardErrorPath": str(log),
    }
    assert path.stat().st_mode & 0o777 == 0o644
    assert log.parent.is_dir()  # launchd opens the log but makes no directory
    assert fakes.calls() == [
        ["launchctl", "enable", SERVICE_TARGET],
        ["launchctl", "bootstrap", f"gui/{UID}", str(path)],
    ]
    assert f"wrote {path} (mode 0644)" in result.stdout
    assert f"$ launchctl bootstrap gui/{UID} {path}" in result.stdout
    assert f"Logs: {log}" in result.stdout
    assert f"launchctl kickstart {SERVICE_TARGET}" in result.stdout
    assert not fakes.user_dir.exists() and list(fakes.system_dir.iterdir()) == []


def test_the_agent_runs_when_the_systemd_timer_does() -> None:
    """Every 5 minutes and 30 s past: the timer's OnCalendar=*:0/5:30, in launchd's terms."""
    timer = repository_units()["systemd/user/amber-tesla-sync.timer"]
    match = re.search(r"\nOnCalendar=\*:(\d+)/(\d+):(\d+)\n", timer)
    assert match is not None
    start, step, second = match.groups()
    agent = schedule_agent(["/p", "sync"])
    minutes = [entry["Minute"] for entry in agent["StartCalendarInterval"]]
    assert minutes == list(range(int(start), 60, int(step)))
    assert agent["ProgramArguments"][2] == f'sleep {int(second)} && exec "$0" "$@"'


def schedule_agent(command: list[str]) -> dict[str, Any]:
    from amber_tesla_sync.schedule import agent_plist

    return agent_plist(command, Path("/log"))


def test_the_wrapper_runs_the_program_with_its_words_exactly(tmp_path: Path) -> None:
    """``sh -c 'sleep 30 && exec "$0" "$@"' PROGRAM WORDS...`` as launchd runs it."""
    bin_dir = fake_bin(tmp_path, "busybox")
    program = tmp_path / "odd dir" / "amber-tesla-sync"
    executable(program, "import json, sys; print(json.dumps(sys.argv[1:]))")
    words = ["--config", "/etc/x y/c $HOME %.toml", "sync"]
    argv = schedule_agent([str(program), *words])["ProgramArguments"]
    done = subprocess.run(
        [shell_path("sh"), *argv[1:]],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == words


def test_reinstall_unloads_first_and_remove_undoes_it(
    cli: CliRunner, fakes: Fakes, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("schedule", "install", "--launchd").code == 0
    fakes.log.unlink()
    monkeypatch.setenv("FAKE_LAUNCHCTL_LOADED", "1")
    again = cli("schedule", "install", "--launchd")
    assert again.code == 0, again.stderr
    path = agent_file(isolated)
    assert f"replaced {path}" in again.stdout
    assert fakes.calls() == [
        ["launchctl", "bootout", SERVICE_TARGET],
        ["launchctl", "enable", SERVICE_TARGET],
        ["launchctl", "bootstrap", f"gui/{UID}", str(path)],
    ]
    assert schedule_status(Host.detect()) == (True, f"launchd agent {path} (loaded)")
    fakes.log.unlink()
    removed = cli("schedule", "remove", "--launchd")
    assert removed.code == 0, removed.stderr
    assert not path.exists()
    assert fakes.calls() == [["launchctl", "bootout", SERVICE_TARGET]]
    assert f"$ launchctl bootout {SERVICE_TARGET}" in removed.stdout
    assert f"removed {path}" in removed.stdout
    nothing = cli("schedule", "remove", "--launchd")
    assert nothing.code == 0
    assert "nothing to remove" in nothing.stdout
    assert len(fakes.calls()) == 1


def test_on_macos_install_and_remove_mean_the_agent(
    cli: CliRunner, fakes: Fakes, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_macos(monkeypatch)
    for args in (("install",), ("install", "--user")):
        result = cli("schedule", *args)
        assert result.code == 0, result.stderr
        assert agent_file(isolated).exists()
        assert not fakes.user_dir.exists() and list(fakes.system_dir.iterdir()) == []
    assert not any(call[0] == "systemctl" for call in fakes.calls())
    installed, description = schedule_status(Host.detect())
    assert not installed  # the fake launchctl has not loaded it
    assert f"launchctl bootstrap gui/{UID} {agent_file(isolated)}" in description
    assert cli("schedule", "remove").code == 0
    assert not agent_file(isolated).exists()
    installed, description = schedule_status(Host.detect())
    assert not installed
    assert "no launchd agent" in description and "schedule install`" in description
    cron = cli("schedule", "install", "--cron")  # cron is still there on macOS
    assert cron.code == 0, cron.stderr
    assert fakes.crontab.read_text() == f"{cron_line(sync_command(None))}\n"


def test_without_launchctl_the_steps_are_printed(
    cli: CliRunner, fakes: Fakes, isolated: Path
) -> None:
    (fakes.bin / "launchctl").unlink()
    result = cli("schedule", "install", "--launchd")
    assert result.code == 0, result.stderr
    path = agent_file(isolated)
    assert path.exists()
    assert "`launchctl` was not found (this is not macOS); load the agent there with:" in (
        result.stdout
    )
    assert f"  launchctl enable {SERVICE_TARGET}\n" in result.stdout
    assert f"  launchctl bootstrap gui/{UID} {path}\n" in result.stdout
    assert fakes.calls() == []
    assert schedule_status(Host.detect()) == (
        True,
        f"launchd agent {path} (state unknown: no launchctl here)",
    )
    removed = cli("schedule", "remove", "--launchd")
    assert removed.code == 0
    assert f"  launchctl bootout {SERVICE_TARGET}\n" in removed.stdout
    assert not path.exists()


def test_a_failed_bootstrap_exits_9(
    cli: CliRunner, fakes: Fakes, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LAUNCHCTL_FAIL", "bootstrap")
    result = cli("schedule", "install", "--launchd")
    assert result.code == ExitCode.SCHEDULER == 9
    assert (
        f"`launchctl bootstrap gui/{UID} {agent_file(isolated)}` failed (exit 5): "
        "Bootstrap failed: 5: Input/output error"
    ) in result.stderr
    assert f"launchctl print {SERVICE_TARGET}" in result.stderr  # what to do
    assert "Traceback" not in result.stderr


def test_the_agents_dry_run_writes_and_runs_nothing(
    cli: CliRunner, fakes: Fakes, isolated: Path
) -> None:
    result = cli("schedule", "install", "--launchd", "--dry-run")
    assert result.code == 0, result.stderr
    assert not agent_file(isolated).exists()
    assert fakes.calls() == []
    assert f"<string>{LABEL}</string>" in result.stdout
    assert f"would run: launchctl bootstrap gui/{UID} {agent_file(isolated)}" in result.stdout


# ---------------------------------------------------------------------------------------------
# install --user without a systemd user manager


@pytest.mark.parametrize(
    ("session", "error"),
    [
        (
            False,
            "Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not "
            "defined (consider using --machine=<user>@.host --user to connect to bus of other "
            "user)",
        ),
        (True, "Failed to connect to bus: No such file or directory"),
    ],
    ids=["no session", "a session without its manager"],
)
def test_install_user_without_a_user_manager_writes_nothing(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch, session: bool, error: str
) -> None:
    for name in ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"):
        if session:
            monkeypatch.setenv(name, "/run/user/1000" if name == "XDG_RUNTIME_DIR" else "x")
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "--user")  # every `systemctl --user` fails
    monkeypatch.setenv("FAKE_SYSTEMCTL_ERROR", error)
    result = cli("schedule", "install", "--user")
    assert result.code == ExitCode.SCHEDULER == 9
    assert not fakes.user_dir.exists()  # nothing was written
    assert fakes.calls() == [["systemctl", "--user", "show-environment"]]
    assert "the systemd user manager cannot be reached" in result.stderr
    assert error in result.stderr
    assert "Nothing was written" in result.stderr
    assert ("are not set, as in a shell from sudo, su or cron" in result.stderr) is not session
    assert "sudo loginctl enable-linger tester" in result.stderr
    assert "sudo amber-tesla-sync schedule install`" in result.stderr
    assert "schedule install --cron" in result.stderr
    assert "Traceback" not in result.stderr


def test_install_user_where_systemd_does_not_run(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "--user")
    monkeypatch.setenv(
        "FAKE_SYSTEMCTL_ERROR",
        "System has not been booted with systemd as init system (PID 1). Can't operate.",
    )
    result = cli("schedule", "install", "--user")
    assert result.code == 9
    assert "this machine does not run systemd. Nothing was written" in result.stderr
    assert "use cron: `amber-tesla-sync schedule install --cron`" in result.stderr
    assert not fakes.user_dir.exists()
    assert not (fakes.user_dir / TIMER).exists()
