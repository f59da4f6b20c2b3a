"""The cron line: made here (pure), installed into and removed from the user's crontab."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence

from amber_tesla_sync.errors import SchedulerError
from amber_tesla_sync.schedule.host import PROG, TIMER, Host, Say, failed, require, run, shown
from amber_tesla_sync.support.logs import PREFIX_ENV

CRON_SCHEDULE = "*/5 * * * *"
CRON_DELAY_SECONDS = 30
CRON_MARKER = f"# {PROG} schedule (remove with: {PROG} schedule remove --cron)"
# Each output line to the system log with its priority, through options every `logger` takes
# (util-linux, BusyBox, macOS: -t and -p; not util-linux's --prio-prefix): the program puts
# <3> (error), <4> (warning), <6> (info) or <7> (debug) in front of its log lines when
# AMBER_TESLA_SYNC_LOG_PREFIX is set; a line without one is info. POSIX sh, for cron's /bin/sh;
# `logger` reads nothing of the loop's input (the lines after this one).
TO_SYSLOG = (
    'while IFS= read -r line || [ -n "$line" ]; do case "$line" in '
    '"<3>"*) p=err;; "<4>"*) p=warning;; "<7>"*) p=debug;; "") continue;; *) p=info;; esac; '
    f'logger -t {PROG} -p "user.$p" -- "${{line#<[0-7]>}}" </dev/null; done'
)


def cron_line(command: Sequence[str], logger: bool = True) -> str:
    """The crontab line: every 5 minutes, 30 s after the boundary, tagged with the marker.

    With ``logger`` the output goes to the system log (``journalctl -t amber-tesla-sync``, or
    ``/var/log/messages`` under BusyBox's syslogd, or macOS's log) instead of a mail every run:
    each line with its priority (:data:`TO_SYSLOG`), and a non-zero exit code logged as an error,
    so ``journalctl -p err`` finds failed runs. ``%`` is special to cron and is escaped."""
    shell = shlex.join(command)
    if logger:
        shell = (
            f'{{ {PREFIX_ENV}=1 {shell} 2>&1 || echo "<3>{PROG} exited with code $?"; }}'
            f" | {TO_SYSLOG}"
        )
    shell = shell.replace("%", "\\%")
    return f"{CRON_SCHEDULE} sleep {CRON_DELAY_SECONDS} && {shell}  {CRON_MARKER}"


def is_cron_line(line: str) -> bool:
    return line.rstrip().endswith(CRON_MARKER)


def _read_crontab(host: Host, say: Say | None) -> list[str]:
    argv = [host.crontab, "-l"]
    if say is not None:
        say(f"$ {shown(argv)}")
    result = run(argv, "cron")
    if result.returncode != 0:
        if "no crontab" in result.stderr.lower():
            return []
        failed(argv, result, "run `crontab -l` by hand to see what is wrong")
    return result.stdout.splitlines()


def _write_crontab(host: Host, lines: Sequence[str], say: Say) -> None:
    argv = [host.crontab, "-"]
    say(f"$ {shown(argv)}  (the new crontab on its input)")
    content = "".join(f"{line}\n" for line in lines)
    result = run(argv, "cron", input_text=content)
    if result.returncode != 0:
        failed(argv, result, "run `crontab -e` to edit the crontab by hand")


def install_cron(command: Sequence[str], host: Host, say: Say, dry_run: bool) -> None:
    line = cron_line(command, logger=shutil.which("logger") is not None)
    if dry_run:
        say(f"would add to {host.user}'s crontab (replacing any earlier {PROG} line):")
        say(line)
        say("(dry run: nothing was written and nothing was run)")
        return
    require(host.crontab, "cron")
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
    say(f"Logs: journalctl -t {PROG}, or the system log (/var/log/syslog, /var/log/messages)")
    for variant in ("system", "user"):
        if (host.unit_dir(variant) / TIMER).exists():
            flag = " --user" if variant == "user" else ""
            say(
                f"note: a {variant} timer is installed too; keep one: "
                f"`{PROG} schedule remove{flag}`"
            )


def remove_cron(host: Host, say: Say) -> None:
    require(host.crontab, "cron")
    current = _read_crontab(host, say)
    ours = [line for line in current if is_cron_line(line)]
    if not ours:
        say(f"no {PROG} line in {host.user}'s crontab; nothing to remove")
        return
    _write_crontab(host, [line for line in current if not is_cron_line(line)], say)
    for line in ours:
        say(f"removed from {host.user}'s crontab: {line}")


def cron_status(host: Host) -> tuple[bool, str] | None:
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
