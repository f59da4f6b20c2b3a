"""Where the schedule goes and how it is managed: names, the :class:`Host` (its platform, unit
directories, ``systemctl``, ``crontab``, ``launchctl``; tests pass their own) and running its
managing commands."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

from amber_tesla_sync.errors import SchedulerError

Variant = Literal["system", "user"]
Kind = Literal["system", "user", "cron", "launchd"]
Say = Callable[[str], None]

PROG = "amber-tesla-sync"
SERVICE = f"{PROG}.service"
TIMER = f"{PROG}.timer"
UNIT_MODE = 0o644

# The system variant runs as this dedicated account, with its settings, secrets file and state in
# one directory that systemd creates for it (StateDirectory=).
SERVICE_ACCOUNT = PROG
SYSTEM_STATE_DIR = f"/var/lib/{PROG}"
SYSTEM_CONFIG = f"{SYSTEM_STATE_DIR}/config.toml"

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
LINGER_DIR = Path("/var/lib/systemd/linger")
LAUNCH_AGENTS = Path("Library") / "LaunchAgents"  # in the home directory (macOS)

# What the repository's systemd/ files run: where `pipx install --global` (system) and
# `pipx install` (user; %h is the home directory) put the program.
REPOSITORY_PROGRAM: dict[Variant, str] = {
    "system": f"/usr/local/bin/{PROG}",
    "user": f"%h/.local/bin/{PROG}",
}


# I/O


def _account_exists(name: str) -> bool:
    import pwd  # POSIX only: imported where it is used

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class Host:
    """Where units go and which commands manage them (tests pass their own). ``platform`` is
    ``sys.platform``'s value: on ``darwin`` (macOS) the schedule is a launchd agent."""

    system_unit_dir: Path
    user_unit_dir: Path
    linger_dir: Path
    user: str
    account_exists: Callable[[str], bool] = _account_exists
    systemctl: str = "systemctl"
    crontab: str = "crontab"
    platform: str = sys.platform
    launch_agents_dir: Path | None = None  # None: ~/Library/LaunchAgents
    launchctl: str = "launchctl"
    uid: int | None = None  # None: this process's (launchctl's gui/UID domain)

    @classmethod
    def detect(cls) -> Host:
        config_home = os.environ.get("XDG_CONFIG_HOME", "")
        base = Path(config_home) if Path(config_home).is_absolute() else Path.home() / ".config"
        return cls(
            SYSTEM_UNIT_DIR,
            base / "systemd" / "user",
            LINGER_DIR,
            _login_name(),
            account_exists=_account_exists,
            platform=sys.platform,
        )

    @property
    def macos(self) -> bool:
        return self.platform == "darwin"

    def agents_dir(self) -> Path:
        return self.launch_agents_dir or Path.home() / LAUNCH_AGENTS

    def gui_domain(self) -> str:
        """launchctl's domain of this user's agents: ``gui/UID``."""
        return f"gui/{os.getuid() if self.uid is None else self.uid}"

    def unit_dir(self, variant: Variant) -> Path:
        return self.system_unit_dir if variant == "system" else self.user_unit_dir

    def systemctl_argv(self, variant: Variant, *args: str) -> list[str]:
        return [self.systemctl, *(["--user"] if variant == "user" else []), *args]

    def lingering(self) -> bool:
        return (self.linger_dir / self.user).exists()


def shown(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def missing(program: str, kind: Kind) -> SchedulerError:
    if kind == "launchd":
        return SchedulerError(
            f"`{program}` was not found: launchd is macOS's",
            f"elsewhere use the systemd timer (`{PROG} schedule install --user`) or cron "
            f"(`{PROG} schedule install --cron`)",
        )
    if kind == "cron":
        return SchedulerError(
            f"`{program}` was not found: cron is not installed here",
            "install cron (Debian: sudo apt-get install cron), or use the systemd timer: "
            f"`{PROG} schedule install --user`",
        )
    return SchedulerError(
        f"`{program}` was not found: this system does not run systemd",
        f"use cron instead: `{PROG} schedule install --cron`",
    )


def require(program: str, kind: Kind) -> None:
    if shutil.which(program) is None:
        raise missing(program, kind)


def run(
    argv: Sequence[str], kind: Kind, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv), input=input_text, capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise missing(argv[0], kind) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchedulerError(
            f"`{shown(argv)}` could not be run: {exc}", "run it by hand to see what is wrong"
        ) from exc


def failed(argv: Sequence[str], result: subprocess.CompletedProcess[str], hint: str) -> NoReturn:
    output = result.stderr.strip() or result.stdout.strip()
    detail = "; ".join(line.strip() for line in output.splitlines() if line.strip())
    message = f"`{shown(argv)}` failed (exit {result.returncode})"
    if detail:
        message += f": {detail}"
    user = "--user" in argv
    if "not been booted with systemd" in output:
        hint = (
            f"this machine does not run systemd: take the files back with `{PROG} schedule "
            f"remove{' --user' if user else ''}` and use cron: `{PROG} schedule install --cron`"
        )
    elif "bus" in output.lower() and user:
        hint = (
            "your systemd user manager cannot be reached (no login session?): log in as this "
            "user (console or ssh) or enable lingering (`sudo loginctl enable-linger $USER`) "
            f"and try again, or use cron: `{PROG} schedule install --cron`"
        )
    raise SchedulerError(message, hint)


def step(argv: Sequence[str], kind: Kind, say: Say, hint: str) -> None:
    """Run one managing command, showing it and what it printed."""
    say(f"$ {shown(argv)}")
    result = run(argv, kind)
    if result.returncode != 0:
        failed(argv, result, hint)
    for line in (result.stdout + result.stderr).splitlines():
        if line.strip():
            say(f"  {line}")
