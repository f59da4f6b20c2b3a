"""Scheduling: the systemd units (system and user), `schedule install|remove`, the cron line and
`schedule_status`.

Nothing here touches the real system: unit directories are temporary, and `systemctl` and
`crontab` are fake programs first (and alone) on PATH that record their arguments (the fake host
of schedulekit). The units are
checked with the real `systemd-analyze verify`, which must be installed (CI installs Debian's
`systemd` package); without it these tests fail rather than skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from amber_tesla_sync import schedule
from amber_tesla_sync.errors import ExitCode, SchedulerError
from amber_tesla_sync.schedule import (
    CRON_MARKER,
    SERVICE,
    TIMER,
    Variant,
    cron_line,
    hidden_from_system_service,
    repository_units,
    schedule_status,
    sync_command,
    systemd_command,
    systemd_word,
    timer_paths,
    unit_texts,
)
from amber_tesla_sync.schedule import host as schedule_host
from amber_tesla_sync.schedule import timer as schedule_timer
from conftest import CliRunner
from schedulekit import Fakes, fake_host, fake_program

ROOT = Path(__file__).resolve().parent.parent
ANALYZE = shutil.which("systemd-analyze")  # looked up before any test replaces PATH
SYSTEM_PROGRAM = "/opt/amber-tesla-sync/bin/amber-tesla-sync"


# ---------------------------------------------------------------------------------------------
# systemd-analyze verify


def verify(variant: str, directory: Path, home: Path | None = None) -> str:
    """Run `systemd-analyze [--user] verify` on the two units in ``directory``; return its output
    (empty when the units are clean: unknown keys and bad values are only warnings, exit 0)."""
    if ANALYZE is None:
        pytest.fail(
            "systemd-analyze is not installed, so the units cannot be verified: install it "
            "(Debian: apt-get install systemd); CI's .ci/run installs it"
        )
    # short: the user manager's own units put sockets in it (108-byte limit)
    runtime = Path(tempfile.mkdtemp(prefix="rt"))
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    if home is not None:
        env["HOME"] = str(home)
    argv = [ANALYZE, *(["--user"] if variant == "user" else []), "verify"]
    result = subprocess.run(
        [*argv, str(directory / SERVICE), str(directory / TIMER)],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        check=False,
        timeout=120,
    )
    shutil.rmtree(runtime, ignore_errors=True)
    output = (result.stdout + result.stderr).strip()
    return output if result.returncode == 0 else f"exit {result.returncode}: {output}"


def copy_units(variant: str, destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in (SERVICE, TIMER):
        shutil.copy(ROOT / "systemd" / variant / name, destination / name)
    return destination


def test_repository_files_are_the_generated_units() -> None:
    """The repository's systemd/ files and what `schedule install` writes come from one place."""
    expected = repository_units()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        for relative, text in expected.items():
            (ROOT / relative).parent.mkdir(parents=True, exist_ok=True)
            (ROOT / relative).write_text(text)
    present = {
        str(path.relative_to(ROOT)) for path in (ROOT / "systemd").rglob("*") if path.is_file()
    }
    assert present == set(expected)
    for relative, text in expected.items():
        assert (ROOT / relative).read_text() == text, (
            f"{relative} differs from amber_tesla_sync.schedule (UPDATE_SNAPSHOTS=1 rewrites it)"
        )


def test_repository_user_units_verify_verbatim(tmp_path: Path) -> None:
    """The user files run %h/.local/bin/amber-tesla-sync: with HOME at a fake install they are
    verified exactly as shipped."""
    home = tmp_path / "home-with-program"
    fake_program(home / ".local" / "bin" / "amber-tesla-sync")
    units = copy_units("user", tmp_path / "units")
    assert verify("user", units, home=home) == ""


