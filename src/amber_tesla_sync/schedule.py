"""Running ``sync`` unattended: a systemd timer (system or user) or a cron line.

The unit texts and the cron line are made here and nowhere else: ``schedule install`` writes them
with ``ExecStart=`` pointing at the program that runs it, and the repository's ``systemd/`` files
are the same texts with a conventional install path (:func:`repository_units`; a test keeps the
two identical). Text generation is pure; :func:`install`, :func:`remove` and
:func:`schedule_status` do the I/O, through a :class:`Host` that tests replace.
"""

from __future__ import annotations

import contextlib
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
from amber_tesla_sync.fsutil import atomic_write_text

Variant = Literal["system", "user"]
Kind = Literal["system", "user", "cron"]
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

# What the repository's systemd/ files run: where `pipx install --global` (system) and
# `pipx install` (user; %h is the home directory) put the program.
REPOSITORY_PROGRAM: dict[Variant, str] = {
    "system": f"/usr/local/bin/{PROG}",
    "user": f"%h/.local/bin/{PROG}",
}

# The system service cannot see these (ProtectHome=yes, PrivateTmp=yes).
HIDDEN_FROM_SYSTEM_SERVICE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")

CRON_SCHEDULE = "*/5 * * * *"
CRON_DELAY_SECONDS = 30
CRON_MARKER = f"# {PROG} schedule (remove with: {PROG} schedule remove --cron)"

# ---------------------------------------------------------------------------------------------
# Text generation (pure)

_SERVICE_HEAD = f"""\
# {PROG}: one sync (fetch Amber's prices, push the Powerwall tariff if it
# changed), started every 5 minutes by {TIMER}.
# `{PROG} schedule install{{install_flag}}` writes this file with ExecStart= running the
# program it was run as; a copy made by hand needs the program's real path there.
# Logs: journalctl{{journal_flag}} -u {PROG}
"""

_SYSTEM_SERVICE = """\
#
# System variant. It runs as the dedicated account "{account}" (create it first: see
# the README, "Running unattended"). Not DynamicUser=: the secrets and the Fleet refresh
# token (which rotates) must outlive the run. The account's settings, its secrets file
# (secrets.store = "file") and its state all live in {state_dir},
# which systemd creates and hands to the account. For your own account's keyring and
# settings use the user variant instead.

[Unit]
Description=Write Amber Electric's prices into a Tesla Powerwall tariff (one sync)
# Not before the clock is set (a board without a real-time clock): a tariff built on a wrong
# clock is shifted in time. With systemd-timesyncd, enable systemd-time-wait-sync.service so
# that time-sync.target waits for the first synchronisation; sync checks the clock too.
Wants=network-online.target time-sync.target
After=network-online.target time-sync.target

[Service]
Type=oneshot
ExecStart={command}
SyslogIdentifier={prog}
# A hung run must not block the ones after it (the timer never starts a second one).
TimeoutStartSec=4min

User={account}
Group={account}
StateDirectory={prog}
StateDirectoryMode=0700
Environment=AMBER_TESLA_SYNC_CONFIG={config}
UMask=0077

# Secrets may also come from systemd credentials (read-only, named like the secret; they
# override the secrets file); not the Fleet refresh token, which rotates.
#LoadCredential=amber_token:/etc/credstore/{prog}/amber_token
#LoadCredential=teslemetry_token:/etc/credstore/{prog}/teslemetry_token
#LoadCredential=tesla_client_secret:/etc/credstore/{prog}/tesla_client_secret
#LoadCredential=fleet_private_key:/etc/credstore/{prog}/fleet_private_key

# Hardening: it needs HTTPS out, DNS and its state directory, nothing else. A --config
# file elsewhere is read-only to it (a drop-in with ReadWritePaths= changes that).
NoNewPrivileges=yes
CapabilityBoundingSet=
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RemoveIPC=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# CPython does not JIT; drop this line for a Python built with the experimental JIT.
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
"""

