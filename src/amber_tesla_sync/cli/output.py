"""Where output goes: ``-q`` silences it, a closed pipe ends the run quietly, and usage errors
read like every other error (``amber-tesla-sync: error: …`` then what to do)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import Any

from amber_tesla_sync.errors import UsageError


def usable_streams() -> None:
    """Output that cannot be written as it is degrades instead of failing the run: a closed
    standard output or error (``>&-``) writes nowhere, and characters the terminal's encoding
    lacks (``PYTHONIOENCODING=latin-1``: "—", "…", box lines) are written as "?"."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115, PTH123
        elif isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError, OSError):  # a stream closed by its owner
                stream.reconfigure(errors="replace")


def silence() -> None:
    """``-q``: standard output goes nowhere; the terminal UI stops talking (errors still show)."""
    from amber_tesla_sync.render import terminal_ui

    terminal_ui.QUIET = True
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115, PTH123 - lives for the run


def loud() -> None:
    """Undo :func:`silence` (the end of a run)."""
    terminal_ui = sys.modules.get("amber_tesla_sync.render.terminal_ui")
    if terminal_ui is not None:
        terminal_ui.QUIET = False  # type: ignore[attr-defined]


def is_broken_pipe(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) is a write to a closed pipe."""
    while error is not None:
        if isinstance(error, BrokenPipeError) or (
            isinstance(error, OSError) and error.errno == errno.EPIPE
        ):
            return True
        error = error.__context__
    return False


def quiet_broken_pipe() -> None:
    """The reader went away (``… | head``): drop what is left instead of failing at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def usage_error(error: Any) -> UsageError:
    """A command-line parser's error as the tool's own usage error (exit code 2)."""
    message = error.format_message()
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "amber-tesla-sync"
    return UsageError(message[:1].lower() + message[1:], f"see `{command} --help`")


def click_exception_class() -> type[Exception]:
    """The parser's base exception (click's, or the copy newer Typer versions carry)."""
    import typer

    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException":
            return cls
    raise AssertionError("typer.BadParameter does not derive from ClickException")