def test_repository_system_units_verify_with_only_the_program_path_changed(tmp_path: Path) -> None:
    """verify insists that the program exists; /usr/local/bin/amber-tesla-sync is not installed
    here, so only that path is replaced, by a stand-in."""
    units = copy_units("system", tmp_path / "units")
    program = fake_program(tmp_path / "bin" / "amber-tesla-sync")
    original = (units / SERVICE).read_text()
    shipped = f"ExecStart={schedule.REPOSITORY_PROGRAM['system']} sync\n"
    assert original.count(shipped) == 1
    (units / SERVICE).write_text(original.replace(shipped, f"ExecStart={program} sync\n"))
    assert verify("system", units) == ""


def test_verify_catches_broken_units(tmp_path: Path) -> None:
    """The check can fail: a misspelt key (only a warning) and a bad calendar (an error)."""
    program = fake_program(tmp_path / "bin" / "amber-tesla-sync")
    texts = unit_texts("system", systemd_command([str(program), "sync"]))
    typo = tmp_path / "typo"
    typo.mkdir()
    (typo / SERVICE).write_text(texts[SERVICE].replace("ProtectSystem=", "ProtectSytem="))
    (typo / TIMER).write_text(texts[TIMER])
    assert "Unknown key 'ProtectSytem'" in verify("system", typo)
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    (calendar / SERVICE).write_text(texts[SERVICE])
    (calendar / TIMER).write_text(texts[TIMER].replace("*:0/5:30", "*:0/5:99"))
    assert verify("system", calendar).startswith("exit ")
    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / SERVICE).write_text(texts[SERVICE].replace(str(program), str(tmp_path / "nope")))
    (missing / TIMER).write_text(texts[TIMER])
    assert "not executable" in verify("system", missing)


def test_awkward_paths_are_quoted_so_systemd_finds_the_program(tmp_path: Path) -> None:
    program = fake_program(tmp_path / "odd dir 100% $HOME" / "amber-tesla-sync")
    command = systemd_command([str(program), "--config", "/etc/x y/c%.toml", "sync"])
    units = tmp_path / "units"
    units.mkdir()
    for name, text in unit_texts("system", command).items():
        (units / name).write_text(text)
    assert verify("system", units) == ""


def test_timer_settings() -> None:
    timer = repository_units()["systemd/user/amber-tesla-sync.timer"]
    assert "\nOnCalendar=*:0/5:30\n" in timer
    assert "\nPersistent=true\n" in timer
    assert "\nAccuracySec=1s\n" in timer
    assert "\nRandomizedDelaySec=15s\n" in timer
    assert "\nWantedBy=timers.target\n" in timer
    assert (
        repository_units()["systemd/system/amber-tesla-sync.timer"].replace(
            "schedule install`", "schedule install --user`"
        )
        == timer
    )


def test_service_settings() -> None:
    units = repository_units()
    system = units["systemd/system/amber-tesla-sync.service"]
    user = units["systemd/user/amber-tesla-sync.service"]
    for text in (system, user):
        assert "\nType=oneshot\n" in text
        assert "\nNoNewPrivileges=yes\n" in text
        assert "\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n" in text
        assert "\n#LoadCredential=amber_token:" in text
        assert "\nDynamicUser=" not in text
    assert "\nExecStart=/usr/local/bin/amber-tesla-sync sync\n" in system
    assert "\nUser=amber-tesla-sync\n" in system
    assert "\nStateDirectory=amber-tesla-sync\n" in system
    assert "\nProtectSystem=strict\n" in system
    assert "\nProtectHome=yes\n" in system
    assert "\nEnvironment=AMBER_TESLA_SYNC_CONFIG=/var/lib/amber-tesla-sync/config.toml\n" in system
    assert "\nExecStart=%h/.local/bin/amber-tesla-sync sync\n" in user
    # namespace sandboxing would stop a user service where user namespaces are forbidden
    assert "\nProtectSystem=" not in user
    assert "\nStateDirectory=" not in user  # $STATE_DIRECTORY would move the history