_USER_SERVICE = """\
#
# User variant: runs as you, with your settings, secret store and state, under your systemd
# user manager. Without lingering it runs only while you are logged in:
#   sudo loginctl enable-linger $USER

[Unit]
Description=Write Amber Electric's prices into a Tesla Powerwall tariff (one sync)

[Service]
Type=oneshot
ExecStart={command}
SyslogIdentifier={prog}
# A hung run must not block the ones after it (the timer never starts a second one).
TimeoutStartSec=4min
UMask=0077

# Secrets may also come from systemd credentials (read-only, named like the secret; they
# override the store); not the Fleet refresh token, which rotates.
#LoadCredential=amber_token:%h/.config/{prog}/credentials/amber_token
#LoadCredential=teslemetry_token:%h/.config/{prog}/credentials/teslemetry_token

# Hardening that works in a user manager (seccomp; no namespaces). The keyring is reached over
# D-Bus (AF_UNIX), Amber and Tesla over HTTPS.
NoNewPrivileges=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# CPython does not JIT; drop this line for a Python built with the experimental JIT.
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

# File-system sandboxing in a user service needs PrivateUsers=yes (an unprivileged user
# namespace), which some systems forbid (Ubuntu's AppArmor policy, many containers) and then the
# service would not start at all. Where user namespaces are allowed you may add:
#PrivateUsers=yes
#ProtectSystem=strict
#ProtectHome=read-only
#ReadWritePaths=%h/.config/{prog} %h/.local/state/{prog}
#PrivateTmp=yes
"""

_TIMER = f"""\
# {PROG}: start {SERVICE} every 5 minutes, 30 s after the boundary
# (hh:00:30, hh:05:30, ...), once Amber has published the new interval's price.
# `{PROG} schedule install{{install_flag}}` installs and enables it.

[Unit]
Description=Run {PROG} every 5 minutes

[Timer]
OnCalendar=*:0/5:30
# Up to 15 s later at random, so that installations do not all call Amber in the same second.
RandomizedDelaySec=15s
AccuracySec=1s
# After downtime that missed a run, run once straight away.
Persistent=true

[Install]
WantedBy=timers.target
"""


def _flags(variant: Variant) -> dict[str, str]:
    user = variant == "user"
    return {"install_flag": " --user" if user else "", "journal_flag": " --user" if user else ""}


def systemd_word(word: str, program: bool = False) -> str:
    """One ``ExecStart=`` word: ``%`` (specifiers) escaped, and ``$`` (variables) too except in
    the program, which systemd does not expand; quoted when it holds spaces, quotes or
    backslashes."""
    if any(char in word for char in "\n\r\0"):
        raise SchedulerError(
            f"cannot put {word!r} in a unit file: it contains a line break or NUL",
            "move the program or the config file to a path without one",
        )
    if word == ";":
        return "\\;"
    escaped = word.replace("%", "%%")
    if not program:
        escaped = escaped.replace("$", "$$")
    if word and not any(char.isspace() or char in "\"'\\" for char in word):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_command(words: Sequence[str]) -> str:
    """An ``ExecStart=`` value running ``words`` exactly."""
    return " ".join(systemd_word(word, program=index == 0) for index, word in enumerate(words))


def service_unit(variant: Variant, command: str) -> str:
    """The service unit; ``command`` is the ``ExecStart=`` value (see :func:`systemd_command`)."""
    body = _SYSTEM_SERVICE if variant == "system" else _USER_SERVICE
    head = _SERVICE_HEAD.format(**_flags(variant))
    return head + body.format(
        command=command,
        prog=PROG,
        account=SERVICE_ACCOUNT,
        state_dir=SYSTEM_STATE_DIR,
        config=SYSTEM_CONFIG,
    )


def timer_unit(variant: Variant) -> str:
    return _TIMER.format(**_flags(variant))


