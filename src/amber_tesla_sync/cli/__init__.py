"""The command line: parse options, call one function, render. No business rules here."""

from __future__ import annotations

import sys
import traceback

from amber_tesla_sync.cli import accounts, config_cmds, tariff  # noqa: F401 - registers commands
from amber_tesla_sync.cli.app import PROG, app
from amber_tesla_sync.errors import AppError, ExitCode
from amber_tesla_sync.render.terminal_ui import report

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a message and an exit code.

    Usage errors are Typer's own (exit code 2); success and ``typer.Exit`` end in ``SystemExit``.
    """
    try:
        app(args=argv, prog_name=PROG)
    except AppError as error:
        report(error)
        sys.exit(int(error.exit_code))
    except Exception as error:  # a bug: say so plainly, details with -v
        arguments = sys.argv[1:] if argv is None else argv
        if any(arg in ("-v", "-vv", "--verbose") for arg in arguments):
            traceback.print_exc()
        report(
            AppError(
                f"unexpected internal error: {type(error).__name__}: {error}",
                "this is a bug; run again with -v for details and report it",
            )
        )
        sys.exit(int(ExitCode.INTERNAL))
