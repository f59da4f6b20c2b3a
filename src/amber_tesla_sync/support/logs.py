"""Logging to stderr, with syslog priority prefixes when stderr is the journal.

Under systemd, ``$JOURNAL_STREAM`` holds the device and inode of the stream connected to the
journal; when stderr is that stream, every line starts with ``<3>`` (error), ``<4>`` (warning),
``<6>`` (info) or ``<7>`` (debug), which journald turns into the entry's priority, so that
``journalctl -p warning`` finds warnings and errors. ``AMBER_TESLA_SYNC_LOG_PREFIX=1`` asks for the
prefixes anywhere (the cron line sets it and hands each line to ``logger -p`` at its priority).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from amber_tesla_sync.support import redact

PREFIX_ENV = "AMBER_TESLA_SYNC_LOG_PREFIX"
ERR, WARNING, INFO, DEBUG = 3, 4, 6, 7


def priority(level: int) -> int:
    """The syslog priority of a logging level."""
    if level >= logging.ERROR:
        return ERR
    if level >= logging.WARNING:
        return WARNING
    return INFO if level >= logging.INFO else DEBUG


def is_journal(stream: TextIO) -> bool:
    """Whether ``stream`` is the one ``$JOURNAL_STREAM`` names (``device:inode``)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        found = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (found.st_dev, found.st_ino) == (int(device), int(inode))


def wants_prefix(stream: TextIO | None = None) -> bool:
    """Whether lines written to ``stream`` (default stderr) should carry priority prefixes."""
    if os.environ.get(PREFIX_ENV, "") not in ("", "0"):
        return True
    return is_journal(stream or sys.stderr)


def prefixed(text: str, level: int, stream: TextIO | None = None) -> str:
    """``text`` with the priority prefix on each line, when ``stream`` wants it."""
    if not wants_prefix(stream):
        return text
    mark = f"<{priority(level)}>"
    return "\n".join(mark + line for line in text.split("\n"))


class SafeFormatter(logging.Formatter):
    """Every log line, a library's included, with the secrets this process knows redacted (and
    the URLs it masks shown masked)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.secrets_only(super().format(record))


class PriorityFormatter(SafeFormatter):
    """Puts the priority prefix on every line of a record (journald reads each line alone)."""

    def format(self, record: logging.LogRecord) -> str:
        mark = f"<{priority(record.levelno)}>"
        return "\n".join(mark + line for line in super().format(record).split("\n"))


def configure(verbose: int, quiet: bool = False) -> None:
    """Log to stderr: warnings and errors; ``-v`` adds decisions (info), ``-vv`` debug;
    ``quiet`` keeps warnings and errors only."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(PriorityFormatter(fmt) if wants_prefix() else SafeFormatter(fmt))
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=logging.WARNING if quiet else level, handlers=[handler], force=True)