def unit_texts(variant: Variant, command: str) -> dict[str, str]:
    """File name → text of the two units."""
    return {SERVICE: service_unit(variant, command), TIMER: timer_unit(variant)}


def repository_units() -> dict[str, str]:
    """The repository's ``systemd/`` files: relative path → text."""
    files: dict[str, str] = {}
    for variant in ("system", "user"):
        command = f"{REPOSITORY_PROGRAM[variant]} sync"
        for name, text in unit_texts(variant, command).items():
            files[f"systemd/{variant}/{name}"] = text
    return files


def running_program() -> list[str]:
    """How to start this very installation: its ``amber-tesla-sync`` script, else
    ``python -m amber_tesla_sync`` with this interpreter. Absolute; symlinks kept (a pipx link
    survives upgrades)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == PROG and argv0.is_file():
        return [str(argv0.absolute())]
    executable = Path(sys.executable).absolute()
    beside = executable.parent / PROG
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [str(executable), "-m", "amber_tesla_sync"]


def sync_command(config: Path | None = None, program: Sequence[str] | None = None) -> list[str]:
    """The words that run one sync: the program, ``--config PATH`` if given, ``sync``."""
    words = list(program if program is not None else running_program())
    if config is not None:
        words += ["--config", str(config.expanduser().absolute())]
    return [*words, "sync"]


def cron_line(command: Sequence[str], logger: bool = True) -> str:
    """The crontab line: every 5 minutes, 30 s after the boundary, tagged with the marker.

    With ``logger`` the output goes to the system log (``journalctl -t amber-tesla-sync``)
    instead of a mail every run. ``%`` is special to cron and is escaped."""
    shell = shlex.join(command)
    if logger:
        shell += f" 2>&1 | logger -t {PROG}"
    shell = shell.replace("%", "\\%")
    return f"{CRON_SCHEDULE} sleep {CRON_DELAY_SECONDS} && {shell}  {CRON_MARKER}"


def is_cron_line(line: str) -> bool:
    return line.rstrip().endswith(CRON_MARKER)


def hidden_from_system_service(path: Path) -> Path | None:
    """Where ``path`` leads into a directory hidden from the system service, if it does
    (checked as written and with symlinks followed: the service opens the former, the kernel
    follows the latter)."""
    for candidate in (path.absolute(), path.resolve()):
        for prefix in map(Path, HIDDEN_FROM_SYSTEM_SERVICE):
            if candidate == prefix or prefix in candidate.parents:
                return candidate
    return None


# ---------------------------------------------------------------------------------------------
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
    """Where units go and which commands manage them (tests pass their own)."""

    system_unit_dir: Path
    user_unit_dir: Path
    linger_dir: Path
    user: str
    account_exists: Callable[[str], bool] = _account_exists
    systemctl: str = "systemctl"
    crontab: str = "crontab"

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
        )

    def unit_dir(self, variant: Variant) -> Path:
        return self.system_unit_dir if variant == "system" else self.user_unit_dir

    def systemctl_argv(self, variant: Variant, *args: str) -> list[str]:
        return [self.systemctl, *(["--user"] if variant == "user" else []), *args]

    def lingering(self) -> bool:
        return (self.linger_dir / self.user).exists()


def _shown(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def _missing(program: str, kind: Kind) -> SchedulerError:
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


def _require(program: str, kind: Kind) -> None:
    if shutil.which(program) is None:
        raise _missing(program, kind)


def _run(
    argv: Sequence[str], kind: Kind, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv), input=input_text, capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise _missing(argv[0], kind) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchedulerError(
            f"`{_shown(argv)}` could not be run: {exc}", "run it by hand to see what is wrong"
        ) from exc


def _failed(argv: Sequence[str], result: subprocess.CompletedProcess[str], hint: str) -> NoReturn:
    output = result.stderr.strip() or result.stdout.strip()
    detail = "; ".join(line.strip() for line in output.splitlines() if line.strip())
    message = f"`{_shown(argv)}` failed (exit {result.returncode})"
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


def _step(argv: Sequence[str], kind: Kind, say: Say, hint: str) -> None:
    """Run one managing command, showing it and what it printed."""
    say(f"$ {_shown(argv)}")
    result = _run(argv, kind)
    if result.returncode != 0:
        _failed(argv, result, hint)
    for line in (result.stdout + result.stderr).splitlines():
        if line.strip():
            say(f"  {line}")


def install(
    kind: Kind,
    command: Sequence[str],
    *,
    host: Host,
    say: Say,
    dry_run: bool = False,
    config: Path | None = None,
) -> None:
    """Install the timer (system or user) or the cron line running ``command``; report each
    file written and each command run through ``say``. ``config`` is the ``--config`` in
    ``command``, if any (checked for the system variant)."""
    if kind == "cron":
        _install_cron(command, host, say, dry_run)
    else:
        _install_timer(kind, command, host, say, dry_run, config)


def python_paths() -> list[tuple[str, Path]]:
    """The Python installation the program runs on (a venv's python is often a symlink into a
    home directory, e.g. pyenv's)."""
    return [
        ("the Python interpreter", Path(sys.executable)),
        ("the Python installation", Path(sys.base_prefix)),
    ]


def _check_system_paths(command: Sequence[str], config: Path | None) -> None:
    paths = [("the program", Path(command[0])), *python_paths()]
    if config is not None:
        paths.append(("the config file", config))
    for what, path in paths:
        hidden = hidden_from_system_service(path)
        if hidden is not None:
            where = "" if hidden == path.absolute() else f" (that is {hidden})"
            raise SchedulerError(
                f"the system service cannot use {what} {path}{where}: it cannot see home "
                "directories or /tmp (ProtectHome=yes, PrivateTmp=yes)",
                f"install {PROG} and its Python outside them (e.g. `sudo PIPX_HOME=/opt/pipx "
                "PIPX_BIN_DIR=/usr/local/bin pipx install .`) and keep the service's config "
                f"under {SYSTEM_STATE_DIR}; or run the timer as yourself: "
                f"`{PROG} schedule install --user`",
            )


def _create_account_hint() -> str:
    return (
        f"create it: `sudo useradd --system --home-dir {SYSTEM_STATE_DIR} --no-create-home "
        f"--shell /usr/sbin/nologin {SERVICE_ACCOUNT}` (README: Running unattended); or run "
        f"the timer as yourself: `{PROG} schedule install --user`"
    )


def _install_timer(
    variant: Variant,
    command: Sequence[str],
    host: Host,
    say: Say,
    dry_run: bool,
    config: Path | None,
) -> None:
    if variant == "system":
        _check_system_paths(command, config)
    unit_dir = host.unit_dir(variant)
    texts = unit_texts(variant, systemd_command(command))
    steps = [
        host.systemctl_argv(variant, "daemon-reload"),
        host.systemctl_argv(variant, "enable", "--now", TIMER),
    ]
    account_missing = variant == "system" and not host.account_exists(SERVICE_ACCOUNT)
    if dry_run:
        for name, text in texts.items():
            say(f"--- would write {unit_dir / name} (mode {UNIT_MODE:04o}) ---")
            say(text.rstrip("\n"))
        for argv in steps:
            say(f"would run: {_shown(argv)}")
        if account_missing:
            say(
                f"note: the account {SERVICE_ACCOUNT!r} does not exist yet; "
                + _create_account_hint()
            )
        say("(dry run: nothing was written and nothing was run)")
        return
    _require(host.systemctl, variant)
    if account_missing:
        raise SchedulerError(
            f"the system service runs as the account {SERVICE_ACCOUNT!r}, which does not exist",
            _create_account_hint(),
        )
    for name, text in texts.items():
        path = unit_dir / name
        existed = path.exists()
        try:
            atomic_write_text(path, text, mode=UNIT_MODE)
        except OSError as exc:
            raise _write_error(variant, path, exc, command) from exc
        say(f"{'replaced' if existed else 'wrote'} {path} (mode {UNIT_MODE:04o})")
    hint = f"the unit files are in {unit_dir}; fix the problem and run the command again"
    for argv in steps:
        _step(argv, variant, say, hint)
    journal = "journalctl --user" if variant == "user" else "journalctl"
    systemctl = _shown(host.systemctl_argv(variant))
    say(f"The timer runs `{_shown(command)}` every 5 minutes, 30 s past the boundary.")
    say(f"Next run: {systemctl} list-timers {TIMER}")
    say(f"Run once now: {systemctl} start {SERVICE}")
    say(f"Logs: {journal} -u {PROG}")
    if variant == "user" and not host.lingering():
        say(
            f"note: lingering is off for {host.user}, so the timer runs only while you are "
            f"logged in; to run it always: sudo loginctl enable-linger {host.user}"
        )
    other: Variant = "user" if variant == "system" else "system"
    if (host.unit_dir(other) / TIMER).exists():
        say(
            f"note: a {other} timer is installed too ({host.unit_dir(other) / TIMER}); keep "
            f"one: `{PROG} schedule remove{' --user' if other == 'user' else ''}`"
        )


def _write_error(
    variant: Variant, path: Path, exc: OSError, command: Sequence[str]
) -> SchedulerError:
    reason = exc.strerror or str(exc)
    if variant == "system" and isinstance(exc, PermissionError):
        return SchedulerError(
            f"cannot write {path}: {reason}",
            f"the system timer needs root: `sudo {shlex.join(command[:-1])} schedule install`; "
            f"or install it for your user only: `{PROG} schedule install --user`",
        )
    return SchedulerError(f"cannot write {path}: {reason}", f"check that {path.parent} is writable")


def remove(kind: Kind, *, host: Host, say: Say) -> None:
    """Remove the timer (system or user) or the cron line; report each step through ``say``."""
    if kind == "cron":
        _remove_cron(host, say)
        return
    variant: Variant = kind
    unit_dir = host.unit_dir(variant)
    present = [unit_dir / name for name in (TIMER, SERVICE) if (unit_dir / name).exists()]
    if not present:
        say(f"no {PROG} units in {unit_dir}; nothing to remove")
        return
    _require(host.systemctl, variant)
    hint = "fix the problem and run the command again"
    if (unit_dir / TIMER).exists():
        _step(host.systemctl_argv(variant, "disable", "--now", TIMER), variant, say, hint)
    for path in present:
        try:
            path.unlink()
        except OSError as exc:
            raise SchedulerError(
                f"cannot remove {path}: {exc.strerror or exc}",
                "the system timer needs root: run the command with sudo"
                if variant == "system"
                else f"check the permissions of {unit_dir}",
            ) from exc
        say(f"removed {path}")
    _step(host.systemctl_argv(variant, "daemon-reload"), variant, say, hint)


def _read_crontab(host: Host, say: Say | None) -> list[str]:
    argv = [host.crontab, "-l"]
    if say is not None:
        say(f"$ {_shown(argv)}")
    result = _run(argv, "cron")
    if result.returncode != 0:
        if "no crontab" in result.stderr.lower():
            return []
        _failed(argv, result, "run `crontab -l` by hand to see what is wrong")
    return result.stdout.splitlines()


def _write_crontab(host: Host, lines: Sequence[str], say: Say) -> None:
    argv = [host.crontab, "-"]
    say(f"$ {_shown(argv)}  (the new crontab on its input)")
    content = "".join(f"{line}\n" for line in lines)
    result = _run(argv, "cron", input_text=content)
    if result.returncode != 0:
        _failed(argv, result, "run `crontab -e` to edit the crontab by hand")


def _install_cron(command: Sequence[str], host: Host, say: Say, dry_run: bool) -> None:
    line = cron_line(command, logger=shutil.which("logger") is not None)
    if dry_run:
        say(f"would add to {host.user}'s crontab (replacing any earlier {PROG} line):")
        say(line)
        say("(dry run: nothing was written and nothing was run)")
        return
    _require(host.crontab, "cron")
    current = _read_crontab(host, say)
    ours = [existing for existing in current if is_cron_line(existing)]
    if ours == [line]:
        say(f"the crontab already has this line; unchanged:\n{line}")
        return
    kept = [existing for existing in current if not is_cron_line(existing)]
    _write_crontab(host, [*kept, line], say)
    for old in ours:
        say(f"removed from the crontab: {old}")
    say(f"added to {host.user}'s crontab: {line}")
    say(f"Logs: journalctl -t {PROG} (or /var/log/syslog)")
    for variant in ("system", "user"):
        if (host.unit_dir(variant) / TIMER).exists():
            flag = " --user" if variant == "user" else ""
            say(
                f"note: a {variant} timer is installed too; keep one: "
                f"`{PROG} schedule remove{flag}`"
            )


def _remove_cron(host: Host, say: Say) -> None:
    _require(host.crontab, "cron")
    current = _read_crontab(host, say)
    ours = [line for line in current if is_cron_line(line)]
    if not ours:
        say(f"no {PROG} line in {host.user}'s crontab; nothing to remove")
        return
    _write_crontab(host, [line for line in current if not is_cron_line(line)], say)
    for line in ours:
        say(f"removed from {host.user}'s crontab: {line}")


def _timer_status(variant: Variant, host: Host) -> tuple[bool, str] | None:
    unit_dir = host.unit_dir(variant)
    timer = unit_dir / TIMER
    if not timer.exists():
        return None
    what = f"{variant} timer {timer}"
    systemctl = _shown(host.systemctl_argv(variant))
    if not os.path.lexists(unit_dir / "timers.target.wants" / TIMER):
        return False, f"{what} is installed but not enabled: run `{systemctl} enable --now {TIMER}`"
    state = None
    if shutil.which(host.systemctl) is not None:
        with contextlib.suppress(SchedulerError):
            result = _run(host.systemctl_argv(variant, "is-active", TIMER), variant)
            state = result.stdout.strip() or None
    if state not in (None, "active", "activating"):
        return False, f"{what} is enabled but {state}: run `{systemctl} start {TIMER}`"
    description = f"{what} (enabled, {'active' if state else 'state unknown'})"
    if variant == "user" and not host.lingering():
        description += (
            f"; lingering is off, so it runs only while {host.user} is logged in "
            f"(sudo loginctl enable-linger {host.user})"
        )
    return True, description


def _cron_status(host: Host) -> tuple[bool, str] | None:
    if shutil.which(host.crontab) is None:
        return None
    try:
        lines = _read_crontab(host, None)
    except SchedulerError as error:
        return False, f"the crontab could not be read: {error.message}"
    ours = [line for line in lines if is_cron_line(line)]
    active = [line for line in ours if not line.lstrip().startswith("#")]
    if active:
        return True, f"cron line in {host.user}'s crontab: {active[0]}"
    if ours:
        return False, f"the cron line in {host.user}'s crontab is commented out"
    return None


def schedule_status(host: Host | None = None) -> tuple[bool, str]:
    """Whether something runs ``sync`` on a schedule (system timer, user timer or cron line),
    and a one-line description for ``doctor``."""
    host = host or Host.detect()
    found = [
        status
        for status in (
            _timer_status("system", host),
            _timer_status("user", host),
            _cron_status(host),
        )
        if status is not None
    ]
    if not found:
        return False, (
            "no systemd timer (system or user) and no cron line runs sync: run "
            f"`{PROG} schedule install --user` (or see the README, Running unattended)"
        )
    installed = [description for ok, description in found if ok]
    if len(installed) > 1:
        return True, "; ".join(installed) + "; more than one schedule: keep one"
    if installed:
        return True, installed[0]
    return False, "; ".join(description for _, description in found)
