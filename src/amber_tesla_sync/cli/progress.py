"""A one-line progress indicator for long commands, on a terminal only.

It shows the elapsed time and the step in progress (taken from the tool's own log records), so
a ``sync`` waiting up to ``sync.verify_seconds`` for the Powerwall is not silent. Under a timer,
cron, a pipe, ``-q`` or ``-v`` (where the log itself is the progress) it does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

LOGGER = "amber_tesla_sync"


class _StatusHandler(logging.Handler):
    """Puts each record's message on the status line; warnings and errors are printed."""

    def __init__(self, status: Any, console: Any, label: str) -> None:
        super().__init__(logging.DEBUG)
        self.status = status
        self.console = console
        self.label = label
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().splitlines()[0] if record.getMessage() else ""
        if record.levelno >= logging.WARNING:
            self.console.print(f"{record.levelname} {record.name}: {message}", markup=False)
            return
        elapsed = time.monotonic() - self.started
        self.status.update(f"{self.label} ({elapsed:.0f} s): {message[:80]}")


def _wanted() -> bool:
    if not sys.stderr.isatty():
        return False
    from amber_tesla_sync.render import terminal_ui

    if terminal_ui.QUIET:
        return False
    return logging.getLogger().getEffectiveLevel() > logging.INFO  # -v prints the log instead


@contextlib.contextmanager
def progress(label: str) -> Iterator[None]:
    """Show ``label`` with a spinner and the current step while the block runs."""
    if not _wanted():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    logger = logging.getLogger(LOGGER)
    saved = (logger.level, logger.propagate)
    with console.status(f"{label}…") as status:
        handler = _StatusHandler(status, console, label)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]
