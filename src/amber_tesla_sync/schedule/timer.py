"""``schedule install|remove`` for the systemd timer (system or user) and its status."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path

from amber_tesla_sync.errors import SchedulerError
from amber_tesla_sync.schedule import timer_paths
from amber_tesla_sync.schedule.host import (
    PROG,
    SERVICE,
    SERVICE_ACCOUNT,
    SYSTEM_STATE_DIR,
    TIMER,
    UNIT_MODE,
    Host,
    Say,
    Variant,
    require,
    run,
    shown,
    step,
)
from amber_tesla_sync.schedule.units import systemd_command, unit_texts
from amber_tesla_sync.support.files import atomic_write_text


def _create_account_hint() -> str:
    return (
        f"create it: `sudo useradd --system --home-dir {SYSTEM_STATE_DIR} --no-create-home "
        f"--shell /usr/sbin/nologin {SERVICE_ACCOUNT}` (README: Running unattended); or run "
        f"the timer as yourself: `{PROG} schedule install --user`"
    )


def install_timer(
    variant: Variant,
    command: Sequence[str],
    host: Host,
    say: Say,
    dry_run: bool,
    config: Path | None,
) -> None:
    if variant == "system":
        timer_paths.check_system_paths(command, config)
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
            say(f"would run: {shown(argv)}")
        if account_missing:
            say(
                f"note: the account {SERVICE_ACCOUNT!r} does not exist yet; "
                + _create_account_hint()
            )
        say("(dry run: nothing was written and nothing was run)")
        return
    require(host.systemctl, variant)
    if variant == "user":
        reach_user_manager(host)  # before anything is written
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
        step(argv, variant, say, hint)
    journal = "journalctl --user" if variant == "user" else "journalctl"
    systemctl = shown(host.systemctl_argv(variant))
    say(f"The timer runs `{shown(command)}` every 5 minutes, 30 s past the boundary.")
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


USER_BUS = ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")


def reach_user_manager(host: Host) -> None:
    """``systemctl --user`` reaches this user's systemd manager, or a :class:`SchedulerError`
    says why not and what to do (no login session: sudo, su, cron; no lingering; no systemd)."""
    argv = host.systemctl_argv("user", "show-environment")
    result = run(argv, "user")
    if result.returncode == 0:
        return
    output = (result.stderr.strip() or result.stdout.strip()).splitlines()
    detail = "; ".join(line.strip() for line in output if line.strip()) or "no details"
    message = f"the systemd user manager cannot be reached (`{shown(argv)}`: {detail})"
    unset = [name for name in USER_BUS if not os.environ.get(name)]
    if len(unset) == len(USER_BUS):
        message += (
            f"; {' and '.join(USER_BUS)} are not set, as in a shell from sudo, su or cron, "
            "which has no login session"
        )
    cron = f"`{PROG} schedule install --cron`"
    if "not been booted with systemd" in detail:
        raise SchedulerError(
            f"{message}; this machine does not run systemd. Nothing was written",
            f"use cron: {cron}",
        )
    raise SchedulerError(
        f"{message}. Nothing was written",
        f"log in as {host.user} (console or ssh, not sudo or su) and run it there; for the "
        f"timer to run without a login, enable lingering (`sudo loginctl enable-linger "
        f"{host.user}`) and, in a shell without a session, `export XDG_RUNTIME_DIR=/run/user/"
        f"$(id -u)`; or use the system timer (`sudo {PROG} schedule install`) or cron: {cron}",
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


def remove_timer(variant: Variant, *, host: Host, say: Say) -> None:
    """Disable and remove the timer (system or user); report each step through ``say``."""
    unit_dir = host.unit_dir(variant)
    present = [unit_dir / name for name in (TIMER, SERVICE) if (unit_dir / name).exists()]
    if not present:
        say(f"no {PROG} units in {unit_dir}; nothing to remove")
        return
    require(host.systemctl, variant)
    hint = "fix the problem and run the command again"
    if (unit_dir / TIMER).exists():
        step(host.systemctl_argv(variant, "disable", "--now", TIMER), variant, say, hint)
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
    step(host.systemctl_argv(variant, "daemon-reload"), variant, say, hint)


def timer_status(variant: Variant, host: Host) -> tuple[bool, str] | None:
    unit_dir = host.unit_dir(variant)
    timer = unit_dir / TIMER
    if not timer.exists():
        return None
    what = f"{variant} timer {timer}"
    systemctl = shown(host.systemctl_argv(variant))
    if not os.path.lexists(unit_dir / "timers.target.wants" / TIMER):
        return False, f"{what} is installed but not enabled: run `{systemctl} enable --now {TIMER}`"
    state = None
    if shutil.which(host.systemctl) is not None:
        with contextlib.suppress(SchedulerError):
            result = run(host.systemctl_argv(variant, "is-active", TIMER), variant)
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