# ---------------------------------------------------------------------------------------------
# Text generation


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("/usr/bin/amber-tesla-sync", "/usr/bin/amber-tesla-sync"),
        ("/opt/a b/x", '"/opt/a b/x"'),
        ("/opt/100%/x", "/opt/100%%/x"),
        ("/opt/$HOME/x", "/opt/$$HOME/x"),
        ('/opt/"q"/x', '"/opt/\\"q\\"/x"'),
        ("/opt/back\\slash", '"/opt/back\\\\slash"'),
        (";", "\\;"),
        ("", '""'),
    ],
)
def test_systemd_word(word: str, expected: str) -> None:
    assert systemd_word(word) == expected


def test_the_program_is_not_variable_expanded() -> None:
    assert systemd_word("/opt/$x/100%", program=True) == "/opt/$x/100%%"
    assert systemd_command(["/a $b/p", "--config", "/c/$d", "sync"]) == (
        '"/a $b/p" --config /c/$$d sync'
    )


def test_a_line_break_cannot_go_into_a_unit() -> None:
    with pytest.raises(SchedulerError, match="line break"):
        systemd_word("/opt/a\nExecStartPre=/bin/evil")


def test_sync_command_adds_an_absolute_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sync_command(None, ["/p"]) == ["/p", "sync"]
    assert sync_command(Path("c.toml"), ["/p"]) == [
        "/p",
        "--config",
        str(tmp_path / "c.toml"),
        "sync",
    ]


def test_running_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = fake_program(tmp_path / "bin" / "amber-tesla-sync")
    monkeypatch.setattr(sys, "argv", [str(script), "schedule", "install"])
    assert schedule.running_program() == [str(script)]
    python = fake_program(tmp_path / "venv" / "bin" / "python")
    monkeypatch.setattr(sys, "argv", ["/somewhere/pytest"])
    monkeypatch.setattr(sys, "executable", str(python))
    assert schedule.running_program() == [str(python), "-m", "amber_tesla_sync"]
    beside = fake_program(tmp_path / "venv" / "bin" / "amber-tesla-sync")
    assert schedule.running_program() == [str(beside)]


def test_cron_line() -> None:
    line = cron_line(["/opt/x y/amber-tesla-sync", "--config", "/etc/a%b.toml", "sync"])
    assert line == (
        "*/5 * * * * sleep 30 && { AMBER_TESLA_SYNC_LOG_PREFIX=1 '/opt/x y/amber-tesla-sync' "
        '--config /etc/a\\%b.toml sync 2>&1 || echo "<3>amber-tesla-sync exited with code $?"; '
        '} | while IFS= read -r line || [ -n "$line" ]; do case "$line" in "<3>"*) p=err;; '
        '"<4>"*) p=warning;; "<7>"*) p=debug;; "") continue;; *) p=info;; esac; '
        'logger -t amber-tesla-sync -p "user.$p" -- "${line#<[0-7]>}" </dev/null; done'
        f"  {CRON_MARKER}"
    )
    assert (
        cron_line(["/p", "sync"], logger=False) == f"*/5 * * * * sleep 30 && /p sync  {CRON_MARKER}"
    )


def test_readme_shows_the_cron_line_and_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = cron_line(["/path/to/amber-tesla-sync", "sync"]).removesuffix(f"  {CRON_MARKER}")
    assert documented in readme
    assert f"| {int(ExitCode.SCHEDULER)} |" in readme
    assert "journalctl --user -u amber-tesla-sync" in readme


@pytest.mark.parametrize(
    ("path", "hidden"),
    [
        ("/home/pi/.local/bin/amber-tesla-sync", True),
        ("/root/x", True),
        ("/tmp/x", True),
        ("/var/tmp/x", True),
        ("/run/user/1000/x", True),
        ("/opt/amber-tesla-sync/bin/amber-tesla-sync", False),
        ("/homestead/x", False),
    ],
)
def test_paths_hidden_from_the_system_service(path: str, hidden: bool) -> None:
    assert hidden_from_system_service(Path(path)) == (Path(path) if hidden else None)


