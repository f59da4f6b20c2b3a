"""Running ``sync`` unattended: a systemd timer (system or user), a cron line, on macOS a
launchd agent, or in a container ``amber-tesla-sync run`` (:mod:`.foreground`, its health record
in :mod:`.run_health`).

The unit texts, the cron line and the agent's plist are made here and nowhere else: ``schedule
install`` writes them with ``ExecStart=`` (``ProgramArguments``) pointing at the program that runs
it, and the repository's ``systemd/`` files are the same texts with a conventional install path
(:func:`repository_units`; a test keeps the two identical). Text generation is pure;
:func:`install`, :func:`remove` and :func:`schedule_status` do the I/O, through a :class:`Host`
that tests replace (its ``platform`` too: :func:`default_kind`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from amber_tesla_sync.schedule.cron import (
    CRON_MARKER,
    cron_line,
    cron_status,
    install_cron,
    is_cron_line,
    remove_cron,
)
from amber_tesla_sync.schedule.host import (
    PROG,
    REPOSITORY_PROGRAM,
    SERVICE,
    SERVICE_ACCOUNT,
    TIMER,
    Host,
    Kind,
    Say,
    Variant,
)
from amber_tesla_sync.schedule.launchd import (
    LABEL,
    agent_plist,
    agent_status,
    install_agent,
    remove_agent,
)
from amber_tesla_sync.schedule.run_health import run_status
from amber_tesla_sync.schedule.timer import install_timer, remove_timer, timer_status
from amber_tesla_sync.schedule.timer_paths import hidden_from_system_service, python_paths
from amber_tesla_sync.schedule.units import (
    repository_units,
    service_unit,
    systemd_command,
    systemd_word,
    timer_unit,
    unit_texts,
)

__all__ = [
    "CRON_MARKER",
    "LABEL",
    "PROG",
    "REPOSITORY_PROGRAM",
    "SERVICE",
    "SERVICE_ACCOUNT",
    "TIMER",
    "Host",
    "Kind",
    "Say",
    "Variant",
    "agent_plist",
    "choose_kind",
    "cron_line",
    "hidden_from_system_service",
    "install",
    "is_cron_line",
    "python_paths",
    "remove",
    "repository_units",
    "running_program",
    "schedule_status",
    "service_unit",
    "sync_command",
    "systemd_command",
    "systemd_word",
    "timer_unit",
    "unit_texts",
]


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


def choose_kind(host: Host, user: bool = False, cron: bool = False, launchd: bool = False) -> Kind:
    """What ``schedule install|remove`` manages: ``--cron``, ``--launchd``; on macOS the launchd
    agent (with or without ``--user``: it runs as the user anyway); else ``--user``'s timer or
    the system's."""
    if cron:
        return "cron"
    if launchd or host.macos:
        return "launchd"
    return "user" if user else "system"


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
        install_cron(command, host, say, dry_run)
    elif kind == "launchd":
        install_agent(command, host, say, dry_run)
    else:
        install_timer(kind, command, host, say, dry_run, config)


def remove(kind: Kind, *, host: Host, say: Say) -> None:
    """Remove the timer (system or user) or the cron line; report each step through ``say``."""
    if kind == "cron":
        remove_cron(host, say)
    elif kind == "launchd":
        remove_agent(host, say)
    else:
        remove_timer(kind, host=host, say=say)


def schedule_status(host: Host | None = None) -> tuple[bool, str]:
    """Whether something runs ``sync`` on a schedule (system timer, user timer or cron line),
    and a one-line description for ``doctor``."""
    host = host or Host.detect()
    found = [
        status
        for status in (
            timer_status("system", host),
            timer_status("user", host),
            cron_status(host),
            agent_status(host),
            run_status(),
        )
        if status is not None
    ]
    if not found:
        if host.macos:
            return False, (
                f"no launchd agent and no cron line runs sync: run `{PROG} schedule install` "
                "(or see the README, Running unattended)"
            )
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
