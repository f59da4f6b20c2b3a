"""The macOS schedule: a launchd agent of the user's, ``~/Library/LaunchAgents/<LABEL>.plist``.

The plist is made here (pure, :func:`agent_plist`): ``sync`` at the minutes the systemd timer uses
(every 5 minutes) and 30 s after them, as the timer and the cron line wait for Amber's new price
(launchd has no seconds: ``/bin/sh`` sleeps, then becomes the program); once more when it is
loaded; its output appended to ``sync.log`` in the tool's state directory (launchd keeps no
journal). ``install`` writes it and loads it with ``launchctl bootstrap gui/UID``, ``remove``
unloads it (``launchctl bootout``) and deletes it; where there is no ``launchctl`` (not macOS)
the steps are printed for running there.
"""

from __future__ import annotations

import plistlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from amber_tesla_sync.errors import SchedulerError
from amber_tesla_sync.schedule.host import PROG, UNIT_MODE, Host, Say, failed, run, shown
from amber_tesla_sync.store.paths import state_dir
from amber_tesla_sync.support.files import atomic_write_text

LABEL = f"io.github.{PROG}"
PLIST = f"{LABEL}.plist"
LOG_NAME = "sync.log"
MINUTES = tuple(range(0, 60, 5))  # the systemd timer's OnCalendar=*:0/5:30, to the minute
DELAY_SECONDS = 30  # ... and its seconds, slept by the shell
WAIT_THEN_RUN = f'sleep {DELAY_SECONDS} && exec "$0" "$@"'


def agent_plist(command: Sequence[str], log: Path) -> dict[str, Any]:
    """The agent's property list: runs ``command`` (absolute program first) 30 s after every
    5-minute boundary and when loaded, its output appended to ``log``."""
    return {
        "Label": LABEL,
        "ProgramArguments": ["/bin/sh", "-c", WAIT_THEN_RUN, *command],
        "StartCalendarInterval": [{"Minute": minute} for minute in MINUTES],
        "RunAtLoad": True,
        "StandardOutPath": str(log),
        "StandardErrorPath": str(log),
    }


def agent_text(command: Sequence[str], log: Path) -> str:
    return plistlib.dumps(agent_plist(command, log), sort_keys=False).decode()


def agent_path(host: Host) -> Path:
    return host.agents_dir() / PLIST


def _steps(host: Host, path: Path, replacing: bool) -> list[list[str]]:
    domain = host.gui_domain()
    service = f"{domain}/{LABEL}"
    return [
        *([[host.launchctl, "bootout", service]] if replacing else []),
        [host.launchctl, "enable", service],
        [host.launchctl, "bootstrap", domain, str(path)],
    ]


def install_agent(command: Sequence[str], host: Host, say: Say, dry_run: bool) -> None:
    path = agent_path(host)
    log = state_dir() / LOG_NAME
    text = agent_text(command, log)
    replacing = path.exists()
    steps = _steps(host, path, replacing)
    if dry_run:
        say(f"--- would write {path} (mode {UNIT_MODE:04o}) ---")
        say(text.rstrip("\n"))
        for argv in steps:
            say(f"would run: {shown(argv)}")
        say("(dry run: nothing was written and nothing was run)")
        return
    for directory in (path.parent, log.parent):
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise _cannot("create", directory, exc) from exc
    try:
        atomic_write_text(path, text, mode=UNIT_MODE)
    except OSError as exc:
        raise _cannot("write", path, exc) from exc
    say(f"{'replaced' if replacing else 'wrote'} {path} (mode {UNIT_MODE:04o})")
    if shutil.which(host.launchctl) is None:
        say(f"`{host.launchctl}` was not found (this is not macOS); load the agent there with:")
        for argv in steps:
            say(f"  {shown(argv)}")
    else:
        _load(host, steps, say)
    say(f"launchd runs `{shown(command)}` every 5 minutes, 30 s past the boundary.")
    say(f"Run once now: {shown([host.launchctl, 'kickstart', f'{host.gui_domain()}/{LABEL}'])}")
    say(f"Logs: {log}")


def _load(host: Host, steps: list[list[str]], say: Say) -> None:
    hint = (
        f"the agent is in {agent_path(host)}; `launchctl print {host.gui_domain()}/{LABEL}` "
        "shows what launchd thinks of it; fix the problem and run the command again"
    )
    for argv in steps:
        say(f"$ {shown(argv)}")
        result = run(argv, "launchd")
        if result.returncode != 0 and argv[1] != "bootout":  # not loaded before: nothing to undo
            failed(argv, result, hint)
        for line in (result.stdout + result.stderr).splitlines():
            if line.strip():
                say(f"  {line}")


def remove_agent(host: Host, say: Say) -> None:
    path = agent_path(host)
    if not path.exists():
        say(f"no {PROG} agent in {path.parent}; nothing to remove")
        return
    argv = [host.launchctl, "bootout", f"{host.gui_domain()}/{LABEL}"]
    if shutil.which(host.launchctl) is None:
        say(f"`{host.launchctl}` was not found (this is not macOS); there, unload it first:")
        say(f"  {shown(argv)}")
    else:
        say(f"$ {shown(argv)}")
        result = run(argv, "launchd")
        for line in (result.stdout + result.stderr).splitlines():
            if line.strip():
                say(f"  {line}")
        if result.returncode != 0:
            say("  (it was not loaded)")
    try:
        path.unlink()
    except OSError as exc:
        raise _cannot("remove", path, exc) from exc
    say(f"removed {path}")
    log = state_dir() / LOG_NAME
    if log.exists():
        say(f"its log is kept: {log}")


def agent_status(host: Host) -> tuple[bool, str] | None:
    path = agent_path(host)
    if not path.exists():
        return None
    what = f"launchd agent {path}"
    if shutil.which(host.launchctl) is None:
        return True, f"{what} (state unknown: no launchctl here)"
    try:
        result = run([host.launchctl, "print", f"{host.gui_domain()}/{LABEL}"], "launchd")
    except SchedulerError as error:
        return False, f"{what}: launchctl could not be asked ({error.message})"
    if result.returncode != 0:
        load = shown([host.launchctl, "bootstrap", host.gui_domain(), str(path)])
        return False, f"{what} is installed but not loaded: run `{load}`"
    return True, f"{what} (loaded)"


def _cannot(action: str, path: Path, exc: OSError) -> SchedulerError:
    return SchedulerError(
        f"cannot {action} {path}: {exc.strerror or exc}", f"check the permissions of {path.parent}"
    )