def test_a_symlink_into_a_home_is_hidden_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        timer_paths, "HIDDEN_FROM_SYSTEM_SERVICE", ("/root",)
    )  # not tmp_path's /tmp
    link = tmp_path / "python3"
    link.symlink_to("/root/no-such-dir/python3")
    assert hidden_from_system_service(link) == Path("/root/no-such-dir/python3")
    assert hidden_from_system_service(Path("/opt/../root/x")) == Path("/root/x")
    assert hidden_from_system_service(tmp_path / "plain") is None


# ---------------------------------------------------------------------------------------------
# install / remove, with fake systemctl and crontab (schedulekit)


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Fakes:
    return fake_host(tmp_path, isolated, monkeypatch)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_install_user_timer(cli: CliRunner, fakes: Fakes) -> None:
    result = cli("schedule", "install", "--user")
    assert result.code == 0, result.stderr
    service, timer = fakes.user_dir / SERVICE, fakes.user_dir / TIMER
    command = sync_command(None)
    assert Path(command[0]).is_absolute() and Path(command[0]).exists()
    assert service.read_text() == unit_texts("user", systemd_command(command))[SERVICE]
    assert timer.read_text() == repository_units()["systemd/user/amber-tesla-sync.timer"]
    assert mode(service) == mode(timer) == 0o644
    assert fakes.calls() == [
        ["systemctl", "--user", "show-environment"],  # the user manager can be reached
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", TIMER],
    ]
    assert f"wrote {service} (mode 0644)" in result.stdout
    assert f"wrote {timer} (mode 0644)" in result.stdout
    assert "$ systemctl --user daemon-reload" in result.stdout
    assert f"$ systemctl --user enable --now {TIMER}" in result.stdout
    assert "Created symlink (fake)." in result.stdout
    assert "journalctl --user -u amber-tesla-sync" in result.stdout
    assert "sudo loginctl enable-linger tester" in result.stdout
    # what was installed passes systemd-analyze as it is
    assert verify("user", fakes.user_dir) == ""


def test_reinstall_replaces_and_lingering_silences_the_note(cli: CliRunner, fakes: Fakes) -> None:
    assert cli("schedule", "install", "--user").code == 0
    (fakes.linger_dir / "tester").touch()
    result = cli("schedule", "install", "--user")
    assert result.code == 0
    assert f"replaced {fakes.user_dir / SERVICE}" in result.stdout
    assert "enable-linger" not in result.stdout


def test_install_passes_the_config_given(
    cli: CliRunner, fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("--config", "mine.toml", "schedule", "install", "--user").code == 0
    assert f" --config {tmp_path / 'mine.toml'} sync\n" in (fakes.user_dir / SERVICE).read_text()
    monkeypatch.setenv("AMBER_TESLA_SYNC_CONFIG", str(tmp_path / "env.toml"))
    assert cli("schedule", "install", "--user").code == 0
    assert f" --config {tmp_path / 'env.toml'} sync\n" in (fakes.user_dir / SERVICE).read_text()


def test_install_system_timer(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])
    config = "/etc/amber-tesla-sync/config.toml"
    result = cli("--config", config, "schedule", "install")
    assert result.code == 0, result.stderr
    service = fakes.system_dir / SERVICE
    text = service.read_text()
    assert f"\nExecStart={SYSTEM_PROGRAM} --config {config} sync\n" in text
    assert text == unit_texts("system", f"{SYSTEM_PROGRAM} --config {config} sync")[SERVICE]
    assert mode(service) == mode(fakes.system_dir / TIMER) == 0o644
    assert fakes.calls() == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", TIMER],
    ]
    assert "journalctl -u amber-tesla-sync" in result.stdout
    assert not fakes.user_dir.exists()


def test_system_timer_needs_its_account(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])
    monkeypatch.setattr(schedule_host, "_account_exists", lambda name: False)
    result = cli("schedule", "install")
    assert result.code == int(ExitCode.SCHEDULER) == 9
    assert "'amber-tesla-sync', which does not exist" in result.stderr
    assert "useradd --system" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(fakes.system_dir.iterdir()) == []
    assert fakes.calls() == []


@pytest.mark.parametrize(
    "program", ["/home/pi/.local/bin/amber-tesla-sync", "/tmp/v/bin/amber-tesla-sync"]
)
def test_system_timer_refuses_a_program_it_cannot_see(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch, program: str
) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [program])
    result = cli("schedule", "install")
    assert result.code == 9
    assert "the system service cannot use the program" in result.stderr
    assert "schedule install --user" in result.stderr
    assert list(fakes.system_dir.iterdir()) == []
    assert fakes.calls() == []


def test_system_timer_refuses_a_python_in_a_home(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A venv's python is often a symlink into a home directory (pyenv): the service could not
    start it."""
    python = Path("/root/.pyenv/versions/3.11.7/bin/python3.11")
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])
    monkeypatch.setattr(timer_paths, "python_paths", lambda: [("the Python interpreter", python)])
    result = cli("schedule", "install")
    assert result.code == 9
    assert f"cannot use the Python interpreter {python}: it cannot see home" in result.stderr
    assert list(fakes.system_dir.iterdir()) == []


def test_python_paths_are_this_interpreter() -> None:
    assert schedule.python_paths() == [
        ("the Python interpreter", Path(sys.executable)),
        ("the Python installation", Path(sys.base_prefix)),
    ]


def test_system_timer_refuses_a_config_in_a_home(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])
    result = cli("--config", "/home/pi/.config/amber-tesla-sync/config.toml", "schedule", "install")
    assert result.code == 9
    assert "cannot use the config file" in result.stderr


def test_system_timer_without_root(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])

    def denied(path: Path, text: str, mode: int = 0o600) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(schedule_timer, "atomic_write_text", denied)
    result = cli("schedule", "install")
    assert result.code == 9
    assert f"cannot write {fakes.system_dir / SERVICE}: Permission denied" in result.stderr
    assert f"sudo {SYSTEM_PROGRAM} schedule install" in result.stderr
    assert fakes.calls() == []


def test_dry_run_writes_and_runs_nothing(cli: CliRunner, fakes: Fakes) -> None:
    result = cli("schedule", "install", "--user", "--dry-run")
    assert result.code == 0
    assert not fakes.user_dir.exists()
    assert fakes.calls() == []
    expected = unit_texts("user", systemd_command(sync_command(None)))
    assert expected[SERVICE].rstrip("\n") in result.stdout
    assert expected[TIMER].rstrip("\n") in result.stdout
    assert f"would run: systemctl --user enable --now {TIMER}" in result.stdout
    cron = cli("schedule", "install", "--cron", "--dry-run")
    assert cron.code == 0
    assert cron_line(sync_command(None)) in cron.stdout
    assert fakes.calls() == []
    assert not fakes.crontab.exists()


def test_without_systemctl(cli: CliRunner, fakes: Fakes) -> None:
    (fakes.bin / "systemctl").unlink()
    result = cli("schedule", "install", "--user")
    assert result.code == 9
    assert "`systemctl` was not found: this system does not run systemd" in result.stderr
    assert "schedule install --cron" in result.stderr
    assert "Traceback" not in result.stderr
    assert not fakes.user_dir.exists()


def test_systemctl_failing(cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "enable")
    monkeypatch.setenv("FAKE_SYSTEMCTL_ERROR", "Failed to connect to bus: No medium found")
    result = cli("schedule", "install", "--user")
    assert result.code == 9
    assert f"wrote {fakes.user_dir / TIMER}" in result.stdout  # what was done is still shown
    assert (
        f"`systemctl --user enable --now {TIMER}` failed (exit 1): "
        "Failed to connect to bus: No medium found"
    ) in result.stderr
    assert "enable-linger" in result.stderr
    assert "Traceback" not in result.stderr


def test_systemctl_without_systemd_running(
    cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "daemon-reload")
    monkeypatch.setenv(
        "FAKE_SYSTEMCTL_ERROR",
        "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
        "Failed to connect to bus: Host is down",
    )
    result = cli("schedule", "install", "--user")
    assert result.code == 9
    assert "System has not been booted with systemd" in result.stderr
    assert "this machine does not run systemd" in result.stderr
    assert "schedule remove --user" in result.stderr
    assert fakes.calls() == [
        ["systemctl", "--user", "show-environment"],
        ["systemctl", "--user", "daemon-reload"],
    ]


def test_remove_user_timer(cli: CliRunner, fakes: Fakes) -> None:
    assert cli("schedule", "install", "--user").code == 0
    fakes.log.unlink()
    result = cli("schedule", "remove", "--user")
    assert result.code == 0, result.stderr
    assert fakes.calls() == [
        ["systemctl", "--user", "disable", "--now", TIMER],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not (fakes.user_dir / TIMER).exists()
    assert not (fakes.user_dir / SERVICE).exists()
    assert f"removed {fakes.user_dir / TIMER}" in result.stdout
    assert f"removed {fakes.user_dir / SERVICE}" in result.stdout
    assert f"$ systemctl --user disable --now {TIMER}" in result.stdout
    again = cli("schedule", "remove", "--user")
    assert again.code == 0
    assert "nothing to remove" in again.stdout
    assert len(fakes.calls()) == 2


def test_remove_system_timer(cli: CliRunner, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "running_program", lambda: [SYSTEM_PROGRAM])
    assert cli("schedule", "install").code == 0
    assert cli("schedule", "remove").code == 0
    assert list(fakes.system_dir.iterdir()) == []
    assert fakes.calls()[2:] == [
        ["systemctl", "disable", "--now", TIMER],
        ["systemctl", "daemon-reload"],
    ]


def test_cron_install_and_remove(cli: CliRunner, fakes: Fakes) -> None:
    fakes.crontab.write_text("MAILTO=me@example.com\n0 3 * * * backup\n")
    result = cli("schedule", "install", "--cron")
    assert result.code == 0, result.stderr
    line = cron_line(sync_command(None))
    assert fakes.crontab.read_text() == f"MAILTO=me@example.com\n0 3 * * * backup\n{line}\n"
    assert fakes.calls() == [["crontab", "-l"], ["crontab", "-"]]
    assert "$ crontab -l" in result.stdout
    assert "$ crontab -" in result.stdout
    assert f"added to tester's crontab: {line}" in result.stdout
    assert "journalctl -t amber-tesla-sync" in result.stdout

    again = cli("schedule", "install", "--cron")
    assert again.code == 0
    assert "unchanged" in again.stdout
    assert fakes.crontab.read_text().count(CRON_MARKER) == 1
    assert fakes.calls()[2:] == [["crontab", "-l"]]

    removed = cli("schedule", "remove", "--cron")
    assert removed.code == 0
    assert fakes.crontab.read_text() == "MAILTO=me@example.com\n0 3 * * * backup\n"
    assert f"removed from tester's crontab: {line}" in removed.stdout
    nothing = cli("schedule", "remove", "--cron")
    assert nothing.code == 0
    assert "nothing to remove" in nothing.stdout


def test_cron_install_replaces_an_older_line_and_works_without_logger(
    cli: CliRunner, fakes: Fakes
) -> None:
    old = cron_line(["/old/amber-tesla-sync", "sync"])
    fakes.crontab.write_text(f"{old}\n")
    (fakes.bin / "logger").unlink()
    result = cli("schedule", "install", "--cron")
    assert result.code == 0
    new = cron_line(sync_command(None), logger=False)
    assert fakes.crontab.read_text() == f"{new}\n"
    assert f"removed from the crontab: {old}" in result.stdout


def test_cron_into_an_empty_crontab_and_without_cron(cli: CliRunner, fakes: Fakes) -> None:
    assert cli("schedule", "install", "--cron").code == 0
    assert fakes.crontab.read_text() == f"{cron_line(sync_command(None))}\n"
    (fakes.bin / "crontab").unlink()
    for args in (("install", "--cron"), ("remove", "--cron")):
        result = cli("schedule", *args)
        assert result.code == 9
        assert "cron is not installed" in result.stderr
        assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# schedule_status (for `doctor`)


def enable(directory: Path) -> None:
    wants = directory / "timers.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / TIMER).symlink_to(directory / TIMER)


def write_units(directory: Path, variant: Variant) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in unit_texts(variant, "/p sync").items():
        (directory / name).write_text(text)


def test_status_when_nothing_is_installed(fakes: Fakes) -> None:
    installed, description = schedule_status(fakes.host())
    assert not installed
    assert "schedule install --user" in description


def test_status_of_a_user_timer(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    write_units(fakes.user_dir, "user")
    installed, description = schedule_status(fakes.host())
    assert not installed
    assert "not enabled" in description
    assert f"systemctl --user enable --now {TIMER}" in description

    enable(fakes.user_dir)
    installed, description = schedule_status(fakes.host())
    assert installed
    assert f"user timer {fakes.user_dir / TIMER} (enabled, active)" in description
    assert "lingering is off" in description
    assert ["systemctl", "--user", "is-active", TIMER] in fakes.calls()

    (fakes.linger_dir / "tester").touch()
    assert schedule_status(fakes.host()) == (
        True,
        f"user timer {fakes.user_dir / TIMER} (enabled, active)",
    )

    monkeypatch.setenv("FAKE_TIMER_STATE", "inactive")
    installed, description = schedule_status(fakes.host())
    assert not installed
    assert "enabled but inactive" in description


def test_status_without_systemctl_trusts_the_enable_link(fakes: Fakes) -> None:
    write_units(fakes.system_dir, "system")
    enable(fakes.system_dir)
    (fakes.bin / "systemctl").unlink()
    assert schedule_status(fakes.host()) == (
        True,
        f"system timer {fakes.system_dir / TIMER} (enabled, state unknown)",
    )


def test_status_of_cron_and_of_two_schedules(cli: CliRunner, fakes: Fakes) -> None:
    assert cli("schedule", "install", "--cron").code == 0
    installed, description = schedule_status(fakes.host())
    assert installed
    assert description == f"cron line in tester's crontab: {cron_line(sync_command(None))}"

    write_units(fakes.system_dir, "system")
    enable(fakes.system_dir)
    installed, description = schedule_status(fakes.host())
    assert installed
    assert description.startswith(
        f"system timer {fakes.system_dir / TIMER} (enabled, active); cron"
    )
    assert description.endswith("more than one schedule: keep one")


def test_status_of_a_commented_out_cron_line(fakes: Fakes) -> None:
    fakes.crontab.write_text(f"# {cron_line(['/p', 'sync'])}\n")
    installed, description = schedule_status(fakes.host())
    assert not installed
    assert "commented out" in description


def test_status_detects_the_real_host_by_default(fakes: Fakes) -> None:
    """Without a Host it looks where `schedule install` writes."""
    write_units(fakes.user_dir, "user")
    enable(fakes.user_dir)
    installed, description = schedule_status()
    assert installed
    assert str(fakes.user_dir / TIMER) in description


def test_help_lists_schedule(cli: CliRunner) -> None:
    result = cli("--help")
    assert re.search(r"\bschedule\b", result.stdout)
